#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace amf {

// Cores never read a clock: the adapter passes `now` in. The adapters use steady_clock,
// which on Linux is CLOCK_MONOTONIC and so comparable across processes on one machine
// (the demo driver relies on that to split an outage into detection and recovery).
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;
using std::chrono::milliseconds;

inline std::int64_t to_ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

inline TimePoint from_ns(std::int64_t ns) { return TimePoint(std::chrono::nanoseconds(ns)); }

// "250 ms": how durations read in events and error messages.
inline std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace amf
