#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "amf/node/node_director.h"

namespace amf::test {

// The effects of alternative T in a batch, in order.
template <class T>
std::vector<T> only(const std::vector<node::Effect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// Drives one node director by hand in a test: events in at `now_`, effects out.
class NodeDriver {
 protected:
  std::vector<node::Effect> handle(const node::Event& e) {
    nd_->handle(e, now_);
    return nd_->take_effects();
  }
  std::vector<node::Effect> advance(Duration d) {
    now_ += d;
    nd_->tick(now_);
    return nd_->take_effects();
  }

  TimePoint now_{};
  std::optional<node::NodeDirector> nd_;
};

}  // namespace amf::test
