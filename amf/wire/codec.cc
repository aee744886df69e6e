#include "amf/wire/codec.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <limits>
#include <optional>
#include <set>

#include "amf/core/utf8.h"
#include "amf/wire/amf.pb.h"
#include "amf/wire/checkpoint_pb.h"
#include "amf/wire/parse.h"

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

pb::ProtectionGroupChange to_pb(model::ProtectionGroupChange c) {
  switch (c) {
    case model::ProtectionGroupChange::kNoChange:
      return pb::PROTECTION_GROUP_NO_CHANGE;
    case model::ProtectionGroupChange::kAdded:
      return pb::PROTECTION_GROUP_ADDED;
    case model::ProtectionGroupChange::kRemoved:
      return pb::PROTECTION_GROUP_REMOVED;
    case model::ProtectionGroupChange::kStateChange:
      return pb::PROTECTION_GROUP_STATE_CHANGE;
  }
  return pb::PROTECTION_GROUP_CHANGE_UNSPECIFIED;
}

Result<model::ProtectionGroupChange> from_pb(pb::ProtectionGroupChange c) {
  switch (c) {
    case pb::PROTECTION_GROUP_NO_CHANGE:
      return model::ProtectionGroupChange::kNoChange;
    case pb::PROTECTION_GROUP_ADDED:
      return model::ProtectionGroupChange::kAdded;
    case pb::PROTECTION_GROUP_REMOVED:
      return model::ProtectionGroupChange::kRemoved;
    case pb::PROTECTION_GROUP_STATE_CHANGE:
      return model::ProtectionGroupChange::kStateChange;
    default:
      return fail("unknown protection group change " + std::to_string(static_cast<int>(c)));
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

// ---- status <-> protobuf ----

void fill(pb::ClusterStatus& out, const ClusterStatus& in) {
  out.set_cluster(in.cluster);
  out.set_node(in.node);
  out.set_admin_state(in.admin_state);
  out.set_director(in.director);
  out.set_epoch(in.epoch);
  out.set_incarnation(in.incarnation);
  out.set_partial(in.partial);
  for (const auto& m : in.components_missing) out.add_components_missing(m);
  out.set_view_epoch(in.view_epoch);
  out.set_view_number(in.view_number);
  // Absent on one node (what it decodes to is the default); present whenever it is not.
  if (!in.store.state.empty() || in.store.last_answer_ms != -1 || in.store.failing_ms != 0 ||
      !in.store.error.empty()) {
    pb::StoreHealth* store = out.mutable_store();
    store->set_state(in.store.state);
    store->set_last_answer_ms(in.store.last_answer_ms);
    store->set_failing_ms(in.store.failing_ms);
    store->set_error(in.store.error);
  }
  for (const auto& n : in.nodes) {
    auto* e = out.add_nodes();
    e->set_name(n.name);
    e->set_admin_state(n.admin_state);
    e->set_membership(n.membership);
    e->set_incarnation(n.incarnation);
  }
  for (const auto& a : in.applications) {
    auto* e = out.add_applications();
    e->set_name(a.name);
    e->set_admin_state(a.admin_state);
  }
  for (const auto& sg : in.service_groups) {
    pb::ServiceGroupStatus* s = out.add_service_groups();
    s->set_name(sg.name);
    s->set_redundancy_model(sg.redundancy_model);
    s->set_busy(sg.busy);
    s->set_admin_state(sg.admin_state);
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
        for (const auto& csi : comp.csis) {
          pb::ComponentCsiStatus* cs = c->add_csis();
          cs->set_csi(csi.csi);
          cs->set_ha_state(csi.ha_state);
        }
      }
    }
    for (const auto& si : sg.service_instances) {
      pb::ServiceInstanceStatus* i = s->add_service_instances();
      i->set_name(si.name);
      i->set_admin_state(si.admin_state);
      i->set_service_address(si.service_address);
      for (const auto& n : si.address_up_on) i->add_address_up_on(n);
      for (const auto& a : si.assignments) {
        pb::SiAssignmentStatus* as = i->add_assignments();
        as->set_service_unit(a.service_unit);
        as->set_ha_state(a.ha_state);
      }
    }
  }
}

ClusterStatus from(const pb::ClusterStatus& in) {
  ClusterStatus out{in.cluster(), in.node(),     {},         in.admin_state(), {},
                    {},           in.director(), in.epoch(), in.incarnation()};
  out.partial = in.partial();
  out.components_missing.assign(in.components_missing().begin(), in.components_missing().end());
  out.view_epoch = in.view_epoch();
  out.view_number = in.view_number();
  if (in.has_store()) {
    out.store = {in.store().state(), in.store().last_answer_ms(), in.store().failing_ms(),
                 in.store().error()};
  }
  for (const auto& n : in.nodes()) {
    out.nodes.push_back({n.name(), n.admin_state(), n.membership(), n.incarnation()});
  }
  for (const auto& a : in.applications()) out.applications.push_back({a.name(), a.admin_state()});
  for (const auto& s : in.service_groups()) {
    ServiceGroupStatus sg{s.name(), s.redundancy_model(), s.busy(), {}, {}, s.admin_state()};
    for (const auto& u : s.service_units()) {
      ServiceUnitStatus su{u.name(),
                           u.node(),
                           u.admin_state(),
                           u.oper_state(),
                           u.presence_state(),
                           u.readiness_state(),
                           {}};
      for (const auto& c : u.components()) {
        ComponentStatus comp{c.name(), c.presence_state(), c.pid(), c.registered(), {}};
        for (const auto& csi : c.csis()) comp.csis.push_back({csi.csi(), csi.ha_state()});
        su.components.push_back(std::move(comp));
      }
      sg.service_units.push_back(std::move(su));
    }
    for (const auto& i : s.service_instances()) {
      ServiceInstanceStatus si{i.name(), {}, i.admin_state(), i.service_address(), {}};
      si.address_up_on.assign(i.address_up_on().begin(), i.address_up_on().end());
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

// A CSI's attributes as repeated CsiAttribute pairs (CsiSetCallback.attribute_list,
// ActiveDescriptor.attributes), in the multimap's order.
void fill_attributes(google::protobuf::RepeatedPtrField<pb::CsiAttribute>& out,
                     const model::CsiAttributes& attributes) {
  for (const auto& [name, value] : attributes) {
    pb::CsiAttribute* a = out.Add();
    a->set_name(name);
    a->set_value(value);
  }
}

model::CsiAttributes read_attributes(
    const google::protobuf::RepeatedPtrField<pb::CsiAttribute>& in) {
  model::CsiAttributes out;
  for (const auto& a : in) out.emplace(a.name(), a.value());
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
      for (const auto& [k, v] : m.attributes) {
        cb->mutable_attributes()->insert({k, v});  // the first value of each name stays
      }
      fill_attributes(*cb->mutable_attribute_list(), m.attributes);
      if (m.active) {
        pb::ActiveDescriptor* d = cb->mutable_active();
        d->set_component(m.active->component);
        d->set_component_dn(m.active->component_dn);
        d->set_service_unit(m.active->su);
        d->set_node(m.active->node);
        fill_attributes(*d->mutable_attributes(), m.active->attributes);
      }
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
    void operator()(const TerminateCallback& m) {
      env.mutable_terminate()->set_invocation(m.invocation);
    }
    void operator()(const ProtectionGroupTrack& m) {
      auto* t = env.mutable_protection_group_track();
      t->set_request(m.request);
      t->set_csi(valid_utf8(m.csi));
      t->set_current(m.current);
      t->set_changes(m.changes);
      t->set_changes_only(m.changes_only);
      t->set_current_callback(m.current_callback);
    }
    void operator()(const CheckpointRequest& m) { fill(*env.mutable_checkpoint_request(), m); }
    void operator()(const CheckpointReply& m) { fill(*env.mutable_checkpoint_reply(), m); }
    void operator()(const ProtectionGroupTrackStop& m) {
      env.mutable_protection_group_track_stop()->set_request(m.request);
      env.mutable_protection_group_track_stop()->set_csi(valid_utf8(m.csi));
    }
    void operator()(const ProtectionGroup& m) {
      auto* g = env.mutable_protection_group();
      g->set_request(m.request);
      g->set_csi(valid_utf8(m.csi));
      g->set_error(valid_utf8(m.error));
      g->set_refusal(static_cast<pb::ProtectionGroupRefusal>(m.refusal));
      g->set_size(m.size);
      for (const auto& member : m.members) {
        auto* out = g->add_members();
        out->set_component(member.component);
        out->set_component_dn(member.component_dn);
        out->set_ha_state(to_pb(member.ha));
        out->set_rank(member.rank);
        out->set_change(to_pb(member.change));
      }
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
      if (cb.attribute_list_size() > 0) {
        out.attributes = read_attributes(cb.attribute_list());
      } else {
        for (const auto& [k, v] : cb.attributes()) out.attributes.emplace(k, v);
      }
      if (cb.has_active()) {
        const auto& d = cb.active();
        if (out.ha != model::HaState::kStandby) {
          return fail("CSI set callback: an active descriptor with HA state " +
                      std::string(model::to_string(out.ha)) + " (only a standby's names one)");
        }
        if (d.component().empty())
          return fail("CSI set callback: active descriptor without a component");
        out.active = model::ActiveDescriptor{d.component(), d.component_dn(), d.service_unit(),
                                             d.node(), read_attributes(d.attributes())};
      }
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
    case pb::ComponentEnvelope::kTerminate:
      return TerminateCallback{env->terminate().invocation()};
    case pb::ComponentEnvelope::kProtectionGroupTrack: {
      const auto& t = env->protection_group_track();
      return ProtectionGroupTrack{t.request(),          t.csi(),     t.current(),
                                  t.current_callback(), t.changes(), t.changes_only()};
    }
    case pb::ComponentEnvelope::kCheckpointRequest: {
      auto r = from_pb(env->checkpoint_request());
      if (!r) return tl::unexpected(r.error().with_context("checkpoint request"));
      return *r;
    }
    case pb::ComponentEnvelope::kCheckpointReply: {
      auto r = from_pb(env->checkpoint_reply());
      if (!r) return tl::unexpected(r.error().with_context("checkpoint reply"));
      return *r;
    }
    case pb::ComponentEnvelope::kProtectionGroupTrackStop:
      return ProtectionGroupTrackStop{env->protection_group_track_stop().request(),
                                      env->protection_group_track_stop().csi()};
    case pb::ComponentEnvelope::kProtectionGroup: {
      const auto& g = env->protection_group();
      if (g.refusal() < pb::PROTECTION_GROUP_REFUSAL_NONE ||
          g.refusal() > pb::PROTECTION_GROUP_REFUSAL_NOT_REGISTERED) {
        return fail("protection group: unknown refusal " + std::to_string(g.refusal()));
      }
      ProtectionGroup out{g.request(), g.csi(),
                          {},          static_cast<model::ProtectionGroupRefusal>(g.refusal()),
                          g.error(),   g.size()};
      for (const auto& member : g.members()) {
        auto ha = from_pb(member.ha_state());
        if (!ha) return tl::unexpected(ha.error().with_context("protection group member"));
        auto change = from_pb(member.change());
        if (!change) return tl::unexpected(change.error().with_context("protection group member"));
        out.members.push_back(
            {member.component(), member.component_dn(), *ha, member.rank(), *change});
      }
      return out;
    }
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
      b->set_hears_you(m.hears_you);
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
      return membership::Heartbeat{*from, b.seq(), from_pb(b.view()), b.hears_you()};
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

// ---- director <-> node directors ----

namespace {

pb::PresenceState to_pb(model::PresenceState p) {
  switch (p) {
    case model::PresenceState::kUninstantiated:
      return pb::PRESENCE_STATE_UNINSTANTIATED;
    case model::PresenceState::kInstantiating:
      return pb::PRESENCE_STATE_INSTANTIATING;
    case model::PresenceState::kInstantiated:
      return pb::PRESENCE_STATE_INSTANTIATED;
    case model::PresenceState::kTerminating:
      return pb::PRESENCE_STATE_TERMINATING;
    case model::PresenceState::kRestarting:
      return pb::PRESENCE_STATE_RESTARTING;
    case model::PresenceState::kInstantiationFailed:
      return pb::PRESENCE_STATE_INSTANTIATION_FAILED;
    case model::PresenceState::kTerminationFailed:
      return pb::PRESENCE_STATE_TERMINATION_FAILED;
  }
  return pb::PRESENCE_STATE_UNSPECIFIED;
}

Result<model::PresenceState> from_pb(pb::PresenceState p) {
  switch (p) {
    case pb::PRESENCE_STATE_UNINSTANTIATED:
      return model::PresenceState::kUninstantiated;
    case pb::PRESENCE_STATE_INSTANTIATING:
      return model::PresenceState::kInstantiating;
    case pb::PRESENCE_STATE_INSTANTIATED:
      return model::PresenceState::kInstantiated;
    case pb::PRESENCE_STATE_TERMINATING:
      return model::PresenceState::kTerminating;
    case pb::PRESENCE_STATE_RESTARTING:
      return model::PresenceState::kRestarting;
    case pb::PRESENCE_STATE_INSTANTIATION_FAILED:
      return model::PresenceState::kInstantiationFailed;
    case pb::PRESENCE_STATE_TERMINATION_FAILED:
      return model::PresenceState::kTerminationFailed;
    default:
      return fail("unknown presence state " + std::to_string(static_cast<int>(p)));
  }
}

pb::OperState to_pb(model::OperState o) {
  return o == model::OperState::kEnabled ? pb::OPER_STATE_ENABLED : pb::OPER_STATE_DISABLED;
}

Result<model::OperState> from_pb(pb::OperState o) {
  switch (o) {
    case pb::OPER_STATE_ENABLED:
      return model::OperState::kEnabled;
    case pb::OPER_STATE_DISABLED:
      return model::OperState::kDisabled;
    default:
      return fail("unknown operational state " + std::to_string(static_cast<int>(o)));
  }
}

// Reads the fields of one message, keeping the first thing wrong with them (the values read
// after that are placeholders, never used).
class FieldReader {
 public:
  explicit FieldReader(std::string message) : message_(std::move(message)) {}

  template <class Id>
  Id id(const std::string& name, const char* field) {
    if (name.empty()) wrong(std::string(field) + " is empty");
    return Id(name);
  }
  model::HaState ha(pb::HaState h) { return state(from_pb(h), model::HaState::kActive); }
  model::TransitionReason reason(pb::TransitionReason r) {
    return state(from_pb(r), model::TransitionReason::kNewAssignment);
  }
  model::PresenceState presence(pb::PresenceState p) {
    return state(from_pb(p), model::PresenceState::kUninstantiated);
  }
  model::OperState oper(pb::OperState o) { return state(from_pb(o), model::OperState::kEnabled); }
  int count(std::int32_t n, const char* field) {
    if (n < 0) wrong(std::string(field) + " is negative (" + std::to_string(n) + ")");
    return n;
  }
  // `name` may appear once in what `seen` collects.
  void once(std::set<std::string>& seen, const std::string& name, const char* field) {
    if (!seen.insert(name).second) wrong(std::string(field) + " lists '" + name + "' twice");
  }
  void wrong(std::string what) {
    if (!error_) error_ = message_ + ": " + std::move(what);
  }

  template <class T>
  Result<T> result(T value) const {
    if (error_) return fail(*error_);
    return value;
  }

 private:
  template <class T>
  T state(Result<T> r, T placeholder) {
    if (r) return *r;
    wrong(r.error().message());
    return placeholder;
  }

  std::string message_;
  std::optional<std::string> error_;
};

protocol::SuSnapshot read_su(FieldReader& r, const pb::SuSnapshot& in) {
  protocol::SuSnapshot out;
  out.su = r.id<SuId>(in.su(), "an SU's name");
  out.presence = r.presence(in.presence_state());
  out.oper = r.oper(in.oper_state());
  out.auto_repairable = in.auto_repairable();
  out.terminating = in.terminating();
  std::set<std::string> sis;
  for (const auto& a : in.assignments()) {
    r.once(sis, a.si(), "an SU's assignments");
    out.assignments.emplace_back(r.id<SiId>(a.si(), "an assignment's SI"), r.ha(a.ha_state()));
  }
  std::set<std::string> busy;
  for (const auto& si : in.in_progress()) {
    r.once(busy, si, "an SU's assignments in progress");
    out.in_progress.push_back(r.id<SiId>(si, "an assignment in progress"));
  }
  std::set<std::string> told;
  for (const auto& t : in.told_active()) {
    r.once(told, t.si(), "an SU's told actives");
    out.told_active.emplace_back(r.id<SiId>(t.si(), "a told active's SI"),
                                 r.id<SuId>(t.active_su(), "a told active's SU"));
  }
  out.component_restarts = r.count(in.component_restarts(), "component restarts");
  out.su_restarts = r.count(in.su_restarts(), "SU restarts");
  out.restarts_in_place = r.count(in.restarts_in_place(), "restarts in place");
  std::set<std::string> comps;
  for (const auto& c : in.components()) {
    r.once(comps, c.component(), "an SU's components");
    protocol::ComponentSnapshot comp;
    comp.comp = r.id<CompId>(c.component(), "a component's name");
    comp.presence = r.presence(c.presence_state());
    comp.registered = c.registered();
    comp.instantiation_attempts = r.count(c.instantiation_attempts(), "instantiation attempts");
    std::set<std::string> csis;
    for (const auto& csi : c.csis()) {
      r.once(csis, csi.csi(), "a component's CSIs");
      comp.csis.emplace_back(r.id<CsiId>(csi.csi(), "a CSI's name"), r.ha(csi.ha_state()));
    }
    out.components.push_back(std::move(comp));
  }
  return out;
}

void fill(pb::SuSnapshot& out, const protocol::SuSnapshot& in) {
  out.set_su(in.su.str());
  out.set_presence_state(to_pb(in.presence));
  out.set_oper_state(to_pb(in.oper));
  out.set_auto_repairable(in.auto_repairable);
  out.set_terminating(in.terminating);
  for (const auto& [si, ha] : in.assignments) {
    auto* a = out.add_assignments();
    a->set_si(si.str());
    a->set_ha_state(to_pb(ha));
  }
  for (const auto& si : in.in_progress) out.add_in_progress(si.str());
  for (const auto& [si, active] : in.told_active) {
    auto* t = out.add_told_active();
    t->set_si(si.str());
    t->set_active_su(active.str());
  }
  out.set_component_restarts(in.component_restarts);
  out.set_su_restarts(in.su_restarts);
  out.set_restarts_in_place(in.restarts_in_place);
  for (const auto& comp : in.components) {
    auto* c = out.add_components();
    c->set_component(comp.comp.str());
    c->set_presence_state(to_pb(comp.presence));
    c->set_registered(comp.registered);
    c->set_instantiation_attempts(comp.instantiation_attempts);
    for (const auto& [csi, ha] : comp.csis) {
      auto* x = c->add_csis();
      x->set_csi(csi.str());
      x->set_ha_state(to_pb(ha));
    }
  }
}

}  // namespace

std::string encode(const protocol::Envelope& envelope) {
  pb::NodeEnvelope env;
  env.set_protocol_version(kProtocolVersion);
  env.set_envelope_version(envelope.version);
  fill(*env.mutable_from(), membership::Incarnate{envelope.from.node, envelope.from.incarnation});
  fill(*env.mutable_to(), membership::Incarnate{envelope.to.node, envelope.to.incarnation});
  env.set_epoch(envelope.epoch);
  env.set_seq(envelope.seq);
  env.set_ack(envelope.ack);
  struct Visitor {
    pb::NodeEnvelope& env;
    void operator()(const protocol::InstantiateSu& m) const {
      env.mutable_instantiate_su()->set_su(m.su.str());
    }
    void operator()(const protocol::TerminateSu& m) const {
      env.mutable_terminate_su()->set_su(m.su.str());
    }
    void operator()(const protocol::RepairSu& m) const {
      env.mutable_repair_su()->set_su(m.su.str());
      env.mutable_repair_su()->set_leave_uninstantiated(!m.instantiate);
    }
    void operator()(const protocol::RestartSu& m) const {
      auto* b = env.mutable_restart_su();
      b->set_su(m.su.str());
      if (m.comp) b->set_component(m.comp->str());
    }
    void operator()(const protocol::AssignHa& m) const {
      auto* b = env.mutable_assign_ha();
      b->set_su(m.su.str());
      b->set_si(m.si.str());
      b->set_ha_state(to_pb(m.ha));
      b->set_reason(to_pb(m.reason));
      b->set_command(m.id);
      if (m.active) b->set_active_su(m.active->str());
    }
    void operator()(const protocol::RemoveHa& m) const {
      auto* b = env.mutable_remove_ha();
      b->set_su(m.su.str());
      b->set_si(m.si.str());
      b->set_command(m.id);
    }
    void operator()(const protocol::SnapshotRequest& m) const {
      env.mutable_snapshot_request()->set_command(m.id);
    }
    void operator()(const protocol::SuStateReport& m) const {
      auto* b = env.mutable_su_state_report();
      b->set_su(m.su.str());
      b->set_presence_state(to_pb(m.presence));
      b->set_oper_state(to_pb(m.oper));
      b->set_cause(valid_utf8(m.cause));
      b->set_auto_repairable(m.auto_repairable);
    }
    void operator()(const protocol::AssignmentDone& m) const {
      auto* b = env.mutable_assignment_done();
      b->set_su(m.su.str());
      b->set_si(m.si.str());
      b->set_ha_state(to_pb(m.ha));
      b->set_command(m.command);
    }
    void operator()(const protocol::RemovalDone& m) const {
      auto* b = env.mutable_removal_done();
      b->set_su(m.su.str());
      b->set_si(m.si.str());
      b->set_command(m.command);
    }
    void operator()(const protocol::NodeSnapshot& m) const {
      auto* b = env.mutable_node_snapshot();
      b->set_command(m.command);
      b->set_node(m.node.str());
      b->set_su_failovers(m.su_failovers);
      b->set_shutting_down(m.shutting_down);
      for (const auto& su : m.sus) fill(*b->add_service_units(), su);
      b->set_leaving(m.leaving);
    }
    void operator()(const protocol::NodeLeaving& m) const {
      auto* b = env.mutable_node_leaving();
      b->set_node(m.node.str());
      b->set_cause(valid_utf8(m.cause));
    }
    void operator()(const protocol::AdminForward& m) const {
      auto* b = env.mutable_admin_forward();
      b->set_request(m.request);
      b->set_operation(valid_utf8(m.operation));
      b->set_entity_kind(valid_utf8(m.kind));
      b->set_entity(valid_utf8(m.entity));
    }
    void operator()(const protocol::AdminAnswer& m) const {
      auto* b = env.mutable_admin_answer();
      b->set_request(m.request);
      b->set_ok(m.ok);
      b->set_message(valid_utf8(m.message));
    }
    void operator()(const protocol::StatusForward& m) const {
      env.mutable_status_forward()->set_request(m.request);
    }
    void operator()(const protocol::StatusAnswer& m) const {
      auto* b = env.mutable_status_answer();
      b->set_request(m.request);
      b->set_ok(m.ok);
      b->set_status(m.status);  // bytes: an encoded status, or a reason
    }
    void operator()(const protocol::StatusPartAsk& m) const {
      env.mutable_status_part_ask()->set_request(m.request);
    }
    void operator()(const protocol::StatusPart& m) const {
      auto* b = env.mutable_status_part();
      b->set_request(m.request);
      b->set_ok(m.ok);
      b->set_part(m.part);  // bytes: a node's encoded status, or a reason
    }
    void operator()(const protocol::NodeCommand& c) const { std::visit(*this, c); }
    void operator()(const protocol::NodeReport& r) const { std::visit(*this, r); }
  };
  if (envelope.message) std::visit(Visitor{env}, *envelope.message);
  return env.SerializeAsString();
}

namespace {

Result<protocol::Message> read_message(const pb::NodeEnvelope& env) {
  using namespace protocol;
  switch (env.body_case()) {
    case pb::NodeEnvelope::kInstantiateSu: {
      FieldReader r("InstantiateSu");
      return r.result<Message>(
          NodeCommand{InstantiateSu{r.id<SuId>(env.instantiate_su().su(), "su")}});
    }
    case pb::NodeEnvelope::kTerminateSu: {
      FieldReader r("TerminateSu");
      return r.result<Message>(NodeCommand{TerminateSu{r.id<SuId>(env.terminate_su().su(), "su")}});
    }
    case pb::NodeEnvelope::kRepairSu: {
      FieldReader r("RepairSu");
      return r.result<Message>(NodeCommand{RepairSu{r.id<SuId>(env.repair_su().su(), "su"),
                                                    !env.repair_su().leave_uninstantiated()}});
    }
    case pb::NodeEnvelope::kRestartSu: {
      const auto& b = env.restart_su();
      FieldReader r("RestartSu");
      RestartSu m{r.id<SuId>(b.su(), "su"), std::nullopt};
      if (!b.component().empty()) m.comp = CompId(b.component());
      return r.result<Message>(NodeCommand{m});
    }
    case pb::NodeEnvelope::kAssignHa: {
      const auto& b = env.assign_ha();
      FieldReader r("AssignHa");
      AssignHa m{r.id<SuId>(b.su(), "su"), r.id<SiId>(b.si(), "si"), r.ha(b.ha_state()),
                 r.reason(b.reason()), b.command()};
      if (m.id == 0) r.wrong("command is 0 (no command)");
      if (!b.active_su().empty()) {
        m.active = r.id<SuId>(b.active_su(), "active_su");
        if (m.ha != model::HaState::kStandby) r.wrong("active_su given with a non-standby state");
        if (m.active == m.su) r.wrong("active_su is the standby's own SU");
      }
      return r.result<Message>(NodeCommand{m});
    }
    case pb::NodeEnvelope::kRemoveHa: {
      const auto& b = env.remove_ha();
      FieldReader r("RemoveHa");
      RemoveHa m{r.id<SuId>(b.su(), "su"), r.id<SiId>(b.si(), "si"), b.command()};
      if (m.id == 0) r.wrong("command is 0 (no command)");
      return r.result<Message>(NodeCommand{m});
    }
    case pb::NodeEnvelope::kSnapshotRequest: {
      FieldReader r("SnapshotRequest");
      if (env.snapshot_request().command() == 0) r.wrong("command is 0 (no command)");
      return r.result<Message>(NodeCommand{SnapshotRequest{env.snapshot_request().command()}});
    }
    case pb::NodeEnvelope::kSuStateReport: {
      const auto& b = env.su_state_report();
      FieldReader r("SuStateReport");
      SuStateReport m{r.id<SuId>(b.su(), "su"), r.presence(b.presence_state()),
                      r.oper(b.oper_state()), b.cause(), b.auto_repairable()};
      return r.result<Message>(NodeReport{m});
    }
    case pb::NodeEnvelope::kAssignmentDone: {
      const auto& b = env.assignment_done();
      FieldReader r("AssignmentDone");
      AssignmentDone m{r.id<SuId>(b.su(), "su"), r.id<SiId>(b.si(), "si"), r.ha(b.ha_state()),
                       b.command()};
      return r.result<Message>(NodeReport{m});
    }
    case pb::NodeEnvelope::kRemovalDone: {
      const auto& b = env.removal_done();
      FieldReader r("RemovalDone");
      RemovalDone m{r.id<SuId>(b.su(), "su"), r.id<SiId>(b.si(), "si"), b.command()};
      return r.result<Message>(NodeReport{m});
    }
    case pb::NodeEnvelope::kNodeSnapshot: {
      const auto& b = env.node_snapshot();
      FieldReader r("NodeSnapshot");
      NodeSnapshot m;
      m.command = b.command();
      m.node = r.id<NodeId>(b.node(), "node");
      if (m.node.str() != env.from().node()) {
        r.wrong("a snapshot of node '" + b.node() + "' sent by node '" + env.from().node() + "'");
      }
      m.su_failovers = r.count(b.su_failovers(), "SU failovers");
      m.shutting_down = b.shutting_down();
      m.leaving = b.leaving();
      for (const auto& su : b.service_units()) {
        if (!m.sus.empty() && !(m.sus.back().su.str() < su.su())) {
          r.wrong("SU '" + su.su() +
                  "' is listed out of order or twice (one entry per SU, in "
                  "name order)");
        }
        m.sus.push_back(read_su(r, su));
      }
      return r.result<Message>(NodeReport{std::move(m)});
    }
    case pb::NodeEnvelope::kNodeLeaving: {
      const auto& b = env.node_leaving();
      FieldReader r("NodeLeaving");
      NodeLeaving m{r.id<NodeId>(b.node(), "node"), b.cause()};
      if (m.node.str() != env.from().node()) {
        r.wrong("node '" + b.node() + "' said to be leaving by node '" + env.from().node() + "'");
      }
      return r.result<Message>(NodeReport{std::move(m)});
    }
    case pb::NodeEnvelope::kAdminForward: {
      const auto& b = env.admin_forward();
      FieldReader r("AdminForward");
      if (b.request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(
          AdminForward{b.request(), b.operation(), b.entity_kind(), b.entity()});
    }
    case pb::NodeEnvelope::kAdminAnswer: {
      const auto& b = env.admin_answer();
      FieldReader r("AdminAnswer");
      if (b.request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(AdminAnswer{b.request(), b.ok(), b.message()});
    }
    case pb::NodeEnvelope::kStatusForward: {
      FieldReader r("StatusForward");
      if (env.status_forward().request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(StatusForward{env.status_forward().request()});
    }
    case pb::NodeEnvelope::kStatusAnswer: {
      const auto& b = env.status_answer();
      FieldReader r("StatusAnswer");
      if (b.request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(StatusAnswer{b.request(), b.ok(), b.status()});
    }
    case pb::NodeEnvelope::kStatusPartAsk: {
      FieldReader r("StatusPartAsk");
      if (env.status_part_ask().request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(StatusPartAsk{env.status_part_ask().request()});
    }
    case pb::NodeEnvelope::kStatusPart: {
      const auto& b = env.status_part();
      FieldReader r("StatusPart");
      if (b.request() == 0) r.wrong("request is 0 (no request)");
      return r.result<Message>(StatusPart{b.request(), b.ok(), b.part()});
    }
    case pb::NodeEnvelope::BODY_NOT_SET:
      break;
  }
  return fail("no message");  // the caller knows an envelope with seq 0 has none
}

}  // namespace

Result<protocol::Envelope> decode_node_envelope(std::string_view bytes) {
  auto env = parse<pb::NodeEnvelope>(bytes, "node envelope");
  if (!env) return tl::unexpected(env.error());
  auto from = from_pb(env->from(), "node envelope's sender");
  if (!from) return tl::unexpected(from.error());
  auto to = from_pb(env->to(), "node envelope's receiver");
  if (!to) return tl::unexpected(to.error());
  protocol::Envelope out{env->envelope_version(),
                         {from->node, from->incarnation},
                         {to->node, to->incarnation},
                         env->epoch(),
                         env->seq(),
                         env->ack(),
                         std::nullopt};
  const std::string where =
      "node envelope from " + from->node.str() + " (seq " + std::to_string(out.seq) + ")";
  if (env->body_case() == pb::NodeEnvelope::BODY_NOT_SET) {
    if (out.seq != 0) return fail(where + " is numbered but carries no message");
    return out;
  }
  if (out.seq == 0) return fail(where + " carries a message numbered 0");
  auto message = read_message(*env);
  if (!message) return fail(where + ": " + message.error().message());
  out.message = std::move(*message);
  return out;
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
    void operator()(const CheckpointsRequest& r) {
      env.mutable_checkpoints()->set_name(valid_utf8(r.name));
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
    case pb::AdminRequest::kCheckpoints:
      return CheckpointsRequest{env->checkpoints().name()};
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
    void operator()(const CheckpointList& l) { fill(*env.mutable_checkpoints(), l); }
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
    case pb::AdminReply::kCheckpoints: {
      auto list = from_pb(env->checkpoints());
      if (!list) return tl::unexpected(list.error().with_context("checkpoint list"));
      return *list;
    }
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

std::string to_json(const CheckpointList& list) {
  pb::CheckpointList message;
  fill(message, list);
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
