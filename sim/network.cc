// The simulated network between the runtimes: delay, loss, duplication and reordering of
// envelopes, partitions with the membership's view of them, and each node's clock drift. All
// drawn from the run's generator, and only when asked for: a run without network faults draws
// nothing here, so its transcript is what it was before the network existed.
#include <algorithm>
#include <cmath>

#include "sim/duration.h"
#include "sim/format.h"
#include "sim/simulation.h"

namespace amf::sim {

namespace {

std::string brief(const protocol::Envelope& e) {
  return e.from.node.str() + " -> " + e.to.node.str() + " #" + std::to_string(e.seq) +
         (e.message ? "" : " (acknowledgement)");
}

const char* cut_text(Simulation::Cut kind) {
  switch (kind) {
    case Simulation::Cut::kBoth:
      return "both ways";
    case Simulation::Cut::kToDirector:
      return "its messages to the director lost";
    case Simulation::Cut::kFromDirector:
      return "the director's messages to it lost";
    case Simulation::Cut::kFlapping:
      return "flapping";
  }
  return "?";
}

}  // namespace

double Simulation::chance() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

bool Simulation::cut_off(const protocol::Envelope& e) const {
  const NodeId from = where(e.from.node);
  const NodeId to = where(e.to.node);
  if (from == to) return false;  // (membership) between the director and its own node
  if (auto it = cuts_.find(from); it != cuts_.end() && it->second.to_director) return true;
  if (auto it = cuts_.find(to); it != cuts_.end() && it->second.from_director) return true;
  return false;
}

bool Simulation::cut_between(const NodeId& from, const NodeId& to) const {
  auto f = cuts_.find(from);
  auto t = cuts_.find(to);
  return (f != cuts_.end() && f->second.to_director) ||
         (t != cuts_.end() && t->second.from_director);
}

void Simulation::transmit(const protocol::Envelope& e) {
  if (cut_off(e)) {
    ++stats_.envelopes_lost;
    if (e.message) line("  net: cut off, lost " + brief(e));
    return;
  }
  const NetworkFaults& net = faults_.net;
  if (!faults_on_ || !net.any()) return arrive(e);
  if (net.loss > 0 && chance() < net.loss) {
    ++stats_.envelopes_lost;
    if (e.message) line("  net: lost " + brief(e));
    return;
  }
  const int copies = net.dup > 0 && chance() < net.dup ? 2 : 1;
  if (copies == 2) {
    ++stats_.envelopes_duplicated;
    if (e.message) line("  net: duplicated " + brief(e));
  }
  for (int c = 0; c < copies; ++c) {
    const auto max = static_cast<std::uint64_t>(net.delay.count());
    Duration delay(static_cast<std::int64_t>(uniform(max + 1)));
    if (net.reorder > 0 && chance() < net.reorder) {
      const auto extra =
          4 * max + static_cast<std::uint64_t>(Duration(std::chrono::milliseconds(5)).count());
      delay += Duration(static_cast<std::int64_t>(uniform(extra + 1)));
    }
    schedule(delay, Deliver{e});
  }
}

void Simulation::on(const Deliver& e) {
  if (cut_off(e.envelope)) {
    ++stats_.envelopes_lost;
    if (e.envelope.message) line("  net: cut off, lost " + brief(e.envelope));
    return;
  }
  arrive(e.envelope);
}

bool Simulation::partition(const NodeId& node, Cut kind, Duration length) {
  if (!nodes_.count(node)) return false;
  ++stats_.partitions;
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kPartition)];
  disturbed();
  CutState cut;
  cut.id = next_cut_++;
  cut.kind = kind;
  cut.to_director = kind != Cut::kFromDirector;
  cut.from_director = kind != Cut::kToDirector;
  cut.since = now_;
  cut.until = now_ + length;
  cuts_[node] = cut;
  line("[" + format_time(now_) + "] fault: partition: " + node.str() +
       " cut off from the director (" + cut_text(kind) + ") for " + format_duration(length));
  const Duration step =
      kind == Cut::kFlapping
          ? std::min(length, draw({std::chrono::milliseconds(20), std::chrono::milliseconds(200)}))
          : length;
  schedule(step, CutChanges{node, cut.id});
  if (cut.to_director && !options_.membership) {
    schedule(draw(options_.latencies.node_detect), CutDetected{node, cut.id, cut.since});
  }
  return true;
}

void Simulation::on(const CutChanges& e) {
  auto it = cuts_.find(e.node);
  if (it == cuts_.end() || it->second.id != e.cut) return;
  CutState& cut = it->second;
  if (cut.kind == Cut::kFlapping && now_ < cut.until) {
    cut.to_director = cut.from_director = !cut.to_director;
    line(header() + "net: the link of " + e.node.str() + " is " +
         (cut.to_director ? "down" : "up") + " again (flapping)");
    if (cut.to_director && !options_.membership) {
      cut.since = now_;
      schedule(draw(options_.latencies.node_detect), CutDetected{e.node, cut.id, cut.since});
    }
    schedule(std::min(cut.until - now_,
                      draw({std::chrono::milliseconds(20), std::chrono::milliseconds(200)})),
             CutChanges{e.node, cut.id});
    return;
  }
  cuts_.erase(it);
  line(header() + "partition of " + e.node.str() + " heals");
  if (unheard_.erase(e.node) && nodes_.count(e.node) && !options_.membership) {
    line(header() + "membership: " + e.node.str() +
         " is heard again (never fenced: it kept its components)");
    line("  director <- NodeUp " + e.node.str());
    to_the_director(director::NodeUp{e.node, incarnation_[e.node]});
  }
}

void Simulation::on(const CutDetected& e) {
  auto it = cuts_.find(e.node);
  if (it == cuts_.end() || it->second.id != e.cut || !it->second.to_director ||
      it->second.since != e.since || !nodes_.count(e.node) || unheard_.count(e.node)) {
    return;
  }
  unheard_.insert(e.node);
  line(header() + "membership: " + e.node.str() +
       " cannot be heard; it has left the cluster (it still runs: nothing fences it yet)");
  line("  director <- NodeDown " + e.node.str());
  to_the_director(director::NodeDown{e.node, "node " + e.node.str() + " cannot be heard"});
}

void Simulation::random_partition() {
  if (nodes_.empty()) return;
  auto it = nodes_.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(uniform(nodes_.size())));
  const auto kind = static_cast<Cut>(uniform(4));
  const Duration length = std::chrono::milliseconds(100 + uniform(4901));
  // A cut is between a node and the director: none for the node the director runs on.
  if (director_up_ && director_node_ == it->first && !options_.membership) return;
  partition(it->first, kind, length);
}

// A node's clock: the simulated time, fast or slow by its drift (parts per million).
TimePoint Simulation::local_time(const NodeId& node) const {
  auto it = drift_ppm_.find(node);
  if (it == drift_ppm_.end()) return now_;
  const long double ns = static_cast<long double>(to_ns(now_));
  return from_ns(to_ns(now_) + static_cast<std::int64_t>(std::floor(ns * it->second / 1e6L)));
}

// The first simulated time at which the node's clock shows `local` or later.
TimePoint Simulation::global_time(const NodeId& node, TimePoint local) const {
  auto it = drift_ppm_.find(node);
  if (it == drift_ppm_.end()) return local;
  const long double ppm = it->second;
  auto local_at = [&](std::int64_t g) {
    return g + static_cast<std::int64_t>(std::floor(static_cast<long double>(g) * ppm / 1e6L));
  };
  const std::int64_t target = to_ns(local);
  std::int64_t g =
      static_cast<std::int64_t>(std::ceil(static_cast<long double>(target) / (1.0L + ppm / 1e6L)));
  while (local_at(g) < target) ++g;
  while (g > 0 && local_at(g - 1) >= target) --g;
  return from_ns(g);
}

}  // namespace amf::sim
