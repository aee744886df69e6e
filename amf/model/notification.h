#pragma once

#include <string>

#include "amf/core/time.h"

namespace amf::model {

// One entry of the event log: a state change or a recovery action, with when and why.
// Cores emit these as effects; the daemon keeps a bounded log that `amfctl events` reads.
struct Notification {
  TimePoint time;
  std::string kind;     // "presence", "oper", "readiness", "ha-state", "recovery", "error", ...
  std::string entity;   // the entity that changed, e.g. "counter/su-1/server"
  std::string related;  // a second entity where the change concerns a pair (the SI of an
                        // HA state change), else empty
  std::string from;
  std::string to;
  std::string cause;
};

}  // namespace amf::model
