#include "models/n_plus_m.h"

#include <gtest/gtest.h>

#include "tests/unit/models/policy_test_support.h"
#include "tests/unit/support/test_config.h"

namespace amf::models {
namespace {

using model::HaState;
using policy_test::candidates;
using test::si;
using test::su;

model::SgConfig n_plus_m(int sus, int sis, int n, int m) {
  model::SgConfig sg = policy_test::make_sg(model::RedundancyModel::kNPlusM, sus, sis);
  sg.preferred_active_sus = n;
  sg.preferred_standby_sus = m;
  return sg;
}

TEST(NPlusMTest, ComesUpWithNActiveAndMStandbySusSpreadByLoad) {
  const model::SgConfig sg = n_plus_m(5, 4, 2, 2);
  const AssignmentTable target =
      NPlusM().target(sg, candidates({true, true, true, true, true}), {});
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(3), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(4), HaState::kStandby},
                                     {si(3), su(1), HaState::kActive},
                                     {si(3), su(3), HaState::kStandby},
                                     {si(4), su(2), HaState::kActive},
                                     {si(4), su(4), HaState::kStandby}}));
  EXPECT_EQ(
      policy_test::invariant_violation(sg, candidates({true, true, true, true, true}), target), "");
}

TEST(NPlusMTest, PromotesStandbySuWhenActiveSuIsLost) {
  const model::SgConfig sg = n_plus_m(4, 4, 2, 1);
  const AssignmentTable before = NPlusM().target(sg, candidates({true, true, true, true}), {});
  ASSERT_EQ(policy_test::sus_of(before, si(1), HaState::kActive), std::vector{su(1)});
  ASSERT_EQ(policy_test::sus_of(before, si(1), HaState::kStandby), std::vector{su(3)});

  // su-1 (active for si-1 and si-3) is lost: su-3, their hot standby, takes them over; su-2
  // keeps its SIs; su-4, a spare, becomes the standby SU.
  const AssignmentTable target = NPlusM().target(sg, candidates({false, true, true, true}), before);
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(3), HaState::kActive},
                                     {si(1), su(4), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(4), HaState::kStandby},
                                     {si(3), su(3), HaState::kActive},
                                     {si(3), su(4), HaState::kStandby},
                                     {si(4), su(2), HaState::kActive},
                                     {si(4), su(4), HaState::kStandby}}));
}

TEST(NPlusMTest, LostActiveWithNoStandbySuLeftFailsOverWithoutStandby) {
  const model::SgConfig sg = n_plus_m(3, 2, 2, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(3), HaState::kStandby},
                                {si(2), su(2), HaState::kActive},
                                {si(2), su(3), HaState::kStandby}};
  const AssignmentTable target = NPlusM().target(sg, candidates({false, true, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(2), su(2), HaState::kActive}}));
}

TEST(NPlusMTest, RespectsPerSuLimits) {
  model::SgConfig sg = n_plus_m(4, 5, 2, 1);
  sg.max_active_sis_per_su = 2;
  sg.max_standby_sis_per_su = 3;
  const auto sus = candidates({true, true, true, true});
  const AssignmentTable target = NPlusM().target(sg, sus, {});
  // Four actives fit on two active SUs; si-5, the least important, is left out. Three standbys
  // fit on the one standby SU; si-4 goes without.
  EXPECT_EQ(target, (AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(3), HaState::kStandby},
                                     {si(2), su(2), HaState::kActive},
                                     {si(2), su(3), HaState::kStandby},
                                     {si(3), su(1), HaState::kActive},
                                     {si(3), su(3), HaState::kStandby},
                                     {si(4), su(2), HaState::kActive}}));
  EXPECT_EQ(policy_test::invariant_violation(sg, sus, target), "");
}

TEST(NPlusMTest, MostImportantSiTakesCapacityFromLeastImportantWhenShort) {
  model::SgConfig sg = n_plus_m(3, 3, 3, 0);
  sg.max_active_sis_per_su = 1;
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(2), su(2), HaState::kActive},
                                {si(3), su(3), HaState::kActive}};
  // su-1 is lost and no SU has room: si-1 takes su-3 from si-3, which is left unassigned.
  const AssignmentTable target = NPlusM().target(sg, candidates({false, true, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(2), su(2), HaState::kActive}}));
}

TEST(NPlusMTest, KeepsInServiceActiveWhenBetterRankedSuReturns) {
  const model::SgConfig sg = n_plus_m(3, 2, 1, 1);
  const AssignmentTable current{{si(1), su(2), HaState::kActive},
                                {si(1), su(3), HaState::kStandby},
                                {si(2), su(2), HaState::kActive},
                                {si(2), su(3), HaState::kStandby}};
  EXPECT_EQ(NPlusM().target(sg, candidates({true, true, true}), current), current);
}

TEST(NPlusMTest, ActiveSuWithNothingToDoBecomesStandbyNotIdle) {
  // N = 2 but su-1 serves both SIs (su-2 was away when they were placed): su-2 returns and is
  // made standby, since moving an SI to it would interrupt a healthy SI.
  const model::SgConfig sg = n_plus_m(2, 2, 2, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kActive}, {si(2), su(1), HaState::kActive}};
  EXPECT_EQ(NPlusM().target(sg, candidates({true, true}), current),
            (AssignmentTable{{si(1), su(1), HaState::kActive},
                             {si(1), su(2), HaState::kStandby},
                             {si(2), su(1), HaState::kActive},
                             {si(2), su(2), HaState::kStandby}}));
}

TEST(NPlusMTest, IsIdempotentOnItsOwnOutput) {
  model::SgConfig limited = n_plus_m(5, 5, 2, 2);
  limited.max_active_sis_per_su = 2;
  limited.max_standby_sis_per_su = 2;
  const std::vector<std::pair<model::SgConfig, std::vector<SuCandidate>>> inputs{
      {n_plus_m(5, 4, 2, 2), candidates({true, true, true, true, true})},
      {n_plus_m(5, 4, 2, 2), candidates({false, true, false, true, true})},
      {n_plus_m(3, 1, 2, 1), candidates({true, true, true})},
      {n_plus_m(4, 6, 3, 1), candidates({true, false, true, true})},
      {limited, candidates({true, true, true, false, true})},
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto& [sg, sus] = inputs[i];
    const AssignmentTable first = NPlusM().target(sg, sus, {});
    EXPECT_EQ(NPlusM().target(sg, sus, first), first) << "input " << i;
    // And after a failure, starting from that table.
    std::vector<SuCandidate> fewer = sus;
    for (auto& su : fewer) {
      if (su.in_service) {
        su.in_service = false;
        break;
      }
    }
    const AssignmentTable second = NPlusM().target(sg, fewer, first);
    EXPECT_EQ(NPlusM().target(sg, fewer, second), second) << "input " << i << " after a failure";
  }
}

TEST(NPlusMTest, NeverAssignsSuThatIsNotInService) {
  const model::SgConfig sg = n_plus_m(3, 2, 1, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kActive},
                                {si(1), su(2), HaState::kStandby},
                                {si(2), su(1), HaState::kActive},
                                {si(2), su(2), HaState::kStandby}};
  const AssignmentTable target = NPlusM().target(sg, candidates({false, false, true}), current);
  EXPECT_EQ(target,
            (AssignmentTable{{si(1), su(3), HaState::kActive}, {si(2), su(3), HaState::kActive}}));
  EXPECT_TRUE(NPlusM().target(sg, candidates({false, false, false}), current).empty());
}

TEST(NPlusMTest, QuiescedActiveSuIsTreatedAsLeaving) {
  // A switchover: su-1's assignments are quiesced while it stays in service. Its SIs go to
  // their standby su-3, and su-1, now holding nothing, becomes the standby SU.
  const model::SgConfig sg = n_plus_m(4, 4, 2, 1);
  const auto sus = candidates({true, true, true, true});
  const AssignmentTable before = NPlusM().target(sg, sus, {});
  const AssignmentTable target =
      NPlusM().target(sg, sus, policy_test::with_ha(before, su(1), HaState::kQuiesced));
  EXPECT_EQ(policy_test::sus_of(target, si(1), HaState::kActive), std::vector{su(3)});
  EXPECT_EQ(policy_test::sus_of(target, si(3), HaState::kActive), std::vector{su(3)});
  EXPECT_EQ(policy_test::sus_of(target, si(2), HaState::kActive), std::vector{su(2)});
  EXPECT_EQ(policy_test::sus_of(target, si(1), HaState::kStandby), std::vector{su(1)});
  EXPECT_EQ(policy_test::sus_of(target, si(2), HaState::kStandby), std::vector{su(1)});
}

TEST(NPlusMTest, QuiescedEntryOfSuThatIsNotInServiceIsDropped) {
  const model::SgConfig sg = n_plus_m(2, 1, 1, 1);
  const AssignmentTable current{{si(1), su(1), HaState::kQuiescing},
                                {si(1), su(2), HaState::kStandby}};
  EXPECT_EQ(NPlusM().target(sg, candidates({false, true}), current),
            (AssignmentTable{{si(1), su(2), HaState::kActive}}));
}

TEST(NPlusMTest, InvariantsHoldOverRandomInputs) {
  for (const std::string& failure :
       policy_test::random_failures(model::RedundancyModel::kNPlusM, 1234, 200)) {
    ADD_FAILURE() << failure;
  }
}

}  // namespace
}  // namespace amf::models
