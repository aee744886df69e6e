#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace amf::model {

// State vocabulary of the SA Forum AMF specification (SAI-AIS-AMF), as OpenSAF names it.

enum class AdminState { kUnlocked, kLocked, kLockedInstantiation, kShuttingDown };
enum class OperState { kEnabled, kDisabled };
enum class PresenceState {
  kUninstantiated,
  kInstantiating,
  kInstantiated,
  kTerminating,
  kRestarting,
  kInstantiationFailed,
  kTerminationFailed,
};
enum class ReadinessState { kOutOfService, kInService, kStopping };
enum class HaState { kActive, kStandby, kQuiescing, kQuiesced };

// How a component's CSI assignment came about; passed to the component's CSI set callback so
// a new active knows whether its predecessor handed over cleanly.
enum class TransitionReason { kNewAssignment, kFailover, kSwitchover, kRestart };

enum class RedundancyModel { kNoRedundancy, kTwoN, kNPlusM, kNWay, kNWayActive };

// The recovery a component recommends for its own failure (saAmfCompRecoveryOnError).
enum class Recovery {
  kComponentRestart,
  kComponentFailover,
  kSuRestart,
  kSuFailover,
  kNodeSwitchover,
  kNodeFailover,
  kNodeFailfast,
};

std::string_view to_string(AdminState s);
// The admin state to_string() spells `text` as; nullopt for none.
std::optional<AdminState> parse_admin_state(std::string_view text);
std::string_view to_string(OperState s);
std::string_view to_string(PresenceState s);
std::string_view to_string(ReadinessState s);
std::string_view to_string(HaState s);
std::string_view to_string(TransitionReason r);
std::string_view to_string(RedundancyModel m);
std::string_view to_string(Recovery r);

std::optional<RedundancyModel> parse_redundancy_model(std::string_view text);
std::optional<Recovery> parse_recovery(std::string_view text);
// "active", "standby", "quiescing" or "quiesced", as to_string(HaState) spells them.
std::optional<HaState> parse_ha_state(std::string_view text);

// Readiness is derived, never stored (spec 3.2.1.4): an SU is in service only when it is
// unlocked, enabled and instantiated on a node that is itself in service.
ReadinessState derive_readiness(AdminState admin, OperState oper, PresenceState presence,
                                bool node_in_service);

// A CSI's attributes (saAmfCSIAttriValue) as SA Forum lists them: name and value pairs in
// name order, where a name may repeat (a multi-valued attribute, its values in configured
// order) and an attribute configured without a value has one pair with an empty value, as
// OpenSAF hands it over. Here rather than in config.h because every layer that carries a CSI
// to a component (wire, node director, component library) includes this header.
using CsiAttributes = std::multimap<std::string, std::string>;

// Who holds a CSI active, as its standbys are told (SA Forum's standby descriptor names the
// active component, activeCompName): a replica learns whom to follow without a second copy of
// the configuration. Given with a standby assignment when the SI has an active, and again to
// every standby when the active moves.
struct ActiveDescriptor {
  std::string component;     // amf id, "SG/SU/COMPONENT"
  std::string component_dn;  // its SA Forum DN (safComp=...); empty when the loader set none
  std::string su;            // amf id, "SG/SU"
  std::string node;
  CsiAttributes attributes;  // the CSI's attributes as the active's SU has them
  friend bool operator==(const ActiveDescriptor&, const ActiveDescriptor&) = default;
};

// A member of a CSI's protection group (saAmfProtectionGroupTrack): a component the CSI is
// assigned to, in which HA state, and its SU's rank; `change` says how it differs from the
// group last reported to a tracker (kNoChange in a report of the current group).
enum class ProtectionGroupChange { kNoChange, kAdded, kRemoved, kStateChange };
struct ProtectionGroupMember {
  std::string component;     // amf id, "SG/SU/COMPONENT"
  std::string component_dn;  // its SA Forum DN
  HaState ha = HaState::kActive;
  int rank = 0;  // its SU's (0: unranked)
  ProtectionGroupChange change = ProtectionGroupChange::kNoChange;
  friend bool operator==(const ProtectionGroupMember&, const ProtectionGroupMember&) = default;
};
// Why a protection group request was refused (kNone: it was not).
enum class ProtectionGroupRefusal {
  kNone,
  kBadRequest,
  kNoSuchCsi,
  kNotTracked,
  kNotSupported,
  kNotRegistered
};

}  // namespace amf::model
