// The node director's hard recovery ceiling (amf/model/recovery_ceiling.h): whatever the
// escalation settings, an SU is restarted in place at most kSuRestartCeiling times without a
// quiet period in between; past that it is failed over (or, failing to instantiate, left
// instantiation-failed).
#include "amf/model/recovery_ceiling.h"

#include <gtest/gtest.h>

#include <deque>

#include "amf/node/node_director.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using model::OperState;
using model::PresenceState;
using test::comp;
using test::si;
using test::su;
using namespace std::chrono_literals;

// Escalation that never ends anything: every maximum raised as far as the configuration lets
// it (config/reader.h: kMaxCount), node failovers included.
std::shared_ptr<const model::ClusterConfig> unbounded_escalation(test::ClusterSpec spec) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster(spec));
  auto& sg = config->applications[0].service_groups[0];
  sg.comp_restart_max = 1'000'000;
  sg.su_restart_max = 1'000'000;
  for (auto& node : config->nodes) node.su_failover_max = 1'000'000;
  return config;
}

// One node director and pretend processes: starts either fail or succeed and register at once,
// signals end the process, CSI callbacks are answered at once (with an error by the components
// in `failing`). Events are handled in order at the current time, up to a bound: a loop that
// never ends stops there, and the test sees it did not end.
class Harness {
 public:
  explicit Harness(std::shared_ptr<const model::ClusterConfig> config)
      : nd_(std::move(config), NodeId("node-1")) {}

  // Handles `e` and everything it sets off; false when that was still going after `bound`
  // events.
  bool run(Event e, int bound = 100'000) {
    queue_.push_back(std::move(e));
    for (int handled = 0; !queue_.empty(); ++handled) {
      if (handled == bound) return false;
      Event next = std::move(queue_.front());
      queue_.pop_front();
      nd_.handle(next, now_);
      for (auto& effect : nd_.take_effects()) std::visit([&](auto& x) { on(x); }, effect);
    }
    return true;
  }

  NodeDirector& nd() { return nd_; }
  int starts = 0;
  bool fail_starts = false;
  std::set<CompId> failing;  // answer every CSI set with an error
  bool hold = false;         // keep CSI sets in `held` instead, for the test to answer
  std::vector<SendCsiSet> held;
  std::vector<protocol::SuStateReport> reports;
  std::vector<model::Notification> notes;
  TimePoint now_{};

 private:
  void on(const StartProcess& e) {
    ++starts;
    if (fail_starts) return queue_.push_back(ProcessStartFailed{e.comp, "no such file"});
    queue_.push_back(ProcessStarted{e.comp});
    const PeerId peer = next_peer_++;
    peers_[peer] = e.comp;
    queue_.push_back(ComponentRegister{peer, e.comp.str()});
  }
  void on(const SignalProcess& e) { queue_.push_back(ProcessExited{e.comp, "killed by signal 9"}); }
  void on(const SendCsiSet& e) {
    if (hold) return held.push_back(e);
    queue_.push_back(ComponentResponse{e.peer, e.invocation, !failing.count(peers_.at(e.peer))});
  }
  void on(const SendCsiRemove& e) {
    queue_.push_back(ComponentResponse{e.peer, e.invocation, true});
  }
  void on(const SendHealthcheck& e) {
    queue_.push_back(ComponentResponse{e.peer, e.invocation, true});
  }
  void on(const SendTerminate& e) {
    queue_.push_back(ComponentResponse{e.peer, e.invocation, true});
    queue_.push_back(ProcessExited{e.comp, "exited with code 0"});
  }
  void on(const SendRegisterReply&) {}
  void on(const SendProtectionGroup&) {}
  void on(const RunHook&) {}
  void on(const RunProbe&) {}
  void on(const SetServiceAddress&) {}
  void on(const ToDirector& e) {
    if (const auto* r = std::get_if<protocol::SuStateReport>(&e.message)) reports.push_back(*r);
  }
  void on(const model::Notification& n) { notes.push_back(n); }

  NodeDirector nd_;
  std::deque<Event> queue_;
  std::map<PeerId, CompId> peers_;
  PeerId next_peer_ = 1;
};

bool noted(const std::vector<model::Notification>& notes, const std::string& kind,
           const std::string& entity, const std::string& to, const std::string& cause_part) {
  for (const auto& n : notes) {
    if (model::to_string(n.kind) == kind && n.entity == entity && n.to == to &&
        n.cause.find(cause_part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(RecoveryCeilingTest, InstantiationRetriesStopAtTheCeilingWhateverTheRetriesSetting) {
  Harness h(unbounded_escalation({.instantiate_retries = 1'000'000}));
  h.fail_starts = true;
  // Without the ceiling: a million attempts, each failing at once.
  ASSERT_TRUE(h.run(protocol::InstantiateSu{su(1)}));
  EXPECT_EQ(h.starts, 1 + model::kSuRestartCeiling);  // the first attempt is no restart
  ASSERT_FALSE(h.reports.empty());
  const auto& last = h.reports.back();
  EXPECT_EQ(last.su, su(1));
  EXPECT_EQ(last.oper, OperState::kDisabled);
  EXPECT_EQ(last.presence, PresenceState::kInstantiationFailed);  // until an operator repairs it
  EXPECT_TRUE(noted(h.notes, "presence", comp(1).str(), "instantiation-failed",
                    "recovery ceiling: more than 100 restarts of app/su-1 without 10 min"));
  // Left as it is: nothing to wait for, nothing to retry.
  EXPECT_EQ(h.nd().next_deadline(), std::nullopt);
  h.now_ += 24h;
  h.nd().tick(h.now_);
  EXPECT_TRUE(h.nd().take_effects().empty());
  EXPECT_EQ(h.starts, 1 + model::kSuRestartCeiling);
}

// A component that fails every CSI set, with component-restart recovery and an escalation
// that never escalates: restarted, handed its CSI back, failed, restarted... until the ceiling.
class RestartLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.run(protocol::InstantiateSu{su(1)}));
    h_.failing.insert(comp(1));
  }
  // Assigns si-1 active to su-1, which fails it: true when that ended.
  bool assign() {
    return h_.run(protocol::AssignHa{su(1), si(1), model::HaState::kActive,
                                     model::TransitionReason::kNewAssignment});
  }
  int count(const std::string& recovery) const {
    int n = 0;
    for (const auto& note : h_.notes)
      n += note.kind == model::NotificationKind::kRecovery && note.to == recovery;
    return n;
  }
  Harness h_{unbounded_escalation({.sus = 1, .recovery = model::Recovery::kComponentRestart})};
};

TEST_F(RestartLoopTest, EscalatesToAnSuFailoverAtTheCeiling) {
  ASSERT_TRUE(assign()) << "still restarting after 100000 events: the loop does not end";
  EXPECT_EQ(count("component-restart"), model::kSuRestartCeiling);
  EXPECT_EQ(count("su-failover"), 1);
  EXPECT_TRUE(noted(h_.notes, "recovery", su(1).str(), "su-failover",
                    "escalated: recovery ceiling: more than 100 restarts of app/su-1 without "
                    "10 min between two"));
  // Handed to the director, as any SU failover: its SI fails over, the SU may be repaired.
  const auto& last = h_.reports.back();
  EXPECT_EQ(last.oper, OperState::kDisabled);
  EXPECT_EQ(last.presence, PresenceState::kUninstantiated);
  EXPECT_TRUE(last.auto_repairable);
  EXPECT_EQ(h_.nd().next_deadline(), std::nullopt);
}

TEST_F(RestartLoopTest, ARepairedSuStartsAfresh) {
  ASSERT_TRUE(assign());
  ASSERT_TRUE(h_.run(protocol::RepairSu{su(1)}));
  ASSERT_TRUE(assign());
  EXPECT_EQ(count("component-restart"), 2 * model::kSuRestartCeiling);
  EXPECT_EQ(count("su-failover"), 2);
}

TEST_F(RestartLoopTest, EscalatesEvenWhenEachRestartOutlastsTheProbation) {
  // The default escalation (more than 10 component restarts within 4 s) never escalates when
  // each restart takes longer than 0.4 s to fail again: alone, it restarts the component for
  // ever, and the SI it holds goes unserved while a standby waits.
  Harness& h = h_ =
      Harness(test::make_cluster({.sus = 1, .recovery = model::Recovery::kComponentRestart}));
  ASSERT_TRUE(h.run(protocol::InstantiateSu{su(1)}));
  h.hold = true;
  ASSERT_TRUE(assign());
  // Each CSI set fails a second after it was sent.
  for (int i = 0; i < 10'000 && count("su-failover") == 0; ++i) {
    h.now_ += 1s;
    h.nd().tick(h.now_);
    for (const auto& set : std::exchange(h.held, {})) {
      ASSERT_TRUE(h.run(ComponentResponse{set.peer, set.invocation, false}));
    }
  }
  EXPECT_EQ(count("su-failover"), 1);
  EXPECT_EQ(count("su-restart"), 0);  // the escalation never escalated
  EXPECT_EQ(count("component-restart"), model::kSuRestartCeiling);
}

TEST_F(RestartLoopTest, FailuresAQuietPeriodApartAreRestartedForEver) {
  // A failure that comes back only after the SU served for the quiet period is no loop: each
  // is restarted, however many there are.
  h_.failing.clear();
  ASSERT_TRUE(assign());
  for (int i = 0; i < model::kSuRestartCeiling + 10; ++i) {
    h_.now_ += model::kRecoveryCeilingQuiet;
    h_.nd().tick(h_.now_);
    ASSERT_TRUE(h_.run(ProcessExited{comp(1), "killed by signal 11"}));
  }
  EXPECT_EQ(count("component-restart"), model::kSuRestartCeiling + 10);
  EXPECT_EQ(count("su-failover"), 0);
  EXPECT_EQ(h_.reports.back().oper, OperState::kEnabled);
}

}  // namespace
}  // namespace amf::node
