// Each fault kind happens, and the cores recover from it (or, for a failed cleanup, hold on
// to the SI as the spec says until a repair).
#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

using model::HaState;

class SimFaultTest : public ::testing::Test {
 protected:
  void start(SgSpec sg = {}, const std::string& faults = "none", int nodes = 1) {
    start_cluster({"sim", nodes, {sg}}, faults);
  }
  void start_cluster(const ClusterSpec& cluster, const std::string& faults = "none") {
    Options options;
    options.faults = *FaultSpec::parse(faults);
    options.on_notification = [this](const model::Notification& n) { notes_.push_back(n); };
    auto sim = Simulation::create(build(cluster), 1, std::move(options));
    ASSERT_TRUE(sim) << sim.error().message();
    sim_ = std::move(*sim);
    sim_->start();
    sim_->settle();
    ASSERT_FALSE(sim_->violation());
  }
  std::optional<HaState> ha(int si, int su) const {
    for (const auto& a : sim_->director().assignments(SgId("app"))) {
      if (a.si == SiId("app/si-" + std::to_string(si)) &&
          a.su == SuId("app/su-" + std::to_string(su))) {
        return a.ha;
      }
    }
    return std::nullopt;
  }
  int active_su(int si = 1) const {
    for (int su = 1; su <= 5; ++su) {
      if (ha(si, su) == HaState::kActive) return su;
    }
    return 0;
  }
  // N-way, 3 SUs, 2 SIs with one standby each: one SU to spare on three nodes.
  static SgSpec three_sus_n_way() {
    SgSpec sg;
    sg.sus = 3;
    sg.sis = 2;
    sg.model = model::RedundancyModel::kNWay;
    sg.standby_assignments = 1;
    return sg;
  }
  static CompId comp(int su) { return CompId("app/su-" + std::to_string(su) + "/server"); }
  bool noted(const std::string& kind, const std::string& to) const {
    for (const auto& n : notes_) {
      if (model::to_string(n.kind) == kind && n.to == to) return true;
    }
    return false;
  }
  bool noted_cause(const std::string& text) const {
    for (const auto& n : notes_) {
      if (n.cause.find(text) != std::string::npos) return true;
    }
    return false;
  }
  void settle_clean() {
    sim_->settle();
    ASSERT_FALSE(sim_->violation()) << sim_->violation()->describe();
  }
  std::string presence(int su) const {
    for (const auto& v : sim_->director().service_units()) {
      if (v.id == SuId("app/su-" + std::to_string(su)))
        return std::string(model::to_string(v.presence));
    }
    return "?";
  }

  std::unique_ptr<Simulation> sim_;
  std::vector<model::Notification> notes_;
};

TEST_F(SimFaultTest, CrashOfTheActiveFailsOverAndTheSuIsRepaired) {
  start();
  const int active = active_su();
  ASSERT_TRUE(sim_->crash(comp(active)));
  settle_clean();
  EXPECT_NE(active_su(), active);
  EXPECT_EQ(ha(1, active), HaState::kStandby);
  EXPECT_EQ(sim_->stats().failovers, 1u);
  EXPECT_TRUE(noted("recovery", "auto-repair"));
}

TEST_F(SimFaultTest, HungStandbyIsFoundByTheCallbackTimeoutOfItsPromotion) {
  start();
  const int active = active_su(), standby = 3 - active;
  ASSERT_TRUE(sim_->hang(comp(standby)));
  sim_->admin(director::AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  settle_clean();
  EXPECT_TRUE(noted_cause("no response to the CSI callback"));
  EXPECT_TRUE(active_su() != 0);
}

TEST_F(SimFaultTest, HungActiveIsFoundByItsHealthCheckAndRestarted) {
  SgSpec sg;
  sg.recovery = model::Recovery::kComponentRestart;
  sg.health = SgSpec::Health::kAmfInvoked;
  sg.health_period = std::chrono::seconds(1);
  sg.health_max_duration = std::chrono::milliseconds(500);
  start(sg);
  const int active = active_su();
  ASSERT_TRUE(sim_->hang(comp(active)));
  sim_->run_for(std::chrono::seconds(5));
  settle_clean();
  EXPECT_TRUE(noted_cause("health check"));
  EXPECT_TRUE(noted("recovery", "component-restart"));
  EXPECT_EQ(active_su(), active);  // restarted in place
}

TEST_F(SimFaultTest, ComponentInvokedHealthCheckMissIsAFailure) {
  SgSpec sg;
  sg.health = SgSpec::Health::kComponentInvoked;
  sg.health_period = std::chrono::seconds(1);
  sg.health_max_duration = std::chrono::milliseconds(500);
  start(sg);
  sim_->run_for(std::chrono::seconds(30));  // confirmations keep it healthy
  EXPECT_FALSE(noted_cause("health check"));
  ASSERT_TRUE(sim_->hang(comp(active_su())));
  sim_->run_for(std::chrono::seconds(5));
  settle_clean();
  EXPECT_TRUE(noted_cause("no health check confirmation"));
  EXPECT_EQ(sim_->stats().failovers, 1u);
}

TEST_F(SimFaultTest, InstantiationFailureEndsInstantiationFailedUntilRepaired) {
  start();
  const int standby = 3 - active_su();
  sim_->fail_starts(comp(standby), 3);
  ASSERT_TRUE(sim_->crash(comp(standby)));
  settle_clean();
  EXPECT_EQ(presence(standby), "instantiation-failed");
  EXPECT_EQ(ha(1, standby), std::nullopt);
  sim_->admin(director::AdminOp::kRepair, director::EntityKind::kSu,
              "app/su-" + std::to_string(standby));
  settle_clean();
  EXPECT_EQ(presence(standby), "instantiated");
  EXPECT_EQ(ha(1, standby), HaState::kStandby);
}

TEST_F(SimFaultTest, SlowCallbackIsATimeout) {
  start();
  sim_->slow_callbacks(comp(3 - active_su()), 1);
  sim_->admin(director::AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  settle_clean();
  EXPECT_TRUE(noted_cause("no response to the CSI callback"));
  EXPECT_NE(active_su(), 0);
}

TEST_F(SimFaultTest, CallbackErrorIsAFailure) {
  start();
  sim_->fail_callbacks(comp(3 - active_su()), 1);
  sim_->admin(director::AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  settle_clean();
  EXPECT_TRUE(noted_cause("failed"));
  EXPECT_NE(active_su(), 0);
}

TEST_F(SimFaultTest, ErrorReportTriggersTheConfiguredRecovery) {
  start();
  const int active = active_su();
  ASSERT_TRUE(sim_->report_error(comp(active)));
  settle_clean();
  EXPECT_TRUE(noted_cause("error report"));
  EXPECT_NE(active_su(), active);
}

TEST_F(SimFaultTest, CleanupFailureEndsTerminationFailedAndFreezesTheSi) {
  SgSpec sg;
  sg.timeouts.cleanup = std::chrono::seconds(1);
  start(sg);
  const int active = active_su();
  sim_->fail_cleanup(comp(active));
  ASSERT_TRUE(sim_->report_error(comp(active)));
  settle_clean();
  EXPECT_EQ(presence(active), "termination-failed");
  EXPECT_EQ(active_su(), active);  // frozen: not failed over while the process may still act
  bool survivor = false;
  for (const auto& p : sim_->processes()) survivor |= p.stuck;
  EXPECT_TRUE(survivor);
  sim_->admin(director::AdminOp::kRepair, director::EntityKind::kSu,
              "app/su-" + std::to_string(active));
  settle_clean();
  EXPECT_EQ(active_su(), 3 - active);
  for (const auto& p : sim_->processes()) EXPECT_FALSE(p.stuck);
}

TEST_F(SimFaultTest, EveryRandomFaultKindIsInjected) {
  SgSpec sg;
  sg.sus = 3;
  sg.sis = 2;
  start(sg, "crash=0.01,hang=0.01,instantiate=0.01,slow=0.01,error=0.01,report=0.01,admin=0.05");
  sim_->run_for(std::chrono::minutes(30));
  settle_clean();
  for (std::size_t k = 0; k < kFaultKinds; ++k) {
    const auto kind = static_cast<FaultKind>(k);
    if (kind == FaultKind::kCleanup || kind == FaultKind::kNode || kind == FaultKind::kPartition ||
        kind == FaultKind::kDirector || kind == FaultKind::kStop)
      continue;  // tests of their own
    EXPECT_GT(sim_->stats().faults[k], 0u) << to_string(static_cast<FaultKind>(k));
  }
  EXPECT_GT(sim_->stats().admin_requests, 0u);
}

TEST_F(SimFaultTest, RandomNodeCrashesAreRecoveredFrom) {
  start(three_sus_n_way(), "node=0.01,crash=0.001", 3);
  sim_->run_for(std::chrono::minutes(30));
  settle_clean();
  const auto& stats = sim_->stats();
  EXPECT_GT(stats.node_crashes, 5u);
  EXPECT_EQ(stats.node_boots, stats.node_crashes);  // every node is back after settling
  EXPECT_GT(stats.failovers, 0u);
  EXPECT_TRUE(noted("node", "down"));
  for (int si = 1; si <= 2; ++si) EXPECT_NE(active_su(si), 0) << si;
}

TEST_F(SimFaultTest, RandomDirectorCrashesAreTakenOverFrom) {
  start(three_sus_n_way(), "director=0.01,node=0.003,crash=0.003,admin=0.01", 3);
  sim_->run_for(std::chrono::minutes(30));
  settle_clean();
  const auto& stats = sim_->stats();
  EXPECT_GT(stats.director_crashes, 5u);
  EXPECT_EQ(stats.faults[static_cast<std::size_t>(FaultKind::kDirector)], stats.director_crashes);
  EXPECT_TRUE(sim_->director_up());
  EXPECT_EQ(sim_->director_epoch(), stats.director_crashes + 1);  // one election per crash
  EXPECT_TRUE(noted("node", "took-over"));
  for (int si = 1; si <= 2; ++si) EXPECT_NE(active_su(si), 0) << si;
}

// Finding 15 (sim/README.md), first seen as swarm case 14926999466462203840: su-4's component
// fails every health check; each time the ceiling of restarts in place fails su-4 over, a spare
// is taken in, and as su-4 is auto-repaired at once another SU is returned to spare. Those
// moves answer the armed fault; settling took them for a loop of its own ("components still
// fail without any fault injected").
TEST_F(SimFaultTest, SpareMovesAnsweringABrokenComponentAreNoLoopOfTheirOwn) {
  SgSpec sg;
  sg.sus = 5;
  sg.components = 2;
  sg.inservice_sus = 4;
  sg.comp_restart_max = 64;
  sg.su_restart_max = 64;
  sg.recovery = model::Recovery::kComponentRestart;
  sg.health = SgSpec::Health::kAmfInvoked;
  sg.health_period = std::chrono::milliseconds(1313);
  sg.health_max_duration = std::chrono::milliseconds(1751);
  ClusterSpec cluster{"sim", 1, {sg}};
  cluster.su_failover_max = 1000;
  start_cluster(cluster);
  sim_->fail_callbacks(comp(4), 1'000'000);  // every callback, as the swarm's broken component
  settle_clean();
  EXPECT_TRUE(noted("recovery", "spare"));
  EXPECT_TRUE(noted("recovery", "su-failover"));
}

// A node crashed between two run_until() calls (as amf-drill does) while its node director had
// a deadline due before the crash is detected (a health check every second, struck at every
// phase of it): the next tick must not reach for the crashed node.
TEST_F(SimFaultTest, ANodeCrashedBetweenTwoRunsLeavesNoDeadlineBehind) {
  SgSpec sg;
  sg.sus = 2;
  sg.health = SgSpec::Health::kAmfInvoked;
  sg.health_period = std::chrono::milliseconds(1'000);
  sg.health_max_duration = std::chrono::milliseconds(500);
  for (int offset = 0; offset < 1'000; offset += 7) {
    start(sg, "none", 2);
    const int active = active_su();
    ASSERT_NE(active, 0);
    sim_->run_for(std::chrono::milliseconds(offset));
    ASSERT_TRUE(sim_->crash_node(NodeId("node-" + std::to_string(active))));
    sim_->run_for(std::chrono::seconds(2));
    ASSERT_FALSE(sim_->violation()) << "offset " << offset << " ms";
    ASSERT_EQ(active_su(), 3 - active) << "offset " << offset << " ms";
  }
}

TEST_F(SimFaultTest, NodeCrashEndsEveryProcessOnItAtOnce) {
  SgSpec sg;
  sg.sus = 2;
  start(sg, "none", 2);
  const int active = active_su();
  ASSERT_NE(active, 0);
  const NodeId node("node-" + std::to_string(active));  // su-N is on node-N
  ASSERT_TRUE(sim_->crash_node(node));
  EXPECT_FALSE(sim_->crash_node(node));
  EXPECT_FALSE(sim_->node_up(node));
  for (const auto& p : sim_->processes()) EXPECT_NE(p.comp, comp(active));
  settle_clean();
  EXPECT_EQ(active_su(), 3 - active);
  EXPECT_EQ(presence(active), "uninstantiated");
  ASSERT_TRUE(sim_->boot_node(node));
  settle_clean();
  EXPECT_EQ(presence(active), "instantiated");
  EXPECT_EQ(ha(1, active), HaState::kStandby);
}

// amfd stopped on the active's node: the SI is switched over (quiesced first) while the node
// still runs, the node ends its components once it holds nothing, goes down, and boots again.
TEST_F(SimFaultTest, AStoppedAmfdsNodeHasItsActiveSwitchedOverThenGoesDownAndBootsAgain) {
  SgSpec sg;
  sg.sus = 2;
  start(sg, "none", 2);
  const int active = active_su();
  ASSERT_NE(active, 0);
  const NodeId node("node-" + std::to_string(active));
  const std::uint64_t failovers = sim_->stats().failovers;
  notes_.clear();
  ASSERT_TRUE(sim_->stop_node(node));
  EXPECT_FALSE(sim_->stop_node(node));  // stopping already
  EXPECT_TRUE(sim_->node_up(node));     // until its components have ended
  settle_clean();
  EXPECT_EQ(sim_->stats().node_stops, 1u);
  EXPECT_EQ(sim_->stats().failovers, failovers);
  EXPECT_FALSE(sim_->node_up(node));
  EXPECT_EQ(active_su(), 3 - active);
  EXPECT_TRUE(noted_cause("node " + node.str() + " leaving"));
  bool quiesced_first = false;
  for (const auto& n : notes_) {
    if (n.kind == model::NotificationKind::kHaState && n.to == "active" &&
        n.entity == "app/su-" + std::to_string(3 - active)) {
      break;
    }
    if (n.kind == model::NotificationKind::kHaState && n.to == "quiesced") quiesced_first = true;
  }
  EXPECT_TRUE(quiesced_first);
  ASSERT_TRUE(sim_->boot_node(node));
  settle_clean();
  EXPECT_EQ(ha(1, active), HaState::kStandby);  // back, as the standby
}

TEST_F(SimFaultTest, RandomStopsAreInjectedAndTheNodesBootAgain) {
  SgSpec sg;
  sg.sus = 2;
  start(sg, "stop=0.01", 2);
  sim_->run_for(std::chrono::minutes(30));
  settle_clean();
  EXPECT_GT(sim_->stats().faults[static_cast<std::size_t>(FaultKind::kStop)], 0u);
  EXPECT_GT(sim_->stats().node_stops, 0u);
  EXPECT_GT(sim_->stats().node_boots, 0u);
}

TEST_F(SimFaultTest, RandomCleanupFailuresAreInjected) {
  start({}, "cleanup=0.05,report=0.002");
  sim_->run_for(std::chrono::minutes(20));
  EXPECT_GT(sim_->stats().faults[static_cast<std::size_t>(FaultKind::kCleanup)], 0u);
}

}  // namespace
}  // namespace amf::sim
