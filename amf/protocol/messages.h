#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/model/states.h"

// What the director and the node directors say to each other: the commands of the director,
// the reports and answers of a node director. They travel between nodes in envelopes
// (envelope.h) over reliable links (link.h); on one node the runtime hands them across
// directly.
namespace amf::protocol {

// Names one director command; the node director's answer carries it back, so an answer is
// matched to the command it answers and never to a later one for the same SU and SI (a late
// or duplicated answer completes nothing). Unique per director epoch; 0 is no command.
using CommandId = std::uint64_t;

// ---- node director -> director ----

// The SU's presence or operational state changed. Contract: a node director reports an SU
// out of its instantiated presence only once none of its components runs any more, so the
// director may treat every assignment of that SU as gone and fail its SIs over at once
// without risking two actives.
struct SuStateReport {
  SuId su;
  model::PresenceState presence;
  model::OperState oper;
  std::string cause;
  // False after a node failover: the SU stays disabled until an operator repairs it, however
  // its SG's auto_repair is set (repairing in a loop what the node itself broke helps nobody).
  bool auto_repairable = true;
  friend bool operator==(const SuStateReport&, const SuStateReport&) = default;
};

// Every CSI of `si` in `su` now has HA state `ha` (all components answered OK): the answer to
// the AssignHa `command`.
struct AssignmentDone {
  SuId su;
  SiId si;
  model::HaState ha;
  CommandId command = 0;
  friend bool operator==(const AssignmentDone&, const AssignmentDone&) = default;
};

// Every CSI of `si` has been removed from `su`: the answer to the RemoveHa `command`.
struct RemovalDone {
  SuId su;
  SiId si;
  CommandId command = 0;
  friend bool operator==(const RemovalDone&, const RemovalDone&) = default;
};

// What a node director holds, for a director that has to rebuild its tables (a newly elected
// one): the answer to a SnapshotRequest.
struct ComponentSnapshot {
  CompId comp;
  model::PresenceState presence;
  bool registered = false;
  int instantiation_attempts = 0;  // in the current instantiation
  std::vector<std::pair<CsiId, model::HaState>> csis;
  friend bool operator==(const ComponentSnapshot&, const ComponentSnapshot&) = default;
};
struct SuSnapshot {
  SuId su;
  // As the node director's SuStateReports said last (never terminating: see SuStateReport), so
  // that the next report, which follows a change from that, keeps the director's view right.
  model::PresenceState presence;
  model::OperState oper;
  bool auto_repairable = true;
  // Its processes are being ended (a failover, a termination): a report follows, once none
  // runs or a cleanup failed. Until then they may act on `assignments`, which they were told
  // to give up, so the director moves none of those SIs before that report.
  bool terminating = false;
  // The HA state of each SI assigned to the SU as the node director last heard it from the
  // director (acknowledged or still being carried out).
  std::vector<std::pair<SiId, model::HaState>> assignments;
  // SIs whose assignment or removal is still being carried out (not yet answered).
  std::vector<SiId> in_progress;
  // Escalation counters: component restarts and SU restarts in their probation windows, and
  // restarts in place towards the recovery ceiling.
  int component_restarts = 0;
  int su_restarts = 0;
  int restarts_in_place = 0;
  std::vector<ComponentSnapshot> components;
  // Of its standby SIs, the active SU its components were told of (AssignHa::active), so
  // that a new director tells again only a standby that was told of another.
  std::vector<std::pair<SiId, SuId>> told_active;
  friend bool operator==(const SuSnapshot&, const SuSnapshot&) = default;
};
struct NodeSnapshot {
  CommandId command = 0;  // the SnapshotRequest answered
  NodeId node;
  int su_failovers = 0;  // in the node's probation window, towards a node failover
  bool shutting_down = false;
  std::vector<SuSnapshot> sus;  // every SU the node hosts, in SuId order
  bool leaving = false;         // it said NodeLeaving (below) in this life
  friend bool operator==(const NodeSnapshot&, const NodeSnapshot&) = default;
};

// The node's amfd is stopping: the director moves every assignment of its SUs to other
// nodes, gracefully (quiesced first, as a lock of the node would, but the node's admin state
// stays as it is), and instantiates nothing more on it. The node ends its components once it
// holds no assignment. Holds for the life that said it; its next one is a node like any other.
struct NodeLeaving {
  NodeId node;
  std::string cause;
  friend bool operator==(const NodeLeaving&, const NodeLeaving&) = default;
};

// ---- director -> node director ----

struct InstantiateSu {
  SuId su;
  friend bool operator==(const InstantiateSu&, const InstantiateSu&) = default;
};

// Clear a disabled SU (auto-repair or the repair admin operation) and, unless it is
// locked for instantiation (its own, its node's, SG's, application's or the cluster's admin
// state), instantiate it again.
struct RepairSu {
  SuId su;
  bool instantiate = true;
  friend bool operator==(const RepairSu&, const RepairSu&) = default;
};

// Terminate the SU's components gracefully (terminate, then cleanup after the timeout).
struct TerminateSu {
  SuId su;
  friend bool operator==(const TerminateSu&, const TerminateSu&) = default;
};

// The restart admin operation: the SU's components (or only `comp`) are terminated gracefully
// and instantiated again in place; the SU keeps its assignments, given back to the
// components as they register. The node director reports the SU once the restart is over
// (an SuStateReport even when nothing changed), so the director can answer the operation.
struct RestartSu {
  SuId su;
  std::optional<CompId> comp;
  friend bool operator==(const RestartSu&, const RestartSu&) = default;
};

struct AssignHa {
  SuId su;
  SiId si;
  model::HaState ha;
  model::TransitionReason reason;
  CommandId id = 0;
  // A standby assignment: the SU that holds the SI active when the command is issued, if one
  // does. Its components' standby CSI set callbacks and hooks name the active (its component,
  // SU, node and CSI attributes). Sent again, standby to standby, when the active moves.
  std::optional<SuId> active;
  friend bool operator==(const AssignHa&, const AssignHa&) = default;
};

struct RemoveHa {
  SuId su;
  SiId si;
  CommandId id = 0;
  friend bool operator==(const RemoveHa&, const RemoveHa&) = default;
};

// Answer with a NodeSnapshot of everything the node director holds.
struct SnapshotRequest {
  CommandId id = 0;
  friend bool operator==(const SnapshotRequest&, const SnapshotRequest&) = default;
};

using NodeCommand = std::variant<InstantiateSu, TerminateSu, RepairSu, RestartSu, AssignHa,
                                 RemoveHa, SnapshotRequest>;
using NodeReport =
    std::variant<SuStateReport, AssignmentDone, RemovalDone, NodeSnapshot, NodeLeaving>;

// ---- an operator's admin operation, made on a node that does not hold the director ----
// The runtimes carry these between themselves (node_runtime.h); the cores never see them.

// node -> director: the operator asked for `operation` (as amfctl spells it: "lock", "si-swap",
// ...) on the entity of `kind` ("su", "node", ...) named `entity`. `request` is the asking
// node's own number for it, carried back in the answer.
struct AdminForward {
  std::uint64_t request = 0;
  std::string operation;
  std::string kind;
  std::string entity;
  friend bool operator==(const AdminForward&, const AdminForward&) = default;
};

// director -> node: the director's result of the AdminForward numbered `request`.
struct AdminAnswer {
  std::uint64_t request = 0;
  bool ok = false;
  std::string message;
  friend bool operator==(const AdminAnswer&, const AdminAnswer&) = default;
};

// node -> director: the operator asked for the cluster's status (amfctl status) on a node that
// does not hold the director, which alone knows every SG, SU and SI.
struct StatusForward {
  std::uint64_t request = 0;
  friend bool operator==(const StatusForward&, const StatusForward&) = default;
};

// director -> node: the director's status for the StatusForward numbered `request`, as the
// director's host encoded it (amfd: an admin reply holding a ClusterStatus; the runtimes carry
// it without looking), or, when !ok, why there is none.
struct StatusAnswer {
  std::uint64_t request = 0;
  bool ok = false;
  std::string status;  // ok: the encoded status; else the reason
  friend bool operator==(const StatusAnswer&, const StatusAnswer&) = default;
};

// director -> node: the director gathers a status (its own number `request`) and asks each
// node for its part, which only the node knows (amfd: its components, their processes and
// CSIs), as the node's host encodes it.
struct StatusPartAsk {
  std::uint64_t request = 0;
  friend bool operator==(const StatusPartAsk&, const StatusPartAsk&) = default;
};

// node -> director: the node's part for the StatusPartAsk numbered `request`, or, when !ok,
// why there is none.
struct StatusPart {
  std::uint64_t request = 0;
  bool ok = false;
  std::string part;  // ok: the encoded part; else the reason
  friend bool operator==(const StatusPart&, const StatusPart&) = default;
};

}  // namespace amf::protocol
