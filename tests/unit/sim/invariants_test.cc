// Every invariant fires on a deliberately broken state: one that cannot fail checks nothing.
#include "sim/invariants.h"

#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

using director::Director;
using model::HaState;
using model::PresenceState;
using model::ReadinessState;

SuId su(int i) { return SuId("app/su-" + std::to_string(i)); }
SiId si(int i) { return SiId("app/si-" + std::to_string(i)); }
CsiId csi(int i) { return CsiId("app/si-" + std::to_string(i) + "/csi"); }
CompId comp(int i) { return CompId("app/su-" + std::to_string(i) + "/server"); }

std::shared_ptr<const model::ClusterConfig> config(SgSpec sg = {}) {
  return build({"sim", 1, {sg}});
}

Director::SuView view(int i, ReadinessState r = ReadinessState::kInService,
                      PresenceState p = PresenceState::kInstantiated) {
  return {su(i),
          SgId("app"),
          NodeId("node-1"),
          model::AdminState::kUnlocked,
          model::OperState::kEnabled,
          p,
          r};
}

ProcessView process(int su_index, std::map<CsiId, HaState> beliefs, bool stuck = false) {
  return {static_cast<std::uint64_t>(su_index),
          comp(su_index),
          true,
          false,
          stuck,
          true,
          std::move(beliefs)};
}

// ---- 1. safety ----

TEST(SimInvariantTest, SafetyFiresOnTwoActiveBeliefs) {
  auto c = config();
  EXPECT_FALSE(check_safety(
      *c, {process(1, {{csi(1), HaState::kActive}}), process(2, {{csi(1), HaState::kStandby}})}));
  auto wrong = check_safety(
      *c, {process(1, {{csi(1), HaState::kActive}}), process(2, {{csi(1), HaState::kActive}})});
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("app/si-1/csi"), std::string::npos);
  // Quiescing still serves; a process that survived its cleanup still counts.
  EXPECT_TRUE(check_safety(*c, {process(1, {{csi(1), HaState::kQuiescing}}),
                                process(2, {{csi(1), HaState::kActive}}, true)}));
  EXPECT_FALSE(check_safety(
      *c, {process(1, {{csi(1), HaState::kQuiesced}}), process(2, {{csi(1), HaState::kActive}})}));
}

TEST(SimInvariantTest, AServiceAddressUpOnTwoNodesIsCaught) {
  EXPECT_FALSE(check_service_addresses({}));
  EXPECT_FALSE(check_service_addresses({{si(1), {NodeId("node-1")}}, {si(2), {NodeId("node-2")}}}));
  auto wrong = check_service_addresses({{si(1), {NodeId("node-1"), NodeId("node-2")}}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(*wrong, "the service address of SI app/si-1 is up on 2 nodes at once: node-1, node-2");
}

TEST(SimInvariantTest, SafetyAllowsNWayActiveUpToItsPreferredActives) {
  SgSpec sg;
  sg.model = model::RedundancyModel::kNWayActive;
  sg.sus = 3;
  sg.active_assignments = 2;
  auto c = config(sg);
  EXPECT_FALSE(check_safety(
      *c, {process(1, {{csi(1), HaState::kActive}}), process(2, {{csi(1), HaState::kActive}})}));
  EXPECT_TRUE(check_safety(
      *c, {process(1, {{csi(1), HaState::kActive}}), process(2, {{csi(1), HaState::kActive}}),
           process(3, {{csi(1), HaState::kActive}})}));
}

// ---- 2. settled SG ----

TEST(SimInvariantTest, SettledSgFiresOnAnAssignmentOfAnOutOfServiceSu) {
  auto c = config();
  const auto& sg = *c->service_groups()[0];
  const models::AssignmentTable table{{si(1), su(1), HaState::kActive},
                                      {si(1), su(2), HaState::kStandby}};
  EXPECT_FALSE(check_settled_sg(sg, table, {view(1), view(2)}));
  EXPECT_TRUE(check_settled_sg(sg, table, {view(1), view(2, ReadinessState::kOutOfService)}));
  // ... unless the SU's cleanup failed: its SIs are frozen there (spec 3.12.1.3).
  EXPECT_FALSE(check_settled_sg(
      sg, table,
      {view(1), view(2, ReadinessState::kOutOfService, PresenceState::kTerminationFailed)}));
}

TEST(SimInvariantTest, SettledSgFiresOnCountsTheModelForbids) {
  auto c = config();
  const auto& sg = *c->service_groups()[0];
  EXPECT_TRUE(check_settled_sg(sg,
                               {{si(1), su(1), HaState::kActive}, {si(1), su(2), HaState::kActive}},
                               {view(1), view(2)}));
  EXPECT_TRUE(check_settled_sg(sg, {{si(1), su(1), HaState::kQuiesced}}, {view(1), view(2)}));
  EXPECT_TRUE(check_settled_sg(sg, {{si(1), su(2), HaState::kStandby}}, {view(1), view(2)}));
  EXPECT_TRUE(check_settled_sg(sg,
                               {{si(1), su(1), HaState::kActive}, {si(1), su(1), HaState::kActive}},
                               {view(1), view(2)}));
  SgSpec nr;
  nr.model = model::RedundancyModel::kNoRedundancy;
  nr.sis = 2;
  auto c2 = config(nr);
  EXPECT_TRUE(check_settled_sg(*c2->service_groups()[0],
                               {{si(1), su(1), HaState::kActive}, {si(2), su(1), HaState::kActive}},
                               {view(1), view(2)}));
}

// ---- 3. admin requests ----

TEST(SimInvariantTest, AdminLedgerFiresOnDoubleUnknownAndMissingAnswers) {
  AdminLedger ledger(std::chrono::seconds(90));
  const TimePoint t0{};
  ledger.asked(1, {SgId("app")}, "lock su app/su-1", t0);
  EXPECT_TRUE(ledger.outstanding(SgId("app")));
  EXPECT_FALSE(ledger.overdue(t0 + std::chrono::seconds(90)));
  EXPECT_TRUE(ledger.overdue(t0 + std::chrono::seconds(91)));
  EXPECT_FALSE(ledger.answered(1));
  EXPECT_FALSE(ledger.outstanding(SgId("app")));
  EXPECT_TRUE(ledger.answered(1));   // twice
  EXPECT_TRUE(ledger.answered(77));  // never asked
}

// ---- 4. liveness ----

LivenessInput liveness_input(const model::SgConfig& sg) {
  LivenessInput in;
  in.sg = &sg;
  in.table = {{si(1), su(1), HaState::kActive}, {si(1), su(2), HaState::kStandby}};
  in.sus = {view(1), view(2)};
  in.processes = {process(1, {{csi(1), HaState::kActive}}),
                  process(2, {{csi(1), HaState::kStandby}})};
  in.processes[1].told_active[csi(1)] = comp(1).str();
  in.presence = {{comp(1), PresenceState::kInstantiated}, {comp(2), PresenceState::kInstantiated}};
  return in;
}

TEST(SimInvariantTest, LivenessFiresOnAnUnservedSi) {
  auto c = config();
  LivenessInput in = liveness_input(*c->service_groups()[0]);
  EXPECT_FALSE(check_liveness(in));
  in.table = {{si(1), su(2), HaState::kStandby}};
  in.processes[0].beliefs.clear();
  auto wrong = check_liveness(in);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("app/si-1"), std::string::npos);
  // With no SU in service nothing can be served, and that is no violation.
  in.table.clear();
  in.processes = {};
  in.sus = {view(1, ReadinessState::kOutOfService), view(2, ReadinessState::kOutOfService)};
  EXPECT_FALSE(check_liveness(in));
}

TEST(SimInvariantTest, LivenessFiresOnBusyBeliefMismatchAndOrphans) {
  auto c = config();
  LivenessInput in = liveness_input(*c->service_groups()[0]);
  in.busy = true;
  EXPECT_TRUE(check_liveness(in));
  in = liveness_input(*c->service_groups()[0]);
  in.admin_outstanding = true;
  EXPECT_TRUE(check_liveness(in));
  in = liveness_input(*c->service_groups()[0]);
  in.processes[1].beliefs[csi(1)] = HaState::kQuiesced;
  EXPECT_TRUE(check_liveness(in));
  in = liveness_input(*c->service_groups()[0]);
  in.presence[comp(2)] = PresenceState::kUninstantiated;  // the node director lost it
  EXPECT_TRUE(check_liveness(in));
}

TEST(SimInvariantTest, LivenessFiresOnAStandbyThatFollowsTheWrongActive) {
  auto c = config();
  LivenessInput in = liveness_input(*c->service_groups()[0]);
  EXPECT_FALSE(check_liveness(in));
  in.processes[1].told_active[csi(1)] = comp(2).str();
  auto wrong = check_liveness(in);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("app/su-2/server stands by for app/si-1/csi as a standby of "
                        "app/su-2/server, but app/su-1/server holds it active"),
            std::string::npos)
      << *wrong;
  in.processes[1].told_active.clear();
  wrong = check_liveness(in);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("as a standby of no active"), std::string::npos) << *wrong;
  // The active's SU failed its cleanup: the SI is frozen, and nothing about it changes until
  // a repair, what its standby was told included.
  in.sus[0] = view(1, ReadinessState::kOutOfService, PresenceState::kTerminationFailed);
  EXPECT_FALSE(check_liveness(in));
  in.sus[0] = view(1);
}

TEST(SimInvariantTest, LivenessFiresOnAProcessOfAnSuLockedForInstantiation) {
  auto c = config();
  LivenessInput in = liveness_input(*c->service_groups()[0]);
  in.table.clear();
  for (auto& p : in.processes) p.beliefs.clear();
  in.sus = {view(1, ReadinessState::kOutOfService), view(2, ReadinessState::kOutOfService)};
  in.sus[1].admin = model::AdminState::kLockedInstantiation;
  auto wrong = check_liveness(in);
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->find("app/su-2 is locked-instantiation"), std::string::npos) << *wrong;
  // Its cleanup failed: what survives is not the node director's to end.
  in.sus[1].presence = PresenceState::kTerminationFailed;
  EXPECT_FALSE(check_liveness(in));
  in.sus[1].presence = PresenceState::kUninstantiated;
  in.processes.pop_back();
  EXPECT_FALSE(check_liveness(in));
}

TEST(SimInvariantTest, ServingCapacityFollowsTheModel) {
  SgSpec sg;
  sg.sis = 4;
  sg.sus = 4;
  auto two_n = config(sg);
  EXPECT_EQ(serving_capacity(*two_n->service_groups()[0], 0), 0);
  EXPECT_EQ(serving_capacity(*two_n->service_groups()[0], 1), 4);
  sg.model = model::RedundancyModel::kNoRedundancy;
  EXPECT_EQ(serving_capacity(*config(sg)->service_groups()[0], 3), 3);
  sg.model = model::RedundancyModel::kNWay;
  sg.max_active_per_su = 1;
  EXPECT_EQ(serving_capacity(*config(sg)->service_groups()[0], 3), 3);
}

// ---- the simulation reports what the checks find ----

TEST(SimInvariantTest, TheSimulationStopsAtAViolationWithSeedStepAndTrace) {
  Options options;
  auto made = Simulation::create(config(), 99, options);
  ASSERT_TRUE(made);
  Simulation& sim = **made;
  sim.start();
  sim.settle();
  ASSERT_FALSE(sim.violation());
  int standby = 0;
  for (const auto& a : sim.director().assignments(SgId("app"))) {
    if (a.ha == HaState::kStandby) standby = a.su == su(1) ? 1 : 2;
  }
  ASSERT_TRUE(sim.force_belief(comp(standby), csi(1), HaState::kActive));
  sim.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(sim.violation());
  const Violation& v = *sim.violation();
  EXPECT_EQ(v.invariant, "safety");
  EXPECT_EQ(v.seed, 99u);
  EXPECT_GT(v.step, 0u);
  EXPECT_NE(v.trace.find("takes app/si-1/csi active on its own"), std::string::npos);
  EXPECT_NE(v.describe().find("seed 99"), std::string::npos);
  // Stopped: time no longer moves.
  const TimePoint at = sim.now();
  sim.run_for(std::chrono::minutes(1));
  EXPECT_EQ(sim.now(), at);
}

TEST(SimInvariantTest, LivenessIsJudgedAfterTheQuietPeriod) {
  auto made = Simulation::create(config(), 3, {});
  ASSERT_TRUE(made);
  Simulation& sim = **made;
  sim.start();
  sim.settle();
  // A rogue belief that does not break safety (the standby thinks it is quiesced) is caught
  // once the cluster has been quiet for the quiet period.
  int standby = 0;
  for (const auto& a : sim.director().assignments(SgId("app"))) {
    if (a.ha == HaState::kStandby) standby = a.su == su(1) ? 1 : 2;
  }
  ASSERT_TRUE(sim.force_belief(comp(standby), csi(1), HaState::kQuiesced));
  sim.run_for(std::chrono::minutes(4));
  EXPECT_FALSE(sim.violation());
  sim.run_for(std::chrono::minutes(2));
  ASSERT_TRUE(sim.violation());
  EXPECT_EQ(sim.violation()->invariant, "liveness");
}

}  // namespace
}  // namespace amf::sim
