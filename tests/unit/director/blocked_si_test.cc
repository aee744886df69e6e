// A blocked SI (a sponsor has no active) takes no capacity from an SI that can be served
// (sim/README.md, finding 12).
#include <gtest/gtest.h>

#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

using model::HaState;
using test::si;
using namespace std::chrono_literals;

// N+M with two active SUs of one active SI each and no standby SU; si-1..si-4 ranked 1..4;
// si-2 depends on si-1 (tolerance 1 s). Two SIs fit: the two most important servable ones.
std::shared_ptr<const model::ClusterConfig> cluster() {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kNPlusM, .sus = 2, .sis = 4}));
  auto& sg = config->applications[0].service_groups[0];
  sg.preferred_active_sus = 2;
  sg.preferred_standby_sus = 0;
  sg.max_active_sis_per_su = 1;
  sg.sis[1].dependencies.push_back({si(1), 1s});
  return config;
}

bool active(test::LocalCluster& c, int s) {
  for (const auto& a : c.director().assignments(SgId("app"))) {
    if (a.si == si(s) && a.ha == HaState::kActive) return true;
  }
  return false;
}

TEST(BlockedSiTest, ASlotABlockedSiCannotUseGoesToAServableOne) {
  test::LocalCluster c(cluster());
  c.start();
  ASSERT_TRUE(active(c, 1));
  ASSERT_TRUE(active(c, 2));
  ASSERT_FALSE(active(c, 3));

  // The operator locks the sponsor: its SU takes si-3; si-2 keeps its active for the tolerance.
  auto r = c.admin(director::AdminOp::kLock, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_FALSE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
  EXPECT_TRUE(active(c, 3));
  c.advance(1s);
  EXPECT_FALSE(active(c, 2)) << "the tolerance is spent";
  // Before, the policy gave the freed SU to si-2 again (more important than si-4), the
  // director dropped that active, and the SU stayed empty.
  EXPECT_TRUE(active(c, 4)) << "si-4 depends on nothing and an SU has room";
  EXPECT_FALSE(c.director().busy(SgId("app")));

  // The sponsor is unlocked: the two most important SIs are served again.
  r = c.admin(director::AdminOp::kUnlock, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_TRUE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
  EXPECT_FALSE(active(c, 3));
  EXPECT_FALSE(active(c, 4));
}

// A dependent SI whose sponsor the same evaluation makes active keeps its slot: at start-up
// the chain si-1 <- si-2 is served, not si-1 and the independent si-3.
TEST(BlockedSiTest, ASlotIsKeptForADependentWhoseSponsorIsBeingMadeActive) {
  test::LocalCluster c(cluster());
  c.start();
  EXPECT_TRUE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
  for (const auto& set : c.csi_sets()) {
    EXPECT_NE(set.csi, CsiId("app/si-3/csi")) << "si-3 was assigned, then taken back";
  }
}

// A chain, as in finding 12: si-3 depends on si-2, which depends on si-1. Once si-1 is locked
// and the tolerances are spent, neither si-2 nor si-3 may be active, and the SUs serve si-4 and
// si-5. The policy would place si-2 and, behind it, si-3: both are left out of the planning.
TEST(BlockedSiTest, AnSiWhoseSponsorIsBlockedTakesNoSlotEither) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kNPlusM, .sus = 2, .sis = 5}));
  auto& sg = config->applications[0].service_groups[0];
  sg.preferred_active_sus = 2;
  sg.preferred_standby_sus = 0;
  sg.max_active_sis_per_su = 1;
  sg.sis[1].dependencies.push_back({si(1), 1s});
  sg.sis[2].dependencies.push_back({si(2), 1s});
  test::LocalCluster c(config);
  c.start();
  ASSERT_TRUE(active(c, 1));
  ASSERT_TRUE(active(c, 2));
  ASSERT_TRUE(c.admin(director::AdminOp::kLock, director::EntityKind::kSi, "app/si-1")->ok);
  EXPECT_TRUE(active(c, 2));
  EXPECT_TRUE(active(c, 3)) << "its sponsor si-2 is active (for its tolerance)";
  c.advance(1s);
  EXPECT_FALSE(active(c, 2));
  EXPECT_TRUE(active(c, 3));
  EXPECT_TRUE(active(c, 4));
  c.advance(1s);
  EXPECT_FALSE(active(c, 3));
  EXPECT_TRUE(active(c, 4));
  EXPECT_TRUE(active(c, 5)) << "si-5 depends on nothing and an SU has room";
  EXPECT_FALSE(c.director().busy(SgId("app")));
}

}  // namespace
}  // namespace amf
