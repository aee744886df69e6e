#include "models/n_way.h"

#include <gtest/gtest.h>

#include "tests/unit/models/policy_test_support.h"
#include "tests/unit/support/test_config.h"

namespace amf::models {
namespace {

using model::HaState;
using policy_test::candidates;
using test::si;
using test::su;

model::SgConfig n_way(int sus, int sis, int standbys_per_si) {
  model::SgConfig sg = policy_test::make_sg(model::RedundancyModel::kNWay, sus, sis);
  for (auto& si : sg.sis) si.preferred_standby_assignments = standbys_per_si;
  return sg;
}

TEST(NWayTest, ComesUpWithOneActiveAndPreferredStandbysPerSi) {
  const model::SgConfig sg = n_way(4, 2, 2);
  const auto sus = candidates({true, true, true, true});
  const AssignmentTable target = NWay().target(sg, sus, {});
  // Actives spread by active count; standbys by total count, first standbys before second.
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(2), HaState::kStandby},
                                     {si(1), su(3), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(1), HaState::kStandby},
                                     {si(2), su(4), HaState::kStandby}}));
  EXPECT_EQ(policy_test::invariant_violation(sg, sus, target), "");
}

TEST(NWayTest, PromotesMostPreferredStandbyWhenActiveSuIsLost) {
  const model::SgConfig sg = n_way(4, 2, 2);
  const AssignmentTable before = NWay().target(sg, candidates({true, true, true, true}), {});
  // su-1 (active for si-1) is lost: su-2, the better of si-1's two standbys, takes over; each
  // SI gets back to two standbys.
  const AssignmentTable target = NWay().target(sg, candidates({false, true, true, true}), before);
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(2), HaState::kActive},
                                     {si(1), su(3), HaState::kStandby},
                                     {si(1), su(4), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(3), HaState::kStandby},
                                     {si(2), su(4), HaState::kStandby}}));
}

TEST(NWayTest, RespectsPerSuLimits) {
  model::SgConfig sg = n_way(3, 4, 1);
  sg.max_active_sis_per_su = 1;
  sg.max_standby_sis_per_su = 1;
  const auto sus = candidates({true, true, true});
  const AssignmentTable target = NWay().target(sg, sus, {});
  // Three actives fit and si-4, the least important, is left out; two standbys fit, for the
  // two most important SIs.
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(2), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(1), HaState::kStandby},
                                     {si(3), su(3), HaState::kActive}}));
  EXPECT_EQ(policy_test::invariant_violation(sg, sus, target), "");
}

TEST(NWayTest, MostImportantSiTakesCapacityFromLeastImportantWhenShort) {
  model::SgConfig sg = n_way(2, 2, 1);
  sg.max_active_sis_per_su = 1;
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(2), HaState::kStandby},
                                {si(2), su(2), HaState::kActive},
                                {si(2), su(1), HaState::kStandby}};
  // su-1 is lost; su-2, si-1's standby, is full with si-2's active: si-1 takes it.
  EXPECT_EQ(NWay().target(sg, candidates({false, true}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}}));
}

TEST(NWayTest, KeepsInServiceHoldersWhenBetterRankedSuReturns) {
  const model::SgConfig sg = n_way(3, 1, 1);
  const AssignmentTable current{{si(1), su(2), HaState::kActive},
                                {si(1), su(3), HaState::kStandby}};
  EXPECT_EQ(NWay().target(sg, candidates({true, true, true}), current), current);

  model::SgConfig two_assigned = sg;
  two_assigned.preferred_assigned_sus = 2;
  EXPECT_EQ(NWay().target(two_assigned, candidates({true, true, true}), current), current);
}

TEST(NWayTest, AssignsOnlyPreferredAssignedSus) {
  model::SgConfig sg = n_way(4, 2, 1);
  sg.preferred_assigned_sus = 2;
  EXPECT_EQ(NWay().target(sg, candidates({true, true, true, true}), {}),
            (AssignmentTable{{si(1), su(1), HaState::kActive},
                             {si(1), su(2), HaState::kStandby},
                             {si(2), su(2), HaState::kActive},
                             {si(2), su(1), HaState::kStandby}}));
}

TEST(NWayTest, IsIdempotentOnItsOwnOutput) {
  model::SgConfig limited = n_way(4, 5, 2);
  limited.max_active_sis_per_su = 2;
  limited.max_standby_sis_per_su = 2;
  model::SgConfig assigned = n_way(5, 3, 1);
  assigned.preferred_assigned_sus = 3;
  const std::vector<std::pair<model::SgConfig, std::vector<SuCandidate>>> inputs{
      {n_way(4, 2, 2), candidates({true, true, true, true})},
      {n_way(3, 3, 1), candidates({true, false, true})},
      {n_way(2, 4, 1), candidates({true, true})},
      {limited, candidates({true, true, true, true})},
      {assigned, candidates({false, true, true, true, true})},
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& [sg, sus] = inputs[i];
    const AssignmentTable first = NWay().target(sg, sus, {});
    EXPECT_EQ(NWay().target(sg, sus, first), first) << "input " << i;
    std::vector<SuCandidate> fewer = sus;
    for (auto& su : fewer) {
      if (su.in_service) {
        su.in_service = false;
        break;
      }
    }
    const AssignmentTable second = NWay().target(sg, fewer, first);
    EXPECT_EQ(NWay().target(sg, fewer, second), second) << "input " << i << " after a failure";
  }
}

TEST(NWayTest, NeverAssignsSuThatIsNotInService) {
  const model::SgConfig sg = n_way(3, 2, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(2), HaState::kStandby},
                                {si(2), su(2), HaState::kActive},
                                {si(2), su(1), HaState::kStandby}};
  EXPECT_EQ(NWay().target(sg, candidates({false, false, true}), current),
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(2), su(3), HaState::kActive}}));
  EXPECT_TRUE(NWay().target(sg, candidates({false, false, false}), current).empty());
}

TEST(NWayTest, QuiescedActiveIsTreatedAsLeaving) {
  // A switchover: si-1's active on su-1 is quiesced while su-1 stays in service. The standby
  // is promoted and su-1, holding nothing now, is the least loaded SU for the new standby.
  const model::SgConfig sg = n_way(3, 1, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kQuiesced},
                                {si(1), su(2), HaState::kStandby}};
  EXPECT_EQ(NWay().target(sg, candidates({true, true, true}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}, {si(1), su(1), HaState::kStandby}}));
}

TEST(NWayTest, QuiescingStandbySuDoesNotCountAsHoldingTheSi) {
  const model::SgConfig sg = n_way(3, 1, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(3), HaState::kQuiescing}};
  EXPECT_EQ(NWay().target(sg, candidates({true, true, true}), current),
            (AssignmentTable{{si(1), su(1), HaState::kActive}, {si(1), su(2), HaState::kStandby}}));
}

TEST(NWayTest, InvariantsHoldOverRandomInputs) {
  for (const std::string& failure :
       policy_test::random_failures(model::RedundancyModel::kNWay, 5678, 200)) {
    ADD_FAILURE() << failure;
  }
}

}  // namespace
}  // namespace amf::models
