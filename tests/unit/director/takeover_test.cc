// A newly elected director takes over from the node directors' snapshots and the admin states
// in the store (Director::take_over).
#include <gtest/gtest.h>

#include "amf/director/director.h"
#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/test_config.h"

namespace amf::director {
namespace {

using namespace protocol;  // the messages the director takes and sends

using model::AdminState;
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
constexpr std::uint64_t kEpoch = 7;

// A node's snapshot with one SU holding `held` (SI number and HA state), `in_progress` among
// them still being carried out. A standby was told that the other SU of the 2N pair is the
// active.
NodeSnapshot snapshot(const NodeId& node, int su_number,
                      std::vector<std::pair<int, HaState>> held = {},
                      std::vector<int> in_progress = {},
                      PresenceState presence = PresenceState::kInstantiated,
                      OperState oper = OperState::kEnabled) {
  SuSnapshot s{.su = su(su_number), .presence = presence, .oper = oper};
  for (const auto& [i, ha] : held) {
    s.assignments.emplace_back(si(i), ha);
    if (ha == HaState::kStandby) s.told_active.emplace_back(si(i), su(su_number == 1 ? 2 : 1));
  }
  for (int i : in_progress) s.in_progress.push_back(si(i));
  return NodeSnapshot{1, node, 0, false, {s}};
}

class TakeoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Director::create(test::make_cluster(
        {.redundancy = model::RedundancyModel::kTwoN, .sis = 1, .nodes = {"node-1", "node-2"}}));
    ASSERT_TRUE(created) << created.error().message();
    director_.emplace(std::move(*created));
  }
  void take_over(std::vector<NodeSnapshot> nodes, AdminStates admin = {}) {
    director_->take_over(Takeover{kEpoch, std::move(admin), std::move(nodes)}, kT0);
    collect();
  }
  void handle(const Event& e) {
    director_->handle(e, kT0);
    collect();
  }
  void collect() {
    effects_ = director_->take_effects();
    ids_.record(effects_);
  }
  std::vector<ToNode> commands() const {
    std::vector<ToNode> out;
    for (const auto& e : effects_) {
      if (auto* c = std::get_if<ToNode>(&e)) out.push_back(*c);
    }
    return out;
  }
  // The one command sent, an AssignHa (none, and a failure, otherwise).
  std::optional<AssignHa> one_assignment() const {
    const auto sent = commands();
    EXPECT_EQ(sent.size(), 1u);
    const auto* assign = sent.size() == 1 ? std::get_if<AssignHa>(&sent[0].command) : nullptr;
    EXPECT_NE(assign, nullptr);
    return assign ? std::optional<AssignHa>(*assign) : std::nullopt;
  }
  bool notified(model::NotificationKind kind, const std::string& entity) const {
    for (const auto& e : effects_) {
      auto* n = std::get_if<model::Notification>(&e);
      if (n && n->kind == kind && n->entity == entity) return true;
    }
    return false;
  }
  std::optional<Director> director_;
  test::CommandIds ids_;
  std::vector<Effect> effects_;
};

TEST_F(TakeoverTest, ASteadyClusterIsTakenOverWithoutACommand) {
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}),
             snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  EXPECT_TRUE(commands().empty());
  EXPECT_FALSE(director_->busy(SgId("app")));
  const models::AssignmentTable table = director_->assignments(SgId("app"));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(models::ha_of(table, su(1), si(1)), HaState::kActive);
  EXPECT_EQ(models::ha_of(table, su(2), si(1)), HaState::kStandby);
  for (const auto& view : director_->service_units()) {
    EXPECT_TRUE(view.node_up);
    EXPECT_EQ(view.readiness, ReadinessState::kInService) << view.id.str();
  }
}

TEST_F(TakeoverTest, AStandbyStillBeingAssignedIsAskedAgainAsItWasTold) {
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}),
             snapshot(kNode2, 2, {{1, HaState::kStandby}}, {1})});
  const auto assign = one_assignment();
  ASSERT_TRUE(assign);
  EXPECT_EQ(assign->su, su(2));
  EXPECT_EQ(assign->active, su(1));  // not "no active" for a moment
  handle(ids_.done(su(2), si(1), HaState::kStandby));
  EXPECT_TRUE(commands().empty());
}

TEST_F(TakeoverTest, AStandbyToldOfAnotherActiveOrOfNoneIsToldTheOneItHas) {
  for (const std::optional<SuId>& told : {std::optional<SuId>(), std::optional<SuId>(su(2))}) {
    SetUp();
    NodeSnapshot standby = snapshot(kNode2, 2, {{1, HaState::kStandby}});
    standby.sus[0].told_active.clear();
    if (told) standby.sus[0].told_active.emplace_back(si(1), *told);
    take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}), standby});
    const auto assign = one_assignment();
    ASSERT_TRUE(assign);
    EXPECT_EQ(assign->su, su(2));
    EXPECT_EQ(assign->ha, HaState::kStandby);
    EXPECT_EQ(assign->active, su(1));
    handle(ids_.done(su(2), si(1), HaState::kStandby));
    EXPECT_TRUE(commands().empty());
    EXPECT_FALSE(director_->busy(SgId("app")));
  }
}

TEST_F(TakeoverTest, TheActiveOfANodeWithoutASnapshotFailsOverToItsStandby) {
  // node-1 died with the old director: only node-2 answered.
  take_over({snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  const auto sent = commands();
  ASSERT_EQ(sent.size(), 1u);
  const auto* assign = std::get_if<AssignHa>(&sent[0].command);
  ASSERT_NE(assign, nullptr);
  EXPECT_EQ(sent[0].node, kNode2);
  EXPECT_EQ(assign->ha, HaState::kActive);
  EXPECT_EQ(assign->reason, TransitionReason::kFailover);
  EXPECT_EQ(assign->id >> 32, kEpoch);  // ids of this epoch
  handle(ids_.done(su(2), si(1), HaState::kActive));
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(models::ha_of(director_->assignments(SgId("app")), su(2), si(1)), HaState::kActive);
  // node-1 comes back: its SU is instantiated and becomes the standby.
  handle(NodeUp{kNode1, 2});
  ASSERT_EQ(commands().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<InstantiateSu>(commands()[0].command));
}

TEST_F(TakeoverTest, AnAssignmentStillBeingCarriedOutIsAskedForAgainUnderTheNewEpoch) {
  // The old director was promoting su-2 (node-1 had gone) when it died.
  take_over({snapshot(kNode2, 2, {{1, HaState::kActive}}, {1})});
  const auto sent = commands();
  ASSERT_EQ(sent.size(), 1u);
  const auto* assign = std::get_if<AssignHa>(&sent[0].command);
  ASSERT_NE(assign, nullptr);
  EXPECT_EQ(assign->ha, HaState::kActive);
  EXPECT_TRUE(director_->busy(SgId("app")));
  // The answer to the old director's command (id 3 of epoch 6) completes nothing here.
  handle(AssignmentDone{su(2), si(1), HaState::kActive, (std::uint64_t{6} << 32) + 3});
  EXPECT_TRUE(notified(model::NotificationKind::kProtocolError, su(2).str()));
  EXPECT_TRUE(director_->busy(SgId("app")));
  handle(ids_.done(su(2), si(1), HaState::kActive));
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(models::ha_of(director_->assignments(SgId("app")), su(2), si(1)), HaState::kActive);
}

// Found by the swarm (director crashes with cleanup failures): a takeover failed over the SI
// of an SU whose cleanup had failed, while its surviving process still acted as the active; and
// asked that SU again for what it was being told, which it never answers.
TEST_F(TakeoverTest, TheSisOfAnSuWhoseCleanupFailedStayFrozenWithIt) {
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}, {1}, PresenceState::kTerminationFailed,
                      OperState::kDisabled),
             snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  EXPECT_TRUE(commands().empty()) << "nothing is asked of su-1, nor is si-1 moved";
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(models::ha_of(director_->assignments(SgId("app")), su(1), si(1)), HaState::kActive);
  EXPECT_EQ(models::ha_of(director_->assignments(SgId("app")), su(2), si(1)), HaState::kStandby);
}

// Found by the swarm: a snapshot taken while su-1's processes were being ended (a failover's
// cleanup, not reported yet) named su-1 instantiated and holding si-1; the new director
// promoted su-2 while su-1's process, which then survived its cleanup, still acted as active.
// What such an SU holds stays pending until its report.
TEST_F(TakeoverTest, WhatAnSuBeingEndedHoldsWaitsForItsReport) {
  auto ending = snapshot(kNode1, 1, {{1, HaState::kActive}});
  ending.sus[0].terminating = true;
  take_over({ending, snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  EXPECT_TRUE(commands().empty());
  EXPECT_TRUE(director_->busy(SgId("app")));
  // Its processes are gone: si-1 fails over.
  handle(SuStateReport{su(1), PresenceState::kUninstantiated, OperState::kDisabled, "failed"});
  const auto assign = one_assignment();
  ASSERT_TRUE(assign);
  EXPECT_EQ(assign->su, su(2));
  EXPECT_EQ(assign->ha, HaState::kActive);
  EXPECT_EQ(assign->reason, TransitionReason::kFailover);
}

TEST_F(TakeoverTest, WhatAnSuBeingEndedHoldsFreezesWhenItsCleanupFails) {
  auto ending = snapshot(kNode1, 1, {{1, HaState::kActive}});
  ending.sus[0].terminating = true;
  take_over({ending, snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  handle(SuStateReport{su(1), PresenceState::kTerminationFailed, OperState::kDisabled, "cleanup"});
  EXPECT_TRUE(commands().empty()) << "si-1 is frozen with su-1";
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(models::ha_of(director_->assignments(SgId("app")), su(1), si(1)), HaState::kActive);
}

TEST_F(TakeoverTest, ARemovalStillBeingCarriedOutIsAskedForAgain) {
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}), snapshot(kNode2, 2, {}, {1})});
  const auto sent = commands();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].node, kNode2);
  EXPECT_TRUE(std::holds_alternative<RemoveHa>(sent[0].command));
  handle(ids_.removed(su(2), si(1)));
  // Then the SG is evaluated: su-2 is made the standby again.
  const auto assign = one_assignment();
  ASSERT_TRUE(assign);
  EXPECT_EQ(assign->ha, HaState::kStandby);
}

TEST_F(TakeoverTest, AdminStatesFromTheStoreAreKeptAndActedOn) {
  // su-1 was locked by an operator: the new director finishes moving its active away.
  take_over(
      {snapshot(kNode1, 1, {{1, HaState::kActive}}), snapshot(kNode2, 2, {{1, HaState::kStandby}})},
      {{{EntityKind::kSu, su(1).str()}, AdminState::kLocked}});
  const auto quiesce = one_assignment();
  ASSERT_TRUE(quiesce);
  EXPECT_EQ(quiesce->su, su(1));
  EXPECT_EQ(quiesce->ha, HaState::kQuiesced);
  const AdminStates kept = director_->admin_states();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.begin()->second, AdminState::kLocked);
}

TEST_F(TakeoverTest, AnAdminOperationSaysWhatTheStoreMustKeep) {
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}),
             snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  handle(AdminRequest{1, AdminOp::kLock, EntityKind::kSu, su(2).str()});
  bool said = false;
  for (const auto& e : effects_) {
    if (const auto* changed = std::get_if<AdminStateChanged>(&e)) {
      said = true;
      EXPECT_EQ(changed->kind, EntityKind::kSu);
      EXPECT_EQ(changed->entity, su(2).str());
      EXPECT_EQ(changed->state, AdminState::kLocked);
    }
  }
  EXPECT_TRUE(said);
  const auto sent = commands();
  ASSERT_EQ(sent.size(), 1u);
  const auto* removal = std::get_if<RemoveHa>(&sent[0].command);
  ASSERT_NE(removal, nullptr);
  handle(RemovalDone{su(2), si(1), removal->id});  // the lock is done
  handle(AdminRequest{2, AdminOp::kShutdown, EntityKind::kCluster, "test"});
  const AdminStates kept = director_->admin_states();
  EXPECT_EQ(kept.at({EntityKind::kSu, su(2).str()}), AdminState::kLocked);
  EXPECT_EQ(kept.at({EntityKind::kCluster, ""}), AdminState::kShuttingDown);
}

TEST_F(TakeoverTest, AnUninstantiatedSuOfANodeThatIsUpIsInstantiated) {
  take_over({snapshot(kNode1, 1, {}, {}, PresenceState::kUninstantiated),
             snapshot(kNode2, 2, {}, {}, PresenceState::kUninstantiated)});
  std::set<SuId> instantiated;
  for (const auto& c : commands()) {
    if (const auto* i = std::get_if<InstantiateSu>(&c.command)) instantiated.insert(i->su);
  }
  EXPECT_EQ(instantiated, (std::set<SuId>{su(1), su(2)}));
}

TEST_F(TakeoverTest, WhatTheConfigurationDoesNotHaveIsReportedAndLeftOut) {
  NodeSnapshot lying = snapshot(kNode2, 2, {{1, HaState::kStandby}});
  lying.sus.push_back(SuSnapshot{.su = SuId("app/su-9"),
                                 .presence = PresenceState::kInstantiated,
                                 .oper = OperState::kEnabled});
  lying.sus[0].assignments.emplace_back(SiId("other/si-1"), HaState::kActive);
  take_over({snapshot(kNode1, 1, {{1, HaState::kActive}}), lying},
            {{{EntityKind::kSg, "no-such-sg"}, AdminState::kLocked}});
  EXPECT_TRUE(notified(model::NotificationKind::kProtocolError, "app/su-9"));
  EXPECT_TRUE(notified(model::NotificationKind::kProtocolError, su(2).str()));
  EXPECT_TRUE(notified(model::NotificationKind::kError, "no-such-sg"));
  EXPECT_TRUE(commands().empty());  // the rest is taken over as it is
  EXPECT_TRUE(director_->admin_states().empty());
  EXPECT_EQ(director_->assignments(SgId("app")).size(), 2u);
}

// A node that was leaving when the director changed says so in its snapshot: the new director
// goes on moving its assignments away.
TEST_F(TakeoverTest, ANodeLeavingAtTheTakeoverHasItsActiveSwitchedOver) {
  NodeSnapshot leaving = snapshot(kNode1, 1, {{1, HaState::kActive}});
  leaving.leaving = true;
  take_over({leaving, snapshot(kNode2, 2, {{1, HaState::kStandby}})});
  EXPECT_TRUE(director_->node_leaving(kNode1));
  const auto assign = one_assignment();
  ASSERT_TRUE(assign);
  EXPECT_EQ(assign->su, su(1));
  EXPECT_EQ(assign->ha, HaState::kQuiesced);
}

}  // namespace
}  // namespace amf::director
