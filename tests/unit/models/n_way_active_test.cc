#include "models/n_way_active.h"

#include <gtest/gtest.h>

#include "tests/unit/models/policy_test_support.h"
#include "tests/unit/support/test_config.h"

namespace amf::models {
namespace {

using model::HaState;
using policy_test::candidates;
using test::si;
using test::su;

model::SgConfig n_way_active(int sus, int sis, int actives_per_si) {
  model::SgConfig sg = policy_test::make_sg(model::RedundancyModel::kNWayActive, sus, sis);
  for (auto& si : sg.sis) si.preferred_active_assignments = actives_per_si;
  return sg;
}

TEST(NWayActiveTest, ComesUpWithPreferredActivesPerSiSpreadByLoad) {
  const model::SgConfig sg = n_way_active(3, 2, 2);
  const auto sus = candidates({true, true, true});
  const AssignmentTable target = NWayActive().target(sg, sus, {});
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(3), HaState::kActive},
                                     {si(2), su(1), HaState::kActive},
                                     {si(2), su(2), HaState::kActive}}));
  EXPECT_EQ(policy_test::invariant_violation(sg, sus, target), "");
}

TEST(NWayActiveTest, LostSuIsReplacedWhileOtherActivesKeepServing) {
  const model::SgConfig sg = n_way_active(3, 2, 2);
  const AssignmentTable before = NWayActive().target(sg, candidates({true, true, true}), {});
  // su-1 is lost: each SI keeps its other active and gets a new one on a remaining SU.
  EXPECT_EQ(NWayActive().target(sg, candidates({false, true, true}), before),
            (AssignmentTable{{si(1), su(2), HaState::kActive},
                             {si(1), su(3), HaState::kActive},
                             {si(2), su(2), HaState::kActive},
                             {si(2), su(3), HaState::kActive}}));
}

TEST(NWayActiveTest, RespectsPerSuLimitAndGivesEverySiOneActiveBeforeAnySecond) {
  model::SgConfig sg = n_way_active(3, 2, 2);
  sg.max_active_sis_per_su = 1;
  const AssignmentTable before = NWayActive().target(sg, candidates({true, true, true}), {});
  EXPECT_EQ(before, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(3), HaState::kActive},
                                     {si(2), su(2), HaState::kActive}}));
  // su-2 is lost and no SU has room: si-2 takes si-1's second active rather than go unserved.
  EXPECT_EQ(NWayActive().target(sg, candidates({true, false, true}), before),
            (AssignmentTable{{si(1), su(1), HaState::kActive}, {si(2), su(3), HaState::kActive}}));
}

TEST(NWayActiveTest, MostImportantSiTakesCapacityFromLeastImportantWhenShort) {
  model::SgConfig sg = n_way_active(2, 3, 1);
  sg.max_active_sis_per_su = 1;
  // si-1 has no active (say it was just added): it takes su-2 from si-3.
  const AssignmentTable current{{si(2), su(1), HaState::kActive}, {si(3), su(2), HaState::kActive}};
  EXPECT_EQ(NWayActive().target(sg, candidates({true, true}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}, {si(2), su(1), HaState::kActive}}));
}

TEST(NWayActiveTest, KeepsInServiceActivesWhenBetterRankedSuReturns) {
  const model::SgConfig sg = n_way_active(3, 1, 2);
  const AssignmentTable current{{si(1), su(2), HaState::kActive}, {si(1), su(3), HaState::kActive}};
  EXPECT_EQ(NWayActive().target(sg, candidates({true, true, true}), current), current);
}

TEST(NWayActiveTest, AssignsOnlyPreferredAssignedSus) {
  model::SgConfig sg = n_way_active(4, 3, 2);
  sg.preferred_assigned_sus = 2;
  EXPECT_EQ(NWayActive().target(sg, candidates({true, true, true, true}), {}),
            (AssignmentTable{{si(1), su(1), HaState::kActive},
                             {si(1), su(2), HaState::kActive},
                             {si(2), su(1), HaState::kActive},
                             {si(2), su(2), HaState::kActive},
                             {si(3), su(1), HaState::kActive},
                             {si(3), su(2), HaState::kActive}}));
}

TEST(NWayActiveTest, IsIdempotentOnItsOwnOutput) {
  model::SgConfig limited = n_way_active(4, 5, 2);
  limited.max_active_sis_per_su = 2;
  model::SgConfig assigned = n_way_active(5, 3, 2);
  assigned.preferred_assigned_sus = 3;
  const std::vector<std::pair<model::SgConfig, std::vector<SuCandidate>>> inputs{
      {n_way_active(3, 2, 2), candidates({true, true, true})},
      {n_way_active(4, 4, 3), candidates({true, false, true, true})},
      {n_way_active(2, 3, 1), candidates({true, true})},
      {limited, candidates({true, true, true, true})},
      {assigned, candidates({false, true, true, true, true})},
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& [sg, sus] = inputs[i];
    const AssignmentTable first = NWayActive().target(sg, sus, {});
    EXPECT_EQ(NWayActive().target(sg, sus, first), first) << "input " << i;
    std::vector<SuCandidate> fewer = sus;
    for (auto& su : fewer) {
      if (su.in_service) {
        su.in_service = false;
        break;
      }
    }
    const AssignmentTable second = NWayActive().target(sg, fewer, first);
    EXPECT_EQ(NWayActive().target(sg, fewer, second), second)
        << "input " << i << " after a failure";
  }
}

TEST(NWayActiveTest, NeverAssignsSuThatIsNotInService) {
  const model::SgConfig sg = n_way_active(3, 1, 3);
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(2), HaState::kActive},
                                {si(1), su(3), HaState::kActive}};
  EXPECT_EQ(NWayActive().target(sg, candidates({false, true, false}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}}));
  EXPECT_TRUE(NWayActive().target(sg, candidates({false, false, false}), current).empty());
}

TEST(NWayActiveTest, QuiescedActiveIsTreatedAsLeaving) {
  // su-1's active is quiesced while su-1 stays in service: it does not count towards si-1's
  // one preferred active, which su-2 already holds.
  const model::SgConfig sg = n_way_active(3, 1, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kQuiesced},
                                {si(1), su(2), HaState::kActive}};
  EXPECT_EQ(NWayActive().target(sg, candidates({true, true, true}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}}));
}

TEST(NWayActiveTest, InvariantsHoldOverRandomInputs) {
  for (const std::string& failure :
       policy_test::random_failures(model::RedundancyModel::kNWayActive, 9012, 200)) {
    ADD_FAILURE() << failure;
  }
}

}  // namespace
}  // namespace amf::models
