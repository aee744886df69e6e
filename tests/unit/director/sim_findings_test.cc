// Regression tests for the core bugs the simulator found (sim/README.md, "Known core
// findings"); each failed before its fix.
#include <gtest/gtest.h>

#include "amf/node/node_director.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/node_driver.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

using model::HaState;
using model::PresenceState;
using test::comp;
using test::only;
using test::si;
using test::su;
using namespace std::chrono_literals;

// Finding 1: an SU with two components is reported failed only once its sibling is gone.
TEST(SimFindingsTest, FailedMultiComponentSuIsReportedOnlyWhenNoSiblingRuns) {
  auto config =
      std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({.instantiate_retries = 0}));
  auto& first = config->applications[0].service_groups[0].sus[0];
  model::ComponentConfig sibling = first.components[0];
  sibling.id = CompId("app/su-1/sidecar");
  sibling.name = "sidecar";
  sibling.cs_types = {"aux"};
  first.components.push_back(sibling);
  node::NodeDirector nd(config, NodeId("node-1"));
  const TimePoint t{};
  nd.handle(protocol::InstantiateSu{su(1)}, t);
  nd.handle(node::ProcessStarted{CompId("app/su-1/sidecar")}, t);
  nd.handle(node::ComponentRegister{1, "app/su-1/sidecar"}, t);
  nd.take_effects();
  nd.handle(node::ProcessStartFailed{comp(1), "no such file"}, t);
  auto effects = nd.take_effects();
  ASSERT_EQ(only<node::SignalProcess>(effects).size(), 1u);  // the sidecar is cleaned up
  EXPECT_TRUE(only<node::ToDirector>(effects).empty()) << "reported while the sidecar runs";
  nd.handle(node::ProcessExited{CompId("app/su-1/sidecar"), "killed by signal 9"}, t);
  auto reports = only<node::ToDirector>(nd.take_effects());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(std::get<protocol::SuStateReport>(reports[0].message).presence,
            PresenceState::kInstantiationFailed);
}

// Findings 2 and 5: a command pending to an SU whose cleanup fails does not wedge the SG, and
// a repaired SU's components do not get their old CSIs back.
TEST(SimFindingsTest, CleanupFailureDuringAPromotionNeitherWedgesTheSgNorLeavesStaleCsis) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.unkillable.insert(comp(2));
  c.auto_respond = false;
  c.kill(comp(1));  // su-2 is told to go active and never answers
  c.auto_respond = true;
  c.advance(5s);  // callback timeout: su-2 is cleaned up, which does not end it
  c.advance(5s);  // cleanup timeout: su-2 termination-failed
  EXPECT_FALSE(c.director().busy(SgId("app"))) << "the SG must not wait for an answer";
  // su-2 may have taken the promotion: the SI is frozen with it as active.
  EXPECT_EQ(models::ha_of(c.director().assignments(SgId("app")), su(2), si(1)), HaState::kActive);
  auto r = c.admin(director::AdminOp::kLock, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  ASSERT_TRUE(c.admin(director::AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1")->ok);

  c.unkillable.clear();
  c.kill(comp(2));
  const std::size_t mark = c.csi_sets().size();
  r = c.admin(director::AdminOp::kRepair, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  for (std::size_t k = mark; k < c.csi_sets().size(); ++k) {
    EXPECT_NE(c.csi_sets()[k].reason, model::TransitionReason::kRestart)
        << "stale CSI given back to " << c.csi_sets()[k].comp;
  }
  EXPECT_EQ(c.director().assignments(SgId("app")).size(), 2u);
}

// Finding 3: a repair is answered when it has happened, not with the state from before.
TEST(SimFindingsTest, RepairOfAnInstantiationFailedSuIsAnsweredWhenItSucceeds) {
  test::LocalCluster c(test::make_cluster({.instantiate_retries = 0}));
  c.auto_register = false;
  c.start();
  c.advance(10s);  // no registration: both SUs instantiation-failed
  c.auto_register = true;
  auto r = c.admin(director::AdminOp::kRepair, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(models::ha_of(c.director().assignments(SgId("app")), su(1), si(1)), HaState::kActive);
}

}  // namespace
}  // namespace amf
