#include "amf/daemon/event_log.h"

#include <algorithm>
#include <chrono>

namespace amf::daemon {

const wire::EventRecord& EventLog::append(const model::Notification& n) {
  if (events_.size() == kCapacity) events_.pop_front();
  // Wall-clock time for humans, taken now; the monotonic stamp is the core's own.
  const auto realtime = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  events_.push_back({next_sequence_++, to_ns(n.time), realtime.count(),
                     std::string(model::to_string(n.kind)), n.entity, n.related, n.from, n.to,
                     n.cause});
  return events_.back();
}

std::vector<wire::EventRecord> EventLog::read(std::uint64_t after, std::size_t max) const {
  max = (max == 0 || max > kMaxPerRead) ? kMaxPerRead : max;
  std::vector<wire::EventRecord> out;
  auto it = std::upper_bound(
      events_.begin(), events_.end(), after,
      [](std::uint64_t seq, const wire::EventRecord& e) { return seq < e.sequence; });
  for (; it != events_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

}  // namespace amf::daemon
