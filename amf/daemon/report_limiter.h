#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "amf/core/time.h"

namespace amf::daemon {

// Reports of refused input, at most one a second of each kind: a peer that keeps sending what
// is refused (a node given another cluster key reconnects every 100 ms and heartbeats every
// 10 ms) would otherwise fill the event log. The reports held back are counted in the next
// one of their kind. A kind is what the caller says it is (the reason and the sender's
// address, say). A sender that varies its kinds (a spoofed UDP source address costs nothing)
// meets two more bounds: at most kMaxPerInterval reports an interval in all, the rest counted
// in the next one made, and at most kMaxKinds kinds remembered.
class ReportLimiter {
 public:
  static constexpr std::size_t kMaxKinds = 256;
  static constexpr std::size_t kMaxPerInterval = 10;

  explicit ReportLimiter(Duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // `text` to report now, followed by the count held back since the last of its kind; nothing
  // when it is held back.
  std::optional<std::string> admit(const std::string& kind, const std::string& text,
                                   TimePoint now) {
    auto it = kinds_.find(kind);
    if (it != kinds_.end() && now - it->second.last < interval_) {
      ++it->second.held;
      return std::nullopt;
    }
    if (now - window_start_ >= interval_) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ >= kMaxPerInterval) {
      ++over_budget_;
      return std::nullopt;
    }
    ++in_window_;
    std::string out = text;
    if (it != kinds_.end() && it->second.held > 0) {
      out += " (and " + std::to_string(it->second.held) + " more refused since)";
    }
    if (over_budget_ > 0) {
      out += " (and " + std::to_string(over_budget_) + " more of any kind held back, over " +
             std::to_string(kMaxPerInterval) + " reports a second)";
      over_budget_ = 0;
    }
    if (it == kinds_.end()) {
      if (kinds_.size() >= kMaxKinds) forget_before(now - interval_);
      if (kinds_.size() >= kMaxKinds) kinds_.clear();
      it = kinds_.emplace(kind, Kind{}).first;
    }
    it->second = Kind{now, 0};
    return out;
  }

 private:
  struct Kind {
    TimePoint last{};
    std::uint64_t held = 0;
  };
  // Kinds quiet for an interval: what they held back was not reported, and will not be.
  void forget_before(TimePoint t) {
    std::erase_if(kinds_, [t](const auto& k) { return k.second.last < t; });
  }

  Duration interval_;
  std::map<std::string, Kind> kinds_;
  TimePoint window_start_{};
  std::size_t in_window_ = 0;
  std::uint64_t over_budget_ = 0;
};

}  // namespace amf::daemon
