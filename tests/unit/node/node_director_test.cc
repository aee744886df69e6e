#include "amf/node/node_director.h"

#include <gtest/gtest.h>

#include "tests/unit/support/node_driver.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using model::HaState;
using model::OperState;
using model::PresenceState;
using test::comp;
using test::only;
using test::si;
using test::su;

std::vector<protocol::SuStateReport> reports(const std::vector<Effect>& effects) {
  std::vector<protocol::SuStateReport> out;
  for (const auto& t : only<ToDirector>(effects)) {
    if (auto* r = std::get_if<protocol::SuStateReport>(&t.message)) out.push_back(*r);
  }
  return out;
}

// The causes of the notifications of `kind` among the effects.
std::vector<std::string> noted(const std::vector<Effect>& effects, model::NotificationKind kind) {
  std::vector<std::string> out;
  for (const auto& n : only<model::Notification>(effects)) {
    if (n.kind == kind) out.push_back(n.cause);
  }
  return out;
}

class NodeDirectorTest : public ::testing::Test, protected test::NodeDriver {
 protected:
  void make(test::ClusterSpec spec = {}) {
    nd_.emplace(test::make_cluster(spec), NodeId("node-1"));
  }
  // Instantiates su-1 and registers its component as peer 1.
  void instantiated_su1() {
    handle(protocol::InstantiateSu{su(1)});
    handle(ProcessStarted{comp(1)});
    handle(ComponentRegister{1, comp(1).str()});
  }
  PresenceState presence(const CompId& id) {
    for (const auto& c : nd_->components()) {
      if (c.id == id) return c.presence;
    }
    return PresenceState::kUninstantiated;
  }
};

TEST_F(NodeDirectorTest, InstantiateSuStartsComponentWithItsName) {
  make();
  auto effects = handle(protocol::InstantiateSu{su(1)});
  auto starts = only<StartProcess>(effects);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].comp, comp(1));
  EXPECT_EQ(starts[0].env.at("AMF_COMPONENT_NAME"), "app/su-1/server");
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiating);
}

TEST_F(NodeDirectorTest, RegistrationMakesComponentAndSuInstantiated) {
  make();
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  auto effects = handle(ComponentRegister{7, comp(1).str()});
  auto replies = only<SendRegisterReply>(effects);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].ok);
  EXPECT_EQ(replies[0].peer, 7u);
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].su, su(1));
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiated);
  EXPECT_EQ(r[0].oper, OperState::kEnabled);
}

TEST_F(NodeDirectorTest, RegistrationUnderUnknownNameIsRefused) {
  make();
  auto replies = only<SendRegisterReply>(handle(ComponentRegister{3, "app/su-9/server"}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].message, "no component named 'app/su-9/server' on node node-1");
}

TEST_F(NodeDirectorTest, RegistrationOfComponentNotBeingInstantiatedIsRefused) {
  make();
  auto replies = only<SendRegisterReply>(handle(ComponentRegister{3, comp(2).str()}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].message,
            "component app/su-2/server is not being instantiated (presence uninstantiated)");
}

TEST_F(NodeDirectorTest, SecondRegistrationIsRefusedAndFirstStands) {
  make();
  instantiated_su1();
  auto replies = only<SendRegisterReply>(handle(ComponentRegister{2, comp(1).str()}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].message, "component app/su-1/server is already registered");
  // One connection cannot speak for a second component either.
  handle(protocol::InstantiateSu{su(2)});
  replies = only<SendRegisterReply>(handle(ComponentRegister{1, comp(2).str()}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].message,
            "this connection is already registered as component app/su-1/server");
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiated);
}

TEST_F(NodeDirectorTest, AssignHaSendsCsiSetAndReportsDoneOnResponse) {
  make();
  instantiated_su1();
  auto effects = handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment});
  auto sets = only<SendCsiSet>(effects);
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].csi, CsiId("app/si-1/csi"));
  EXPECT_EQ(sets[0].ha, HaState::kActive);
  EXPECT_EQ(sets[0].attributes.find("port")->second, "7000");
  EXPECT_TRUE(only<ToDirector>(effects).empty());

  effects = handle(ComponentResponse{1, sets[0].invocation, true});
  auto done = only<ToDirector>(effects);
  ASSERT_EQ(done.size(), 1u);
  auto* d = std::get_if<protocol::AssignmentDone>(&done[0].message);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->su, su(1));
  EXPECT_EQ(d->ha, HaState::kActive);
}

TEST_F(NodeDirectorTest, AnAnswerCarriesTheIdOfTheCommandItAnswers) {
  make();
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment, 41}));
  // A newer command for the same SI arrives before the component has answered the first.
  auto more = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kActive, model::TransitionReason::kSwitchover, 42}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  auto done = only<ToDirector>(handle(ComponentResponse{1, more[0].invocation, true}));
  ASSERT_EQ(done.size(), 1u);
  const auto& d = std::get<protocol::AssignmentDone>(done[0].message);
  EXPECT_EQ(d.command, 42u);
  EXPECT_EQ(d.ha, HaState::kActive);
  auto removed = only<ToDirector>(handle(protocol::RemoveHa{su(1), si(1), 43}));
  EXPECT_TRUE(removed.empty()) << "the component has not answered yet";
  removed = only<ToDirector>(handle(ComponentResponse{1, more[0].invocation + 1, true}));
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(std::get<protocol::RemovalDone>(removed[0].message).command, 43u);
}

// What orders the writers of a checkpoint (amf/checkpoint/service.h).
TEST_F(NodeDirectorTest, AComponentIsActiveSinceTheNewestCommandThatGaveItAnActiveCsi) {
  make();
  instantiated_su1();
  EXPECT_EQ(nd_->component_of(1), comp(1));
  EXPECT_EQ(nd_->component_of(2), std::nullopt);
  EXPECT_EQ(nd_->active_since(comp(1)), std::nullopt);
  handle(protocol::AssignHa{su(1), si(1), HaState::kStandby,
                            model::TransitionReason::kNewAssignment, 41});
  EXPECT_EQ(nd_->active_since(comp(1)), std::nullopt) << "a standby writes nothing";
  handle(protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kSwitchover,
                            (std::uint64_t{2} << 32) | 7});
  EXPECT_EQ(nd_->active_since(comp(1)), (std::uint64_t{2} << 32) | 7);
  handle(protocol::AssignHa{su(1), si(1), HaState::kQuiescing, model::TransitionReason::kSwitchover,
                            (std::uint64_t{2} << 32) | 8});
  EXPECT_EQ(nd_->active_since(comp(1)), (std::uint64_t{2} << 32) | 8) << "quiescing: still writes";
  handle(protocol::AssignHa{su(1), si(1), HaState::kQuiesced, model::TransitionReason::kSwitchover,
                            (std::uint64_t{2} << 32) | 9});
  EXPECT_EQ(nd_->active_since(comp(1)), std::nullopt) << "quiesced: done";
  handle(protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kSwitchover,
                            (std::uint64_t{2} << 32) | 10});
  handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_EQ(nd_->active_since(comp(1)), std::nullopt) << "a dead component holds nothing";
}

// What a newly elected director rebuilds its tables from.
TEST_F(NodeDirectorTest, ASnapshotRequestIsAnsweredWithEverythingTheNodeHolds) {
  make({.sis = 2});
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment, 7}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  handle(protocol::AssignHa{su(1), si(2), HaState::kStandby,
                            model::TransitionReason::kNewAssignment, 8});  // not answered yet
  handle(ProcessExited{comp(2), "killed by signal 9"});  // su-2 was never instantiated: ignored
  auto answers = only<ToDirector>(handle(protocol::SnapshotRequest{5}));
  ASSERT_EQ(answers.size(), 1u);
  const auto& snap = std::get<protocol::NodeSnapshot>(answers[0].message);
  EXPECT_EQ(snap.command, 5u);
  EXPECT_EQ(snap.node, NodeId("node-1"));
  EXPECT_FALSE(snap.shutting_down);
  ASSERT_EQ(snap.sus.size(), 2u);  // su-1 and su-2, both on node-1
  const auto& s1 = snap.sus[0];
  EXPECT_EQ(s1.su, su(1));
  EXPECT_EQ(s1.presence, PresenceState::kInstantiated);
  EXPECT_EQ(s1.oper, OperState::kEnabled);
  EXPECT_EQ(s1.assignments, (std::vector<std::pair<SiId, HaState>>{{si(1), HaState::kActive},
                                                                   {si(2), HaState::kStandby}}));
  EXPECT_EQ(s1.in_progress, std::vector<SiId>{si(2)});
  ASSERT_EQ(s1.components.size(), 1u);
  EXPECT_EQ(s1.components[0].comp, comp(1));
  EXPECT_TRUE(s1.components[0].registered);
  EXPECT_EQ(s1.components[0].presence, PresenceState::kInstantiated);
  EXPECT_EQ(snap.sus[1].su, su(2));
  EXPECT_EQ(snap.sus[1].presence, PresenceState::kUninstantiated);
  EXPECT_TRUE(snap.sus[1].assignments.empty());
}

// Found by the swarm with director crashes: a snapshot taken while a restart terminated a
// component said "terminating", a state the node never reports and so never took back; the new
// director waited for the SU forever.
TEST_F(NodeDirectorTest, ASnapshotCarriesTheSuStateLastReportedNotATransientOne) {
  make({.recovery = model::Recovery::kComponentRestart});
  instantiated_su1();
  handle(ComponentErrorReport{1, "", "broken"});
  ASSERT_EQ(presence(comp(1)), PresenceState::kTerminating);
  auto answers = only<ToDirector>(handle(protocol::SnapshotRequest{5}));
  ASSERT_EQ(answers.size(), 1u);
  const auto& snap = std::get<protocol::NodeSnapshot>(answers[0].message);
  EXPECT_EQ(snap.sus[0].presence, PresenceState::kInstantiated);
  EXPECT_EQ(snap.sus[0].oper, OperState::kEnabled);
  ASSERT_EQ(snap.sus[0].components.size(), 1u);
  EXPECT_EQ(snap.sus[0].components[0].presence, PresenceState::kTerminating);
  // The restart ends without a report: the SU never left its instantiated presence.
  handle(ProcessExited{comp(1), "killed by signal 9"});
  handle(ProcessStarted{comp(1)});
  EXPECT_TRUE(reports(handle(ComponentRegister{2, comp(1).str()})).empty());
}

// A process that survives its cleanup may still act on what it held: the snapshot says what,
// though the node dropped those CSIs when it failed the SU over.
TEST_F(NodeDirectorTest, ASnapshotCarriesWhatAComponentThatSurvivedItsCleanupHeld) {
  make();
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment, 7}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  handle(ComponentErrorReport{1, "", "broken"});  // component-failover: cleanup
  // While the cleanup goes on, nothing is reported, and the snapshot says what the process
  // may still act on.
  auto during = only<ToDirector>(handle(protocol::SnapshotRequest{4}));
  const auto& ending = std::get<protocol::NodeSnapshot>(during[0].message).sus[0];
  EXPECT_TRUE(ending.terminating);
  EXPECT_EQ(ending.presence, PresenceState::kInstantiated);
  EXPECT_EQ(ending.assignments, (std::vector<std::pair<SiId, HaState>>{{si(1), HaState::kActive}}));
  advance(std::chrono::seconds(10));  // SIGKILL ignored past the cleanup timeout
  ASSERT_EQ(presence(comp(1)), PresenceState::kTerminationFailed);
  auto answers = only<ToDirector>(handle(protocol::SnapshotRequest{5}));
  ASSERT_EQ(answers.size(), 1u);
  const auto& s1 = std::get<protocol::NodeSnapshot>(answers[0].message).sus[0];
  EXPECT_EQ(s1.presence, PresenceState::kTerminationFailed);
  EXPECT_FALSE(s1.terminating);  // no longer: the report said termination-failed
  EXPECT_EQ(s1.assignments, (std::vector<std::pair<SiId, HaState>>{{si(1), HaState::kActive}}));
  // Repaired, it holds nothing.
  handle(protocol::RepairSu{su(1)});
  answers = only<ToDirector>(handle(protocol::SnapshotRequest{6}));
  EXPECT_TRUE(std::get<protocol::NodeSnapshot>(answers[0].message).sus[0].assignments.empty());
}

TEST_F(NodeDirectorTest, ResponseToUnknownInvocationIsIgnoredAndFlagged) {
  make();
  instantiated_su1();
  auto effects = handle(ComponentResponse{1, 999, true});
  EXPECT_TRUE(only<ToDirector>(effects).empty());
  auto notes = only<model::Notification>(effects);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].kind, model::NotificationKind::kProtocolError);
  EXPECT_EQ(notes[0].cause, "response to unknown invocation 999");
}

TEST_F(NodeDirectorTest, ACommandForAnSuHostedElsewhereIsRefusedAndFlagged) {
  // A peer that lies or is confused names su-2, which node-2 hosts, or an SU of no node. Such
  // a command threw out of the node director (it reported every SU a command named).
  make({.nodes = {"node-1", "node-2"}});
  const std::vector<protocol::NodeCommand> commands{
      protocol::InstantiateSu{su(2)}, protocol::TerminateSu{su(2)},
      protocol::RepairSu{SuId("app/su-9")}, protocol::RestartSu{su(2), std::nullopt}};
  for (const auto& command : commands) {
    auto effects = handle(to_event(command));
    EXPECT_TRUE(only<ToDirector>(effects).empty());
    EXPECT_TRUE(only<StartProcess>(effects).empty());
    auto notes = only<model::Notification>(effects);
    ASSERT_EQ(notes.size(), 1u) << command.index();
    EXPECT_EQ(notes[0].kind, model::NotificationKind::kProtocolError);
    EXPECT_NE(notes[0].cause.find("of an SU this node does not host"), std::string::npos)
        << notes[0].cause;
  }
}

TEST_F(NodeDirectorTest, ProcessDeathWithFailoverRecoveryReportsSuDisabled) {
  make();
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  auto effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kUninstantiated);
  EXPECT_EQ(r[0].oper, OperState::kDisabled);
  EXPECT_EQ(r[0].cause, "app/su-1/server: process killed by signal 9");
  EXPECT_TRUE(only<StartProcess>(effects).empty());  // the director decides on the repair

  effects = handle(protocol::RepairSu{su(1)});
  EXPECT_EQ(only<StartProcess>(effects).size(), 1u);
}

TEST_F(NodeDirectorTest, ComponentRestartReassignsItsCsisAfterRegistration) {
  make({.recovery = model::Recovery::kComponentRestart});
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment}));
  handle(ComponentResponse{1, sets[0].invocation, true});

  auto effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_EQ(only<StartProcess>(effects).size(), 1u);
  EXPECT_TRUE(reports(effects).empty());  // the SU keeps its assignment: nothing to report
  EXPECT_EQ(presence(comp(1)), PresenceState::kRestarting);

  handle(ProcessStarted{comp(1)});
  sets = only<SendCsiSet>(handle(ComponentRegister{2, comp(1).str()}));
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].peer, 2u);
  EXPECT_EQ(sets[0].ha, HaState::kActive);
  EXPECT_EQ(sets[0].reason, model::TransitionReason::kRestart);
}

TEST_F(NodeDirectorTest, DisableRestartTurnsRestartIntoFailover) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.recovery = model::Recovery::kComponentRestart}));
  config->applications[0].service_groups[0].sus[0].components[0].disable_restart = true;
  nd_.emplace(config, NodeId("node-1"));
  instantiated_su1();
  auto r = reports(handle(ProcessExited{comp(1), "exited with code 3"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].oper, OperState::kDisabled);
}

TEST_F(NodeDirectorTest, InstantiationTimeoutRetriesThenFailsTheSu) {
  make({.instantiate_retries = 1});
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  // No registration within the instantiate timeout: cleanup, then a second attempt.
  auto effects = advance(std::chrono::milliseconds(10'001));
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_EQ(only<StartProcess>(effects).size(), 1u);
  handle(ProcessStarted{comp(1)});
  advance(std::chrono::milliseconds(10'001));
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_TRUE(only<StartProcess>(effects).empty());
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiationFailed);
  EXPECT_EQ(r[0].oper, OperState::kDisabled);
}

TEST_F(NodeDirectorTest, RetriesWithDelayComeAfterTheImmediateOnes) {
  auto config =
      std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({.instantiate_retries = 1}));
  auto& c = config->applications[0].service_groups[0].sus[0].components[0];
  c.instantiate_retries_with_delay = 1;
  c.instantiate_delay = std::chrono::milliseconds(3'000);
  nd_.emplace(config, NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  // Attempt 1 fails: attempt 2 at once.
  EXPECT_EQ(only<StartProcess>(handle(ProcessStartFailed{comp(1), "busy"})).size(), 1u);
  // Attempt 2 fails: attempt 3 only after the delay.
  EXPECT_TRUE(only<StartProcess>(handle(ProcessStartFailed{comp(1), "busy"})).empty());
  EXPECT_EQ(nd_->next_deadline(), now_ + std::chrono::milliseconds(3'000));
  EXPECT_TRUE(only<StartProcess>(advance(std::chrono::milliseconds(2'999))).empty());
  EXPECT_EQ(only<StartProcess>(advance(std::chrono::milliseconds(1))).size(), 1u);
  // Attempt 3 fails: nothing is left.
  auto r = reports(handle(ProcessStartFailed{comp(1), "busy"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiationFailed);
}

TEST_F(NodeDirectorTest, StartFailureCountsAsFailedAttempt) {
  make({.instantiate_retries = 0});
  handle(protocol::InstantiateSu{su(1)});
  auto effects = handle(ProcessStartFailed{comp(1), "No such file or directory"});
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiationFailed);
  EXPECT_NE(r[0].cause.find("instantiation of app/su-1/server failed"), std::string::npos);
}

TEST_F(NodeDirectorTest, CsiCallbackTimeoutIsAComponentError) {
  make();
  instantiated_su1();
  handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment});
  EXPECT_EQ(nd_->next_deadline(), now_ + std::chrono::milliseconds(5'000));
  auto effects = advance(std::chrono::milliseconds(5'000));
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);  // cleanup of the silent component
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  EXPECT_TRUE(reports(effects).empty());  // not before the process is gone
  auto r = reports(handle(ProcessExited{comp(1), "killed by signal 9"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].oper, OperState::kDisabled);
  EXPECT_NE(r[0].cause.find("no response to the CSI callback for app/si-1/csi within 5000 ms"),
            std::string::npos);
}

TEST_F(NodeDirectorTest, ErrorResponseIsAComponentError) {
  make();
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment}));
  auto effects = handle(ComponentResponse{1, sets[0].invocation, false});
  EXPECT_TRUE(only<ToDirector>(effects).empty());
  ASSERT_EQ(only<SignalProcess>(effects).size(), 1u);
}

// amfd stops: the node asks the director to move its assignments away (once), keeps its
// components running meanwhile, and is evacuated once nothing is assigned or being changed.
TEST_F(NodeDirectorTest, ALeavingNodeTellsTheDirectorAndIsEvacuatedOnceItHoldsNothing) {
  make();
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment, 5}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  EXPECT_FALSE(nd_->evacuated());  // not leaving

  auto effects = handle(Leave{"its amfd stops"});
  auto told = only<ToDirector>(effects);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(std::get<protocol::NodeLeaving>(told[0].message),
            (protocol::NodeLeaving{NodeId("node-1"), "its amfd stops"}));
  EXPECT_TRUE(only<SignalProcess>(effects).empty());  // the components keep running
  EXPECT_TRUE(nd_->snapshot().leaving);
  EXPECT_FALSE(nd_->evacuated());
  EXPECT_TRUE(only<ToDirector>(handle(Leave{"again"})).empty());

  // The director quiesces the active, then removes it: the node is evacuated once the component
  // has answered the removal.
  auto quiesce = only<SendCsiSet>(handle(protocol::AssignHa{
      su(1), si(1), HaState::kQuiesced, model::TransitionReason::kSwitchover, 6}));
  ASSERT_EQ(quiesce.size(), 1u);
  EXPECT_FALSE(nd_->evacuated());
  handle(ComponentResponse{1, quiesce[0].invocation, true});
  EXPECT_FALSE(nd_->evacuated());
  auto removes = only<SendCsiRemove>(handle(protocol::RemoveHa{su(1), si(1), 7}));
  ASSERT_EQ(removes.size(), 1u);
  EXPECT_FALSE(nd_->evacuated());
  handle(ComponentResponse{1, removes[0].invocation, true});
  EXPECT_TRUE(nd_->evacuated());
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiated);  // ended by Shutdown, not here
}

TEST_F(NodeDirectorTest, ANodeThatHoldsNothingIsEvacuatedAtOnceAndOneShuttingDownDoesNotLeave) {
  make();
  instantiated_su1();
  handle(Leave{"its amfd stops"});
  EXPECT_TRUE(nd_->evacuated());
  make();
  handle(Shutdown{});
  EXPECT_TRUE(only<ToDirector>(handle(Leave{"too late"})).empty());
  EXPECT_FALSE(nd_->evacuated());
}

TEST_F(NodeDirectorTest, ShutdownTerminatesThenKillsAfterTimeout) {
  make();
  instantiated_su1();
  // A registered SA-aware component is asked through its terminate callback, not SIGTERM.
  auto effects = handle(Shutdown{});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  auto asked = only<SendTerminate>(effects);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].peer, 1u);
  EXPECT_EQ(asked[0].comp, comp(1));
  EXPECT_FALSE(nd_->stopped());
  auto signals = only<SignalProcess>(advance(std::chrono::milliseconds(5'000)));
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_TRUE(only<StartProcess>(effects).empty());
  EXPECT_TRUE(nd_->stopped());
}

TEST_F(NodeDirectorTest, AnErrorAnswerToTheTerminateCallbackCleansUpAtOnce) {
  make();
  instantiated_su1();
  auto asked = only<SendTerminate>(handle(protocol::TerminateSu{su(1)}));
  ASSERT_EQ(asked.size(), 1u);
  auto effects = handle(ComponentResponse{1, asked[0].invocation, false});
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  EXPECT_EQ(noted(effects, model::NotificationKind::kError),
            std::vector<std::string>{"terminate callback answered with an error; cleaning up"});
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_EQ(presence(comp(1)), PresenceState::kUninstantiated);
}

TEST_F(NodeDirectorTest, AnOkAnswerToTheTerminateCallbackWaitsForTheExit) {
  make();
  instantiated_su1();
  auto asked = only<SendTerminate>(handle(protocol::TerminateSu{su(1)}));
  ASSERT_EQ(asked.size(), 1u);
  auto effects = handle(ComponentResponse{1, asked[0].invocation, true});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  EXPECT_TRUE(noted(effects, model::NotificationKind::kProtocolError).empty());
  EXPECT_EQ(presence(comp(1)), PresenceState::kTerminating);
  handle(ProcessExited{comp(1), "exited with code 0"});
  EXPECT_EQ(presence(comp(1)), PresenceState::kUninstantiated);
  // An answer of that invocation again (a confused component) is no longer expected.
  effects = handle(ComponentResponse{1, asked[0].invocation, false});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  EXPECT_EQ(noted(effects, model::NotificationKind::kProtocolError).size(), 1u);
}

TEST_F(NodeDirectorTest, ATerminateCommandWinsOverTheTerminateCallback) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  config->applications[0].service_groups[0].sus[0].components[0].terminate_command = "stop-it";
  nd_.emplace(config, NodeId("node-1"));
  instantiated_su1();
  auto effects = handle(protocol::TerminateSu{su(1)});
  EXPECT_TRUE(only<SendTerminate>(effects).empty());
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kTerminate);
}

TEST_F(NodeDirectorTest, ShuttingDownNodeTakesNoNewAssignment) {
  make();
  instantiated_su1();
  handle(Shutdown{});
  auto effects = handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kFailover});
  EXPECT_TRUE(only<SendCsiSet>(effects).empty());
  EXPECT_TRUE(only<ToDirector>(effects).empty());
}

TEST_F(NodeDirectorTest, CleanupThatNeverEndsMarksTerminationFailed) {
  make();
  instantiated_su1();
  handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment});
  advance(std::chrono::milliseconds(5'000));  // callback timeout -> cleanup (SIGKILL)
  auto r = reports(advance(std::chrono::milliseconds(5'000)));  // process never goes away
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kTerminationFailed);
  EXPECT_EQ(r[0].oper, OperState::kDisabled);
}

// ---- an asynchronous launcher: a start is reported later (sim/README.md finding 6) ----

TEST_F(NodeDirectorTest, InstantiationTimeoutBeforeTheStartIsReportedStartsNoSecondProcess) {
  make({.instantiate_retries = 1});
  handle(protocol::InstantiateSu{su(1)});
  // Not registered within the instantiate timeout, and the start is not reported yet.
  auto effects = advance(std::chrono::milliseconds(10'000));
  EXPECT_TRUE(only<StartProcess>(effects).empty()) << "the first process may run";
  EXPECT_TRUE(only<SignalProcess>(effects).empty()) << "the launcher knows no process yet";
  // Once the start is reported the process is cleaned up, and only then comes attempt 2.
  auto signals = only<SignalProcess>(handle(ProcessStarted{comp(1)}));
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  EXPECT_EQ(nd_->next_deadline(), now_ + std::chrono::milliseconds(5'000));  // the cleanup's
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_EQ(only<StartProcess>(effects).size(), 1u);
}

TEST_F(NodeDirectorTest, TerminationBeforeTheStartIsReportedWaitsForTheProcess) {
  make();
  handle(protocol::InstantiateSu{su(1)});
  auto effects = handle(protocol::TerminateSu{su(1)});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  EXPECT_TRUE(reports(effects).empty()) << "not uninstantiated while a process may run";
  EXPECT_EQ(presence(comp(1)), PresenceState::kTerminating);
  auto signals = only<SignalProcess>(handle(ProcessStarted{comp(1)}));
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kTerminate);
  auto r = reports(handle(ProcessExited{comp(1), "exited with code 0"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kUninstantiated);
}

TEST_F(NodeDirectorTest, StartFailureAfterATerminationWasAskedEndsTheTermination) {
  make();
  handle(protocol::InstantiateSu{su(1)});
  handle(protocol::TerminateSu{su(1)});
  auto effects = handle(ProcessStartFailed{comp(1), "No such file or directory"});
  EXPECT_TRUE(only<StartProcess>(effects).empty());
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kUninstantiated);
  EXPECT_FALSE(nd_->next_deadline());
}

TEST_F(NodeDirectorTest, SuRestartWhileASiblingsStartIsNotReportedStartsItOnce) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.recovery = model::Recovery::kSuRestart}));
  auto& components = config->applications[0].service_groups[0].sus[0].components;
  components.push_back(components[0]);
  components[1].id = CompId("app/su-1/server-2");
  components[1].name = "server-2";
  const CompId second = components[1].id;
  nd_.emplace(config, NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  handle(ProcessStarted{second});
  handle(ComponentRegister{1, comp(1).str()});
  handle(ComponentRegister{2, second.str()});
  // server-2 dies: SU restart. server is terminated, server-2 started again (not reported).
  auto effects = handle(ProcessExited{second, "killed by signal 11"});
  ASSERT_EQ(only<StartProcess>(effects).size(), 1u);
  effects = handle(ProcessExited{comp(1), "exited with code 0"});
  ASSERT_EQ(only<StartProcess>(effects).size(), 1u);
  handle(ProcessStarted{comp(1)});
  handle(ComponentRegister{3, comp(1).str()});
  // server fails again while server-2's start is still not reported: a second SU restart.
  effects = handle(ComponentErrorReport{3, "", "broken"});
  for (const auto& start : only<StartProcess>(effects)) {
    EXPECT_NE(start.comp, second) << "a second process of server-2 would orphan the first";
  }
  EXPECT_EQ(presence(second), PresenceState::kTerminating);
  auto signals = only<SignalProcess>(handle(ProcessStarted{second}));
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].comp, second);
  EXPECT_EQ(signals[0].signal, Signal::kTerminate);
  auto starts = only<StartProcess>(handle(ProcessExited{second, "exited with code 0"}));
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].comp, second);
}

// ---- sim/README.md findings 7 and 8 ----

TEST_F(NodeDirectorTest, RestartedComponentGetsQuiescedBackOnceItAnsweredQuiescing) {
  make({.recovery = model::Recovery::kComponentRestart});
  instantiated_su1();
  auto sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment}));
  handle(ComponentResponse{1, sets[0].invocation, true});
  sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kQuiescing, model::TransitionReason::kSwitchover}));
  ASSERT_EQ(sets.size(), 1u);
  handle(ComponentResponse{1, sets[0].invocation, true});  // its work is done: quiesced

  handle(ProcessExited{comp(1), "killed by signal 11"});
  handle(ProcessStarted{comp(1)});
  sets = only<SendCsiSet>(handle(ComponentRegister{2, comp(1).str()}));
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0].ha, HaState::kQuiesced) << "quiescing would mean: still serving";
  EXPECT_EQ(sets[0].reason, model::TransitionReason::kRestart);
}

TEST_F(NodeDirectorTest, SpawnFailureThatEndsTheInstantiationLeavesNoDeadline) {
  make({.instantiate_retries = 0});
  handle(protocol::InstantiateSu{su(1)});
  EXPECT_EQ(nd_->next_deadline(), now_ + std::chrono::milliseconds(10'000));
  auto r = reports(handle(ProcessStartFailed{comp(1), "No such file or directory"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiationFailed);
  EXPECT_FALSE(nd_->next_deadline()) << "nothing is left to time out";
}

// Found by the swarm: a component that failed while the director had it terminated (a spare
// given back, lock-instantiation) was restarted by its recovery, so the SU never went down.
TEST_F(NodeDirectorTest, FailureDuringAnOrderedTerminationEndsInCleanupNotARestart) {
  make({.recovery = model::Recovery::kSuRestart});
  instantiated_su1();
  auto effects = handle(protocol::TerminateSu{su(1)});
  ASSERT_EQ(only<SendTerminate>(effects).size(), 1u);
  effects = handle(ComponentErrorReport{1, "", "broken while stopping"});
  auto signals = only<SignalProcess>(effects);
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0].signal, Signal::kKill);
  effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  EXPECT_TRUE(only<StartProcess>(effects).empty());
  EXPECT_EQ(presence(comp(1)), PresenceState::kUninstantiated);
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kUninstantiated);
}

TEST_F(NodeDirectorTest, RestartSuTerminatesGracefullyAndReportsWhenDone) {
  make();
  instantiated_su1();
  handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment});
  handle(ComponentResponse{1, 1, true});
  auto effects = handle(protocol::RestartSu{su(1), std::nullopt});
  auto asked = only<SendTerminate>(effects);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_TRUE(reports(effects).empty());
  // Its answer comes after the restart disconnected it, and is still the one expected.
  effects = handle(ComponentResponse{1, asked[0].invocation, true});
  EXPECT_TRUE(noted(effects, model::NotificationKind::kProtocolError).empty());
  effects = handle(ProcessExited{comp(1), "exited with code 0"});
  ASSERT_EQ(only<StartProcess>(effects).size(), 1u);
  handle(ProcessStarted{comp(1)});
  effects = handle(ComponentRegister{2, comp(1).str()});
  auto sets = only<SendCsiSet>(effects);
  ASSERT_EQ(sets.size(), 1u);  // its CSI given back
  EXPECT_EQ(sets[0].ha, HaState::kActive);
  EXPECT_TRUE(reports(effects).empty());  // not done before it answered
  effects = handle(ComponentResponse{2, sets[0].invocation, true});
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].presence, PresenceState::kInstantiated);
  EXPECT_EQ(r[0].cause, "admin restart done");
}

// ---- components that do not link the library (non-SA-aware) ----

std::shared_ptr<const model::ClusterConfig> non_sa_aware(model::InstantiatedWhen when,
                                                         std::optional<Duration> watchdog = {}) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  for (auto& su_config : config->applications[0].service_groups[0].sus) {
    auto& c = su_config.components[0];
    c.instantiated_when = when;
    if (watchdog) {
      c.health_check = model::HealthCheckConfig{
          "watchdog", std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog),
          std::chrono::milliseconds(0), true};
    }
  }
  return config;
}

TEST_F(NodeDirectorTest, NotifiedComponentIsInstantiatedOnReadyAndTakesItsCsiAtOnce) {
  nd_.emplace(non_sa_aware(model::InstantiatedWhen::kNotified), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  auto effects = handle(ProcessStarted{comp(1)});
  EXPECT_TRUE(reports(effects).empty());
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiating);
  // It cannot register: it does not link the library.
  auto replies = only<SendRegisterReply>(handle(ComponentRegister{5, comp(1).str()}));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].ok);
  EXPECT_EQ(replies[0].message,
            "component app/su-1/server is not SA-aware (instantiated_when: notified)");
  effects = handle(ComponentNotify{comp(1), true, false, false, false, "serving"});
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiated);
  ASSERT_EQ(reports(effects).size(), 1u);
  effects = handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kNewAssignment});
  EXPECT_TRUE(only<SendCsiSet>(effects).empty());  // nobody to call back
  auto done = only<ToDirector>(effects);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<protocol::AssignmentDone>(done[0].message));
}

TEST_F(NodeDirectorTest, MissingWatchdogIsAFailureAfterOnePeriod) {
  nd_.emplace(non_sa_aware(model::InstantiatedWhen::kNotified, std::chrono::milliseconds(400)),
              NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  handle(ComponentNotify{comp(1), true, false, false, false, std::nullopt});
  // Each WATCHDOG=1 buys one more period.
  advance(std::chrono::milliseconds(300));
  handle(ComponentNotify{comp(1), false, true, false, false, std::nullopt});
  EXPECT_TRUE(only<SignalProcess>(advance(std::chrono::milliseconds(399))).empty());
  auto signals = only<SignalProcess>(advance(std::chrono::milliseconds(1)));
  ASSERT_EQ(signals.size(), 1u);  // 400 ms after the last WATCHDOG=1: failed, cleaned up
  EXPECT_EQ(signals[0].signal, Signal::kKill);
}

TEST_F(NodeDirectorTest, WatchdogTriggerIsAFailure) {
  nd_.emplace(non_sa_aware(model::InstantiatedWhen::kNotified), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  handle(ComponentNotify{comp(1), true, false, false, false, std::nullopt});
  auto effects = handle(ComponentNotify{comp(1), false, false, true, false, std::nullopt});
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);
}

TEST_F(NodeDirectorTest, StartedComponentIsInstantiatedWhenItsProcessRuns) {
  nd_.emplace(non_sa_aware(model::InstantiatedWhen::kStarted), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  auto effects = handle(ProcessStarted{comp(1)});
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiated);
  ASSERT_EQ(reports(effects).size(), 1u);
  EXPECT_EQ(reports(effects)[0].presence, PresenceState::kInstantiated);
  // READY=1 from a component that is not instantiated_when: notified means nothing.
  effects = handle(ComponentNotify{comp(1), true, false, false, false, std::nullopt});
  EXPECT_TRUE(reports(effects).empty());
}

// instantiated_when: probed, a TCP probe with a 20 ms startup period and a 100 ms liveness
// period, a 1 s instantiate timeout.
std::shared_ptr<const model::ClusterConfig> probed() {
  auto config =
      std::const_pointer_cast<model::ClusterConfig>(non_sa_aware(model::InstantiatedWhen::kProbed));
  for (auto& su_config : config->applications[0].service_groups[0].sus) {
    auto& c = su_config.components[0];
    model::ProbeConfig probe;
    probe.kind = model::ProbeConfig::Kind::kTcp;
    probe.port = 8080;
    probe.period = std::chrono::milliseconds(100);
    probe.failure_threshold = 1;
    c.probe = probe;
    c.timeouts.instantiate = std::chrono::milliseconds(1000);
    c.instantiate_retries = 0;
  }
  return config;
}

TEST_F(NodeDirectorTest, ProbedComponentIsInstantiatedWhenItsProbeFirstSucceeds) {
  nd_.emplace(probed(), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  auto effects = handle(ProcessStarted{comp(1)});
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiating);  // running is not listening
  auto probes = only<RunProbe>(effects);
  ASSERT_EQ(probes.size(), 1u);  // probed at once
  // Refused connections while it starts are no failure (a threshold of 1 notwithstanding).
  effects = handle(ProbeDone{comp(1), probes[0].invocation, false, "Connection refused"});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  EXPECT_TRUE(only<RunProbe>(advance(std::chrono::milliseconds(19))).empty());
  probes = only<RunProbe>(advance(std::chrono::milliseconds(1)));  // every startup period
  ASSERT_EQ(probes.size(), 1u);
  effects = handle(ProbeDone{comp(1), probes[0].invocation, true, "connected"});
  EXPECT_EQ(presence(comp(1)), PresenceState::kInstantiated);
  auto r = reports(effects);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].cause, "app/su-1/server: probe succeeded");
  // From now on it is the liveness probe, at its own period, and a failure counts.
  EXPECT_TRUE(only<RunProbe>(advance(std::chrono::milliseconds(99))).empty());
  probes = only<RunProbe>(advance(std::chrono::milliseconds(1)));
  ASSERT_EQ(probes.size(), 1u);
  effects = handle(ProbeDone{comp(1), probes[0].invocation, false, "Connection refused"});
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);
}

TEST_F(NodeDirectorTest, ProbedComponentThatNeverAnswersFailsItsInstantiationSayingWhy) {
  nd_.emplace(probed(), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  auto probes = only<RunProbe>(handle(ProcessStarted{comp(1)}));
  ASSERT_EQ(probes.size(), 1u);
  handle(ProbeDone{comp(1), probes[0].invocation, false, "Connection refused"});
  std::vector<Effect> effects;
  std::optional<std::uint64_t> out;  // a probe still running when the attempt is given up
  for (int i = 0; i < 50; ++i) {
    auto step = advance(std::chrono::milliseconds(20));
    for (const RunProbe& p : only<RunProbe>(step)) {
      if (i >= 45) {
        out = p.invocation;
        continue;
      }
      auto done = handle(ProbeDone{comp(1), p.invocation, false, "Connection refused"});
      step.insert(step.end(), done.begin(), done.end());
    }
    effects.insert(effects.end(), step.begin(), step.end());
  }
  ASSERT_TRUE(out);
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);  // cleaned up at the timeout
  bool said = false;
  for (const model::Notification& n : only<model::Notification>(effects)) {
    said = said || n.cause ==
                       "instantiation failed: probe did not succeed within 1000 ms, last: "
                       "Connection refused";
  }
  EXPECT_TRUE(said);
  // A probe answer after the attempt was given up on instantiates nothing, not even the next
  // attempt's process.
  handle(ProcessExited{comp(1), "killed by signal 9"});
  handle(ProbeDone{comp(1), *out, true, ""});
  EXPECT_NE(presence(comp(1)), PresenceState::kInstantiated);
}

// Started components whose on_active hook is "promote", with a 500 ms CSI set timeout.
std::shared_ptr<const model::ClusterConfig> with_active_hook() {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      non_sa_aware(model::InstantiatedWhen::kStarted));
  for (auto& su_config : config->applications[0].service_groups[0].sus) {
    su_config.components[0].hooks.on_active = "promote";
    su_config.components[0].timeouts.csi_set = std::chrono::milliseconds(500);
  }
  // A multi-valued attribute and one without a value besides the single-valued port.
  auto& attributes = config->applications[0].service_groups[0].sis[0].csis[0].attributes;
  attributes.emplace("peers", "sc-1:5432");
  attributes.emplace("peers", "sc-2:5432");
  attributes.emplace("read-only", "");
  return config;
}

TEST_F(NodeDirectorTest, HooksCarryOutTheHaStatesOfANonSaAwareComponent) {
  nd_.emplace(with_active_hook(), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  auto effects = handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kFailover});
  auto hooks = only<RunHook>(effects);
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].command, "promote");
  EXPECT_EQ(hooks[0].env.at("AMF_HA_STATE"), "active");
  EXPECT_EQ(hooks[0].env.at("AMF_CSI_NAME"), "app/si-1/csi");
  EXPECT_EQ(hooks[0].env.at("AMF_CSI_PORT"), "7000");                   // the CSI's attributes
  EXPECT_EQ(hooks[0].env.at("AMF_CSI_PEERS"), "sc-1:5432\nsc-2:5432");  // one value a line
  EXPECT_EQ(hooks[0].env.at("AMF_CSI_READ_ONLY"), "");
  EXPECT_TRUE(only<ToDirector>(effects).empty());  // not before the hook is done
  // The hook's start and end are events, the end with how long it took.
  auto hook_events = [](const auto& effects) {
    std::vector<std::string> out;
    for (const model::Notification& n : only<model::Notification>(effects)) {
      if (n.kind != model::NotificationKind::kHook) continue;
      out.push_back(n.entity + " " + n.related + " " + n.from + " -> " + n.to + " (" + n.cause +
                    ")");
    }
    return out;
  };
  EXPECT_EQ(hook_events(effects),
            std::vector<std::string>{"app/su-1/server app/si-1/csi  -> on_active (started)"});
  advance(std::chrono::milliseconds(12));
  effects = handle(HookDone{comp(1), hooks[0].invocation, true, "exited with code 0"});
  ASSERT_EQ(only<ToDirector>(effects).size(), 1u);
  EXPECT_EQ(hook_events(effects),
            std::vector<std::string>{
                "app/su-1/server app/si-1/csi on_active -> done (exited with code 0 after 12 ms)"});
  // No hook for standby: taken at once.
  effects = handle(
      protocol::AssignHa{su(1), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment});
  EXPECT_TRUE(only<RunHook>(effects).empty());
  EXPECT_EQ(only<ToDirector>(effects).size(), 1u);
}

// su-1 and su-2 each listen on a host of their own (su_attributes); su-1's component has a DN.
std::shared_ptr<model::ClusterConfig> with_su_hosts(
    std::shared_ptr<const model::ClusterConfig> base) {
  auto config = std::make_shared<model::ClusterConfig>(*base);
  auto& sg = config->applications[0].service_groups[0];
  auto& csi = sg.sis[0].csis[0];
  csi.attributes.emplace("host", "0.0.0.0");  // replaced for each SU below
  csi.su_attributes[su(1)] = {{"host", "10.0.0.1"}};
  csi.su_attributes[su(2)] = {{"host", "10.0.0.2"}, {"host", "10.0.0.22"}};
  sg.sus[0].components[0].dn = "safComp=server,safSu=su-1,safSg=app,safApp=app";
  return config;
}

TEST_F(NodeDirectorTest, AStandbyIsToldItsActiveWithTheAttributesOfEachSu) {
  nd_.emplace(with_su_hosts(test::make_cluster({.sus = 3})), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(2)});
  handle(ProcessStarted{comp(2)});
  handle(ComponentRegister{2, comp(2).str()});
  auto sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(2), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment, 5, su(1)}));
  ASSERT_EQ(sets.size(), 1u);
  // Its own attributes: su-2's host values replace the CSI's, the port stays.
  EXPECT_EQ(sets[0].attributes,
            (model::CsiAttributes{{"host", "10.0.0.2"}, {"host", "10.0.0.22"}, {"port", "7000"}}));
  ASSERT_TRUE(sets[0].active.has_value());
  EXPECT_EQ(*sets[0].active,
            (model::ActiveDescriptor{"app/su-1/server",
                                     "safComp=server,safSu=su-1,safSg=app,safApp=app",
                                     "app/su-1",
                                     "node-1",
                                     {{"host", "10.0.0.1"}, {"port", "7000"}}}));
  handle(ComponentResponse{2, sets[0].invocation, true});
  // The active moved (to an SU of this SG that has no component DN): told again.
  sets = only<SendCsiSet>(handle(protocol::AssignHa{
      su(2), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment, 6, su(3)}));
  ASSERT_EQ(sets.size(), 1u);
  ASSERT_TRUE(sets[0].active.has_value());
  EXPECT_EQ(
      *sets[0].active,
      (model::ActiveDescriptor{
          "app/su-3/server", "", "app/su-3", "node-1", {{"host", "0.0.0.0"}, {"port", "7000"}}}));
  handle(ComponentResponse{2, sets[0].invocation, true});
  // No active named: none told. An active is told of none.
  sets = only<SendCsiSet>(handle(protocol::AssignHa{su(2), si(1), HaState::kStandby,
                                                    model::TransitionReason::kNewAssignment, 7}));
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_FALSE(sets[0].active.has_value());
  handle(ComponentResponse{2, sets[0].invocation, true});
  sets = only<SendCsiSet>(handle(
      protocol::AssignHa{su(2), si(1), HaState::kActive, model::TransitionReason::kFailover, 8}));
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_FALSE(sets[0].active.has_value());
}

TEST_F(NodeDirectorTest, AStandbyHookIsToldItsActive) {
  auto config = with_su_hosts(non_sa_aware(model::InstantiatedWhen::kStarted));
  for (auto& su_config : config->applications[0].service_groups[0].sus) {
    su_config.components[0].hooks.on_standby = "follow";
  }
  nd_.emplace(config, NodeId("node-1"));
  handle(protocol::InstantiateSu{su(2)});
  handle(ProcessStarted{comp(2)});
  auto hooks = only<RunHook>(handle(protocol::AssignHa{
      su(2), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment, 5, su(1)}));
  ASSERT_EQ(hooks.size(), 1u);
  const auto& env = hooks[0].env;
  EXPECT_EQ(env.at("AMF_HA_STATE"), "standby");
  EXPECT_EQ(env.at("AMF_CSI_HOST"), "10.0.0.2\n10.0.0.22");
  EXPECT_EQ(env.at("AMF_ACTIVE_COMPONENT"), "app/su-1/server");
  EXPECT_EQ(env.at("AMF_ACTIVE_COMPONENT_NAME"), "safComp=server,safSu=su-1,safSg=app,safApp=app");
  EXPECT_EQ(env.at("AMF_ACTIVE_SU"), "app/su-1");
  EXPECT_EQ(env.at("AMF_ACTIVE_NODE"), "node-1");
  EXPECT_EQ(env.at("AMF_ACTIVE_CSI_HOST"), "10.0.0.1");
  EXPECT_EQ(env.at("AMF_ACTIVE_CSI_PORT"), "7000");
  // Without an active, no AMF_ACTIVE_ variable at all.
  handle(HookDone{comp(2), hooks[0].invocation, true, "exited with code 0"});
  hooks = only<RunHook>(handle(protocol::AssignHa{su(2), si(1), HaState::kStandby,
                                                  model::TransitionReason::kNewAssignment, 6}));
  ASSERT_EQ(hooks.size(), 1u);
  for (const auto& [name, value] : hooks[0].env)
    EXPECT_NE(name.rfind("AMF_ACTIVE_", 0), 0u) << name;
}

TEST_F(NodeDirectorTest, AHookWhoseComponentDiesEndsAbandonedInTheLog) {
  nd_.emplace(with_active_hook(), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  ASSERT_EQ(only<RunHook>(handle(protocol::AssignHa{su(1), si(1), HaState::kActive,
                                                    model::TransitionReason::kFailover}))
                .size(),
            1u);
  advance(std::chrono::milliseconds(5));
  std::vector<std::string> ends;
  for (const model::Notification& n :
       only<model::Notification>(handle(ProcessExited{comp(1), "killed by signal 9"}))) {
    if (n.kind == model::NotificationKind::kHook) ends.push_back(n.to + " (" + n.cause + ")");
  }
  EXPECT_EQ(ends,
            std::vector<std::string>{"abandoned (its process killed by signal 9 after 5 ms)"});
}

TEST_F(NodeDirectorTest, FailedOrSlowHookIsAComponentFailure) {
  nd_.emplace(with_active_hook(), NodeId("node-1"));
  handle(protocol::InstantiateSu{su(1)});
  handle(ProcessStarted{comp(1)});
  auto hooks = only<RunHook>(handle(
      protocol::AssignHa{su(1), si(1), HaState::kActive, model::TransitionReason::kFailover}));
  ASSERT_EQ(hooks.size(), 1u);
  auto effects = handle(HookDone{comp(1), hooks[0].invocation, false, "exited with code 3"});
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);  // failed: cleaned up (failover)
  auto hook_end = [](const auto& effects) {
    for (const model::Notification& n : only<model::Notification>(effects)) {
      if (n.kind == model::NotificationKind::kHook) return n.to + " (" + n.cause + ")";
    }
    return std::string("none");
  };
  EXPECT_EQ(hook_end(effects), "failed (exited with code 3 after 0 ms)");
  // A second SU whose hook never ends: failed at the CSI set timeout.
  handle(protocol::InstantiateSu{su(2)});
  handle(ProcessStarted{comp(2)});
  hooks = only<RunHook>(handle(
      protocol::AssignHa{su(2), si(1), HaState::kActive, model::TransitionReason::kFailover}));
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_TRUE(only<SignalProcess>(advance(std::chrono::milliseconds(499))).empty());
  effects = advance(std::chrono::milliseconds(1));
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);
  EXPECT_EQ(hook_end(effects), "timed out (still running after 500 ms)");
}

// Found by the swarm (case 16774014946425679049): the director, not yet told of a node
// switchover, asked an SU being switched over to take an active; ignored, the request stayed
// outstanding forever. Healthy and running, the SU carries it out (and is then released).
TEST_F(NodeDirectorTest, SuBeingSwitchedOverStillCarriesOutWhatItIsAsked) {
  make({.recovery = model::Recovery::kNodeSwitchover});
  instantiated_su1();
  handle(protocol::InstantiateSu{su(2)});
  handle(ProcessStarted{comp(2)});
  handle(ComponentRegister{2, comp(2).str()});
  auto standby = only<SendCsiSet>(handle(protocol::AssignHa{
      su(2), si(1), HaState::kStandby, model::TransitionReason::kNewAssignment}));
  ASSERT_EQ(standby.size(), 1u);
  handle(ComponentResponse{2, standby[0].invocation, true});
  // su-1's component dies: node switchover. The director, which has not heard of it yet,
  // promotes the standby on su-2 (same node).
  auto effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  bool su2_disabled = false;
  for (const auto& r : reports(effects)) {
    su2_disabled |= r.su == su(2) && r.oper == OperState::kDisabled &&
                    r.presence == PresenceState::kInstantiated;
  }
  EXPECT_TRUE(su2_disabled);
  effects = handle(
      protocol::AssignHa{su(2), si(1), HaState::kActive, model::TransitionReason::kFailover});
  auto sets = only<SendCsiSet>(effects);
  ASSERT_EQ(sets.size(), 1u);
  effects = handle(ComponentResponse{2, sets[0].invocation, true});
  ASSERT_EQ(only<ToDirector>(effects).size(), 1u);  // answered: nothing stays outstanding
}

TEST_F(NodeDirectorTest, ProbeFailuresInARowUpToTheThresholdAreAFailure) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  model::ProbeConfig probe;
  probe.kind = model::ProbeConfig::Kind::kTcp;
  probe.port = 8080;
  probe.period = std::chrono::milliseconds(100);
  probe.failure_threshold = 2;
  config->applications[0].service_groups[0].sus[0].components[0].probe = probe;
  nd_.emplace(config, NodeId("node-1"));
  instantiated_su1();
  auto probes = only<RunProbe>(advance(std::chrono::milliseconds(100)));
  ASSERT_EQ(probes.size(), 1u);
  handle(ProbeDone{comp(1), probes[0].invocation, false, "Connection refused"});
  probes = only<RunProbe>(advance(std::chrono::milliseconds(100)));
  ASSERT_EQ(probes.size(), 1u);
  handle(ProbeDone{comp(1), probes[0].invocation, true, "connected"});  // the count restarts
  probes = only<RunProbe>(advance(std::chrono::milliseconds(100)));
  auto effects = handle(ProbeDone{comp(1), probes.at(0).invocation, false, "Connection refused"});
  EXPECT_TRUE(only<SignalProcess>(effects).empty());
  probes = only<RunProbe>(advance(std::chrono::milliseconds(100)));
  effects = handle(ProbeDone{comp(1), probes.at(0).invocation, false, "Connection refused"});
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);  // second in a row: failed
  // A late answer to a probe of the old process changes nothing.
  EXPECT_TRUE(handle(ProbeDone{comp(1), probes[0].invocation, false, "late"}).empty());
}

// Found by the simulator: a probed component that ignored SIGTERM while it was terminated kept
// a probe due in the past (probes run only while instantiated), so the node director's next
// deadline never moved and amfd ticked for ever. A due probe now waits for the next
// instantiation.
TEST_F(NodeDirectorTest, AProbeDueWhileTheComponentIsNotInstantiatedLeavesNoDeadlineBehind) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  model::ProbeConfig probe;
  probe.command = {"true"};
  probe.period = std::chrono::milliseconds(100);
  config->applications[0].service_groups[0].sus[0].components[0].probe = probe;
  auto& timeouts = config->applications[0].service_groups[0].sus[0].components[0].timeouts;
  timeouts.terminate = std::chrono::milliseconds(5000);
  nd_.emplace(config, NodeId("node-1"));
  instantiated_su1();
  handle(protocol::TerminateSu{su(1)});  // SIGTERM, which it ignores: terminating for 5 s
  ASSERT_EQ(presence(comp(1)), PresenceState::kTerminating);
  advance(std::chrono::milliseconds(100));  // the probe falls due
  const auto next = nd_->next_deadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, now_) << "a deadline in the past: amfd would tick without end";
  EXPECT_TRUE(only<RunProbe>(advance(std::chrono::milliseconds(100))).empty());
}

}  // namespace
}  // namespace amf::node
