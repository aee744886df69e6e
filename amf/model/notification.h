#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "amf/core/time.h"

namespace amf::model {

// What a notification is about. Spelled as to_string() says in the event log, `amfctl events`
// and the wire.
enum class NotificationKind {
  kPresence,        // a component's or SU's presence state changed
  kOper,            // an SU's operational state changed
  kReadiness,       // an SU's readiness state changed
  kHaState,         // an SU's HA state for an SI changed (related: the SI)
  kRecovery,        // a recovery action was taken (restart, failover, repair, ...)
  kError,           // a failure that needs an operator, or a component's error report
  kProtocolError,   // a message that breaks the protocol (a component's or a node director's)
  kAdmin,           // an admin state changed, or an admin operation began or ended
  kNode,            // a node joined or left the cluster
  kStatus,          // a component said STATUS= (sd_notify) or stopping
  kLeftover,        // amfd found and ended a process an earlier amfd left running
  kHook,            // a component's HA-state hook started or ended (related: the CSI)
  kServiceAddress,  // an SI's floating address came up or went down here (entity: the SI)
};

std::string_view to_string(NotificationKind kind);
std::optional<NotificationKind> parse_notification_kind(std::string_view text);

// One entry of the event log: a state change or a recovery action, with when and why.
// Cores emit these as effects; the daemon keeps a bounded log that `amfctl events` reads.
struct Notification {
  TimePoint time;
  NotificationKind kind = NotificationKind::kError;
  std::string entity;   // the entity that changed, e.g. "counter/su-1/server"
  std::string related;  // a second entity where the change concerns a pair (the SI of an
                        // HA state change), else empty
  std::string from;
  std::string to;
  std::string cause;
};

}  // namespace amf::model
