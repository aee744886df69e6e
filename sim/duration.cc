#include "sim/duration.h"

#include <cctype>
#include <cstdio>

namespace amf::sim {

namespace {

constexpr std::int64_t kMaxNs = 1000LL * 24 * 3600 * 1'000'000'000LL;

std::optional<std::int64_t> unit_ns(std::string_view unit) {
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m" || unit == "min") return 60'000'000'000LL;
  if (unit == "h") return 3'600'000'000'000LL;
  return std::nullopt;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total_ns = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t number_start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    const std::size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    if (number_start == unit_start || unit_start == i) return std::nullopt;
    const std::string number(text.substr(number_start, unit_start - number_start));
    const auto unit = unit_ns(text.substr(unit_start, i - unit_start));
    if (!unit) return std::nullopt;
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;
    total_ns += value * static_cast<double>(*unit);
    if (total_ns > static_cast<double>(kMaxNs)) return std::nullopt;
  }
  return Duration(static_cast<std::int64_t>(total_ns));
}

std::string format_time(TimePoint t) {
  const std::int64_t ms = to_ns(t) / 1'000'000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

std::string format_duration(Duration d) {
  const std::int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  const auto ll = [](std::int64_t v) { return static_cast<long long>(v); };
  char buf[64];
  if (ms >= 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", ll(ms / 3'600'000),
                  ll(ms / 60'000 % 60), ll(ms / 1000 % 60));
  } else if (ms >= 60'000) {
    std::snprintf(buf, sizeof buf, "%lldm %02lld.%llds", ll(ms / 60'000), ll(ms / 1000 % 60),
                  ll(ms / 100 % 10));
  } else {
    std::snprintf(buf, sizeof buf, "%lld.%03llds", ll(ms / 1000), ll(ms % 1000));
  }
  return buf;
}

}  // namespace amf::sim
