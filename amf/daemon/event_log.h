#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "amf/model/notification.h"
#include "amf/wire/messages.h"

namespace amf::daemon {

// The node's bounded in-memory event log: every notification of the cores, numbered.
// When full, the oldest events are dropped (readers see the gap in sequence numbers).
class EventLog {
 public:
  static constexpr std::size_t kCapacity = 10'000;
  static constexpr std::size_t kMaxPerRead = 1'000;

  const wire::EventRecord& append(const model::Notification& n);
  // Events with a sequence number above `after`, oldest first, at most `max` (capped).
  std::vector<wire::EventRecord> read(std::uint64_t after, std::size_t max) const;

 private:
  std::deque<wire::EventRecord> events_;
  std::uint64_t next_sequence_ = 1;
};

}  // namespace amf::daemon
