// Components that do not link the library, in the simulator: sd_notify (READY=1, the watchdog),
// instantiation when started, HA-state hooks and liveness probes, and their failures.
#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

using namespace std::chrono_literals;
using model::HaState;

class SimHostTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& words) {
    auto sg = parse_sg_spec(words);
    ASSERT_TRUE(sg) << sg.error().message();
    Options options;
    options.on_notification = [this](const model::Notification& n) { notes_.push_back(n); };
    options.keep_full_trace = true;
    auto sim = Simulation::create(build({"host", 2, {*sg}}), 1, std::move(options));
    ASSERT_TRUE(sim) << sim.error().message();
    sim_ = std::move(*sim);
    sim_->start();
    sim_->settle();
    ASSERT_FALSE(sim_->violation()) << sim_->violation()->describe();
  }
  std::optional<HaState> ha(int su) const {
    for (const auto& a : sim_->director().assignments(SgId("app"))) {
      if (a.su == SuId("app/su-" + std::to_string(su))) return a.ha;
    }
    return std::nullopt;
  }
  bool recovery_cause(const std::string& text) const {
    for (const auto& n : notes_) {
      if (n.kind == model::NotificationKind::kRecovery && n.cause.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  void settle_clean() {
    sim_->settle();
    ASSERT_FALSE(sim_->violation()) << sim_->violation()->describe();
  }
  static CompId comp(int su) { return CompId("app/su-" + std::to_string(su) + "/server"); }

  std::unique_ptr<Simulation> sim_;
  std::vector<model::Notification> notes_;
};

TEST_F(SimHostTest, NotifiedComponentsSayReadyAndTakeTheirCsisThroughHooks) {
  start({"2n", "kind=notified"});
  EXPECT_EQ(ha(1), HaState::kActive);
  EXPECT_EQ(ha(2), HaState::kStandby);
  const std::string trace = sim_->trace().all();
  EXPECT_NE(trace.find("says READY=1"), std::string::npos);
  EXPECT_NE(trace.find("hook of app/su-1/server"), std::string::npos);
  bool believes = false;
  for (const auto& p : sim_->processes()) {
    if (p.comp == comp(1)) believes = p.beliefs.count(CsiId("app/si-1/csi")) > 0;
  }
  EXPECT_TRUE(believes) << "the hook told the component its state";
}

TEST_F(SimHostTest, AHungNotifiedComponentMissesItsWatchdogAndIsFailedOver) {
  start({"2n", "kind=notified", "health=component", "health-period=2s"});
  ASSERT_TRUE(sim_->hang(comp(1)));
  sim_->run_for(10s);
  EXPECT_TRUE(recovery_cause("no WATCHDOG=1"));
  EXPECT_EQ(ha(2), HaState::kActive);
  settle_clean();
}

TEST_F(SimHostTest, AHungStartedComponentFailsItsProbeAndIsFailedOver) {
  start({"2n", "kind=started", "probe=on"});
  ASSERT_TRUE(sim_->hang(comp(1)));
  sim_->run_for(30s);  // three probes, 5 s apart, each running out of its 1 s
  EXPECT_TRUE(recovery_cause("liveness probe failed 3 times in a row"));
  EXPECT_EQ(ha(2), HaState::kActive);
  settle_clean();
}

TEST_F(SimHostTest, AFailingHookIsAFailureOfTheComponent) {
  start({"2n", "kind=started"});
  sim_->fail_callbacks(comp(2), 1);  // its next hook exits 1
  ASSERT_TRUE(sim_->crash(comp(1)));
  sim_->run_for(5s);
  EXPECT_TRUE(recovery_cause("exited with code 1")) << sim_->trace().all();
  settle_clean();
}

TEST_F(SimHostTest, AHookThatOverrunsItsTimeoutIsAFailureOfTheComponent) {
  start({"2n", "kind=notified", "csi-set=1s"});
  sim_->slow_callbacks(comp(2), 1);
  ASSERT_TRUE(sim_->crash(comp(1)));
  sim_->run_for(5s);
  EXPECT_TRUE(recovery_cause("within 1000 ms"));
  settle_clean();
}

TEST_F(SimHostTest, ANotifiedComponentThatTriggersItsWatchdogIsFailedOver) {
  start({"2n", "kind=notified"});
  ASSERT_TRUE(sim_->report_error(comp(1)));
  sim_->run_for(1s);
  EXPECT_EQ(ha(2), HaState::kActive);
  settle_clean();
}

TEST_F(SimHostTest, SpecsRefuseHealthChecksTheComponentKindCannotHave) {
  auto amf = parse_sg_spec({"2n", "kind=started", "health=amf"});
  ASSERT_FALSE(amf);
  EXPECT_NE(amf.error().message().find("needs SA-aware components"), std::string::npos)
      << amf.error().message();
  auto kind = parse_sg_spec({"2n", "kind=sometimes"});
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message().find("sa-aware, notified, started or probed"),
            std::string::npos);
}

}  // namespace
}  // namespace amf::sim
