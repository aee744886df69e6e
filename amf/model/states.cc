#include "amf/model/states.h"

#include "amf/core/names.h"

namespace amf::model {
namespace {

constexpr NameTable<RedundancyModel, 5> kModels{{
    {"no-redundancy", RedundancyModel::kNoRedundancy},
    {"2n", RedundancyModel::kTwoN},
    {"n+m", RedundancyModel::kNPlusM},
    {"n-way", RedundancyModel::kNWay},
    {"n-way-active", RedundancyModel::kNWayActive},
}};

constexpr NameTable<Recovery, 7> kRecoveries{{
    {"component-restart", Recovery::kComponentRestart},
    {"component-failover", Recovery::kComponentFailover},
    {"su-restart", Recovery::kSuRestart},
    {"su-failover", Recovery::kSuFailover},
    {"node-switchover", Recovery::kNodeSwitchover},
    {"node-failover", Recovery::kNodeFailover},
    {"node-failfast", Recovery::kNodeFailfast},
}};

}  // namespace

std::string_view to_string(AdminState s) {
  switch (s) {
    case AdminState::kUnlocked:
      return "unlocked";
    case AdminState::kLocked:
      return "locked";
    case AdminState::kLockedInstantiation:
      return "locked-instantiation";
    case AdminState::kShuttingDown:
      return "shutting-down";
  }
  return "?";
}

std::optional<AdminState> parse_admin_state(std::string_view text) {
  for (AdminState s : {AdminState::kUnlocked, AdminState::kLocked, AdminState::kLockedInstantiation,
                       AdminState::kShuttingDown}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string_view to_string(OperState s) {
  switch (s) {
    case OperState::kEnabled:
      return "enabled";
    case OperState::kDisabled:
      return "disabled";
  }
  return "?";
}

std::string_view to_string(PresenceState s) {
  switch (s) {
    case PresenceState::kUninstantiated:
      return "uninstantiated";
    case PresenceState::kInstantiating:
      return "instantiating";
    case PresenceState::kInstantiated:
      return "instantiated";
    case PresenceState::kTerminating:
      return "terminating";
    case PresenceState::kRestarting:
      return "restarting";
    case PresenceState::kInstantiationFailed:
      return "instantiation-failed";
    case PresenceState::kTerminationFailed:
      return "termination-failed";
  }
  return "?";
}

std::string_view to_string(ReadinessState s) {
  switch (s) {
    case ReadinessState::kOutOfService:
      return "out-of-service";
    case ReadinessState::kInService:
      return "in-service";
    case ReadinessState::kStopping:
      return "stopping";
  }
  return "?";
}

std::string_view to_string(HaState s) {
  switch (s) {
    case HaState::kActive:
      return "active";
    case HaState::kStandby:
      return "standby";
    case HaState::kQuiescing:
      return "quiescing";
    case HaState::kQuiesced:
      return "quiesced";
  }
  return "?";
}

std::string_view to_string(TransitionReason r) {
  switch (r) {
    case TransitionReason::kNewAssignment:
      return "new";
    case TransitionReason::kFailover:
      return "failover";
    case TransitionReason::kSwitchover:
      return "switchover";
    case TransitionReason::kRestart:
      return "restart";
  }
  return "?";
}

std::string_view to_string(RedundancyModel m) { return name_in(kModels, m); }

std::string_view to_string(Recovery r) { return name_in(kRecoveries, r); }

std::optional<RedundancyModel> parse_redundancy_model(std::string_view text) {
  return value_in(kModels, text);
}

std::optional<Recovery> parse_recovery(std::string_view text) {
  return value_in(kRecoveries, text);
}

std::optional<HaState> parse_ha_state(std::string_view text) {
  for (HaState s : {HaState::kActive, HaState::kStandby, HaState::kQuiescing, HaState::kQuiesced}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

ReadinessState derive_readiness(AdminState admin, OperState oper, PresenceState presence,
                                bool node_in_service) {
  if (!node_in_service || oper != OperState::kEnabled) return ReadinessState::kOutOfService;
  if (presence != PresenceState::kInstantiated && presence != PresenceState::kRestarting) {
    return ReadinessState::kOutOfService;
  }
  switch (admin) {
    case AdminState::kUnlocked:
      return ReadinessState::kInService;
    case AdminState::kShuttingDown:
      return ReadinessState::kStopping;
    case AdminState::kLocked:
    case AdminState::kLockedInstantiation:
      return ReadinessState::kOutOfService;
  }
  return ReadinessState::kOutOfService;
}

}  // namespace amf::model
