#include "amf/director/director.h"

#include <gtest/gtest.h>

#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/test_config.h"

namespace amf::director {
namespace {

using namespace protocol;  // the messages the director takes and sends

using model::HaState;
using model::OperState;
using model::PresenceState;
using model::TransitionReason;
using test::si;
using test::su;

const TimePoint kT0{};

// The commands of an effect batch, without notifications.
std::vector<ToNode> commands(std::vector<Effect> effects) {
  std::vector<ToNode> out;
  for (auto& e : effects) {
    if (auto* c = std::get_if<ToNode>(&e)) out.push_back(*c);
  }
  return out;
}

template <class T>
const T& as(const ToNode& c) {
  const T* t = std::get_if<T>(&c.command);
  EXPECT_NE(t, nullptr) << "unexpected command alternative " << c.command.index();
  static const T kEmpty{};
  return t ? *t : kEmpty;
}

SuStateReport up(int i) { return {su(i), PresenceState::kInstantiated, OperState::kEnabled, ""}; }
SuStateReport faulted(int i) {
  return {su(i), PresenceState::kUninstantiated, OperState::kDisabled, "process died"};
}

class DirectorTest : public ::testing::Test {
 protected:
  void make(test::ClusterSpec spec) {
    auto created = Director::create(test::make_cluster(spec));
    ASSERT_TRUE(created) << created.error().message();
    director_.emplace(std::move(*created));
  }
  std::vector<ToNode> handle(const Event& e) {
    director_->handle(e, kT0);
    auto effects = director_->take_effects();
    ids_.record(effects);
    return commands(std::move(effects));
  }
  // Brings a 2N SG to steady state: su-1 active, su-2 standby.
  void steady_two_n() {
    make({});
    handle(NodeUp{NodeId("node-1")});
    handle(up(1));
    handle(ids_.done(su(1), si(1), HaState::kActive));
    handle(up(2));
    handle(ids_.done(su(2), si(1), HaState::kStandby));
  }
  std::optional<Director> director_;
  test::CommandIds ids_;
};

TEST_F(DirectorTest, NodeUpInstantiatesItsSus) {
  make({});
  auto cmds = handle(NodeUp{NodeId("node-1")});
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(as<InstantiateSu>(cmds[0]).su, su(1));
  EXPECT_EQ(as<InstantiateSu>(cmds[1]).su, su(2));
}

TEST_F(DirectorTest, TwoNComesUpWithOneActiveAndOneStandby) {
  make({});
  handle(NodeUp{NodeId("node-1")});
  auto cmds = handle(up(1));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(1));
  EXPECT_EQ(as<AssignHa>(cmds[0]).ha, HaState::kActive);
  EXPECT_EQ(as<AssignHa>(cmds[0]).reason, TransitionReason::kNewAssignment);

  // While the active assignment is outstanding the SG issues nothing else.
  EXPECT_TRUE(handle(up(2)).empty());
  EXPECT_TRUE(director_->busy(SgId("app")));

  cmds = handle(ids_.done(su(1), si(1), HaState::kActive));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(2));
  EXPECT_EQ(as<AssignHa>(cmds[0]).ha, HaState::kStandby);

  EXPECT_TRUE(handle(ids_.done(su(2), si(1), HaState::kStandby)).empty());
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                     {si(1), su(2), HaState::kStandby}}));
  EXPECT_FALSE(director_->busy(SgId("app")));
}

TEST_F(DirectorTest, ActiveSuFaultPromotesStandbyBeforeRepairingTheFailedSu) {
  steady_two_n();
  auto cmds = handle(faulted(1));
  // Promotion first; the repair waits until the promotion is acknowledged, so spawning the
  // failed SU's processes cannot delay the service.
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(2));
  EXPECT_EQ(as<AssignHa>(cmds[0]).ha, HaState::kActive);
  EXPECT_EQ(as<AssignHa>(cmds[0]).reason, TransitionReason::kFailover);

  cmds = handle(ids_.done(su(2), si(1), HaState::kActive));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<RepairSu>(cmds[0]).su, su(1));
  cmds = handle(up(1));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(1));
  EXPECT_EQ(as<AssignHa>(cmds[0]).ha, HaState::kStandby);
  handle(ids_.done(su(1), si(1), HaState::kStandby));
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                     {si(1), su(1), HaState::kStandby}}));
}

TEST_F(DirectorTest, StandbyFaultOnlyDropsTheStandby) {
  steady_two_n();
  auto cmds = handle(faulted(2));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<RepairSu>(cmds[0]).su, su(2));
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
}

TEST_F(DirectorTest, FaultDuringOutstandingAssignmentCancelsIt) {
  make({});
  handle(NodeUp{NodeId("node-1")});
  handle(up(1));
  handle(up(2));
  // su-1 dies before acknowledging its active assignment: su-2 becomes active instead.
  auto cmds = handle(faulted(1));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(2));
  EXPECT_EQ(as<AssignHa>(cmds[0]).ha, HaState::kActive);
  // A late acknowledgement from su-1 is refused, not believed.
  director_->handle(ids_.done(su(1), si(1), HaState::kActive), kT0);
  bool flagged = false;
  for (auto& e : director_->take_effects()) {
    if (auto* n = std::get_if<model::Notification>(&e))
      flagged |= n->kind == model::NotificationKind::kProtocolError;
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(director_->assignments(SgId("app")).empty());
}

// Answers are matched by command id: a late duplicate of an old answer (a standby assignment
// answered long ago) does not complete a newer command for the same SU, SI and HA state.
TEST_F(DirectorTest, ALateDuplicateAnswerDoesNotCompleteANewerCommand) {
  steady_two_n();
  const AssignmentDone old_answer = ids_.done(su(2), si(1), HaState::kStandby);
  handle(AdminRequest{1, AdminOp::kLock, director::EntityKind::kSu,
                      "app/su-2"});  // the standby is removed
  handle(ids_.removed(su(2), si(1)));
  auto cmds = handle(AdminRequest{2, AdminOp::kUnlock, director::EntityKind::kSu, "app/su-2"});
  ASSERT_EQ(cmds.size(), 1u);
  const AssignHa& again = as<AssignHa>(cmds[0]);
  EXPECT_EQ(again.ha, HaState::kStandby);
  EXPECT_NE(again.id, old_answer.command);
  director_->handle(old_answer, kT0);
  bool flagged = false;
  for (auto& e : director_->take_effects()) {
    if (auto* n = std::get_if<model::Notification>(&e))
      flagged |= n->kind == model::NotificationKind::kProtocolError;
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(director_->busy(SgId("app"))) << "the new assignment is still outstanding";
  handle(ids_.done(su(2), si(1), HaState::kStandby));
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(director_->assignments(SgId("app")).size(), 2u);
}

TEST_F(DirectorTest, InstantiationFailedSuIsNotAutoRepaired) {
  steady_two_n();
  auto cmds = handle(
      SuStateReport{su(2), PresenceState::kInstantiationFailed, OperState::kDisabled, "no binary"});
  EXPECT_TRUE(cmds.empty());
}

TEST_F(DirectorTest, NoRedundancyMovesSiToSpare) {
  make({.redundancy = model::RedundancyModel::kNoRedundancy, .sus = 2, .sis = 1});
  handle(NodeUp{NodeId("node-1")});
  handle(up(1));
  handle(ids_.done(su(1), si(1), HaState::kActive));
  EXPECT_TRUE(handle(up(2)).empty());  // a spare: no standby in this model
  auto cmds = handle(faulted(1));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<AssignHa>(cmds[0]).su, su(2));
  EXPECT_EQ(as<AssignHa>(cmds[0]).reason, TransitionReason::kFailover);
  cmds = handle(ids_.done(su(2), si(1), HaState::kActive));
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(as<RepairSu>(cmds[0]).su, su(1));
}

TEST_F(DirectorTest, EmitsHaStateNotificationsWithCause) {
  steady_two_n();
  director_->handle(faulted(1), kT0);
  std::vector<model::Notification> notes;
  for (auto& e : director_->take_effects()) {
    if (auto* n = std::get_if<model::Notification>(&e)) notes.push_back(*n);
  }
  bool dropped = false;
  for (const auto& n : notes) {
    dropped |= n.kind == model::NotificationKind::kHaState && n.entity == "app/su-1" &&
               n.related == "app/si-1" && n.from == "active" && n.to == "unassigned" &&
               n.cause == "process died";
  }
  EXPECT_TRUE(dropped);
}

// The director keeps its SGs' timers in an index (amfd asks for the next deadline after every
// event): an auto-adjust counts only while its SG is idle and no admin operation holds it, and
// comes back when the operation ends.
TEST(DirectorTimerTest, AutoAdjustCountsOnlyWhileTheSgIsIdleAndNoOperationHoldsIt) {
  using namespace std::chrono_literals;
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  config->applications[0].service_groups[0].auto_adjust = true;
  config->applications[0].service_groups[0].auto_adjust_probation = 10s;
  auto director = std::move(*Director::create(config));
  TimePoint now = kT0;
  director.handle(NodeUp{NodeId("node-1")}, now);
  director.handle(up(1), now);  // in service: the probation starts; the active is outstanding
  EXPECT_EQ(director.next_deadline(), std::nullopt) << "busy";
  test::CommandIds ids_;
  ids_.record(director.take_effects());
  director.handle(ids_.done(su(1), si(1), HaState::kActive), now);
  EXPECT_EQ(director.next_deadline(), kT0 + 10s) << "idle";
  now += 1s;
  director.handle(AdminRequest{1, AdminOp::kRestart, director::EntityKind::kSu, "app/su-1"}, now);
  EXPECT_EQ(director.next_deadline(), now + 60s) << "only the operation's time limit";
  // No report comes: the operation runs out of time, and the auto-adjust it held is due.
  now += 60s;
  director.tick(now);
  EXPECT_EQ(director.next_deadline(), kT0 + 10s) << "the operation is over";
  director.take_effects();
  director.tick(now);
  bool adjusted = false;
  for (const auto& e : director.take_effects()) {
    if (const auto* n = std::get_if<model::Notification>(&e)) adjusted |= n->to == "auto-adjust";
  }
  EXPECT_TRUE(adjusted);
}

}  // namespace
}  // namespace amf::director
