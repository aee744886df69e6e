#include "amf/runtime/node_runtime.h"

#include "amf/core/assert.h"

namespace amf::runtime {

NodeRuntime::NodeRuntime(std::shared_ptr<const model::ClusterConfig> config, NodeId self,
                         std::optional<director::Director> director, Host& host,
                         Transport& transport, Clock clock, Options options)
    : self_(self),
      director_(std::move(director)),
      node_(std::in_place, std::move(config), self),
      host_(host),
      transport_(transport),
      clock_(std::move(clock)),
      options_(options) {
  AMF_ASSERT(options_.max_events_per_pump >= 1);
}

NodeRuntime::NodeRuntime(SeatTag, std::shared_ptr<const model::ClusterConfig>, NodeId self,
                         director::Director director, Host& host, Transport& transport, Clock clock)
    : self_(std::move(self)),
      director_(std::move(director)),
      host_(host),
      transport_(transport),
      clock_(std::move(clock)) {}

NodeRuntime NodeRuntime::director_seat(std::shared_ptr<const model::ClusterConfig> config,
                                       NodeId self, director::Director director, Host& host,
                                       Transport& transport, Clock clock) {
  return NodeRuntime(SeatTag{}, std::move(config), std::move(self), std::move(director), host,
                     transport, std::move(clock));
}

void NodeRuntime::post(node::Event event) {
  AMF_ASSERT(node_.has_value());  // a director's seat has no node director to hand it to
  queue_.push_back(std::move(event));
}

void NodeRuntime::to_director(const director::Event& event) {
  AMF_ASSERT(director_.has_value());
  director_->handle(event, clock_());
}

void NodeRuntime::tick() {
  if (queue_.empty()) tick_cores();  // else the pump that empties the queue (rule 4)
}

void NodeRuntime::tick_cores() {
  const TimePoint now = clock_();
  if (node_) node_->tick(now);
  if (director_) director_->tick(now);
}

std::optional<TimePoint> NodeRuntime::next_deadline() const {
  if (!queue_.empty()) return std::nullopt;
  return cores_next_deadline();
}

std::optional<TimePoint> NodeRuntime::cores_next_deadline() const {
  std::optional<TimePoint> next = node_ ? node_->next_deadline() : std::nullopt;
  if (director_) {
    if (auto d = director_->next_deadline(); d && (!next || *d < *next)) next = d;
  }
  return next;
}

bool NodeRuntime::carry_out_director_effects() {
  if (!director_) return false;
  auto effects = director_->take_effects();
  for (const auto& effect : effects) {
    struct Visitor {
      NodeRuntime& r;
      void operator()(const director::ToNode& e) {
        if (e.node == r.self_ && r.node_) {
          r.queue_.push_back(node::to_event(e.command));
        } else {
          r.transport_.to_node(e.node, e.command);
        }
      }
      void operator()(const director::AdminResult& e) { r.host_.admin_result(e); }
      void operator()(const model::Notification& n) { r.host_.notify(n); }
    };
    std::visit(Visitor{*this}, effect);
  }
  return !effects.empty();
}

bool NodeRuntime::carry_out_node_effects() {
  if (!node_) return false;
  auto effects = node_->take_effects();
  for (const auto& effect : effects) {
    if (const auto* report = std::get_if<node::ToDirector>(&effect)) {
      if (director_) {
        std::visit([&](const auto& m) { director_->handle(m, clock_()); }, report->message);
      } else {
        transport_.to_director(self_, report->message);
      }
    } else if (const auto* n = std::get_if<model::Notification>(&effect)) {
      host_.notify(*n);
    } else {
      host_.carry_out(effect);
    }
  }
  return !effects.empty();
}

bool NodeRuntime::pump() {
  if (pumping_) return !queue_.empty();  // a host's effect posted: the running pump goes on
  pumping_ = true;
  std::size_t handled = 0;
  bool ticked = false;
  while (true) {
    if (carry_out_director_effects()) continue;
    if (carry_out_node_effects()) continue;
    // The queue is empty after handing over events: the deadlines that fell due meanwhile are
    // judged now (rule 4), once per pump.
    if (queue_.empty() && handled > 0 && !ticked) {
      ticked = true;
      if (const auto due = cores_next_deadline(); due && *due <= clock_()) {
        tick_cores();
        continue;
      }
    }
    if (queue_.empty() || handled == options_.max_events_per_pump) break;
    hand_over_one();
    ++handled;
  }
  pumping_ = false;
  return !queue_.empty();
}

bool NodeRuntime::carry_out_effects() {
  bool any = false;
  while (carry_out_director_effects() || carry_out_node_effects()) any = true;
  return any;
}

bool NodeRuntime::hand_over_one() {
  if (queue_.empty()) return false;
  node::Event event = std::move(queue_.front());
  queue_.pop_front();
  node_->handle(event, clock_());
  return true;
}

}  // namespace amf::runtime
