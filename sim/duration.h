#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "amf/core/time.h"

namespace amf::sim {

// "1h", "10m", "30s", "250ms", "1h30m", "1.5s"; nullopt when the text is not a duration.
// Bounded: at most 1000 days, so simulated time never overflows.
std::optional<Duration> parse_duration(std::string_view text);

// Simulated time since the start of the run, "62.013s"; fixed format so transcripts diff well.
std::string format_time(TimePoint t);

// A duration as the summary prints it: "1h 02m 03s", "4m 05.5s", "1.250s".
std::string format_duration(Duration d);

}  // namespace amf::sim
