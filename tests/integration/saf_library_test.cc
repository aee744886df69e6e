// libSaAmf against a node director's socket played by the test (a real ZeroMQ ROUTER, the
// real wire codec): what the C API promises beyond what a component run by amfd shows. The
// selection object stays readable while callbacks wait; a quiescing answer is held until
// quiescing completes; and every call refuses bad input with the SA error the specification
// names, sending nothing.
#include <gtest/gtest.h>
#include <poll.h>
#include <saAmf.h>
#include <stdlib.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "amf/wire/codec.h"
#include "tests/integration/support.h"

namespace amf::itest {
namespace {

const char* const kDn = "safComp=server,safSu=su-1,safSg=app,safApp=shop";

SaNameT name(const std::string& text) {
  SaNameT n{};
  n.length = static_cast<SaUint16T>(text.size());
  std::copy(text.begin(), text.end(), n.value);
  return n;
}

std::string text(const SaNameT& n) { return {reinterpret_cast<const char*>(n.value), n.length}; }

// What the component's callbacks saw, for the test to read (the C API has no user data).
struct Seen {
  std::vector<std::pair<SaInvocationT, SaAmfHAStateT>> sets;
  std::vector<SaAmfCSIFlagsT> flags;
  std::vector<std::string> csis;
  std::vector<std::string> actives;  // a standby's activeCompName
} seen;

// The protection group answers and callbacks, as a component sees them.
std::vector<std::vector<SaAmfProtectionGroupNotificationT>> tracked;
std::vector<SaUint32T> tracked_sizes;
void on_group(const SaNameT*, SaAmfProtectionGroupNotificationBufferT* buffer, SaUint32T members,
              SaAisErrorT error) {
  EXPECT_EQ(error, SA_AIS_OK);
  tracked.emplace_back(buffer->notification, buffer->notification + buffer->numberOfItems);
  tracked_sizes.push_back(members);
}

SaAmfHandleT finalized_from_callback = 0;
void finalize_on_terminate(SaInvocationT inv, const SaNameT*) {
  saAmfResponse(finalized_from_callback, inv, SA_AIS_OK);
  saAmfFinalize(finalized_from_callback);
}

// Callbacks in the order they ran; and a handle on which the next CSI set callback starts
// tracking its CSI's protection group (which waits for amfd's answer inside the callback).
std::vector<std::string> order;
SaAmfHandleT track_from_set = 0;
void on_group(const SaNameT*, SaAmfProtectionGroupNotificationBufferT*, SaUint32T, SaAisErrorT);

void on_set(SaInvocationT inv, const SaNameT*, SaAmfHAStateT ha, SaAmfCSIDescriptorT d) {
  order.push_back("set " + std::to_string(inv));
  if (const SaAmfHandleT h = std::exchange(track_from_set, 0); h != 0) {
    EXPECT_EQ(saAmfProtectionGroupTrack(h, &d.csiName, SA_TRACK_CHANGES, nullptr), SA_AIS_OK);
  }
  seen.sets.emplace_back(inv, ha);
  seen.flags.push_back(d.csiFlags);
  seen.csis.push_back(text(d.csiName));
  if (ha == SA_AMF_HA_STANDBY) {
    seen.actives.push_back(text(d.csiStateDescriptor.standbyDescriptor.activeCompName));
  }
}

class SaLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seen = {};
    order.clear();
    endpoint_ = "ipc://" + dir_.path() + "/components.sock";
    router_.set(zmq::sockopt::linger, 0);
    router_.bind(endpoint_);
    ::setenv("AMF_COMPONENT_NAME", "app/su-1/server", 1);
    ::setenv("AMF_COMPONENT_SOCKET", endpoint_.c_str(), 1);
    ::setenv("SA_AMF_COMPONENT_NAME", kDn, 1);
    ::setenv("AMF_HEALTHCHECK_KEY", "alive", 1);
    ::setenv("AMF_HEALTHCHECK_INVOKED_BY", "amf", 1);
  }
  void TearDown() override {
    if (handle_ != 0) saAmfFinalize(handle_);
  }

  // Initialized and registered, the test answering the registration.
  void registered(SaAmfComponentTerminateCallbackT terminate = nullptr,
                  const SaAmfCallbacksT* given = nullptr) {
    SaAmfCallbacksT callbacks = given != nullptr ? *given : SaAmfCallbacksT{};
    callbacks.saAmfCSISetCallback = on_set;
    callbacks.saAmfComponentTerminateCallback = terminate;
    SaVersionT version{'B', 1, 1};
    ASSERT_EQ(saAmfInitialize(&handle_, &callbacks, &version), SA_AIS_OK);
    SaNameT self;
    ASSERT_EQ(saAmfComponentNameGet(handle_, &self), SA_AIS_OK);
    EXPECT_EQ(text(self), kDn);
    // The registration waits for its answer: answer it from here first (it is queued).
    std::thread answer([&] {
      auto request = receive();
      ASSERT_TRUE(std::holds_alternative<wire::RegisterRequest>(request.second));
      peer_ = request.first;
      send(wire::RegisterReply{true, ""});
    });
    EXPECT_EQ(saAmfComponentRegister(handle_, &self, nullptr), SA_AIS_OK);
    answer.join();
    ASSERT_EQ(saAmfSelectionObjectGet(handle_, &selection_), SA_AIS_OK);
  }

  std::pair<std::string, wire::ComponentMessage> receive(int timeout_ms = 5000) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) == 0) return {};
    zmq::message_t id, body;
    (void)router_.recv(id);
    (void)router_.recv(body);
    auto decoded = wire::decode_component_message(body.to_string_view());
    EXPECT_TRUE(decoded);
    return {id.to_string(), decoded ? *decoded : wire::ComponentMessage{}};
  }
  bool nothing_sent(int within_ms = 200) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    return zmq::poll(&item, 1, std::chrono::milliseconds(within_ms)) == 0;
  }
  void send(const wire::ComponentMessage& message) {
    router_.send(zmq::buffer(peer_), zmq::send_flags::sndmore);
    router_.send(zmq::buffer(wire::encode(message)));
  }
  bool readable(int timeout_ms) {
    pollfd fd{static_cast<int>(selection_), POLLIN, 0};
    return ::poll(&fd, 1, timeout_ms) == 1;
  }

  TempDir dir_;
  std::string endpoint_;
  zmq::context_t context_;
  zmq::socket_t router_{context_, zmq::socket_type::router};
  std::string peer_;
  SaAmfHandleT handle_ = 0;
  SaSelectionObjectT selection_ = 0;
};

TEST_F(SaLibraryTest, TheSelectionObjectStaysReadableWhileCallbacksWait) {
  registered();
  EXPECT_FALSE(readable(0));
  send(wire::CsiSet{
      7, "app/si-1/db", model::HaState::kActive, model::TransitionReason::kNewAssignment, {}});
  send(wire::CsiSet{8,
                    "app/si-2/db",
                    model::HaState::kStandby,
                    model::TransitionReason::kNewAssignment,
                    {},
                    model::ActiveDescriptor{"app/su-2/server",
                                            "safComp=server,safSu=su-2,safSg=app,safApp=shop",
                                            "app/su-2",
                                            "node-2",
                                            {}}});
  ASSERT_TRUE(readable(5000));
  // Both are queued in the library's socket by now. One dispatch runs one callback, and the
  // descriptor still says that the other waits: a component that polls with no timeout must
  // not miss it (the socket's own descriptor is edge-like and would stay quiet).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ONE), SA_AIS_OK);
  ASSERT_EQ(seen.sets.size(), 1u);
  ASSERT_TRUE(readable(1000));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ONE), SA_AIS_OK);
  ASSERT_EQ(seen.sets.size(), 2u);
  EXPECT_FALSE(readable(100));
  EXPECT_EQ(seen.csis[0], "safCsi=db,safSi=si-1,safApp=shop");
  EXPECT_EQ(seen.flags[0], static_cast<SaAmfCSIFlagsT>(SA_AMF_CSI_ADD_ONE));
  EXPECT_EQ(seen.actives,
            std::vector<std::string>{"safComp=server,safSu=su-2,safSg=app,safApp=shop"});
}

TEST_F(SaLibraryTest, AQuiescingAnswerIsHeldUntilQuiescingCompletes) {
  registered();
  send(wire::CsiSet{
      7, "app/si-1/db", model::HaState::kActive, model::TransitionReason::kNewAssignment, {}});
  ASSERT_TRUE(readable(5000));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ALL), SA_AIS_OK);
  ASSERT_EQ(saAmfResponse(handle_, 7, SA_AIS_OK), SA_AIS_OK);
  ASSERT_TRUE(std::holds_alternative<wire::Response>(receive().second));
  send(wire::CsiSet{
      9, "app/si-1/db", model::HaState::kQuiescing, model::TransitionReason::kSwitchover, {}});
  ASSERT_TRUE(readable(5000));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ALL), SA_AIS_OK);
  ASSERT_EQ(seen.flags.back(), static_cast<SaAmfCSIFlagsT>(SA_AMF_CSI_TARGET_ONE));
  ASSERT_EQ(saAmfResponse(handle_, 9, SA_AIS_OK), SA_AIS_OK);
  EXPECT_TRUE(nothing_sent()) << "amf counts the first answer as done: it must wait";
  const SaNameT self = name(kDn), csi = name("safCsi=db,safSi=si-1,safApp=shop");
  SaAmfHAStateT ha{};
  ASSERT_EQ(saAmfHAStateGet(handle_, &self, &csi, &ha), SA_AIS_OK);
  EXPECT_EQ(ha, SA_AMF_HA_QUIESCING);
  ASSERT_EQ(saAmfCSIQuiescingComplete(handle_, 9, SA_AIS_OK), SA_AIS_OK);
  auto done = receive().second;
  ASSERT_TRUE(std::holds_alternative<wire::Response>(done));
  EXPECT_EQ(std::get<wire::Response>(done).invocation, 9u);
  EXPECT_TRUE(std::get<wire::Response>(done).ok);
  ASSERT_EQ(saAmfHAStateGet(handle_, &self, &csi, &ha), SA_AIS_OK);
  EXPECT_EQ(ha, SA_AMF_HA_QUIESCED);
  EXPECT_EQ(saAmfCSIQuiescingComplete(handle_, 9, SA_AIS_OK), SA_AIS_ERR_INVALID_PARAM);
}

TEST_F(SaLibraryTest, BadInputIsRefusedWithTheSpecificationsErrorAndSendsNothing) {
  SaVersionT version{'A', 1, 1};
  SaAmfHandleT h = 0;
  EXPECT_EQ(saAmfInitialize(&h, nullptr, &version), SA_AIS_ERR_VERSION);
  EXPECT_EQ(version.releaseCode, 'B');
  EXPECT_EQ(version.majorVersion, 1);
  version = {'B', 4, 1};
  EXPECT_EQ(saAmfInitialize(&h, nullptr, &version), SA_AIS_ERR_VERSION);
  EXPECT_EQ(saAmfInitialize(nullptr, nullptr, &version), SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfDispatch(12345, SA_DISPATCH_ALL), SA_AIS_ERR_BAD_HANDLE);
  EXPECT_EQ(saAmfResponse(12345, 1, SA_AIS_OK), SA_AIS_ERR_BAD_HANDLE);
  EXPECT_EQ(saAmfFinalize(12345), SA_AIS_ERR_BAD_HANDLE);
  // Initialized but not registered: nothing to track with yet.
  SaAmfCallbacksT callbacks{};
  callbacks.saAmfProtectionGroupTrackCallback = on_group;
  version = {'B', 1, 1};
  ASSERT_EQ(saAmfInitialize(&h, &callbacks, &version), SA_AIS_OK);
  const SaNameT some_csi = name("safCsi=db,safSi=si-1,safApp=shop");
  EXPECT_EQ(saAmfProtectionGroupTrack(h, &some_csi, SA_TRACK_CHANGES, nullptr),
            SA_AIS_ERR_BAD_OPERATION);
  EXPECT_EQ(saAmfProtectionGroupTrackStop(h, &some_csi), SA_AIS_ERR_BAD_OPERATION);
  EXPECT_EQ(saAmfFinalize(h), SA_AIS_OK);

  registered();
  const SaNameT self = name(kDn), other = name("safComp=x,safSu=su-2,safSg=app,safApp=shop");
  EXPECT_EQ(saAmfComponentRegister(handle_, &self, nullptr), SA_AIS_ERR_EXIST);
  EXPECT_EQ(saAmfComponentRegister(handle_, &other, nullptr), SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfComponentRegister(handle_, &self, &other), SA_AIS_ERR_NOT_SUPPORTED);
  EXPECT_EQ(saAmfResponse(handle_, 4242, SA_AIS_OK), SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfCSIQuiescingComplete(handle_, 4242, SA_AIS_OK), SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfDispatch(handle_, static_cast<SaDispatchFlagsT>(9)), SA_AIS_ERR_INVALID_PARAM);
  SaAmfHealthcheckKeyT wrong{"dead", 4}, right{"alive", 5};
  EXPECT_EQ(saAmfHealthcheckStart(handle_, &self, &wrong, SA_AMF_HEALTHCHECK_AMF_INVOKED,
                                  SA_AMF_COMPONENT_RESTART),
            SA_AIS_ERR_NOT_EXIST);
  EXPECT_EQ(saAmfHealthcheckStart(handle_, &self, &right, SA_AMF_HEALTHCHECK_COMPONENT_INVOKED,
                                  SA_AMF_COMPONENT_RESTART),
            SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfHealthcheckConfirm(handle_, &self, &right, SA_AIS_OK), SA_AIS_ERR_NOT_EXIST);
  const SaNameT csi = name("safCsi=db,safSi=si-1,safApp=shop");
  SaAmfHAStateT ha{};
  EXPECT_EQ(saAmfHAStateGet(handle_, &self, &csi, &ha), SA_AIS_ERR_NOT_EXIST);
  EXPECT_EQ(saAmfHAStateGet(handle_, &other, &csi, &ha), SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfComponentErrorReport(handle_, &other, 0, SA_AMF_COMPONENT_RESTART,
                                      SA_NTF_IDENTIFIER_UNUSED),
            SA_AIS_ERR_INVALID_PARAM);
  EXPECT_EQ(saAmfComponentErrorReport(handle_, &self, 0, static_cast<SaAmfRecommendedRecoveryT>(77),
                                      SA_NTF_IDENTIFIER_UNUSED),
            SA_AIS_ERR_INVALID_PARAM);
  // Protection groups: flags that contradict each other or ask nothing, and a callback that
  // is needed but missing (this component registered none).
  EXPECT_EQ(
      saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CHANGES | SA_TRACK_CHANGES_ONLY, nullptr),
      SA_AIS_ERR_BAD_FLAGS);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, 0, nullptr), SA_AIS_ERR_BAD_FLAGS);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, 0x40, nullptr), SA_AIS_ERR_BAD_FLAGS);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CURRENT, nullptr), SA_AIS_ERR_INIT);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CHANGES, nullptr), SA_AIS_ERR_INIT);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, nullptr, SA_TRACK_CURRENT, nullptr),
            SA_AIS_ERR_INVALID_PARAM);
  EXPECT_TRUE(nothing_sent());

  // And what is right goes through: an error report names amf's recovery.
  EXPECT_EQ(saAmfComponentErrorReport(handle_, &self, 0, SA_AMF_NODE_SWITCHOVER,
                                      SA_NTF_IDENTIFIER_UNUSED),
            SA_AIS_OK);
  auto report = receive().second;
  ASSERT_TRUE(std::holds_alternative<wire::ErrorReport>(report));
  EXPECT_EQ(std::get<wire::ErrorReport>(report).recommended_recovery, "node-switchover");
}

TEST_F(SaLibraryTest, BlockingDispatchRunsCallbacksUntilOneFinalizesTheHandle) {
  registered(finalize_on_terminate);
  finalized_from_callback = handle_;
  send(wire::TerminateCallback{5});
  EXPECT_EQ(saAmfDispatch(handle_, SA_DISPATCH_BLOCKING), SA_AIS_OK);
  auto answer = receive().second;
  ASSERT_TRUE(std::holds_alternative<wire::Response>(answer));
  EXPECT_EQ(std::get<wire::Response>(answer).invocation, 5u);
  EXPECT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ALL), SA_AIS_ERR_BAD_HANDLE);
  handle_ = 0;
}

TEST_F(SaLibraryTest, AProtectionGroupIsReadIntoTheCallersBufferOrOneTheLibraryAllocates) {
  tracked.clear();
  tracked_sizes.clear();
  SaAmfCallbacksT callbacks{};
  callbacks.saAmfProtectionGroupTrackCallback = on_group;
  registered(nullptr, &callbacks);
  const std::string dn = "safCsi=db,safSi=si-1,safApp=shop";
  const SaNameT csi = name(dn);
  const std::vector<model::ProtectionGroupMember> group{
      {"app/su-1/server", "safComp=server,safSu=su-1,safSg=app,safApp=shop",
       model::HaState::kActive, 1, model::ProtectionGroupChange::kNoChange},
      {"app/su-2/server", "safComp=server,safSu=su-2,safSg=app,safApp=shop",
       model::HaState::kStandby, 2, model::ProtectionGroupChange::kNoChange}};
  // The test answers each request as amfd would: the group, or a refusal.
  auto answer_next = [&](model::ProtectionGroupRefusal refusal, bool changes) {
    return std::thread([=, this] {
      auto request = receive().second;
      ASSERT_TRUE(std::holds_alternative<wire::ProtectionGroupTrack>(request));
      const auto& track = std::get<wire::ProtectionGroupTrack>(request);
      EXPECT_EQ(track.csi, dn);
      EXPECT_EQ(track.changes, changes);
      const bool refused = refusal != model::ProtectionGroupRefusal::kNone;
      send(wire::ProtectionGroup{track.request, track.csi, refused ? decltype(group){} : group,
                                 refusal, refused ? "no" : "", 2});
    });
  };
  // A buffer the library allocates (and frees).
  SaAmfProtectionGroupNotificationBufferT buffer{0, nullptr};
  auto answer = answer_next(model::ProtectionGroupRefusal::kNone, false);
  ASSERT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CURRENT, &buffer), SA_AIS_OK);
  answer.join();
  ASSERT_EQ(buffer.numberOfItems, 2u);
  ASSERT_NE(buffer.notification, nullptr);
  EXPECT_EQ(text(buffer.notification[1].member.compName),
            "safComp=server,safSu=su-2,safSg=app,safApp=shop");
  EXPECT_EQ(buffer.notification[1].member.haState, SA_AMF_HA_STANDBY);
  EXPECT_EQ(buffer.notification[1].member.rank, 2u);
  EXPECT_EQ(buffer.notification[1].change, SA_AMF_PROTECTION_GROUP_NO_CHANGE);
  EXPECT_EQ(saAmfProtectionGroupNotificationFree(handle_, buffer.notification), SA_AIS_OK);
  // The caller's, too small: it learns how many it needs.
  SaAmfProtectionGroupNotificationT one[1];
  buffer = {1, one};
  answer = answer_next(model::ProtectionGroupRefusal::kNone, false);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CURRENT, &buffer),
            SA_AIS_ERR_NO_SPACE);
  answer.join();
  EXPECT_EQ(buffer.numberOfItems, 2u);
  // amfd's refusals, as SA errors.
  answer = answer_next(model::ProtectionGroupRefusal::kNoSuchCsi, false);
  buffer = {0, nullptr};
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CURRENT, &buffer),
            SA_AIS_ERR_NOT_EXIST);
  answer.join();
  answer = answer_next(model::ProtectionGroupRefusal::kNotSupported, false);
  EXPECT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CURRENT, &buffer),
            SA_AIS_ERR_NOT_SUPPORTED);
  answer.join();
  // Tracked changes come through the callback, with the group's size.
  answer = answer_next(model::ProtectionGroupRefusal::kNone, true);
  ASSERT_EQ(
      saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CHANGES_ONLY | SA_TRACK_CHANGES, nullptr),
      SA_AIS_ERR_BAD_FLAGS);
  ASSERT_EQ(saAmfProtectionGroupTrack(handle_, &csi, SA_TRACK_CHANGES, nullptr), SA_AIS_OK);
  answer.join();
  auto changed = group;
  changed[0].ha = model::HaState::kQuiesced;
  changed[0].change = model::ProtectionGroupChange::kStateChange;
  send(wire::ProtectionGroup{0, dn, changed, model::ProtectionGroupRefusal::kNone, "", 2});
  ASSERT_TRUE(readable(5000));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ALL), SA_AIS_OK);
  ASSERT_EQ(tracked.size(), 1u);
  ASSERT_EQ(tracked[0].size(), 2u);
  EXPECT_EQ(tracked[0][0].member.haState, SA_AMF_HA_QUIESCED);
  EXPECT_EQ(tracked[0][0].change, SA_AMF_PROTECTION_GROUP_STATE_CHANGE);
  EXPECT_EQ(tracked_sizes[0], 2u);
}

void on_remove(SaInvocationT inv, const SaNameT*, const SaNameT*, SaAmfCSIFlagsT) {
  order.push_back("remove " + std::to_string(inv));
}

// A callback that waits for an answer (tracking a group from a CSI set callback) must not
// reorder the callbacks that come meanwhile: they run after it, in the order they came.
TEST_F(SaLibraryTest, CallbacksThatArriveWhileOneWaitsRunInTheirOrder) {
  SaAmfCallbacksT callbacks{};
  callbacks.saAmfProtectionGroupTrackCallback = on_group;
  callbacks.saAmfCSIRemoveCallback = on_remove;
  registered(nullptr, &callbacks);
  send(wire::CsiSet{
      7, "app/si-1/db", model::HaState::kActive, model::TransitionReason::kNewAssignment, {}});
  send(wire::CsiSet{
      9, "app/si-2/db", model::HaState::kActive, model::TransitionReason::kNewAssignment, {}});
  track_from_set = handle_;
  std::thread amfd([&] {
    auto request = receive().second;
    ASSERT_TRUE(std::holds_alternative<wire::ProtectionGroupTrack>(request));
    const auto& track = std::get<wire::ProtectionGroupTrack>(request);
    send(wire::ProtectionGroup{
        track.request, track.csi, {}, model::ProtectionGroupRefusal::kNone, "", 0});
    send(wire::CsiRemove{10, "app/si-1/db"});
  });
  ASSERT_TRUE(readable(5000));
  ASSERT_EQ(saAmfDispatch(handle_, SA_DISPATCH_ALL), SA_AIS_OK);
  amfd.join();
  ASSERT_TRUE(eventually(
      [&] { return saAmfDispatch(handle_, SA_DISPATCH_ALL) == SA_AIS_OK && order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"set 7", "set 9", "remove 10"}));
}

TEST_F(SaLibraryTest, WithoutAmfdTheLibraryCannotBeInitialized) {
  ::unsetenv("AMF_COMPONENT_SOCKET");
  SaVersionT version{'B', 1, 1};
  SaAmfHandleT h = 0;
  EXPECT_EQ(saAmfInitialize(&h, nullptr, &version), SA_AIS_ERR_LIBRARY);
}

}  // namespace
}  // namespace amf::itest
