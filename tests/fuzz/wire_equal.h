#pragma once

#include <tuple>
#include <variant>
#include <vector>

#include "amf/wire/codec.h"
#include "amf/wire/messages.h"

// Field-by-field equality of the wire structs, for the round-trip checks of the wire fuzz
// targets (amf/wire/messages.h declares no operator==). A field added to a struct and not here
// is not compared: keep the two in step.
namespace amf::fuzz {

inline auto fields(const wire::RegisterRequest& m) { return std::tie(m.component_name, m.pid); }
inline auto fields(const wire::RegisterReply& m) { return std::tie(m.ok, m.error); }
inline auto fields(const wire::CsiSet& m) {
  return std::tie(m.invocation, m.csi, m.ha, m.reason, m.attributes, m.active);
}
inline auto fields(const wire::CsiRemove& m) { return std::tie(m.invocation, m.csi); }
inline auto fields(const wire::Response& m) { return std::tie(m.invocation, m.ok, m.error); }
inline auto fields(const wire::ErrorReport& m) {
  return std::tie(m.recommended_recovery, m.reason);
}
inline auto fields(const wire::HealthcheckCallback& m) { return std::tie(m.invocation, m.key); }
inline auto fields(const wire::HealthcheckConfirm& m) { return std::tie(m.key); }
inline auto fields(const wire::TerminateCallback& m) { return std::tie(m.invocation); }
inline auto fields(const wire::ProtectionGroupTrack& m) {
  return std::tie(m.request, m.csi, m.current, m.current_callback, m.changes, m.changes_only);
}
inline auto fields(const wire::ProtectionGroupTrackStop& m) { return std::tie(m.request, m.csi); }
inline auto fields(const wire::ProtectionGroup& m) {
  return std::tie(m.request, m.csi, m.members, m.refusal, m.error, m.size);
}
inline auto fields(const wire::StatusRequest&) { return std::tie(); }
inline auto fields(const wire::EventsRequest& m) {
  return std::tie(m.after_sequence, m.max_events);
}
inline auto fields(const wire::AdminOperation& m) {
  return std::tie(m.operation, m.entity_kind, m.entity);
}
inline auto fields(const wire::ComponentCsiStatus& m) { return std::tie(m.csi, m.ha_state); }
inline auto fields(const wire::EntityAdminState& m) { return std::tie(m.name, m.admin_state); }
inline auto fields(const wire::NodeStatus& m) {
  return std::tie(m.name, m.admin_state, m.membership, m.incarnation);
}
inline auto fields(const wire::StoreHealthStatus& m) {
  return std::tie(m.state, m.last_answer_ms, m.failing_ms, m.error);
}
inline auto fields(const wire::SiAssignmentStatus& m) {
  return std::tie(m.service_unit, m.ha_state);
}
inline auto fields(const wire::EventRecord& m) {
  return std::tie(m.sequence, m.monotonic_ns, m.realtime_ns, m.kind, m.entity, m.related, m.from,
                  m.to, m.cause);
}
inline auto fields(const wire::AdminError& m) { return std::tie(m.message); }
inline auto fields(const wire::AdminOperationResult& m) { return std::tie(m.ok, m.message); }

// The checkpoint requests and replies carry operations and attributes (amf/checkpoint), which
// have no field list here: they compare by their encoding, which is deterministic for one
// build (no maps), so a field lost or changed by decoding still shows.
inline bool same(const wire::CheckpointRequest& a, const wire::CheckpointRequest& b) {
  return wire::encode(wire::ComponentMessage{a}) == wire::encode(wire::ComponentMessage{b});
}
inline bool same(const wire::CheckpointReply& a, const wire::CheckpointReply& b) {
  return wire::encode(wire::ComponentMessage{a}) == wire::encode(wire::ComponentMessage{b});
}

inline bool same(const wire::CheckpointList& a, const wire::CheckpointList& b) {
  return wire::encode(wire::AdminReply{a}) == wire::encode(wire::AdminReply{b});
}
inline auto fields(const wire::CheckpointsRequest& m) { return std::tie(m.name); }

// The nested status structs, declared before the templates that reach them through vectors.
inline bool same(const wire::ComponentStatus& a, const wire::ComponentStatus& b);
inline bool same(const wire::ServiceUnitStatus& a, const wire::ServiceUnitStatus& b);
inline bool same(const wire::ServiceInstanceStatus& a, const wire::ServiceInstanceStatus& b);
inline bool same(const wire::ServiceGroupStatus& a, const wire::ServiceGroupStatus& b);

template <class T>
bool same(const T& a, const T& b) {
  return fields(a) == fields(b);
}

template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same(a[i], b[i])) return false;
  }
  return true;
}

// The nested status structs: their scalar fields with std::tie, their lists element-wise.
inline bool same(const wire::ComponentStatus& a, const wire::ComponentStatus& b) {
  return std::tie(a.name, a.presence_state, a.pid, a.registered) ==
             std::tie(b.name, b.presence_state, b.pid, b.registered) &&
         same(a.csis, b.csis);
}
inline bool same(const wire::ServiceUnitStatus& a, const wire::ServiceUnitStatus& b) {
  return std::tie(a.name, a.node, a.admin_state, a.oper_state, a.presence_state,
                  a.readiness_state) == std::tie(b.name, b.node, b.admin_state, b.oper_state,
                                                 b.presence_state, b.readiness_state) &&
         same(a.components, b.components);
}
inline bool same(const wire::ServiceInstanceStatus& a, const wire::ServiceInstanceStatus& b) {
  return a.name == b.name && a.admin_state == b.admin_state && same(a.assignments, b.assignments);
}
inline bool same(const wire::ServiceGroupStatus& a, const wire::ServiceGroupStatus& b) {
  return std::tie(a.name, a.redundancy_model, a.busy, a.admin_state) ==
             std::tie(b.name, b.redundancy_model, b.busy, b.admin_state) &&
         same(a.service_units, b.service_units) && same(a.service_instances, b.service_instances);
}
inline bool same(const wire::ClusterStatus& a, const wire::ClusterStatus& b) {
  return std::tie(a.cluster, a.node, a.admin_state, a.director, a.epoch, a.incarnation,
                  a.view_epoch, a.view_number,
                  a.partial) == std::tie(b.cluster, b.node, b.admin_state, b.director, b.epoch,
                                         b.incarnation, b.view_epoch, b.view_number, b.partial) &&
         same(a.store, b.store) && same(a.nodes, b.nodes) && same(a.applications, b.applications) &&
         same(a.service_groups, b.service_groups);
}
inline bool same(const wire::EventList& a, const wire::EventList& b) {
  return same(a.events, b.events);
}

// Same alternative, equal contents.
template <class... Ts>
bool same(const std::variant<Ts...>& a, const std::variant<Ts...>& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return same(x, std::get<T>(b));
      },
      a);
}

}  // namespace amf::fuzz
