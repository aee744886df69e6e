#include "amf/model/notification.h"

#include "amf/core/names.h"

namespace amf::model {

namespace {

constexpr NameTable<NotificationKind, 13> kNames{{
    {"presence", NotificationKind::kPresence},
    {"oper", NotificationKind::kOper},
    {"readiness", NotificationKind::kReadiness},
    {"ha-state", NotificationKind::kHaState},
    {"recovery", NotificationKind::kRecovery},
    {"error", NotificationKind::kError},
    {"protocol-error", NotificationKind::kProtocolError},
    {"admin", NotificationKind::kAdmin},
    {"node", NotificationKind::kNode},
    {"status", NotificationKind::kStatus},
    {"leftover", NotificationKind::kLeftover},
    {"hook", NotificationKind::kHook},
    {"service-address", NotificationKind::kServiceAddress},
}};

}  // namespace

std::string_view to_string(NotificationKind kind) { return name_in(kNames, kind); }

std::optional<NotificationKind> parse_notification_kind(std::string_view text) {
  return value_in(kNames, text);
}

}  // namespace amf::model
