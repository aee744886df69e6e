// Protection groups (saAmfProtectionGroupTrack) in the node director: the components a CSI is
// assigned to, told on request and again when the group changes; refusals say why.
#include <gtest/gtest.h>

#include "amf/node/node_director.h"
#include "tests/unit/support/node_driver.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using model::HaState;
using model::ProtectionGroupChange;
using model::ProtectionGroupMember;
using model::ProtectionGroupRefusal;
using test::comp;
using test::only;
using test::si;
using test::su;

const char* const kCsi = "app/si-1/csi";

class ProtectionGroupTest : public ::testing::Test, protected test::NodeDriver {
 protected:
  // Two SUs on node-1, su-1 active and su-2 standby for si-1; su-N's component is peer N.
  void assigned(test::ClusterSpec spec = {}) {
    nd_.emplace(test::make_cluster(spec), NodeId("node-1"));
    for (int n : {1, 2}) {
      handle(protocol::InstantiateSu{su(n)});
      handle(ProcessStarted{comp(n)});
      handle(ComponentRegister{static_cast<PeerId>(n), comp(n).str()});
    }
    assign(1, HaState::kActive);
    assign(2, HaState::kStandby);
  }
  std::vector<Effect> assign(int n, HaState ha) {
    auto effects =
        handle(protocol::AssignHa{su(n), si(1), ha, model::TransitionReason::kNewAssignment});
    for (const auto& set : only<SendCsiSet>(effects)) {
      auto more = handle(ComponentResponse{set.peer, set.invocation, true});
      effects.insert(effects.end(), more.begin(), more.end());
    }
    return effects;
  }
  std::vector<SendProtectionGroup> track(ComponentTrackProtectionGroup request) {
    return only<SendProtectionGroup>(handle(request));
  }
  static ProtectionGroupMember member(
      int n, HaState ha, ProtectionGroupChange change = ProtectionGroupChange::kNoChange) {
    return {comp(n).str(), "", ha, n, change};  // su-N has rank N
  }
};

TEST_F(ProtectionGroupTest, TheCurrentGroupIsEveryComponentTheCsiIsAssignedTo) {
  assigned();
  auto answer = track({.peer = 1, .request = 7, .csi = kCsi, .current = true});
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].peer, 1u);
  EXPECT_EQ(answer[0].request, 7u);
  EXPECT_EQ(answer[0].refusal, ProtectionGroupRefusal::kNone);
  EXPECT_EQ(answer[0].members,
            (std::vector{member(1, HaState::kActive), member(2, HaState::kStandby)}));
  // By its SA Forum DN too, and through the callback (request 0) when asked so.
  answer = track({.peer = 2,
                  .request = 8,
                  .csi = "safCsi=csi,safSi=si-1,safApp=app",
                  .current_callback = true});
  ASSERT_EQ(answer.size(), 2u);
  EXPECT_TRUE(answer[0].members.empty());
  EXPECT_EQ(answer[1].request, 0u);
  EXPECT_EQ(answer[1].csi, "safCsi=csi,safSi=si-1,safApp=app");
  EXPECT_EQ(answer[1].members.size(), 2u);
}

TEST_F(ProtectionGroupTest, ATrackerIsToldEveryChangeMarked) {
  assigned();
  ASSERT_EQ(track({.peer = 2, .request = 1, .csi = kCsi, .changes = true}).size(), 1u);
  // su-1 loses the CSI (removed), then su-2 becomes active (state change).
  auto effects = handle(protocol::RemoveHa{su(1), si(1)});
  for (const auto& remove : only<SendCsiRemove>(effects)) {
    auto more = handle(ComponentResponse{remove.peer, remove.invocation, true});
    effects.insert(effects.end(), more.begin(), more.end());
  }
  auto told = only<SendProtectionGroup>(effects);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].request, 0u);
  EXPECT_EQ(told[0].members,
            (std::vector{member(2, HaState::kStandby),
                         member(1, HaState::kActive, ProtectionGroupChange::kRemoved)}));
  told = only<SendProtectionGroup>(assign(2, HaState::kActive));
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].members,
            std::vector{member(2, HaState::kActive, ProtectionGroupChange::kStateChange)});
  // Nothing changes, nothing is told.
  EXPECT_TRUE(only<SendProtectionGroup>(advance(std::chrono::seconds(1))).empty());
}

TEST_F(ProtectionGroupTest, ChangesOnlyLeaveTheUnchangedMembersOut) {
  assigned();
  track({.peer = 1, .request = 1, .csi = kCsi, .changes_only = true});
  auto told = only<SendProtectionGroup>(assign(2, HaState::kQuiesced));
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].members,
            std::vector{member(2, HaState::kQuiesced, ProtectionGroupChange::kStateChange)});
}

TEST_F(ProtectionGroupTest, TrackingEndsWhenAskedAndWhenTheTrackerGoes) {
  assigned();
  track({.peer = 1, .request = 1, .csi = kCsi, .changes = true});
  track({.peer = 2, .request = 2, .csi = kCsi, .changes = true});
  auto stopped =
      only<SendProtectionGroup>(handle(ComponentStopTrackingProtectionGroup{1, 3, kCsi}));
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0].refusal, ProtectionGroupRefusal::kNone);
  stopped = only<SendProtectionGroup>(handle(ComponentStopTrackingProtectionGroup{1, 4, kCsi}));
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0].refusal, ProtectionGroupRefusal::kNotTracked);
  // su-2's process dies: its tracking goes with it. Its next process (a new connection) is
  // told nothing of a change it did not ask to track, and su-1 tracks no more.
  handle(ProcessExited{comp(2), "killed by signal 9"});
  handle(protocol::RepairSu{su(2)});
  handle(ProcessStarted{comp(2)});
  ASSERT_EQ(only<SendRegisterReply>(handle(ComponentRegister{3, comp(2).str()})).size(), 1u);
  EXPECT_TRUE(only<SendProtectionGroup>(assign(2, HaState::kStandby)).empty());
  EXPECT_TRUE(only<SendProtectionGroup>(assign(1, HaState::kQuiesced)).empty());
}

TEST_F(ProtectionGroupTest, RequestsThatCannotBeAnsweredAreRefusedWithTheReason) {
  assigned();
  auto refused = [&](ComponentTrackProtectionGroup request) {
    auto answer = track(request);
    EXPECT_EQ(answer.size(), 1u);
    return answer.empty() ? std::pair{ProtectionGroupRefusal::kNone, std::string()}
                          : std::pair{answer[0].refusal, answer[0].error};
  };
  EXPECT_EQ(refused({.peer = 1, .request = 1, .csi = "app/si-1/nothing", .current = true}),
            std::pair(ProtectionGroupRefusal::kNoSuchCsi,
                      std::string("no CSI named 'app/si-1/nothing'; name it as SG/SI/CSI or "
                                  "as safCsi=CSI,safSi=SI,safApp=APP")));
  EXPECT_EQ(refused({.peer = 1, .request = 2, .csi = "safCsi=csi", .current = true}).first,
            ProtectionGroupRefusal::kNoSuchCsi);
  EXPECT_EQ(
      refused({.peer = 1, .request = 3, .csi = kCsi, .changes = true, .changes_only = true}).first,
      ProtectionGroupRefusal::kBadRequest);
  EXPECT_EQ(refused({.peer = 1, .request = 4, .csi = kCsi}).first,
            ProtectionGroupRefusal::kBadRequest);
  EXPECT_EQ(refused({.peer = 9, .request = 5, .csi = kCsi, .current = true}).first,
            ProtectionGroupRefusal::kNotRegistered);
}

TEST_F(ProtectionGroupTest, ClustersOfSeveralNodesAreNotTrackedYet) {
  assigned({.sus = 3, .nodes = {"node-1", "node-1", "node-2"}});
  auto answer = track({.peer = 1, .request = 1, .csi = kCsi, .current = true});
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].refusal, ProtectionGroupRefusal::kNotSupported);
  EXPECT_TRUE(answer[0].members.empty());
}

}  // namespace
}  // namespace amf::node
