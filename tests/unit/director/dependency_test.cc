// SI dependencies: a dependent SI is active only while its sponsor is.
#include <gtest/gtest.h>

#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

using model::HaState;
using test::comp;
using test::si;
using test::su;
using namespace std::chrono_literals;

// No-redundancy, su-1..su-3, si-1 (sponsor) and si-2 (depends on si-1, tolerance 2 s).
std::shared_ptr<const model::ClusterConfig> cluster() {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster(
      {.redundancy = model::RedundancyModel::kNoRedundancy, .sus = 3, .sis = 2}));
  config->applications[0].service_groups[0].sis[1].dependencies.push_back({si(1), 2s});
  return config;
}

bool active(test::LocalCluster& c, int s) {
  for (const auto& a : c.director().assignments(SgId("app"))) {
    if (a.si == si(s) && a.ha == HaState::kActive) return true;
  }
  return false;
}

TEST(DependencyTest, TheSponsorIsMadeActiveBeforeItsDependent) {
  test::LocalCluster c(cluster());
  c.start();
  EXPECT_TRUE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
  int sponsor_at = -1, dependent_at = -1;
  for (std::size_t k = 0; k < c.csi_sets().size(); ++k) {
    const auto& set = c.csi_sets()[k];
    if (set.ha != HaState::kActive) continue;
    if (set.csi == CsiId("app/si-1/csi") && sponsor_at < 0) sponsor_at = static_cast<int>(k);
    if (set.csi == CsiId("app/si-2/csi") && dependent_at < 0) dependent_at = static_cast<int>(k);
  }
  ASSERT_GE(sponsor_at, 0);
  EXPECT_LT(sponsor_at, dependent_at);
}

TEST(DependencyTest, DependentGoesWhenTheSponsorStaysDownBeyondTheTolerance) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(cluster());
  auto& sg = config->applications[0].service_groups[0];
  sg.sus.pop_back();  // no spare: si-1 has nowhere to go while su-1 is down
  test::LocalCluster c(config);
  c.start();
  const SuId sponsor_su = c.director().assignments(SgId("app")).at(0).su;
  c.auto_register = false;  // the sponsor's SU cannot come back for now
  c.kill(CompId(sponsor_su.str() + "/server"));
  EXPECT_FALSE(active(c, 1));
  EXPECT_TRUE(active(c, 2)) << "within the tolerance the dependent stays";
  c.advance(1999ms);
  EXPECT_TRUE(active(c, 2));
  c.advance(1ms);
  EXPECT_FALSE(active(c, 2)) << "the tolerance is spent";
  bool noted = false;
  for (const auto& n : c.notifications()) {
    noted |= n.kind == model::NotificationKind::kRecovery && n.to == "dependency-removal" &&
             n.entity == "app/si-2" && n.cause == "sponsor app/si-1 has had no active for 2000 ms";
  }
  EXPECT_TRUE(noted);
  // The sponsor returns (registration works again): the dependent follows it.
  c.auto_register = true;
  c.advance(10s);  // the pending instantiation times out and is retried
  EXPECT_TRUE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
}

TEST(DependencyTest, SponsorBackWithinTheToleranceKeepsTheDependentUntouched) {
  test::LocalCluster c(cluster());  // su-3 is a spare: si-1 fails over at once
  c.start();
  const std::size_t mark = c.csi_sets().size();
  const SuId sponsor_su = c.director().assignments(SgId("app")).at(0).su;
  c.kill(CompId(sponsor_su.str() + "/server"));
  EXPECT_TRUE(active(c, 1));
  EXPECT_TRUE(active(c, 2));
  for (std::size_t k = mark; k < c.csi_sets().size(); ++k) {
    EXPECT_NE(c.csi_sets()[k].csi, CsiId("app/si-2/csi")) << "the dependent was not touched";
  }
  EXPECT_FALSE(c.director().next_deadline()) << "no dependency timer left behind";
}

}  // namespace
}  // namespace amf
