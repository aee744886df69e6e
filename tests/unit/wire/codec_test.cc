#include "amf/wire/codec.h"

#include <gtest/gtest.h>

#include "amf/core/utf8.h"

namespace amf::wire {
namespace {

template <class T>
T round_trip_component(const T& in) {
  auto decoded = decode_component_message(encode(ComponentMessage{in}));
  EXPECT_TRUE(decoded) << decoded.error().message();
  const T* out = decoded ? std::get_if<T>(&*decoded) : nullptr;
  EXPECT_NE(out, nullptr);
  return out ? *out : T{};
}

TEST(CodecTest, RegisterRequestRoundTrips) {
  auto out = round_trip_component(RegisterRequest{"counter/su-1/server", 4242});
  EXPECT_EQ(out.component_name, "counter/su-1/server");
  EXPECT_EQ(out.pid, 4242);
}

TEST(CodecTest, RegisterReplyRoundTrips) {
  auto out = round_trip_component(RegisterReply{false, "no such component"});
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "no such component");
}

TEST(CodecTest, CsiSetRoundTripsWithAttributes) {
  auto out = round_trip_component(CsiSet{77,
                                         "counter/si-1/endpoint",
                                         model::HaState::kStandby,
                                         model::TransitionReason::kFailover,
                                         {{"port", "47011"}, {"state_file", "x"}}});
  EXPECT_EQ(out.invocation, 77u);
  EXPECT_EQ(out.csi, "counter/si-1/endpoint");
  EXPECT_EQ(out.ha, model::HaState::kStandby);
  EXPECT_EQ(out.reason, model::TransitionReason::kFailover);
  EXPECT_EQ(out.attributes.size(), 2u);
  EXPECT_EQ(out.attributes.find("port")->second, "47011");
}

TEST(CodecTest, MultiValuedAttributesKeepEveryValueInOrder) {
  const model::CsiAttributes attributes{
      {"peers", "sc-2:5432"}, {"peers", "sc-1:5432"}, {"peers", "sc-3:5432"}, {"ro", ""}};
  auto out = round_trip_component(CsiSet{1, "db/si-1/shard", model::HaState::kStandby,
                                         model::TransitionReason::kNewAssignment, attributes});
  EXPECT_EQ(out.attributes, attributes);
}

TEST(CodecTest, AStandbysCsiSetNamesItsActive) {
  const model::ActiveDescriptor active{"db/su-1/d",
                                       "safComp=d,safSu=su-1,safSg=db,safApp=db",
                                       "db/su-1",
                                       "sc-1",
                                       {{"host", "10.0.0.1"}, {"host", "10.0.0.9"}, {"ro", ""}}};
  const auto csi_set = [](model::HaState ha, std::optional<model::ActiveDescriptor> told) {
    return CsiSet{1, "db/si-1/shard", ha, model::TransitionReason::kNewAssignment, {}, told};
  };
  auto out = round_trip_component(csi_set(model::HaState::kStandby, active));
  ASSERT_TRUE(out.active.has_value());
  EXPECT_EQ(*out.active, active);
  EXPECT_FALSE(
      round_trip_component(csi_set(model::HaState::kStandby, std::nullopt)).active.has_value());
  // Only a standby is told of an active, and an active descriptor names a component.
  const auto refusal = [](const CsiSet& m) {
    auto decoded = decode_component_message(encode(ComponentMessage{m}));
    return decoded ? std::string("accepted") : decoded.error().message();
  };
  EXPECT_EQ(refusal(csi_set(model::HaState::kActive, active)),
            "CSI set callback: an active descriptor with HA state active (only a standby's names "
            "one)");
  model::ActiveDescriptor nameless = active;
  nameless.component.clear();
  EXPECT_EQ(refusal(csi_set(model::HaState::kStandby, nameless)),
            "CSI set callback: active descriptor without a component");
}

TEST(CodecTest, CsiRemoveAndResponseRoundTrip) {
  EXPECT_EQ(round_trip_component(CsiRemove{5, "a/b/c"}).csi, "a/b/c");
  auto r = round_trip_component(Response{9, false, "busy"});
  EXPECT_EQ(r.invocation, 9u);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "busy");
}

TEST(CodecTest, ErrorReportAndHealthchecksRoundTrip) {
  auto report = round_trip_component(ErrorReport{"su-restart", "lost its database"});
  EXPECT_EQ(report.recommended_recovery, "su-restart");
  EXPECT_EQ(report.reason, "lost its database");
  auto hc = round_trip_component(HealthcheckCallback{12, "alive"});
  EXPECT_EQ(hc.invocation, 12u);
  EXPECT_EQ(hc.key, "alive");
  EXPECT_EQ(round_trip_component(HealthcheckConfirm{"alive"}).key, "alive");
  EXPECT_EQ(round_trip_component(TerminateCallback{13}).invocation, 13u);
  auto track =
      round_trip_component(ProtectionGroupTrack{3, "app/si-1/csi", true, true, false, true});
  EXPECT_EQ(track.request, 3u);
  EXPECT_EQ(track.csi, "app/si-1/csi");
  EXPECT_TRUE(track.current);
  EXPECT_TRUE(track.current_callback);
  EXPECT_FALSE(track.changes);
  EXPECT_TRUE(track.changes_only);
  EXPECT_EQ(round_trip_component(ProtectionGroupTrackStop{4, "x"}).csi, "x");
  const model::ProtectionGroupMember member{"app/su-1/server", "safComp=server",
                                            model::HaState::kStandby, 2,
                                            model::ProtectionGroupChange::kStateChange};
  auto group = round_trip_component(
      ProtectionGroup{6, "app/si-1/csi", {member}, model::ProtectionGroupRefusal::kNone, "", 3});
  EXPECT_EQ(group.request, 6u);
  EXPECT_EQ(group.members, std::vector<model::ProtectionGroupMember>{member});
  EXPECT_EQ(group.size, 3u);
  auto refused = round_trip_component(
      ProtectionGroup{5, "y", {}, model::ProtectionGroupRefusal::kNoSuchCsi, "no such CSI"});
  EXPECT_EQ(refused.refusal, model::ProtectionGroupRefusal::kNoSuchCsi);
  EXPECT_EQ(refused.error, "no such CSI");
}

TEST(CodecTest, MalformedBytesAreAnErrorNotACrash) {
  auto decoded = decode_component_message(std::string("\xff\xff\xff\xff garbage", 12));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message(),
            "malformed component message (12 bytes that are not a protobuf message)");
}

TEST(CodecTest, EmptyMessageHasWrongVersion) {
  auto decoded = decode_component_message("");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message(),
            "component message has protocol version 0; this build speaks version 1");
}

TEST(CodecTest, ASenderWithoutTheAttributeListIsReadFromTheFirstValueMap) {
  // As an amfd built before attribute_list sends it: version=1, csi_set{invocation=1,
  // csi_name="x", ha_state=active, reason=new, attributes={"port": "7000"}}, by hand.
  const std::string inner(
      "\x08\x01\x12\x01x\x18\x01\x20\x01"
      "\x2a\x0c\x0a\x04port\x12\x04"
      "7000",
      23);
  const std::string manual =
      std::string("\x08\x01\x62", 3) + static_cast<char>(inner.size()) + inner;
  auto decoded = decode_component_message(manual);
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto* set = std::get_if<CsiSet>(&*decoded);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->ha, model::HaState::kActive);
  EXPECT_EQ(set->attributes, (model::CsiAttributes{{"port", "7000"}}));
  EXPECT_FALSE(set->active.has_value());
}

TEST(CodecTest, CsiSetWithUnknownHaStateIsRefused) {
  // A CsiSetCallback whose ha_state is unspecified (0): field 1 version, field 12 body.
  std::string bytes = encode(ComponentMessage{
      CsiSet{1, "x", model::HaState::kActive, model::TransitionReason::kNewAssignment, {}}});
  // Re-encode by hand: version=1, csi_set{invocation=1, csi_name="x"} with no ha_state.
  const std::string manual("\x08\x01\x62\x05\x08\x01\x12\x01x", 9);
  auto decoded = decode_component_message(manual);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message(), "CSI set callback: unknown HA state 0");
  EXPECT_TRUE(decode_component_message(bytes));
}

TEST(CodecTest, AdminRequestsRoundTrip) {
  auto status = decode_admin_request(encode(AdminRequest{StatusRequest{}}));
  ASSERT_TRUE(status);
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(*status));
  auto events = decode_admin_request(encode(AdminRequest{EventsRequest{12, 100}}));
  ASSERT_TRUE(events);
  EXPECT_EQ(std::get<EventsRequest>(*events).after_sequence, 12u);
  EXPECT_EQ(std::get<EventsRequest>(*events).max_events, 100u);
}

TEST(CodecTest, AdminOperationAndResultRoundTrip) {
  auto req =
      decode_admin_request(encode(AdminRequest{AdminOperation{"lock", "su", "counter/su-1"}}));
  ASSERT_TRUE(req);
  const auto& op = std::get<AdminOperation>(*req);
  EXPECT_EQ(op.operation, "lock");
  EXPECT_EQ(op.entity_kind, "su");
  EXPECT_EQ(op.entity, "counter/su-1");
  auto reply = decode_admin_reply(encode(AdminReply{AdminOperationResult{false, "try again"}}));
  ASSERT_TRUE(reply);
  EXPECT_FALSE(std::get<AdminOperationResult>(*reply).ok);
  EXPECT_EQ(std::get<AdminOperationResult>(*reply).message, "try again");
}

ClusterStatus sample_status() {
  ClusterStatus s{"demo", "node-1", {}};
  ServiceGroupStatus sg{"counter", "2n", false, {}, {}};
  sg.service_units.push_back(
      {"counter/su-1",
       "node-1",
       "unlocked",
       "enabled",
       "instantiated",
       "in-service",
       {{"counter/su-1/server", "instantiated", 99, true, {{"counter/si-1/endpoint", "active"}}}}});
  sg.service_instances.push_back({"counter/si-1",
                                  {{"counter/su-1", "active"}},
                                  "unlocked",
                                  "10.0.0.100/24 on eth0",
                                  {"node-1"}});
  sg.admin_state = "shutting-down";
  s.service_groups.push_back(sg);
  s.admin_state = "unlocked";
  s.nodes = {{"node-1", "locked"}, {"node-2", "unlocked"}};
  s.applications = {{"counter", "locked-instantiation"}};
  s.components_missing = {"node-3: did not answer within 500 ms"};
  return s;
}

TEST(CodecTest, AdminRepliesRoundTrip) {
  auto decoded = decode_admin_reply(encode(AdminReply{sample_status()}));
  ASSERT_TRUE(decoded);
  const auto& s = std::get<ClusterStatus>(*decoded);
  ASSERT_EQ(s.service_groups.size(), 1u);
  EXPECT_EQ(s.service_groups[0].service_units[0].components[0].pid, 99);
  ASSERT_EQ(s.service_groups[0].service_units[0].components[0].csis.size(), 1u);
  EXPECT_EQ(s.service_groups[0].service_units[0].components[0].csis[0].csi,
            "counter/si-1/endpoint");
  EXPECT_EQ(s.service_groups[0].service_units[0].components[0].csis[0].ha_state, "active");
  EXPECT_EQ(s.service_groups[0].service_instances[0].assignments[0].ha_state, "active");
  EXPECT_EQ(s.service_groups[0].service_instances[0].admin_state, "unlocked");
  EXPECT_EQ(s.service_groups[0].service_instances[0].service_address, "10.0.0.100/24 on eth0");
  EXPECT_EQ(s.service_groups[0].service_instances[0].address_up_on,
            std::vector<std::string>{"node-1"});
  EXPECT_EQ(s.service_groups[0].admin_state, "shutting-down");
  EXPECT_EQ(s.admin_state, "unlocked");
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].name, "node-1");
  EXPECT_EQ(s.nodes[0].admin_state, "locked");
  ASSERT_EQ(s.applications.size(), 1u);
  EXPECT_EQ(s.applications[0].admin_state, "locked-instantiation");
  EXPECT_EQ(s.components_missing, std::vector<std::string>{"node-3: did not answer within 500 ms"});

  auto err = decode_admin_reply(encode(AdminReply{AdminError{"nope"}}));
  ASSERT_TRUE(err);
  EXPECT_EQ(std::get<AdminError>(*err).message, "nope");

  EventList list;
  list.events.push_back(
      {3, 100, 200, "ha-state", "a/su-1", "a/si-1", "standby", "active", "failover"});
  auto ev = decode_admin_reply(encode(AdminReply{list}));
  ASSERT_TRUE(ev);
  ASSERT_EQ(std::get<EventList>(*ev).events.size(), 1u);
  EXPECT_EQ(std::get<EventList>(*ev).events[0].cause, "failover");
}

TEST(CodecTest, EventTextThatIsNotUtf8ReachesTheReaderWithReplacementCharacters) {
  // A component's sd_notify STATUS in Latin-1, and a quote cut inside a character: the list
  // must still decode (protobuf refuses to parse a string that is not UTF-8).
  const EventRecord status{1, 0, 0, "status", "app/su-1/c", "", "", "\xff\xfe serving", ""};
  const EventRecord cut{2, 0, 0, "error", "app/su-1/c", "", "", "", "bad line 'caf\xc3'"};
  auto decoded = decode_admin_reply(encode(AdminReply{EventList{{status, cut}}}));
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto& events = std::get<EventList>(*decoded).events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].to, "\xef\xbf\xbd\xef\xbf\xbd serving");
  EXPECT_EQ(events[1].cause, "bad line 'caf\xef\xbf\xbd'");
}

TEST(Utf8Test, ValidTextIsKeptAndEveryBadByteIsReplaced) {
  EXPECT_EQ(valid_utf8("plain \xc3\xa9t\xc3\xa9"), "plain \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(valid_utf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '/'
  EXPECT_EQ(valid_utf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(first_invalid_utf8("ok\xf5"), 2u);
  EXPECT_EQ(first_invalid_utf8("ok"), std::nullopt);
}

TEST(CodecTest, StatusJsonRoundTripsAndUsesProtoFieldNames) {
  const std::string json = to_json(sample_status());
  EXPECT_NE(json.find("\"service_groups\""), std::string::npos);
  EXPECT_NE(json.find("\"readiness_state\": \"in-service\""), std::string::npos);
  auto back = status_from_json(json);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->service_groups[0].service_units[0].name, "counter/su-1");
  EXPECT_EQ(back->service_groups[0].service_units[0].components[0].csis.at(0).ha_state, "active");
  EXPECT_NE(json.find("\"components_missing\""), std::string::npos);
  EXPECT_EQ(back->components_missing, sample_status().components_missing);
  EXPECT_FALSE(status_from_json("{not json"));
}

TEST(MembershipCodecTest, EveryMessageRoundTrips) {
  using namespace membership;
  using namespace std::chrono_literals;
  const Incarnate n1{NodeId("n1"), 3}, n2{NodeId("n2"), 1}, n3{NodeId("n3"), 7};
  const std::vector<Message> messages{
      Heartbeat{n1, 42, {2, 5}, true},
      HeartbeatAck{n2, n1, 42},
      ViewInstall{NodeId("n1"), View{{2, 6}, {n1, n2}, {n3}}, "n3#7 left: not heard"},
      ViewAck{n2, {2, 6}, {n3}, {{n3, 12345us}}},
  };
  for (const Message& m : messages) {
    auto decoded = decode_membership_message(encode(m));
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_EQ(membership::describe(*decoded), membership::describe(m));
    EXPECT_EQ(decoded->index(), m.index());
  }
}

TEST(MembershipCodecTest, MessagesTheCoreMustNeverSeeAreRefusedWithTheReason) {
  using namespace membership;
  const auto refused = [](const Message& m) {
    auto decoded = decode_membership_message(encode(m));
    return decoded ? std::string("accepted") : decoded.error().message();
  };
  EXPECT_NE(refused(Heartbeat{{NodeId(""), 1}, 1, {}}).find("heartbeat names no node"),
            std::string::npos);
  EXPECT_NE(refused(Heartbeat{{NodeId("n1"), ~std::uint64_t{0}}, 1, {}})
                .find("an incarnation no node can have"),
            std::string::npos);
  const Incarnate a{NodeId("a"), 1}, b{NodeId("b"), 1}, b2{NodeId("b"), 2};
  EXPECT_NE(refused(ViewInstall{NodeId("a"), View{{1, 1}, {b, a}, {}}, ""}).find("out of order"),
            std::string::npos);
  EXPECT_NE(refused(ViewInstall{NodeId("a"), View{{1, 1}, {a}, {b, b2}}, ""})
                .find("'b' out of order or twice"),
            std::string::npos);
  EXPECT_NE(refused(ViewInstall{NodeId(""), View{}, ""}).find("no director"), std::string::npos);
  EXPECT_NE(refused(ViewInstall{NodeId("a"), View{{1, 1}, {a}, {a}}, ""})
                .find("lists a#1 as a member and as taken out"),
            std::string::npos);
  EXPECT_NE(refused(ViewAck{a, {1, 1}, {}, {{b, Duration(-1)}}}).find("negative"),
            std::string::npos);
  auto garbage = decode_membership_message("\xff\xff\xff");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message().find("malformed membership message"), std::string::npos);
  auto empty = decode_membership_message("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("protocol version 0"), std::string::npos);
}

// One message of each kind between the director and the node directors, every field set.
std::vector<protocol::Message> node_messages() {
  using namespace protocol;
  using model::HaState;
  using model::OperState;
  using model::PresenceState;
  const SuId su("app/su-1");
  const SiId si("app/si-1");
  SuSnapshot snap{su,
                  PresenceState::kTerminationFailed,
                  OperState::kDisabled,
                  false,
                  true,
                  {{si, HaState::kQuiescing}, {SiId("app/si-2"), HaState::kStandby}},
                  {si},
                  2,
                  1,
                  3,
                  {{CompId("app/su-1/server"),
                    PresenceState::kRestarting,
                    true,
                    4,
                    {{CsiId("app/si-1/endpoint"), HaState::kQuiesced}}}},
                  {{SiId("app/si-2"), SuId("app/su-2")}}};
  SuSnapshot second{SuId("app/su-3"),
                    PresenceState::kInstantiating,
                    OperState::kEnabled,
                    true,
                    false,
                    {},
                    {},
                    0,
                    0,
                    0,
                    {}};
  return {
      NodeCommand{InstantiateSu{su}},
      NodeCommand{TerminateSu{su}},
      NodeCommand{RepairSu{su}},
      NodeCommand{RepairSu{su, false}},
      NodeCommand{RestartSu{su, std::nullopt}},
      NodeCommand{RestartSu{su, CompId("app/su-1/server")}},
      NodeCommand{AssignHa{su, si, HaState::kStandby, model::TransitionReason::kSwitchover,
                           (std::uint64_t{7} << 32) | 12}},
      NodeCommand{AssignHa{su, si, HaState::kStandby, model::TransitionReason::kNewAssignment, 15,
                           SuId("app/su-2")}},
      NodeCommand{RemoveHa{su, si, 13}},
      NodeCommand{SnapshotRequest{14}},
      NodeReport{SuStateReport{su, PresenceState::kInstantiationFailed, OperState::kDisabled,
                               "instantiation failed", false}},
      NodeReport{AssignmentDone{su, si, HaState::kActive, 12}},
      NodeReport{RemovalDone{su, si, 13}},
      NodeReport{NodeSnapshot{14, NodeId("node-2"), 5, true, {snap, second}}},
      NodeReport{NodeSnapshot{15, NodeId("node-2"), 0, false, {snap}, true}},
      NodeReport{NodeLeaving{NodeId("node-2"), "amfd stops (signal 15)"}},
      AdminForward{16, "lock", "su", "app/su-1"},
      AdminAnswer{16, false, "su 'app/su-9' does not exist"},
      AdminAnswer{17, true, ""},
      StatusForward{18},
      StatusAnswer{18, true, std::string("\x0a\x00\xff status bytes", 17)},
      StatusAnswer{19, false, "its status takes 9000000 bytes"},
      StatusPartAsk{20},
      StatusPart{20, true, std::string("\x0a\x00\xff part bytes", 14)},
      StatusPart{21, false, "its components take 9000000 bytes"},
  };
}

protocol::Envelope envelope_of(std::optional<protocol::Message> m, std::uint64_t seq = 9) {
  return {protocol::kEnvelopeVersion,
          {NodeId("node-2"), 3},
          {NodeId("node-1"), 1},
          (std::uint64_t{7}),
          seq,
          8,
          std::move(m)};
}

TEST(NodeCodecTest, EveryMessageRoundTripsInItsEnvelope) {
  for (const auto& m : node_messages()) {
    const protocol::Envelope e = envelope_of(m);
    auto decoded = decode_node_envelope(encode(e));
    ASSERT_TRUE(decoded) << decoded.error().message();
    EXPECT_TRUE(*decoded == e) << "message kind " << m.index();
  }
  const protocol::Envelope ack = envelope_of(std::nullopt, 0);
  auto decoded = decode_node_envelope(encode(ack));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_TRUE(*decoded == ack);
}

TEST(NodeCodecTest, AnotherEnvelopeVersionIsLeftForTheRuntimeToCount) {
  protocol::Envelope e = envelope_of(node_messages().front());
  e.version = protocol::kEnvelopeVersion + 1;
  auto decoded = decode_node_envelope(encode(e));
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->version, protocol::kEnvelopeVersion + 1);
}

TEST(NodeCodecTest, WhatTheCoresMustNeverSeeIsRefusedWithTheReason) {
  using namespace protocol;
  using model::HaState;
  const auto refused = [](const Envelope& e) {
    auto decoded = decode_node_envelope(encode(e));
    return decoded ? std::string("accepted") : decoded.error().message();
  };
  const SuId su("app/su-1");
  const SiId si("app/si-1");
  EXPECT_EQ(refused(envelope_of(NodeCommand{InstantiateSu{SuId("")}})),
            "node envelope from node-2 (seq 9): InstantiateSu: su is empty");
  EXPECT_EQ(refused(envelope_of(NodeCommand{
                AssignHa{su, si, HaState::kActive, model::TransitionReason::kFailover, 0}})),
            "node envelope from node-2 (seq 9): AssignHa: command is 0 (no command)");
  EXPECT_EQ(
      refused(envelope_of(NodeCommand{AssignHa{
          su, si, HaState::kActive, model::TransitionReason::kFailover, 3, SuId("app/su-2")}})),
      "node envelope from node-2 (seq 9): AssignHa: active_su given with a non-standby state");
  EXPECT_EQ(refused(envelope_of(AdminForward{0, "lock", "su", "app/su-1"})),
            "node envelope from node-2 (seq 9): AdminForward: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(AdminAnswer{0, true, ""})),
            "node envelope from node-2 (seq 9): AdminAnswer: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(StatusForward{0})),
            "node envelope from node-2 (seq 9): StatusForward: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(StatusAnswer{0, true, "x"})),
            "node envelope from node-2 (seq 9): StatusAnswer: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(StatusPartAsk{0})),
            "node envelope from node-2 (seq 9): StatusPartAsk: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(StatusPart{0, true, "x"})),
            "node envelope from node-2 (seq 9): StatusPart: request is 0 (no request)");
  EXPECT_EQ(refused(envelope_of(std::nullopt, 4)),
            "node envelope from node-2 (seq 4) is numbered but carries no message");
  EXPECT_EQ(refused(envelope_of(NodeCommand{InstantiateSu{su}}, 0)),
            "node envelope from node-2 (seq 0) carries a message numbered 0");

  auto snapshot = [&](NodeSnapshot s) { return refused(envelope_of(NodeReport{s})); };
  const SuSnapshot plain{su,
                         model::PresenceState::kInstantiated,
                         model::OperState::kEnabled,
                         true,
                         false,
                         {},
                         {},
                         0,
                         0,
                         0,
                         {}};
  EXPECT_EQ(snapshot(NodeSnapshot{1, NodeId("node-3"), 0, false, {plain}}),
            "node envelope from node-2 (seq 9): NodeSnapshot: a snapshot of node 'node-3' sent "
            "by node 'node-2'");
  EXPECT_EQ(snapshot(NodeSnapshot{1, NodeId("node-2"), 0, false, {plain, plain}}),
            "node envelope from node-2 (seq 9): NodeSnapshot: SU 'app/su-1' is listed out of "
            "order or twice (one entry per SU, in name order)");
  EXPECT_EQ(snapshot(NodeSnapshot{1, NodeId("node-2"), -1, false, {}}),
            "node envelope from node-2 (seq 9): NodeSnapshot: SU failovers is negative (-1)");
  SuSnapshot twice = plain;
  twice.assignments = {{si, HaState::kActive}, {si, HaState::kStandby}};
  EXPECT_EQ(snapshot(NodeSnapshot{1, NodeId("node-2"), 0, false, {twice}}),
            "node envelope from node-2 (seq 9): NodeSnapshot: an SU's assignments lists "
            "'app/si-1' twice");
  // A node speaks for its own leaving only.
  EXPECT_EQ(refused(envelope_of(NodeReport{NodeLeaving{NodeId("node-3"), "stops"}})),
            "node envelope from node-2 (seq 9): NodeLeaving: node 'node-3' said to be leaving by "
            "node 'node-2'");

  // An unknown state number, as a peer of a later build might send: SuStateReport with
  // presence 99 (field 20, then su = "x", presence_state = 99), after version 1 and the lives.
  Envelope e = envelope_of(NodeReport{SuStateReport{su, model::PresenceState::kInstantiated,
                                                    model::OperState::kEnabled, "", true}});
  std::string bytes = encode(e);
  const std::string report("\xa2\x01\x05\x0a\x01x\x10\x63", 8);
  const std::size_t at = bytes.find('\xa2');
  ASSERT_NE(at, std::string::npos);
  bytes = bytes.substr(0, at) + report;
  auto decoded = decode_node_envelope(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message(),
            "node envelope from node-2 (seq 9): SuStateReport: unknown presence state 99");

  auto garbage = decode_node_envelope("\xff\xff\xff");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message().find("malformed node envelope"), std::string::npos);
  auto empty = decode_node_envelope("");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("protocol version 0"), std::string::npos);
  EXPECT_NE(
      refused(
          Envelope{
              protocol::kEnvelopeVersion, {NodeId(""), 1}, {NodeId("n"), 1}, 1, 0, 0, std::nullopt})
          .find("sender names no node"),
      std::string::npos);
}

}  // namespace
}  // namespace amf::wire
