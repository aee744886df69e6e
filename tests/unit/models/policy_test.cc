#include <gtest/gtest.h>

#include "models/no_redundancy.h"
#include "models/two_n.h"
#include "tests/unit/support/test_config.h"

namespace amf::models {
namespace {

using model::HaState;
using test::si;
using test::su;

std::vector<SuCandidate> candidates(std::initializer_list<bool> in_service) {
  std::vector<SuCandidate> out;
  int i = 1;
  for (bool up : in_service) {
    out.push_back({su(i), i, up});
    ++i;
  }
  return out;
}

TEST(TwoNTest, AssignsActiveAndStandbyByRank) {
  auto config = test::make_cluster({.sus = 3, .sis = 2});
  const auto& sg = config->applications[0].service_groups[0];
  const AssignmentTable target = TwoN().target(sg, candidates({true, true, true}), {});
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(2), HaState::kStandby},
                                     {si(2), su(1), HaState::kActive},
                                     {si(2), su(2), HaState::kStandby}}));
}

TEST(TwoNTest, PromotesStandbyWhenActiveSuIsLost) {
  auto config = test::make_cluster({.sus = 3});
  const auto& sg = config->applications[0].service_groups[0];
  // su-1 was active and is gone; su-3 was standby; su-2 is a spare with a better rank.
  const AssignmentTable current{{si(1), su(3), HaState::kStandby}};
  const AssignmentTable target = TwoN().target(sg, candidates({false, true, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(1), su(2), HaState::kStandby}}));
}

TEST(TwoNTest, KeepsInServiceActiveEvenWhenBetterRankedSuReturns) {
  auto config = test::make_cluster({.sus = 2});
  const auto& sg = config->applications[0].service_groups[0];
  const AssignmentTable current{{si(1), su(2), HaState::kActive}};
  const AssignmentTable target = TwoN().target(sg, candidates({true, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(2), HaState::kActive}, {si(1), su(1), HaState::kStandby}}));
}

TEST(TwoNTest, NoInServiceSuMeansNoAssignment) {
  auto config = test::make_cluster({.sus = 2});
  const auto& sg = config->applications[0].service_groups[0];
  EXPECT_TRUE(TwoN().target(sg, candidates({false, false}), {}).empty());
}

TEST(NoRedundancyTest, OneSiPerSuHigherRankedSiServedFirst) {
  auto config =
      test::make_cluster({.redundancy = model::RedundancyModel::kNoRedundancy, .sus = 2, .sis = 3});
  const auto& sg = config->applications[0].service_groups[0];
  const AssignmentTable target = NoRedundancy().target(sg, candidates({true, true}), {});
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(1), HaState::kActive}, {si(2), su(2), HaState::kActive}}));
}

TEST(NoRedundancyTest, LostSuMovesItsSiToSpareAndOthersStay) {
  auto config =
      test::make_cluster({.redundancy = model::RedundancyModel::kNoRedundancy, .sus = 3, .sis = 2});
  const auto& sg = config->applications[0].service_groups[0];
  const AssignmentTable current{{si(2), su(2), HaState::kActive}};  // si-1 lost su-1
  const AssignmentTable target =
      NoRedundancy().target(sg, candidates({false, true, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(2), su(2), HaState::kActive}}));
}

TEST(PolicyFactoryTest, ReturnsAPolicyForEveryModel) {
  for (const auto model : {model::RedundancyModel::kNoRedundancy, model::RedundancyModel::kTwoN,
                           model::RedundancyModel::kNPlusM, model::RedundancyModel::kNWay,
                           model::RedundancyModel::kNWayActive}) {
    auto policy = make_policy(model);
    ASSERT_TRUE(policy) << model::to_string(model) << ": " << policy.error().message();
    EXPECT_NE(*policy, nullptr) << model::to_string(model);
  }
}

}  // namespace
}  // namespace amf::models
