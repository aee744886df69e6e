// Recovery escalation in the node director, and what the director makes of a node failover.
#include <gtest/gtest.h>

#include "amf/node/node_director.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using model::OperState;
using model::PresenceState;
using model::Recovery;
using test::comp;
using test::su;
using namespace std::chrono_literals;

struct Limits {
  Recovery recovery = Recovery::kComponentRestart;
  int comp_restart_max = 2;
  int su_restart_max = 1;
  int su_failover_max = 1;
};

std::shared_ptr<const model::ClusterConfig> cluster(const Limits& l) {
  auto config =
      std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({.recovery = l.recovery}));
  auto& sg = config->applications[0].service_groups[0];
  sg.comp_restart_max = l.comp_restart_max;
  sg.comp_restart_probation = 4s;
  sg.su_restart_max = l.su_restart_max;
  sg.su_restart_probation = 4s;
  config->nodes[0].su_failover_max = l.su_failover_max;
  config->nodes[0].su_failover_probation = 60s;
  return config;
}

// The recoveries the node director chose, in order ("component-restart", "su-restart", ...).
std::vector<std::string> recoveries(const std::vector<model::Notification>& notes) {
  std::vector<std::string> out;
  for (const auto& n : notes) {
    if (n.kind == model::NotificationKind::kRecovery && n.to != "auto-repair") out.push_back(n.to);
  }
  return out;
}

TEST(EscalationTest, ComponentRestartsEscalateToSuRestartThenToSuFailover) {
  test::LocalCluster c(cluster({}));
  c.start();
  // comp_restart_max 2: the third restart within 4 s becomes an SU restart; su_restart_max 1:
  // the second SU restart within 4 s becomes an SU failover.
  for (int i = 0; i < 6; ++i) c.kill(comp(1));
  EXPECT_EQ(recoveries(c.notifications()),
            (std::vector<std::string>{"component-restart", "component-restart", "su-restart",
                                      "component-restart", "component-restart", "su-failover"}));
  // The failover reached the director: su-2 serves, su-1 was auto-repaired.
  EXPECT_EQ(c.director().assignments(SgId("app")).at(0).su, su(2));
  bool cause_says_why = false;
  for (const auto& n : c.notifications()) {
    cause_says_why |= n.kind == model::NotificationKind::kRecovery && n.to == "su-restart" &&
                      n.cause.find("escalated: component restarts more than 2 within 4000 ms") !=
                          std::string::npos;
  }
  EXPECT_TRUE(cause_says_why);
}

TEST(EscalationTest, WindowResetsOncePassed) {
  test::LocalCluster c(cluster({}));
  c.start();
  for (int i = 0; i < 6; ++i) {
    c.kill(comp(1));
    c.advance(5s);  // each restart in a window of its own
  }
  for (const auto& r : recoveries(c.notifications())) EXPECT_EQ(r, "component-restart");
  EXPECT_EQ(c.director().assignments(SgId("app")).at(0).su, su(1));  // never moved
}

TEST(EscalationTest, SuRestartRecoveryRestartsTheSuInPlaceKeepingItsAssignment) {
  test::LocalCluster c(cluster({.recovery = Recovery::kSuRestart}));
  c.start();
  c.csi_sets().clear();
  c.kill(comp(1));
  EXPECT_EQ(recoveries(c.notifications()), (std::vector<std::string>{"su-restart"}));
  EXPECT_EQ(c.starts(comp(1)), 2);
  EXPECT_EQ(c.director().assignments(SgId("app")).at(0).su, su(1));
  ASSERT_EQ(c.csi_sets().size(), 1u);
  EXPECT_EQ(c.csi_sets()[0].reason, model::TransitionReason::kRestart);
}

TEST(EscalationTest, TooManySuFailoversFailTheNodeOverAndNothingIsAutoRepaired) {
  test::LocalCluster c(cluster({.recovery = Recovery::kComponentFailover}));
  c.start();
  c.kill(comp(1));  // first SU failover: fine, su-1 is auto-repaired and becomes standby
  ASSERT_EQ(c.director().assignments(SgId("app")).size(), 2u);
  c.kill(comp(2));  // second within 60 s: node failover
  EXPECT_EQ(recoveries(c.notifications()).back(), "node-failover");
  for (const auto& v : c.director().service_units()) {
    EXPECT_EQ(v.oper, OperState::kDisabled) << v.id;
    EXPECT_EQ(v.presence, PresenceState::kUninstantiated) << v.id;
  }
  EXPECT_TRUE(c.director().assignments(SgId("app")).empty());
  // An operator's repair brings an SU back.
  auto r = c.admin(director::AdminOp::kRepair, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(c.director().assignments(SgId("app")).at(0).su, su(1));
}

TEST(NodeSwitchoverTest, HealthySusOfTheNodeAreSwitchedOverGracefullyThenTerminated) {
  // 2N: su-1 (active) and su-2 (standby) on node-1, su-3 a third SU on node-2.
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster(
      {.sus = 3, .recovery = Recovery::kNodeSwitchover, .nodes = {"node-1", "node-1", "node-2"}}));
  test::LocalCluster c(config);
  c.start();
  ASSERT_EQ(c.director().assignments(SgId("app")).size(), 2u);
  const std::size_t mark = c.csi_sets().size();
  c.kill(comp(2));  // the standby's component fails: node-1 is switched over
  // su-1 was quiesced (not killed: nothing is lost), and only then su-3 on node-2 made active.
  std::vector<std::pair<CompId, model::HaState>> sets;
  for (std::size_t k = mark; k < c.csi_sets().size(); ++k) {
    sets.emplace_back(c.csi_sets()[k].comp, c.csi_sets()[k].ha);
  }
  ASSERT_GE(sets.size(), 2u);
  EXPECT_EQ(sets[0], std::pair(comp(1), model::HaState::kQuiesced));
  EXPECT_EQ(sets[1], std::pair(comp(3), model::HaState::kActive));
  c.advance(10s);
  const auto table = c.director().assignments(SgId("app"));
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table[0].su, su(3));
  EXPECT_FALSE(c.alive(comp(1)));  // terminated once it held nothing
  EXPECT_FALSE(c.alive(comp(2)));
  for (const auto& v : c.director().service_units()) {
    if (v.node == NodeId("node-1")) {
      EXPECT_EQ(v.oper, OperState::kDisabled) << v.id.str();  // until the node is repaired
      EXPECT_EQ(v.presence, PresenceState::kUninstantiated) << v.id.str();
    }
  }
}

}  // namespace
}  // namespace amf::node
