#pragma once

// For tests that drive adapters on an Asio loop of their own: run the loop until something
// holds, within a limit (generous: the machines are shared), and look for an event by text.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "amf/core/time.h"

namespace amf::testing {

// The loop must not run out of work in between (keep an executor_work_guard on it), or
// run_for() returns at once from then on.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      Duration limit = std::chrono::seconds(10)) {
  const TimePoint until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= until) return false;
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline bool has_line(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace amf::testing
