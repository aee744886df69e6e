// The director and the node director together, on pretend processes: the whole decision path
// of a failover, with no I/O.
#include <gtest/gtest.h>

#include <map>

#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

using model::HaState;
using test::comp;
using test::si;
using test::su;

models::AssignmentTable table(test::LocalCluster& c) {
  return c.director().assignments(SgId("app"));
}

TEST(FailoverTest, TwoNComesUpActiveStandby) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}));
}

TEST(FailoverTest, TwoNActiveDiesStandbyTakesOverAndFailedSuReturnsAsStandby) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.csi_sets().clear();
  c.kill(comp(1));
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                               {si(1), su(1), HaState::kStandby}}));
  // The standby was told it takes over by failover, and was told first.
  ASSERT_GE(c.csi_sets().size(), 2u);
  EXPECT_EQ(c.csi_sets()[0].comp, comp(2));
  EXPECT_EQ(c.csi_sets()[0].ha, HaState::kActive);
  EXPECT_EQ(c.csi_sets()[0].reason, model::TransitionReason::kFailover);
  EXPECT_EQ(c.starts(comp(1)), 2);
  EXPECT_TRUE(c.alive(comp(1)));
}

// The last CSI set each component got, by component.
std::map<CompId, node::SendCsiSet> last_csi_sets(test::LocalCluster& c) {
  std::map<CompId, node::SendCsiSet> out;
  for (const auto& set : c.csi_sets()) out.insert_or_assign(set.comp, set);
  return out;
}

TEST(FailoverTest, TwoNStandbyKnowsItsActiveAfterAFailover) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  auto sets = last_csi_sets(c);
  ASSERT_TRUE(sets.at(comp(2)).active.has_value());
  EXPECT_EQ(sets.at(comp(2)).active->component, "app/su-1/server");
  EXPECT_FALSE(sets.at(comp(1)).active.has_value());  // the active is told of no active
  c.kill(comp(1));
  sets = last_csi_sets(c);
  ASSERT_EQ(sets.at(comp(1)).ha, HaState::kStandby);
  ASSERT_TRUE(sets.at(comp(1)).active.has_value());
  EXPECT_EQ(sets.at(comp(1)).active->su, "app/su-2");
}

TEST(FailoverTest, NWayStandbysAreToldTheNewActiveWhenOneOfThemIsPromoted) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kNWay, .sus = 3}));
  config->applications[0].service_groups[0].sis[0].preferred_standby_assignments = 2;
  test::LocalCluster c(config);
  c.start();
  ASSERT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby},
                                               {si(1), su(3), HaState::kStandby}}));
  c.csi_sets().clear();
  c.kill(comp(1));
  // su-2 is promoted; su-3 stays standby and hears of su-2, with the same standby assignment;
  // su-1 returns as a standby of su-2.
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                               {si(1), su(3), HaState::kStandby},
                                               {si(1), su(1), HaState::kStandby}}));
  const auto sets = last_csi_sets(c);
  for (int i : {1, 3}) {
    ASSERT_TRUE(sets.count(comp(i))) << "su-" << i << " was not told";
    EXPECT_EQ(sets.at(comp(i)).ha, HaState::kStandby);
    ASSERT_TRUE(sets.at(comp(i)).active.has_value()) << "su-" << i;
    EXPECT_EQ(sets.at(comp(i)).active->component, "app/su-2/server") << "su-" << i;
  }
  // The event says why su-3's assignment was given again.
  bool told = false;
  for (const auto& n : c.notifications()) {
    told |= n.kind == model::NotificationKind::kHaState && n.entity == "app/su-3" &&
            n.cause == "told the active app/su-2";
  }
  EXPECT_TRUE(told);
  // Settled: nothing more is sent.
  c.csi_sets().clear();
  c.run();
  EXPECT_TRUE(c.csi_sets().empty());
}

TEST(FailoverTest, TwoNSurvivesRepeatedCrashesOfWhicheverIsActive) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  for (int round = 0; round < 10; ++round) {
    const SuId active = table(c).at(0).su;
    c.kill(CompId(active.str() + "/server"));
    auto t = table(c);
    ASSERT_EQ(t.size(), 2u);
    EXPECT_NE(t[0].su, active);
    EXPECT_EQ(t[0].ha, HaState::kActive);
    EXPECT_EQ(t[1].su, active);
    EXPECT_EQ(t[1].ha, HaState::kStandby);
  }
}

TEST(FailoverTest, NoRedundancyRestartsInPlace) {
  test::LocalCluster c(test::make_cluster({.redundancy = model::RedundancyModel::kNoRedundancy,
                                           .sus = 1,
                                           .recovery = model::Recovery::kComponentRestart}));
  c.start();
  c.csi_sets().clear();
  c.kill(comp(1));
  EXPECT_EQ(c.starts(comp(1)), 2);
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
  ASSERT_EQ(c.csi_sets().size(), 1u);
  EXPECT_EQ(c.csi_sets()[0].reason, model::TransitionReason::kRestart);
}

TEST(FailoverTest, SilentStandbyIsCleanedUpAndRetried) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.auto_respond = false;
  c.kill(comp(1));  // su-2 is told to go active but never answers
  c.auto_respond = true;
  c.advance(std::chrono::milliseconds(5'000));  // callback timeout: su-2 cleaned up
  // su-1 was repaired meanwhile and takes over; su-2 comes back as standby.
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}));
}

TEST(FailoverTest, SisOfAnSuWhoseCleanupFailedAreNeverFailedOverUntilRepaired) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.unkillable.insert(comp(1));
  c.auto_respond = false;
  c.advance(std::chrono::milliseconds(1));
  // The active stops answering; its cleanup (SIGKILL) does not end it.
  c.to_node(NodeId("node-1"), node::ComponentErrorReport{*c.peer(comp(1)), "", "wedged"});
  c.run();
  c.auto_respond = true;
  c.advance(std::chrono::milliseconds(5'000));  // cleanup timeout: termination-failed
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}))
      << "the SI must not move while the old active may still run";
  // Once the operator has made sure the process is gone, repair lets the SI move.
  c.unkillable.clear();
  c.kill(comp(1));
  auto r = c.admin(director::AdminOp::kRepair, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                               {si(1), su(1), HaState::kStandby}}));
}

TEST(FailoverTest, AFrozenSiTakesNoCapacityFromTheOthers) {
  // N-way, one active SI per SU, no standbys. su-1's cleanup fails while it holds an SI: that
  // SI is frozen there. When su-3 fails and returns, the other two SIs must both be served by
  // su-2 and su-3; planning the frozen SI onto su-3 would leave one of them unserved.
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kNWay, .sus = 3, .sis = 3}));
  auto& sg = config->applications[0].service_groups[0];
  sg.max_active_sis_per_su = 1;
  for (auto& s : sg.sis) s.preferred_standby_assignments = 0;
  test::LocalCluster c(config);
  c.start();
  ASSERT_EQ(table(c).size(), 3u);
  c.unkillable.insert(comp(1));
  c.to_node(NodeId("node-1"), node::ComponentErrorReport{*c.peer(comp(1)), "", "wedged"});
  c.run();
  c.advance(std::chrono::milliseconds(5'000));  // cleanup timeout: su-1 termination-failed
  c.kill(comp(3));
  int served = 0;
  for (const auto& a : table(c)) served += a.ha == HaState::kActive;
  EXPECT_EQ(served, 3) << "the frozen SI on su-1 and one SI each on su-2 and su-3: "
                       << ::testing::PrintToString(table(c));
}

}  // namespace
}  // namespace amf
