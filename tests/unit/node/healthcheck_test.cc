// Health checks and error reports in the node director.
#include <gtest/gtest.h>

#include "amf/node/node_director.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/node_driver.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using namespace std::chrono_literals;
using test::comp;
using test::only;
using test::su;

std::shared_ptr<const model::ClusterConfig> with_health_check(bool component_invoked,
                                                              model::Recovery recovery) {
  auto config =
      std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({.recovery = recovery}));
  for (auto& s : config->applications[0].service_groups[0].sus) {
    s.components[0].health_check =
        model::HealthCheckConfig{"alive", 1000ms, 500ms, component_invoked};
  }
  return config;
}

class HealthcheckTest : public ::testing::Test, protected test::NodeDriver {
 protected:
  void make(bool component_invoked, model::Recovery recovery = model::Recovery::kComponentRestart) {
    nd_.emplace(with_health_check(component_invoked, recovery), NodeId("node-1"));
    handle(protocol::InstantiateSu{su(1)});
    handle(ProcessStarted{comp(1)});
    handle(ComponentRegister{1, comp(1).str()});
  }
  std::vector<std::string> errors(const std::vector<Effect>& effects) {
    std::vector<std::string> out;
    for (const auto& n : only<model::Notification>(effects)) {
      if (n.kind == model::NotificationKind::kError) out.push_back(n.cause);
    }
    return out;
  }
};

TEST_F(HealthcheckTest, AmfInvokedCheckIsSentEveryPeriodAndAnswersKeepTheComponentHealthy) {
  make(false);
  EXPECT_EQ(nd_->next_deadline(), now_ + 1000ms);
  for (int i = 0; i < 3; ++i) {
    auto checks = only<SendHealthcheck>(advance(1000ms));
    ASSERT_EQ(checks.size(), 1u) << "period " << i;
    EXPECT_EQ(checks[0].key, "alive");
    EXPECT_TRUE(errors(handle(ComponentResponse{1, checks[0].invocation, true})).empty());
  }
}

TEST_F(HealthcheckTest, UnansweredCheckIsAFailureHandledByTheComponentsRecovery) {
  make(false);
  auto checks = only<SendHealthcheck>(advance(1000ms));
  ASSERT_EQ(checks.size(), 1u);
  auto effects = advance(500ms);
  EXPECT_EQ(errors(effects),
            (std::vector<std::string>{"health check 'alive' not answered within 500 ms"}));
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);  // a hung process is cleaned up, then restarted
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  EXPECT_EQ(only<StartProcess>(handle(ProcessExited{comp(1), "killed by signal 9"})).size(), 1u);
}

TEST_F(HealthcheckTest, FailedAnswerIsAFailure) {
  make(false);
  auto checks = only<SendHealthcheck>(advance(1000ms));
  auto effects = handle(ComponentResponse{1, checks[0].invocation, false});
  EXPECT_EQ(errors(effects), (std::vector<std::string>{"health check 'alive' failed"}));
}

TEST_F(HealthcheckTest, ComponentInvokedConfirmationsMustKeepComing) {
  make(true);
  advance(1000ms);
  EXPECT_TRUE(errors(handle(ComponentHealthcheckConfirm{1, "alive"})).empty());
  EXPECT_TRUE(errors(advance(1400ms)).empty());  // within period + max duration of the last
  auto effects = advance(200ms);
  EXPECT_EQ(errors(effects),
            (std::vector<std::string>{"no health check confirmation for 'alive' within 1500 ms"}));
}

TEST_F(HealthcheckTest, ConfirmationWithAWrongKeyIsFlaggedAndDoesNotCount) {
  make(true);
  auto effects = handle(ComponentHealthcheckConfirm{1, "other"});
  auto notes = only<model::Notification>(effects);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, model::NotificationKind::kProtocolError);
  EXPECT_EQ(errors(advance(1500ms)).size(), 1u);
}

TEST_F(HealthcheckTest, ErrorReportUsesTheRecommendedRecovery) {
  make(false, model::Recovery::kComponentRestart);
  auto effects = handle(ComponentErrorReport{1, "su-failover", "lost its database"});
  EXPECT_EQ(errors(effects), (std::vector<std::string>{"error report: lost its database"}));
  bool failover = false;
  for (const auto& n : only<model::Notification>(effects)) {
    failover |= n.kind == model::NotificationKind::kRecovery && n.to == "su-failover";
  }
  EXPECT_TRUE(failover);
}

TEST_F(HealthcheckTest, ErrorReportWithUnknownRecoveryFallsBackToTheConfiguredOne) {
  make(false, model::Recovery::kComponentRestart);
  auto effects = handle(ComponentErrorReport{1, "reboot-the-world", "oops"});
  bool flagged = false, restarted = false;
  for (const auto& n : only<model::Notification>(effects)) {
    flagged |= n.kind == model::NotificationKind::kProtocolError &&
               n.cause ==
                   "error report recommends unknown recovery 'reboot-the-world'; using the "
                   "configured one";
    restarted |= n.kind == model::NotificationKind::kRecovery && n.to == "component-restart";
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(restarted);
}

TEST_F(HealthcheckTest, ErrorReportFromAnUnregisteredConnectionIsIgnored) {
  make(false);
  auto effects = handle(ComponentErrorReport{99, "", "not me"});
  EXPECT_TRUE(errors(effects).empty());
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
}

TEST(HealthcheckClusterTest, HungActiveIsDetectedByItsHealthCheckAndFailedOver) {
  test::LocalCluster c(with_health_check(false, model::Recovery::kComponentFailover));
  c.start();
  c.advance(1000ms);
  EXPECT_GE(c.healthchecks(), 2);
  c.auto_respond = false;  // every component hangs
  c.advance(1000ms);       // checks sent, unanswered
  c.auto_respond = true;
  c.advance(500ms);  // both time out: both SUs fail over and are repaired
  int detected = 0;
  for (const auto& n : c.notifications()) {
    detected += n.kind == model::NotificationKind::kError &&
                n.cause == "health check 'alive' not answered within 500 ms";
  }
  EXPECT_EQ(detected, 2);
  EXPECT_EQ(c.starts(comp(1)), 2);  // cleaned up and instantiated again
  EXPECT_EQ(c.starts(comp(2)), 2);
  EXPECT_EQ(c.director().assignments(SgId("app")).size(), 2u);
}

}  // namespace
}  // namespace amf::node
