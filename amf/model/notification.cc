#include "amf/model/notification.h"

#include <array>
#include <utility>

namespace amf::model {

namespace {

constexpr std::array<std::pair<NotificationKind, std::string_view>, 11> kNames{{
    {NotificationKind::kPresence, "presence"},
    {NotificationKind::kOper, "oper"},
    {NotificationKind::kReadiness, "readiness"},
    {NotificationKind::kHaState, "ha-state"},
    {NotificationKind::kRecovery, "recovery"},
    {NotificationKind::kError, "error"},
    {NotificationKind::kProtocolError, "protocol-error"},
    {NotificationKind::kAdmin, "admin"},
    {NotificationKind::kNode, "node"},
    {NotificationKind::kStatus, "status"},
    {NotificationKind::kLeftover, "leftover"},
}};

}  // namespace

std::string_view to_string(NotificationKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<NotificationKind> parse_notification_kind(std::string_view text) {
  for (const auto& [k, name] : kNames) {
    if (name == text) return k;
  }
  return std::nullopt;
}

}  // namespace amf::model
