#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace amf::sim {

// The simulator's trace: every line of every step (events in, effects out, notifications).
// Keeps the last `keep_lines` for a violation report, a running hash of all lines (two runs
// are byte-identical iff their hashes and line counts agree, barring a 64-bit collision), and
// optionally every line (bounded by `max_full_lines`; beyond it, lines are dropped and
// counted). A sink, if set, sees every line as it is added (amf-sim --trace).
class Trace {
 public:
  explicit Trace(std::size_t keep_lines = 400, bool keep_all = false,
                 std::size_t max_full_lines = 2'000'000)
      : keep_lines_(keep_lines), keep_all_(keep_all), max_full_lines_(max_full_lines) {}

  void add(std::string line);
  void set_sink(std::function<void(const std::string&)> sink) { sink_ = std::move(sink); }

  // The last lines kept, one per line.
  std::string tail(std::size_t lines) const;
  // Every line, when keeping all (else the tail).
  std::string all() const;
  std::uint64_t hash() const { return hash_; }
  std::uint64_t lines() const { return lines_; }

 private:
  std::size_t keep_lines_;
  bool keep_all_;
  std::size_t max_full_lines_;
  std::deque<std::string> tail_;
  std::vector<std::string> all_;
  std::uint64_t dropped_ = 0;
  std::uint64_t hash_ = 1469598103934665603ULL;  // FNV-1a offset basis
  std::uint64_t lines_ = 0;
  std::function<void(const std::string&)> sink_;
};

}  // namespace amf::sim
