#include "sim/trace.h"

#include <algorithm>

namespace amf::sim {

void Trace::add(std::string line) {
  for (unsigned char c : line) {
    hash_ ^= c;
    hash_ *= 1099511628211ULL;
  }
  hash_ ^= '\n';
  hash_ *= 1099511628211ULL;
  ++lines_;
  if (sink_) sink_(line);
  if (keep_all_) {
    if (all_.size() < max_full_lines_) {
      all_.push_back(line);
    } else {
      ++dropped_;
    }
  }
  if (keep_lines_ == 0) return;
  if (tail_.size() == keep_lines_) tail_.pop_front();
  tail_.push_back(std::move(line));
}

std::string Trace::tail(std::size_t lines) const {
  std::string out;
  const std::size_t n = std::min(lines, tail_.size());
  for (std::size_t i = tail_.size() - n; i < tail_.size(); ++i) out += tail_[i] + "\n";
  return out;
}

std::string Trace::all() const {
  if (!keep_all_) return tail(tail_.size());
  std::string out;
  for (const auto& line : all_) out += line + "\n";
  if (dropped_ > 0) out += "... " + std::to_string(dropped_) + " more lines not kept\n";
  return out;
}

}  // namespace amf::sim
