#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "amf/checkpoint/service.h"
#include "amf/model/states.h"

// Plain C++ mirrors of amf.proto. Protobuf types never leave amf/wire: everything outside
// speaks these structs and calls the codecs in codec.h.
namespace amf::wire {

inline constexpr std::uint32_t kProtocolVersion = 1;

// ---- component channel ----
struct RegisterRequest {
  std::string component_name;
  std::int32_t pid = 0;
};
struct RegisterReply {
  bool ok = false;
  std::string error;
};
struct CsiSet {
  std::uint64_t invocation = 0;
  std::string csi;
  model::HaState ha = model::HaState::kActive;
  model::TransitionReason reason = model::TransitionReason::kNewAssignment;
  model::CsiAttributes attributes;                // names repeat for a multi-valued attribute
  std::optional<model::ActiveDescriptor> active;  // a standby's: who holds the CSI active
};
struct CsiRemove {
  std::uint64_t invocation = 0;
  std::string csi;
};
struct Response {
  std::uint64_t invocation = 0;
  bool ok = false;
  std::string error;
};
struct ErrorReport {
  std::string recommended_recovery;  // empty: the component's configured recovery
  std::string reason;
};
struct HealthcheckCallback {
  std::uint64_t invocation = 0;
  std::string key;
};
struct HealthcheckConfirm {
  std::string key;
};
struct TerminateCallback {
  std::uint64_t invocation = 0;
};
// The component asks for a CSI's protection group (saAmfProtectionGroupTrack): `current`, the
// group now, in the answer (a ProtectionGroup of the same `request`), or `current_callback`,
// in a ProtectionGroup of request 0 after it; `changes` or `changes_only`, the group (or its
// changed members) again whenever it changes, in ProtectionGroups of request 0. `csi` is an id
// (SG/SI/CSI) or a DN (safCsi=CSI,safSi=SI,safApp=APP).
struct ProtectionGroupTrack {
  std::uint64_t request = 0;
  std::string csi;
  bool current = false;
  bool current_callback = false;
  bool changes = false;
  bool changes_only = false;
};
struct ProtectionGroupTrackStop {
  std::uint64_t request = 0;
  std::string csi;
};
// amfd's answer to a request (`request` non-zero; `refusal` and `error` say why when it was
// refused), or a tracked group (request 0). `csi` as the component named it.
struct ProtectionGroup {
  std::uint64_t request = 0;
  std::string csi;
  std::vector<model::ProtectionGroupMember> members;
  model::ProtectionGroupRefusal refusal = model::ProtectionGroupRefusal::kNone;
  std::string error;
  std::uint32_t size = 0;  // how many members the group has now (`members` may list fewer)
};
// The checkpoint service (amf/checkpoint/service.h): the component asks, amfd answers with a
// CheckpointReply of the same `request`.
struct CheckpointOpen {
  std::optional<checkpoint::Attributes> create;  // create it if this node holds no replica
  bool write = false;
};
struct CheckpointClose {};
struct CheckpointRead {
  checkpoint::SectionId section;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};
struct CheckpointSections {};
struct CheckpointRequest {
  std::uint64_t request = 0;
  checkpoint::CheckpointName checkpoint;
  std::variant<CheckpointOpen, CheckpointClose, checkpoint::Operation, CheckpointRead,
               CheckpointSections>
      body;
};
struct CheckpointReply {
  std::uint64_t request = 0;
  bool ok = false;
  std::string error;
  std::string data;                               // a read's
  std::vector<checkpoint::SectionInfo> sections;  // a sections request's
};
// What amfd's component socket takes in one message (a larger one is refused by ZeroMQ, which
// drops the connection); the library refuses to send more.
inline constexpr std::int64_t kMaxComponentMessageBytes = 64 * 1024;

using ComponentMessage =
    std::variant<RegisterRequest, RegisterReply, CsiSet, CsiRemove, Response, ErrorReport,
                 HealthcheckCallback, HealthcheckConfirm, TerminateCallback, ProtectionGroupTrack,
                 ProtectionGroupTrackStop, ProtectionGroup, CheckpointRequest, CheckpointReply>;

// ---- admin channel ----
struct StatusRequest {};
struct EventsRequest {
  std::uint64_t after_sequence = 0;
  std::uint32_t max_events = 0;
};
struct AdminOperation {
  std::string operation;  // "lock", "si-swap", ... (see amf.proto)
  std::string entity_kind;
  std::string entity;
};
// amfctl ckpt: this node's checkpoints (`name` empty), or one with its sections.
struct CheckpointsRequest {
  std::string name;
};
using AdminRequest = std::variant<StatusRequest, EventsRequest, AdminOperation, CheckpointsRequest>;

struct ComponentCsiStatus {
  std::string csi;
  std::string ha_state;
};
struct ComponentStatus {
  std::string name;
  std::string presence_state;
  std::int32_t pid = 0;
  bool registered = false;
  std::vector<ComponentCsiStatus> csis;  // the CSIs it holds (assigned, acknowledged or not)
};
struct ServiceUnitStatus {
  std::string name;
  std::string node;
  std::string admin_state;  // the SU's own (an SG's or node's lock shows in its readiness)
  std::string oper_state;
  std::string presence_state;
  std::string readiness_state;
  std::vector<ComponentStatus> components;
};
struct SiAssignmentStatus {
  std::string service_unit;
  std::string ha_state;
};
struct ServiceInstanceStatus {
  std::string name;
  std::vector<SiAssignmentStatus> assignments;
  std::string admin_state;  // the SI's own
  // Its floating service address ("IP/PREFIX on INTERFACE"; empty: none), and the nodes where
  // it is up, each as that node says.
  std::string service_address;
  std::vector<std::string> address_up_on;
};
struct ServiceGroupStatus {
  std::string name;
  std::string redundancy_model;
  bool busy = false;
  std::vector<ServiceUnitStatus> service_units;
  std::vector<ServiceInstanceStatus> service_instances;
  std::string admin_state;  // the SG's own
};
struct EntityAdminState {
  std::string name;
  std::string admin_state;
};
struct NodeStatus {
  std::string name;
  std::string admin_state;  // the node's own (the director's; "-" where it is not known)
  // Several nodes, as the answering node sees it: "member" (in its membership view and heard),
  // "suspected" (in the view, not heard within the timeout), "joining" (heard, not in the view
  // yet), "down" (neither); this node itself is "member", "fenced" (in the view, without
  // its lease) or "joining".
  std::string membership;
  std::uint64_t incarnation = 0;  // the life in the view, or the newest heard; 0: none
};
// Several nodes: the store (etcd) as the answering node sees it, from its own requests.
struct StoreHealthStatus {
  std::string state;                 // "reachable", "unreachable" or "not asked yet"
  std::int64_t last_answer_ms = -1;  // since the store last answered; -1: never
  std::int64_t failing_ms = 0;       // since its requests began to fail; 0: they do not
  std::string error;                 // the newest failure
};
struct ClusterStatus {
  std::string cluster;
  std::string node;
  std::vector<ServiceGroupStatus> service_groups;
  std::string admin_state;                     // the cluster's own
  std::vector<NodeStatus> nodes;               // in configuration order
  std::vector<EntityAdminState> applications;  // each application's own, in configuration order
  // Several nodes: the director this node follows (or is; empty while none is known), its
  // epoch, and this node's life.
  std::string director;
  std::uint64_t epoch = 0;
  std::uint64_t incarnation = 0;
  // Several nodes: the membership view this node installed (epoch and number; 0.0: none yet),
  // and the store's health.
  std::uint64_t view_epoch = 0;
  std::uint64_t view_number = 0;
  StoreHealthStatus store;
  // Why the SGs show this node's own SUs and components only, without the director's states
  // (no director known, or it did not answer); empty when they are the director's.
  std::string partial;
  // Several nodes: the nodes whose components are not shown, each "NODE: why".
  std::vector<std::string> components_missing;
};
struct EventRecord {
  std::uint64_t sequence = 0;
  std::int64_t monotonic_ns = 0;
  std::int64_t realtime_ns = 0;
  std::string kind;
  std::string entity;
  std::string related;
  std::string from;
  std::string to;
  std::string cause;
};
struct EventList {
  std::vector<EventRecord> events;
};
struct AdminError {
  std::string message;
};
struct AdminOperationResult {
  bool ok = false;
  std::string message;
};
// A checkpoint as the answering node holds it; `sections` for one asked for by name.
struct CheckpointView {
  checkpoint::CheckpointStatus status;
  std::vector<checkpoint::SectionInfo> sections;
};
struct CheckpointList {
  std::string node;
  std::vector<CheckpointView> checkpoints;
};
using AdminReply =
    std::variant<ClusterStatus, EventList, AdminError, AdminOperationResult, CheckpointList>;

}  // namespace amf::wire
