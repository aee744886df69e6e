#pragma once

#include <optional>
#include <string>
#include <variant>

#include "amf/core/id.h"
#include "amf/model/states.h"

// What the director and the node directors say to each other. Today both run in one amfd and
// the daemon hands these across directly; with several nodes they travel in amf.v1 envelopes.
namespace amf::director {

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
};

// Every CSI of `si` in `su` now has HA state `ha` (all components answered OK).
struct AssignmentDone {
  SuId su;
  SiId si;
  model::HaState ha;
};

// Every CSI of `si` has been removed from `su`.
struct RemovalDone {
  SuId su;
  SiId si;
};

// ---- director -> node director ----

struct InstantiateSu {
  SuId su;
};

// Clear a disabled SU (auto-repair or the repair admin operation) and instantiate it again.
struct RepairSu {
  SuId su;
};

// Terminate the SU's components gracefully (terminate, then cleanup after the timeout).
struct TerminateSu {
  SuId su;
};

// The restart admin operation: the SU's components (or only `comp`) are terminated gracefully
// and instantiated again in place; the SU keeps its assignments, given back to the
// components as they register. The node director reports the SU once the restart is over
// (an SuStateReport even when nothing changed), so the director can answer the operation.
struct RestartSu {
  SuId su;
  std::optional<CompId> comp;
};

struct AssignHa {
  SuId su;
  SiId si;
  model::HaState ha;
  model::TransitionReason reason;
};

struct RemoveHa {
  SuId su;
  SiId si;
};

using NodeCommand =
    std::variant<InstantiateSu, TerminateSu, RepairSu, RestartSu, AssignHa, RemoveHa>;

}  // namespace amf::director
