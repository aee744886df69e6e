// The director's side of node membership: NodeDown and NodeUp after a crash.
#include <gtest/gtest.h>

#include "amf/director/director.h"
#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/test_config.h"

namespace amf::director {
namespace {

using namespace protocol;  // the messages the director takes and sends

using model::HaState;
using model::OperState;
using model::PresenceState;
using model::ReadinessState;
using model::TransitionReason;
using test::si;
using test::su;

const TimePoint kT0{};
const NodeId kNode1("node-1");
const NodeId kNode2("node-2");

SuStateReport up(int i) { return {su(i), PresenceState::kInstantiated, OperState::kEnabled, ""}; }

class NodeDownTest : public ::testing::Test {
 protected:
  // 2N, su-1 on node-1 (active for every SI), su-2 on node-2 (standby).
  void steady(int sis = 1) {
    auto created = Director::create(test::make_cluster(
        {.redundancy = model::RedundancyModel::kTwoN, .sis = sis, .nodes = {"node-1", "node-2"}}));
    ASSERT_TRUE(created) << created.error().message();
    director_.emplace(std::move(*created));
    handle(NodeUp{kNode1});
    handle(NodeUp{kNode2});
    handle(up(1));
    for (int i = 1; i <= sis; ++i) handle(ids_.done(su(1), si(i), HaState::kActive));
    handle(up(2));
    for (int i = 1; i <= sis; ++i) handle(ids_.done(su(2), si(i), HaState::kStandby));
    ASSERT_FALSE(director_->busy(SgId("app")));
  }
  std::vector<Effect> handle(const Event& e) {
    director_->handle(e, kT0);
    effects_ = director_->take_effects();
    ids_.record(effects_);
    return effects_;
  }
  std::vector<ToNode> commands() const {
    std::vector<ToNode> out;
    for (const auto& e : effects_) {
      if (auto* c = std::get_if<ToNode>(&e)) out.push_back(*c);
    }
    return out;
  }
  std::vector<AdminResult> results() const {
    std::vector<AdminResult> out;
    for (const auto& e : effects_) {
      if (auto* r = std::get_if<AdminResult>(&e)) out.push_back(*r);
    }
    return out;
  }
  bool notified(const std::string& kind, const std::string& entity, const std::string& to) const {
    for (const auto& e : effects_) {
      auto* n = std::get_if<model::Notification>(&e);
      if (n && model::to_string(n->kind) == kind && n->entity == entity && n->to == to) return true;
    }
    return false;
  }
  Director::SuView view(int i) const {
    for (const auto& v : director_->service_units()) {
      if (v.id == su(i)) return v;
    }
    ADD_FAILURE() << "no SU " << i;
    return {};
  }
  std::optional<Director> director_;
  test::CommandIds ids_;
  std::vector<Effect> effects_;
};

TEST_F(NodeDownTest, FailsOverEveryActiveOfTheNodeAtOnce) {
  steady(3);
  handle(NodeDown{kNode1, "node node-1 left the cluster"});
  EXPECT_TRUE(notified("node", "node-1", "down"));
  const auto cmds = commands();
  ASSERT_EQ(cmds.size(), 3u);
  for (int i = 1; i <= 3; ++i) {
    const auto& assign = std::get<AssignHa>(cmds[static_cast<std::size_t>(i - 1)].command);
    EXPECT_EQ(cmds[static_cast<std::size_t>(i - 1)].node, kNode2);
    EXPECT_EQ(assign.su, su(2));
    EXPECT_EQ(assign.si, si(i));
    EXPECT_EQ(assign.ha, HaState::kActive);
    EXPECT_EQ(assign.reason, TransitionReason::kFailover);
  }
  EXPECT_EQ(view(1).readiness, ReadinessState::kOutOfService);
  EXPECT_EQ(view(1).presence, PresenceState::kUninstantiated);
  EXPECT_EQ(view(1).oper, OperState::kEnabled);  // nothing to repair: it is simply gone
  // No repair or instantiation is sent to a node that is down.
  for (int i = 1; i <= 3; ++i) handle(ids_.done(su(2), si(i), HaState::kActive));
  EXPECT_TRUE(commands().empty());
  EXPECT_FALSE(director_->busy(SgId("app")));
}

TEST_F(NodeDownTest, NodeComingBackGetsItsSusInstantiatedAndTheStandbyBack) {
  steady();
  handle(NodeDown{kNode1, "gone"});
  handle(ids_.done(su(2), si(1), HaState::kActive));
  handle(NodeUp{kNode1});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_EQ(commands()[0].node, kNode1);
  EXPECT_EQ(std::get<InstantiateSu>(commands()[0].command).su, su(1));
  handle(up(1));
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).ha, HaState::kStandby);
}

TEST_F(NodeDownTest, StandbyNodeDownOnlyDropsTheStandby) {
  steady();
  handle(NodeDown{kNode2, "gone"});
  EXPECT_TRUE(commands().empty());
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
  // A second NodeDown for the same node changes nothing and says nothing.
  handle(NodeDown{kNode2, "gone again"});
  EXPECT_TRUE(effects_.empty());
}

TEST_F(NodeDownTest, LateMessagesFromANodeThatLeftAreIgnored) {
  steady();
  handle(NodeDown{kNode1, "gone"});
  // Sent by node-1 before it went: the director must not believe su-1 is back.
  handle(up(1));
  EXPECT_EQ(view(1).presence, PresenceState::kUninstantiated);
  handle(ids_.done(su(1), si(1), HaState::kQuiesced));
  EXPECT_TRUE(commands().empty());
  for (const auto& e : effects_) {
    auto* n = std::get_if<model::Notification>(&e);
    EXPECT_FALSE(n && n->kind == model::NotificationKind::kProtocolError) << n->cause;
  }
}

TEST_F(NodeDownTest, CommandOutstandingToTheLostNodeIsForgotten) {
  steady();
  // Switch over: su-1 (node-1) is quiesced first; node-1 dies before it answers.
  handle(AdminRequest{1, AdminOp::kSiSwap, director::EntityKind::kSi, si(1).str()});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).ha, HaState::kQuiesced);
  handle(NodeDown{kNode1, "gone"});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_EQ(commands()[0].node, kNode2);
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).ha, HaState::kActive);
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).reason, TransitionReason::kFailover);
  handle(ids_.done(su(2), si(1), HaState::kActive));
  ASSERT_EQ(results().size(), 1u);
  EXPECT_EQ(results()[0].id, 1u);
}

TEST_F(NodeDownTest, TerminationFailedSuIsReleasedByItsNodeGoingDown) {
  steady();
  // su-1's cleanup failed: its SI stays frozen on it (no failover while it may still run).
  handle(SuStateReport{su(1), PresenceState::kTerminationFailed, OperState::kDisabled, "x"});
  EXPECT_TRUE(commands().empty());
  // The node is gone, and every process on it with it: now the SI can move.
  handle(NodeDown{kNode1, "rebooted"});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).su, su(2));
  EXPECT_EQ(std::get<AssignHa>(commands()[0].command).ha, HaState::kActive);
  EXPECT_EQ(view(1).oper, OperState::kEnabled);
}

TEST_F(NodeDownTest, NodeUpWhileUpIsARestart) {
  steady();
  // node-1's amfd restarted so fast that the membership never saw it leave.
  handle(NodeUp{kNode1});
  EXPECT_TRUE(notified("node", "node-1", "down"));
  const auto cmds = commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).su, su(2));
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).ha, HaState::kActive);
  EXPECT_EQ(std::get<InstantiateSu>(cmds[1].command).su, su(1));
}

TEST_F(NodeDownTest, RepairWaitingOnASuWhoseNodeLeftFailsAtOnce) {
  steady();
  handle(SuStateReport{su(2), PresenceState::kUninstantiated, OperState::kDisabled, "x", false});
  handle(AdminRequest{7, AdminOp::kRepair, director::EntityKind::kSu, su(2).str()});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_TRUE(results().empty());
  handle(NodeDown{kNode2, "gone"});
  ASSERT_EQ(results().size(), 1u);
  EXPECT_FALSE(results()[0].ok);
  EXPECT_NE(results()[0].message.find("left the cluster"), std::string::npos)
      << results()[0].message;
}

// A node whose amfd stops (NodeLeaving): its SUs go out of service as under a lock of the node,
// so its active is quiesced before the standby is promoted (a switchover, not a failover), but
// the node's admin state is not touched, and nothing is written for the store.
TEST_F(NodeDownTest, ALeavingNodesActiveIsSwitchedOverWithoutChangingItsAdminState) {
  steady();
  handle(NodeLeaving{kNode1, "its amfd stops"});
  EXPECT_TRUE(notified("node", "node-1", "leaving"));
  EXPECT_EQ(view(1).readiness, ReadinessState::kOutOfService);
  EXPECT_TRUE(director_->node_leaving(kNode1));
  EXPECT_EQ(director_->node_admin(kNode1), model::AdminState::kUnlocked);
  for (const auto& e : effects_) EXPECT_FALSE(std::holds_alternative<AdminStateChanged>(e));
  auto cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].node, kNode1);
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).ha, HaState::kQuiesced);
  handle(ids_.done(su(1), si(1), HaState::kQuiesced));
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).su, su(2));
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).ha, HaState::kActive);
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).reason, TransitionReason::kSwitchover);
  handle(ids_.done(su(2), si(1), HaState::kActive));
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(std::get<RemoveHa>(cmds[0].command).su, su(1));
  handle(ids_.removed(su(1), si(1)));
  EXPECT_TRUE(commands().empty());
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(2), HaState::kActive}}));
  EXPECT_TRUE(director_->admin_states().empty());

  // Said again, it changes nothing.
  handle(NodeLeaving{kNode1, "again"});
  EXPECT_TRUE(effects_.empty());
}

TEST_F(NodeDownTest, ALeavingNodeGetsNothingInstantiatedAndItsNextLifeIsANodeLikeAnyOther) {
  steady();
  handle(NodeLeaving{kNode2, "its amfd stops"});
  auto cmds = commands();  // the standby goes
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(std::get<RemoveHa>(cmds[0].command).su, su(2));
  handle(ids_.removed(su(2), si(1)));
  // Its SU fails on the way out: it is not repaired there.
  handle(SuStateReport{su(2), PresenceState::kUninstantiated, OperState::kDisabled, "x"});
  EXPECT_TRUE(commands().empty());
  handle(NodeDown{kNode2, "left the view"});
  EXPECT_FALSE(director_->node_leaving(kNode2));
  // Its next life is instantiated and takes the standby again.
  handle(NodeUp{kNode2});
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(std::get<InstantiateSu>(cmds[0].command).su, su(2));
  handle(up(2));
  cmds = commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(std::get<AssignHa>(cmds[0].command).ha, HaState::kStandby);

  // A NodeUp of a new life ends the leaving too, without a NodeDown between.
  handle(ids_.done(su(2), si(1), HaState::kStandby));
  handle(NodeLeaving{kNode2, "its amfd stops"});
  handle(NodeUp{kNode2});
  EXPECT_FALSE(director_->node_leaving(kNode2));
  EXPECT_EQ(std::get<InstantiateSu>(commands().back().command).su, su(2));

  // Of a node that is not up, it is ignored.
  handle(NodeDown{kNode2, "gone"});
  handle(NodeLeaving{kNode2, "late"});
  EXPECT_FALSE(director_->node_leaving(kNode2));
  EXPECT_TRUE(commands().empty());
}

TEST_F(NodeDownTest, UnlockInstantiationStartsNoSuOnALeavingNode) {
  steady();
  handle(AdminRequest{1, AdminOp::kLock, director::EntityKind::kSu, su(2).str()});
  handle(ids_.removed(su(2), si(1)));
  handle(AdminRequest{3, AdminOp::kLockInstantiation, director::EntityKind::kSu, su(2).str()});
  handle(SuStateReport{su(2), PresenceState::kUninstantiated, OperState::kEnabled, "terminated"});
  ASSERT_EQ(director_->service_units()[1].own_admin, model::AdminState::kLockedInstantiation);
  handle(NodeLeaving{kNode2, "its amfd stops"});
  handle(AdminRequest{2, AdminOp::kUnlockInstantiation, director::EntityKind::kSu, su(2).str()});
  for (const auto& c : commands()) EXPECT_FALSE(std::holds_alternative<InstantiateSu>(c.command));
  ASSERT_EQ(results().size(), 1u);
  EXPECT_TRUE(results()[0].ok) << results()[0].message;
  EXPECT_NE(results()[0].message.find("app/su-2 (its node node-2 is leaving (its amfd stops))"),
            std::string::npos)
      << results()[0].message;
}

}  // namespace
}  // namespace amf::director
