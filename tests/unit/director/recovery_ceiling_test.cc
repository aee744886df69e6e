// The hard recovery ceilings (amf/model/recovery_ceiling.h): the director auto-repairs an SU
// at most kSuAutoRepairCeiling times without a quiet period in between, and together with the
// node director's ceiling no configuration makes the cores fail over, repair or restart in a
// loop that never ends.
#include "amf/model/recovery_ceiling.h"

#include <gtest/gtest.h>

#include "amf/director/director.h"
#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf::director {
namespace {

using namespace protocol;  // the messages the director takes and sends

using model::HaState;
using model::OperState;
using model::PresenceState;
using test::comp;
using test::si;
using test::su;
using namespace std::chrono_literals;

// Escalation that never ends anything: every maximum raised as far as the configuration lets
// it (config/reader.h: kMaxCount).
std::shared_ptr<model::ClusterConfig> unbounded_escalation(test::ClusterSpec spec) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster(spec));
  auto& sg = config->applications[0].service_groups[0];
  sg.comp_restart_max = 1'000'000;
  sg.su_restart_max = 1'000'000;
  for (auto& node : config->nodes) node.su_failover_max = 1'000'000;
  return config;
}

std::size_t count_left_disabled(const std::vector<model::Notification>& notes, const SuId& id) {
  std::size_t n = 0;
  for (const auto& note : notes) {
    n += note.kind == model::NotificationKind::kRecovery && note.entity == id.str() &&
         note.to == "left-disabled" && note.cause.find("recovery ceiling") != std::string::npos &&
         note.cause.find("amfctl repair su " + id.str()) != std::string::npos;
  }
  return n;
}

Director::SuView view(const Director& d, const SuId& id) {
  for (const auto& v : d.service_units()) {
    if (v.id == id) return v;
  }
  ADD_FAILURE() << "no SU " << id.str();
  return {};
}

// The director alone, fed what a node director reports about a 2N SG whose standby SU fails
// again each time it is repaired.
class AutoRepairCeilingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    director_.emplace(std::move(*Director::create(test::make_cluster({}))));
    handle(NodeUp{NodeId("node-1")});
    handle(SuStateReport{su(1), PresenceState::kInstantiated, OperState::kEnabled, ""});
    handle(ids_.done(su(1), si(1), HaState::kActive));
    standby_up();
  }
  void handle(const Event& e) {
    director_->handle(e, now_);
    auto effects = director_->take_effects();
    ids_.record(effects);
    for (auto& effect : effects) {
      if (auto* cmd = std::get_if<ToNode>(&effect)) {
        if (auto* r = std::get_if<RepairSu>(&cmd->command)) repairs_.push_back(*r);
      } else if (auto* n = std::get_if<model::Notification>(&effect)) {
        notes_.push_back(*n);
      }
    }
  }
  void standby_up() {
    handle(SuStateReport{su(2), PresenceState::kInstantiated, OperState::kEnabled, "repair"});
    handle(ids_.done(su(2), si(1), HaState::kStandby));
  }
  // su-2 fails over; true when the director repaired it.
  bool fail_standby() {
    const std::size_t before = repairs_.size();
    handle(SuStateReport{su(2), PresenceState::kUninstantiated, OperState::kDisabled,
                         "app/su-2/server: CSI set (standby) of app/si-1/csi failed"});
    if (repairs_.size() == before) return false;
    standby_up();
    return true;
  }

  TimePoint now_{};
  std::optional<Director> director_;
  test::CommandIds ids_;
  std::vector<RepairSu> repairs_;
  std::vector<model::Notification> notes_;
};

TEST_F(AutoRepairCeilingTest, StopsAutoRepairingAnSuThatKeepsFailingOver) {
  for (int i = 0; i < model::kSuAutoRepairCeiling; ++i) {
    now_ += 1s;
    ASSERT_TRUE(fail_standby()) << "failover " << i + 1;
  }
  now_ += 1s;
  EXPECT_FALSE(fail_standby());
  EXPECT_EQ(repairs_.size(), static_cast<std::size_t>(model::kSuAutoRepairCeiling));
  EXPECT_EQ(count_left_disabled(notes_, su(2)), 1u);
  // Left for the operator; the SG goes on with its active on su-1, and nothing is due.
  const auto v = view(*director_, su(2));
  EXPECT_EQ(v.oper, OperState::kDisabled);
  EXPECT_EQ(v.presence, PresenceState::kUninstantiated);
  EXPECT_EQ(director_->assignments(SgId("app")),
            (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
  EXPECT_FALSE(director_->busy(SgId("app")));
  EXPECT_EQ(director_->next_deadline(), std::nullopt);
}

TEST_F(AutoRepairCeilingTest, AQuietPeriodForgetsTheCount) {
  for (int i = 0; i < 3 * model::kSuAutoRepairCeiling; ++i) {
    now_ += model::kRecoveryCeilingQuiet;
    ASSERT_TRUE(fail_standby()) << "failover " << i + 1;
  }
  EXPECT_EQ(count_left_disabled(notes_, su(2)), 0u);
}

TEST_F(AutoRepairCeilingTest, TheRepairOperationClearsIt) {
  for (int i = 0; i <= model::kSuAutoRepairCeiling; ++i) fail_standby();
  ASSERT_EQ(count_left_disabled(notes_, su(2)), 1u);
  handle(AdminRequest{1, AdminOp::kRepair, director::EntityKind::kSu, "app/su-2"});
  ASSERT_EQ(repairs_.size(), static_cast<std::size_t>(model::kSuAutoRepairCeiling) + 1);
  standby_up();
  // A whole ceiling again.
  for (int i = 0; i < model::kSuAutoRepairCeiling; ++i) {
    ASSERT_TRUE(fail_standby()) << "failover " << i + 1 << " after the repair";
  }
  EXPECT_FALSE(fail_standby());
  EXPECT_EQ(count_left_disabled(notes_, su(2)), 2u);
}

TEST_F(AutoRepairCeilingTest, ItsNodeLeavingAndComingBackClearsIt) {
  for (int i = 0; i <= model::kSuAutoRepairCeiling; ++i) fail_standby();
  ASSERT_EQ(count_left_disabled(notes_, su(2)), 1u);
  handle(NodeDown{NodeId("node-1"), "rebooted"});
  handle(NodeUp{NodeId("node-1")});
  EXPECT_EQ(view(*director_, su(2)).oper, OperState::kEnabled);
}

// ---- the director and node directors together ----

// Answers every CSI set the cluster sends with an error, advancing time `step` between
// rounds; the number of CSI sets there were.
std::size_t fail_every_csi_set(test::LocalCluster& c, int rounds, Duration step) {
  std::size_t answered = 0;
  for (int round = 0; round < rounds; ++round) {
    auto sets = std::exchange(c.csi_sets(), {});
    for (const auto& set : sets) {
      const NodeId node(set.comp == comp(1) ? "node-1" : "node-2");
      c.to_node(node, node::ComponentResponse{set.peer, set.invocation, false});
    }
    answered += sets.size();
    c.run();
    c.advance(step);
  }
  return answered;
}

// The loop found in the field: a 2N SG whose component fails every CSI set, each SU on its
// own node, and the node escalation raised so that it never ends it. su-1 fails the active,
// su-2 is promoted and fails it too, su-1 has been repaired meanwhile and is promoted... for
// ever, thousands of times a second, unless the ceiling ends it.
TEST(RecoveryCeilingLoopTest, EveryCsiSetFailingEndsWithBothSusLeftForTheOperator) {
  test::LocalCluster c(unbounded_escalation({.nodes = {"node-1", "node-2"}}));
  c.auto_respond = false;
  c.start();
  // An hour of simulated time, a round every 100 ms.
  const std::size_t sets = fail_every_csi_set(c, 36'000, 100ms);
  // Without the ceiling: one CSI set or more per round, 36000 and more.
  EXPECT_LE(sets, static_cast<std::size_t>(2 * (model::kSuAutoRepairCeiling + 2)));
  for (int i : {1, 2}) {
    const auto v = view(c.director(), su(i));
    EXPECT_EQ(v.oper, OperState::kDisabled) << su(i).str();
    EXPECT_EQ(v.presence, PresenceState::kUninstantiated) << su(i).str();
    EXPECT_EQ(count_left_disabled(c.notifications(), su(i)), 1u) << su(i).str();
    EXPECT_FALSE(c.alive(comp(i)));
  }
  // Stable: nothing assigned, nothing outstanding, nothing due, and another day changes
  // nothing.
  EXPECT_TRUE(c.director().assignments(SgId("app")).empty());
  EXPECT_FALSE(c.director().busy(SgId("app")));
  EXPECT_EQ(c.director().next_deadline(), std::nullopt);
  const std::size_t notes = c.notifications().size();
  EXPECT_EQ(fail_every_csi_set(c, 24, 1h), 0u);
  EXPECT_EQ(c.notifications().size(), notes);

  // The operator repairs su-1: it is instantiated, takes the SI, and (still failing) is left
  // disabled again after another ceiling's worth of auto-repairs.
  c.admin(AdminOp::kRepair, director::EntityKind::kSu, "app/su-1");
  EXPECT_EQ(fail_every_csi_set(c, 36'000, 100ms), model::kSuAutoRepairCeiling + 1u);
  EXPECT_EQ(view(c.director(), su(1)).oper, OperState::kDisabled);
  EXPECT_EQ(count_left_disabled(c.notifications(), su(1)), 2u);
}

// The same with component-restart recovery: the node director restarts the SU in place
// (restart, CSI handed back, failed, restart...) until its ceiling turns that into an SU
// failover; the director auto-repairs it until its own ceiling leaves it disabled.
TEST(RecoveryCeilingLoopTest, ARestartLoopEndsAtBothCeilings) {
  test::LocalCluster c(unbounded_escalation(
      {.recovery = model::Recovery::kComponentRestart, .nodes = {"node-1", "node-2"}}));
  c.auto_respond = false;
  c.start();
  constexpr int kCycles = model::kSuAutoRepairCeiling + 1;  // failovers of each SU
  constexpr int kRestarts = model::kSuRestartCeiling;       // in place, before each
  const std::size_t sets = fail_every_csi_set(c, 3 * kCycles * (kRestarts + 1), 1ms);
  EXPECT_EQ(sets, static_cast<std::size_t>(2 * kCycles * (kRestarts + 1)));
  int restarts = 0;
  int failovers = 0;
  for (const auto& n : c.notifications()) {
    restarts += n.kind == model::NotificationKind::kRecovery && n.to == "component-restart";
    failovers += n.kind == model::NotificationKind::kRecovery && n.to == "su-failover";
  }
  EXPECT_EQ(restarts, 2 * kCycles * kRestarts);
  EXPECT_EQ(failovers, 2 * kCycles);
  for (int i : {1, 2}) {
    EXPECT_EQ(view(c.director(), su(i)).oper, OperState::kDisabled);
    EXPECT_EQ(count_left_disabled(c.notifications(), su(i)), 1u) << su(i).str();
  }
  EXPECT_TRUE(c.director().assignments(SgId("app")).empty());
  EXPECT_EQ(fail_every_csi_set(c, 24, 1h), 0u);
}

}  // namespace
}  // namespace amf::director
