#include "amf/wire/codec.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <limits>

#include "amf/core/utf8.h"
#include "amf/wire/amf.pb.h"

namespace amf::wire {
namespace {

namespace pb = ::amf::v1;

pb::HaState to_pb(model::HaState ha) {
  switch (ha) {
    case model::HaState::kActive:
      return pb::HA_STATE_ACTIVE;
    case model::HaState::kStandby:
      return pb::HA_STATE_STANDBY;
    case model::HaState::kQuiescing:
      return pb::HA_STATE_QUIESCING;
    case model::HaState::kQuiesced:
      return pb::HA_STATE_QUIESCED;
  }
  return pb::HA_STATE_UNSPECIFIED;
}

Result<model::HaState> from_pb(pb::HaState ha) {
  switch (ha) {
    case pb::HA_STATE_ACTIVE:
      return model::HaState::kActive;
    case pb::HA_STATE_STANDBY:
      return model::HaState::kStandby;
    case pb::HA_STATE_QUIESCING:
      return model::HaState::kQuiescing;
    case pb::HA_STATE_QUIESCED:
      return model::HaState::kQuiesced;
    default:
      return fail("unknown HA state " + std::to_string(static_cast<int>(ha)));
  }
}

pb::TransitionReason to_pb(model::TransitionReason r) {
  switch (r) {
    case model::TransitionReason::kNewAssignment:
      return pb::TRANSITION_REASON_NEW;
    case model::TransitionReason::kFailover:
      return pb::TRANSITION_REASON_FAILOVER;
    case model::TransitionReason::kSwitchover:
      return pb::TRANSITION_REASON_SWITCHOVER;
    case model::TransitionReason::kRestart:
      return pb::TRANSITION_REASON_RESTART;
  }
  return pb::TRANSITION_REASON_UNSPECIFIED;
}

Result<model::TransitionReason> from_pb(pb::TransitionReason r) {
  switch (r) {
    case pb::TRANSITION_REASON_NEW:
      return model::TransitionReason::kNewAssignment;
    case pb::TRANSITION_REASON_FAILOVER:
      return model::TransitionReason::kFailover;
    case pb::TRANSITION_REASON_SWITCHOVER:
      return model::TransitionReason::kSwitchover;
    case pb::TRANSITION_REASON_RESTART:
      return model::TransitionReason::kRestart;
    default:
      return fail("unknown transition reason " + std::to_string(static_cast<int>(r)));
  }
}

template <class Envelope>
Result<Envelope> parse(std::string_view bytes, const char* what) {
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(std::string("malformed ") + what + " (" + std::to_string(bytes.size()) +
                " bytes that are not a protobuf message)");
  }
  if (envelope.protocol_version() != kProtocolVersion) {
    return fail(std::string(what) + " has protocol version " +
                std::to_string(envelope.protocol_version()) + "; this build speaks version " +
                std::to_string(kProtocolVersion));
  }
  return envelope;
}

// ---- status <-> protobuf ----

void fill(pb::ClusterStatus& out, const ClusterStatus& in) {
  out.set_cluster(in.cluster);
  out.set_node(in.node);
  for (const auto& sg : in.service_groups) {
    pb::ServiceGroupStatus* s = out.add_service_groups();
    s->set_name(sg.name);
    s->set_redundancy_model(sg.redundancy_model);
    s->set_busy(sg.busy);
    for (const auto& su : sg.service_units) {
      pb::ServiceUnitStatus* u = s->add_service_units();
      u->set_name(su.name);
      u->set_node(su.node);
      u->set_admin_state(su.admin_state);
      u->set_oper_state(su.oper_state);
      u->set_presence_state(su.presence_state);
      u->set_readiness_state(su.readiness_state);
      for (const auto& comp : su.components) {
        pb::ComponentStatus* c = u->add_components();
        c->set_name(comp.name);
        c->set_presence_state(comp.presence_state);
        c->set_pid(comp.pid);
        c->set_registered(comp.registered);
      }
    }
    for (const auto& si : sg.service_instances) {
      pb::ServiceInstanceStatus* i = s->add_service_instances();
      i->set_name(si.name);
      for (const auto& a : si.assignments) {
        pb::SiAssignmentStatus* as = i->add_assignments();
        as->set_service_unit(a.service_unit);
        as->set_ha_state(a.ha_state);
      }
    }
  }
}

ClusterStatus from(const pb::ClusterStatus& in) {
  ClusterStatus out{in.cluster(), in.node(), {}};
  for (const auto& s : in.service_groups()) {
    ServiceGroupStatus sg{s.name(), s.redundancy_model(), s.busy(), {}, {}};
    for (const auto& u : s.service_units()) {
      ServiceUnitStatus su{u.name(),
                           u.node(),
                           u.admin_state(),
                           u.oper_state(),
                           u.presence_state(),
                           u.readiness_state(),
                           {}};
      for (const auto& c : u.components()) {
        su.components.push_back({c.name(), c.presence_state(), c.pid(), c.registered()});
      }
      sg.service_units.push_back(std::move(su));
    }
    for (const auto& i : s.service_instances()) {
      ServiceInstanceStatus si{i.name(), {}};
      for (const auto& a : i.assignments())
        si.assignments.push_back({a.service_unit(), a.ha_state()});
      sg.service_instances.push_back(std::move(si));
    }
    out.service_groups.push_back(std::move(sg));
  }
  return out;
}

void fill(pb::EventList& out, const EventList& in) {
  for (const auto& e : in.events) {
    pb::EventRecord* r = out.add_events();
    r->set_sequence(e.sequence);
    r->set_monotonic_ns(e.monotonic_ns);
    r->set_realtime_ns(e.realtime_ns);
    // Event text can come from outside (a component's sd_notify STATUS, a quoted malformed
    // line): made well-formed here, or amfctl could not decode the whole list.
    r->set_kind(valid_utf8(e.kind));
    r->set_entity(valid_utf8(e.entity));
    r->set_related(valid_utf8(e.related));
    r->set_from(valid_utf8(e.from));
    r->set_to(valid_utf8(e.to));
    r->set_cause(valid_utf8(e.cause));
  }
}

EventList from(const pb::EventList& in) {
  EventList out;
  for (const auto& r : in.events()) {
    out.events.push_back({r.sequence(), r.monotonic_ns(), r.realtime_ns(), r.kind(), r.entity(),
                          r.related(), r.from(), r.to(), r.cause()});
  }
  return out;
}

template <class Message>
std::string json_of(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  // Printing a message we built cannot fail (no Any types are involved).
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace

// ---- component channel ----

void silence_library_log() { google::protobuf::SetLogHandler(nullptr); }

std::string encode(const ComponentMessage& message) {
  pb::ComponentEnvelope env;
  env.set_protocol_version(kProtocolVersion);
  struct Visitor {
    pb::ComponentEnvelope& env;
    void operator()(const RegisterRequest& m) {
      env.mutable_register_request()->set_component_name(m.component_name);
      env.mutable_register_request()->set_pid(m.pid);
    }
    void operator()(const RegisterReply& m) {
      env.mutable_register_reply()->set_ok(m.ok);
      env.mutable_register_reply()->set_error(valid_utf8(m.error));
    }
    void operator()(const CsiSet& m) {
      pb::CsiSetCallback* cb = env.mutable_csi_set();
      cb->set_invocation(m.invocation);
      cb->set_csi_name(m.csi);
      cb->set_ha_state(to_pb(m.ha));
      cb->set_reason(to_pb(m.reason));
      for (const auto& [k, v] : m.attributes) (*cb->mutable_attributes())[k] = v;
    }
    void operator()(const CsiRemove& m) {
      env.mutable_csi_remove()->set_invocation(m.invocation);
      env.mutable_csi_remove()->set_csi_name(m.csi);
    }
    void operator()(const Response& m) {
      env.mutable_response()->set_invocation(m.invocation);
      env.mutable_response()->set_ok(m.ok);
      env.mutable_response()->set_error(valid_utf8(m.error));
    }
    void operator()(const ErrorReport& m) {
      env.mutable_error_report()->set_recommended_recovery(m.recommended_recovery);
      env.mutable_error_report()->set_reason(valid_utf8(m.reason));
    }
    void operator()(const HealthcheckCallback& m) {
      env.mutable_healthcheck()->set_invocation(m.invocation);
      env.mutable_healthcheck()->set_key(m.key);
    }
    void operator()(const HealthcheckConfirm& m) {
      env.mutable_healthcheck_confirm()->set_key(m.key);
    }
  };
  std::visit(Visitor{env}, message);
  return env.SerializeAsString();
}

Result<ComponentMessage> decode_component_message(std::string_view bytes) {
  auto env = parse<pb::ComponentEnvelope>(bytes, "component message");
  if (!env) return tl::unexpected(env.error());
  switch (env->body_case()) {
    case pb::ComponentEnvelope::kRegisterRequest:
      return RegisterRequest{env->register_request().component_name(),
                             env->register_request().pid()};
    case pb::ComponentEnvelope::kRegisterReply:
      return RegisterReply{env->register_reply().ok(), env->register_reply().error()};
    case pb::ComponentEnvelope::kCsiSet: {
      const auto& cb = env->csi_set();
      auto ha = from_pb(cb.ha_state());
      if (!ha) return tl::unexpected(ha.error().with_context("CSI set callback"));
      auto reason = from_pb(cb.reason());
      if (!reason) return tl::unexpected(reason.error().with_context("CSI set callback"));
      CsiSet out{cb.invocation(), cb.csi_name(), *ha, *reason, {}};
      for (const auto& [k, v] : cb.attributes()) out.attributes[k] = v;
      return out;
    }
    case pb::ComponentEnvelope::kCsiRemove:
      return CsiRemove{env->csi_remove().invocation(), env->csi_remove().csi_name()};
    case pb::ComponentEnvelope::kResponse:
      return Response{env->response().invocation(), env->response().ok(), env->response().error()};
    case pb::ComponentEnvelope::kErrorReport:
      return ErrorReport{env->error_report().recommended_recovery(), env->error_report().reason()};
    case pb::ComponentEnvelope::kHealthcheck:
      return HealthcheckCallback{env->healthcheck().invocation(), env->healthcheck().key()};
    case pb::ComponentEnvelope::kHealthcheckConfirm:
      return HealthcheckConfirm{env->healthcheck_confirm().key()};
    case pb::ComponentEnvelope::BODY_NOT_SET:
      break;
  }
  return fail("component message has no body");
}

// ---- membership ----

void fill(pb::NodeLife& out, const membership::Incarnate& in) {
  out.set_node(in.node.str());
  out.set_incarnation(in.incarnation);
}

void fill(pb::MembershipViewId& out, const membership::ViewId& in) {
  out.set_epoch(in.epoch);
  out.set_number(in.number);
}

Result<membership::Incarnate> from_pb(const pb::NodeLife& in, const char* what) {
  if (in.node().empty()) return fail(std::string(what) + " names no node");
  if (in.incarnation() == std::numeric_limits<std::uint64_t>::max()) {
    return fail(std::string(what) + " names a life of " + in.node() +
                " with an incarnation no node can have");
  }
  return membership::Incarnate{NodeId(in.node()), in.incarnation()};
}

membership::ViewId from_pb(const pb::MembershipViewId& in) { return {in.epoch(), in.number()}; }

Result<std::vector<membership::Incarnate>> lives(
    const google::protobuf::RepeatedPtrField<pb::NodeLife>& in, const std::string& what) {
  std::vector<membership::Incarnate> out;
  for (const pb::NodeLife& l : in) {
    auto life = from_pb(l, what.c_str());
    if (!life) return tl::unexpected(life.error());
    if (!out.empty() && !(out.back().node < life->node)) {
      return fail(what + " lists node '" + life->node.str() +
                  "' out of order or twice (one life per node, in node order)");
    }
    out.push_back(*life);
  }
  return out;
}

std::string encode(const membership::Message& message) {
  pb::MembershipEnvelope env;
  env.set_protocol_version(kProtocolVersion);
  struct Visitor {
    pb::MembershipEnvelope& env;
    void operator()(const membership::Heartbeat& m) const {
      auto* b = env.mutable_heartbeat();
      fill(*b->mutable_from(), m.from);
      b->set_seq(m.seq);
      fill(*b->mutable_view(), m.view);
    }
    void operator()(const membership::HeartbeatAck& m) const {
      auto* b = env.mutable_heartbeat_ack();
      fill(*b->mutable_from(), m.from);
      fill(*b->mutable_to(), m.to);
      b->set_seq(m.seq);
    }
    void operator()(const membership::ViewInstall& m) const {
      auto* b = env.mutable_view_install();
      b->set_from(m.from.str());
      fill(*b->mutable_view()->mutable_id(), m.view.id);
      for (const auto& l : m.view.members) fill(*b->mutable_view()->add_members(), l);
      for (const auto& l : m.view.out) fill(*b->mutable_view()->add_out(), l);
      b->set_cause(m.cause);
    }
    void operator()(const membership::ViewAck& m) const {
      auto* b = env.mutable_view_ack();
      fill(*b->mutable_from(), m.from);
      fill(*b->mutable_view(), m.view);
      for (const auto& l : m.out) fill(*b->add_out(), l);
      for (const auto& [life, ago] : m.last_acked_ago) {
        auto* a = b->add_last_acked();
        fill(*a->mutable_life(), life);
        a->set_ago_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(ago).count());
      }
    }
  };
  std::visit(Visitor{env}, message);
  return env.SerializeAsString();
}

Result<membership::Message> decode_membership_message(std::string_view bytes) {
  auto env = parse<pb::MembershipEnvelope>(bytes, "membership message");
  if (!env) return tl::unexpected(env.error());
  switch (env->body_case()) {
    case pb::MembershipEnvelope::kHeartbeat: {
      const auto& b = env->heartbeat();
      auto from = from_pb(b.from(), "heartbeat");
      if (!from) return tl::unexpected(from.error());
      return membership::Heartbeat{*from, b.seq(), from_pb(b.view())};
    }
    case pb::MembershipEnvelope::kHeartbeatAck: {
      const auto& b = env->heartbeat_ack();
      auto from = from_pb(b.from(), "heartbeat acknowledgement (sender)");
      if (!from) return tl::unexpected(from.error());
      auto to = from_pb(b.to(), "heartbeat acknowledgement (receiver)");
      if (!to) return tl::unexpected(to.error());
      return membership::HeartbeatAck{*from, *to, b.seq()};
    }
    case pb::MembershipEnvelope::kViewInstall: {
      const auto& b = env->view_install();
      if (b.from().empty()) return fail("view install names no director node");
      membership::View view;
      view.id = from_pb(b.view().id());
      auto members = lives(b.view().members(), "view install's members");
      if (!members) return tl::unexpected(members.error());
      auto out = lives(b.view().out(), "view install's lives taken out");
      if (!out) return tl::unexpected(out.error());
      view.members = std::move(*members);
      view.out = std::move(*out);
      for (const auto& member : view.members) {
        if (view.taken_out(member)) {
          return fail("view install lists " + member.node.str() + "#" +
                      std::to_string(member.incarnation) +
                      " as a member and as taken out (a life taken out never returns)");
        }
      }
      return membership::ViewInstall{NodeId(b.from()), std::move(view), b.cause()};
    }
    case pb::MembershipEnvelope::kViewAck: {
      const auto& b = env->view_ack();
      auto from = from_pb(b.from(), "view acknowledgement");
      if (!from) return tl::unexpected(from.error());
      auto out = lives(b.out(), "view acknowledgement's lives taken out");
      if (!out) return tl::unexpected(out.error());
      membership::ViewAck ack{*from, from_pb(b.view()), std::move(*out), {}};
      for (const auto& a : b.last_acked()) {
        auto life = from_pb(a.life(), "view acknowledgement's last acknowledged life");
        if (!life) return tl::unexpected(life.error());
        if (a.ago_ns() < 0) {
          return fail("view acknowledgement says " + life->node.str() +
                      " was last acknowledged a negative time ago");
        }
        ack.last_acked_ago.emplace_back(*life, std::chrono::nanoseconds(a.ago_ns()));
      }
      return ack;
    }
    case pb::MembershipEnvelope::BODY_NOT_SET:
      break;
  }
  return fail("membership message has no body");
}

// ---- admin channel ----

std::string encode(const AdminRequest& request) {
  pb::AdminRequest env;
  env.set_protocol_version(kProtocolVersion);
  struct Visitor {
    pb::AdminRequest& env;
    void operator()(const StatusRequest&) { env.mutable_status(); }
    void operator()(const EventsRequest& e) {
      env.mutable_events()->set_after_sequence(e.after_sequence);
      env.mutable_events()->set_max_events(e.max_events);
    }
    void operator()(const AdminOperation& op) {
      env.mutable_operation()->set_operation(op.operation);
      env.mutable_operation()->set_entity_kind(op.entity_kind);
      env.mutable_operation()->set_entity(op.entity);
    }
  };
  std::visit(Visitor{env}, request);
  return env.SerializeAsString();
}

Result<AdminRequest> decode_admin_request(std::string_view bytes) {
  auto env = parse<pb::AdminRequest>(bytes, "admin request");
  if (!env) return tl::unexpected(env.error());
  switch (env->body_case()) {
    case pb::AdminRequest::kStatus:
      return StatusRequest{};
    case pb::AdminRequest::kEvents:
      return EventsRequest{env->events().after_sequence(), env->events().max_events()};
    case pb::AdminRequest::kOperation:
      return AdminOperation{env->operation().operation(), env->operation().entity_kind(),
                            env->operation().entity()};
    case pb::AdminRequest::BODY_NOT_SET:
      break;
  }
  return fail("admin request has no body");
}

std::string encode(const AdminReply& reply) {
  pb::AdminReply env;
  env.set_protocol_version(kProtocolVersion);
  struct Visitor {
    pb::AdminReply& env;
    void operator()(const ClusterStatus& s) { fill(*env.mutable_status(), s); }
    void operator()(const EventList& e) { fill(*env.mutable_events(), e); }
    void operator()(const AdminError& e) { env.set_error(valid_utf8(e.message)); }
    void operator()(const AdminOperationResult& r) {
      env.mutable_operation_result()->set_ok(r.ok);
      env.mutable_operation_result()->set_message(valid_utf8(r.message));
    }
  };
  std::visit(Visitor{env}, reply);
  return env.SerializeAsString();
}

Result<AdminReply> decode_admin_reply(std::string_view bytes) {
  auto env = parse<pb::AdminReply>(bytes, "admin reply");
  if (!env) return tl::unexpected(env.error());
  switch (env->body_case()) {
    case pb::AdminReply::kStatus:
      return from(env->status());
    case pb::AdminReply::kEvents:
      return from(env->events());
    case pb::AdminReply::kError:
      return AdminError{env->error()};
    case pb::AdminReply::kOperationResult:
      return AdminOperationResult{env->operation_result().ok(), env->operation_result().message()};
    case pb::AdminReply::BODY_NOT_SET:
      break;
  }
  return fail("admin reply has no body");
}

std::string to_json(const ClusterStatus& status) {
  pb::ClusterStatus message;
  fill(message, status);
  return json_of(message);
}

std::string to_json(const EventList& events) {
  pb::EventList message;
  fill(message, events);
  return json_of(message);
}

Result<ClusterStatus> status_from_json(std::string_view json) {
  pb::ClusterStatus message;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message);
  if (!status.ok()) return fail("not a cluster status in JSON: " + status.ToString());
  return from(message);
}

}  // namespace amf::wire
