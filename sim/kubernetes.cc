#include "sim/kubernetes.h"

#include <algorithm>
#include <utility>

#include "sim/duration.h"

namespace amf::sim {

KubernetesRun::KubernetesRun(std::shared_ptr<const model::ClusterConfig> config,
                             KubernetesOptions options, std::uint64_t seed)
    : config_(std::move(config)),
      options_(std::move(options)),
      rng_(seed),
      now_(TimePoint(Duration(0))) {
  trace_.set_sink(options_.trace_sink);
  machines_ = std::make_unique<Machines>(*config_, options_.latencies, 1'000,
                                         static_cast<Surroundings&>(*this),
                                         static_cast<Controller&>(*this));
  std::vector<std::string> nodes;
  for (const model::NodeConfig& n : config_->nodes) nodes.push_back(n.id.str());
  std::vector<kubernetes::Workload> workloads;
  for (const model::ApplicationConfig& app : config_->applications) {
    for (const model::SgConfig& sg : app.service_groups) {
      if (sg.sus.empty()) continue;
      kubernetes::Workload w{sg.id.str(), options_.kind, model::serving_sus(sg), {}, {}};
      for (const model::ComponentConfig& c : sg.sus.front().components) {
        w.containers.push_back(c.name);
      }
      for (const model::SuConfig& su : sg.sus) {
        if (std::find(w.nodes.begin(), w.nodes.end(), su.node.str()) == w.nodes.end()) {
          w.nodes.push_back(su.node.str());
        }
      }
      sg_of_workload_[w.name] = &sg;
      workloads.push_back(std::move(w));
    }
  }
  k8s_ =
      std::make_unique<kubernetes::Cluster>(options_.parameters, nodes, std::move(workloads), now_);
}

KubernetesRun::~KubernetesRun() = default;

void KubernetesRun::at(Duration after, Event event) {
  queue_.emplace(std::make_pair(now_ + after, seq_++), std::move(event));
}

Duration KubernetesRun::draw(const LatencyRange& range) {
  const auto lo = std::chrono::duration_cast<std::chrono::milliseconds>(range.min).count();
  const auto hi = std::chrono::duration_cast<std::chrono::milliseconds>(range.max).count();
  if (hi <= lo) return std::chrono::milliseconds(lo);
  return std::chrono::milliseconds(lo + static_cast<std::int64_t>(uniform(hi - lo + 1)));
}

std::string KubernetesRun::header() const {
  return "[#" + std::to_string(steps_) + " " + format_time(now_) + "] ";
}

void KubernetesRun::violate(std::string invariant, std::string message) {
  line("VIOLATION of " + invariant + ": " + message);
}

const model::SuConfig& KubernetesRun::su_of(const std::string& workload, int slot) const {
  return sg_of_workload_.at(workload)->sus.at(static_cast<std::size_t>(slot));
}

void KubernetesRun::run_until(TimePoint end) {
  while (true) {
    const std::optional<TimePoint> tick = k8s_->next_deadline();
    const bool event = !queue_.empty() && (!tick || queue_.begin()->first.first < *tick);
    const TimePoint next = event ? queue_.begin()->first.first : tick.value_or(end + Duration(1));
    if (next > end) break;
    now_ = std::max(now_, next);
    ++steps_;
    if (!event) {
      apply(k8s_->tick(now_));
      continue;
    }
    Event e = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (auto* m = std::get_if<MachineEvent>(&e)) {
      machines_->handle(*m);
    } else if (auto* s = std::get_if<SandboxReady>(&e)) {
      apply(k8s_->sandbox_ready(s->pod, now_));
    } else if (auto* c = std::get_if<ContainerCreated>(&e)) {
      created(c->start);
    } else if (auto* p = std::get_if<ProbeAnswer>(&e)) {
      apply(k8s_->probe_done(p->probe, p->ok, now_));
    }
  }
  now_ = std::max(now_, end);
}

void KubernetesRun::apply(std::vector<kubernetes::Effect> effects) {
  for (kubernetes::Effect& effect : effects) {
    if (auto* s = std::get_if<kubernetes::RunSandbox>(&effect)) {
      network_down_.erase(s->pod);
      at(draw(options_.sandbox), SandboxReady{s->pod});
    } else if (auto* s = std::get_if<kubernetes::StartContainer>(&effect)) {
      at(draw(options_.container_start), ContainerCreated{*s});
    } else if (auto* s = std::get_if<kubernetes::SignalContainer>(&effect)) {
      if (auto w = std::find_if(waiting_.begin(), waiting_.end(),
                                [&](const auto& entry) {
                                  return entry.second.pod == s->pod &&
                                         entry.second.container == s->container;
                                });
          w != waiting_.end()) {  // stopped before it could start: it never will
        const auto start = w->second;
        waiting_.erase(w);
        apply(k8s_->container_start_failed(start.pod, start.container, now_));
        continue;
      }
      const CompId* comp = owned(s->pod, s->container);
      if (comp == nullptr) continue;
      if (!s->kill && options_.pid1_ignores_sigterm) {
        line("  (" + comp->str() + " is PID 1 without a SIGTERM handler: it runs on)");
      } else {
        machines_->signal(
            node::SignalProcess{*comp, s->kill ? node::Signal::kKill : node::Signal::kTerminate});
      }
    } else if (auto* s = std::get_if<kubernetes::RunProbe>(&effect)) {
      // A process that listens answers; one that does not yet is refused at once; a hung one,
      // or one whose pod has lost its network, lets the probe run into its timeout.
      bool ok = false;
      bool silent = network_down_.count(s->pod) > 0;
      if (const CompId* comp = owned(s->pod, s->container)) {
        if (auto p = process_of(*comp)) {
          silent = silent || p->hung || p->stuck;
          ok = p->registered && !silent;
        }
      }
      at(silent ? s->timeout : draw(options_.probe_answer), ProbeAnswer{*s, ok});
    } else if (auto* s = std::get_if<kubernetes::Endpoints>(&effect)) {
      endpoints_[s->workload] = s->ready;
    } else if (auto* s = std::get_if<kubernetes::Log>(&effect)) {
      line(header() + s->text);
    }
  }
}

// The runtime has made the container: its program starts, unless the pod or its node has gone
// meanwhile (or the container was started again since).
const CompId* KubernetesRun::owned(std::uint64_t pod, const std::string& container) const {
  for (const auto& [comp, owner] : running_) {
    if (owner.pod == pod && owner.container == container) return &comp;
  }
  return nullptr;
}

std::optional<ProcessView> KubernetesRun::process_of(const CompId& comp) const {
  for (const ProcessView& p : machines_->processes()) {
    if (p.comp == comp && p.current) return p;
  }
  return std::nullopt;
}

// The runtime has made the container: its program starts, unless its node has gone meanwhile.
// The simulated machines run one process per component, and every pod of a slot runs the
// components of the same SU: a pod whose slot's process still runs for another pod (a pod being
// replaced while its old one still stops) starts once that one has ended.
void KubernetesRun::created(const kubernetes::StartContainer& start) {
  if (nodes_down_.count(start.node)) return;
  for (const model::ComponentConfig& c : su_of(start.workload, start.slot).components) {
    if (c.name != start.container) continue;
    if (running_.count(c.id)) {
      line("  (" + c.id.str() + " still runs for another pod: pod " + std::to_string(start.pod) +
           " starts it once that one ends)");
      waiting_[c.id] = start;
      return;
    }
    running_[c.id] = Running{start.pod, start.container, start.node};
    if (auto h = held_.find(c.id);
        h != held_.end() && h->second > 0 && !options_.persistent_volume) {
      line("  (" + c.id.str() + " starts empty: the " + std::to_string(h->second) +
           " writes its predecessor acknowledged are lost)");
      state_.lost += h->second;
      ++state_.empty_starts;
      h->second = 0;
    }
    machines_->start(NodeId(start.node), node::StartProcess{c.id, c.command, c.args, c.env});
  }
}

void KubernetesRun::host_report(const NodeId& node, HostReport report) {
  const CompId comp = std::visit([](const auto& r) { return r.comp; }, report);
  auto it = running_.find(comp);
  if (it == running_.end() || it->second.node != node.str()) return;
  const Running owner = it->second;
  const bool ended = std::holds_alternative<node::ProcessStartFailed>(report) ||
                     std::holds_alternative<node::ProcessExited>(report);
  if (ended) running_.erase(it);
  if (std::holds_alternative<node::ProcessStarted>(report)) {
    apply(k8s_->container_started(owner.pod, owner.container, now_));
  } else if (std::holds_alternative<node::ProcessStartFailed>(report)) {
    apply(k8s_->container_start_failed(owner.pod, owner.container, now_));
  } else if (std::holds_alternative<node::ProcessExited>(report)) {
    apply(k8s_->container_exited(owner.pod, owner.container, now_));
  }
  if (auto w = waiting_.find(comp); ended && w != waiting_.end()) {
    const kubernetes::StartContainer next = w->second;
    waiting_.erase(w);
    created(next);
  }
}

void KubernetesRun::component_message(const NodeId& node, ComponentMessage message) {
  (void)node;
  // An SA-aware program registers; in a pod there is no AMF to refuse it: it runs on.
  if (auto* m = std::get_if<node::ComponentRegister>(&message)) {
    machines_->register_reply(m->peer, true);
  }
}

std::optional<kubernetes::Endpoint> KubernetesRun::endpoint(const SgId& sg) const {
  auto it = endpoints_.find(sg.str());
  if (it == endpoints_.end() || it->second.empty()) return std::nullopt;
  return it->second.front();
}

std::optional<std::string> KubernetesRun::serving_node(const SgId& sg) const {
  auto e = endpoint(sg);
  if (!e) return std::nullopt;
  return e->node;
}

std::optional<CompId> KubernetesRun::target(const SgId& sg) const {
  auto e = endpoint(sg);
  if (!e) return std::nullopt;
  const CompId comp = su_of(sg.str(), e->slot).components.front().id;
  auto owner = running_.find(comp);
  if (owner == running_.end() || owner->second.pod != e->pod) return std::nullopt;
  return comp;
}

bool KubernetesRun::crash(const SgId& sg) {
  auto comp = target(sg);
  return comp && machines_->crash(*comp);
}

bool KubernetesRun::hang(const SgId& sg) {
  auto comp = target(sg);
  return comp && machines_->hang(*comp);
}

bool KubernetesRun::crash_loop(const SgId& sg, int count) {
  auto comp = target(sg);
  if (!comp) return false;
  machines_->fail_starts(*comp, count);
  return machines_->crash(*comp);
}

bool KubernetesRun::kill_sandbox(const SgId& sg) {
  auto e = endpoint(sg);
  if (!e) return false;
  line("[" + format_time(now_) + "] fault: the sandbox of pod " + std::to_string(e->pod) + " dies");
  network_down_.insert(e->pod);
  apply(k8s_->sandbox_died(e->pod, now_));
  return true;
}

bool KubernetesRun::crash_node(const SgId& sg) {
  auto e = endpoint(sg);
  if (!e) return false;
  line("[" + format_time(now_) + "] fault: node " + e->node + " crashes");
  machines_->end_node(NodeId(e->node));  // its processes end unreported
  nodes_down_.insert(e->node);
  std::erase_if(running_, [&](const auto& entry) { return entry.second.node == e->node; });
  std::erase_if(waiting_, [&](const auto& entry) { return entry.second.node == e->node; });
  apply(k8s_->node_crashed(e->node, now_));
  return true;
}

bool KubernetesRun::works(const SgId& sg, const kubernetes::Endpoint& e,
                          const std::vector<ProcessView>& processes) const {
  if (network_down_.count(e.pod) || nodes_down_.count(e.node)) return false;
  for (const model::ComponentConfig& c : su_of(sg.str(), e.slot).components) {
    auto r = running_.find(c.id);
    const bool listens = r != running_.end() && r->second.pod == e.pod &&
                         std::any_of(processes.begin(), processes.end(), [&](const ProcessView& p) {
                           return p.comp == c.id && p.current && p.node == NodeId(e.node) &&
                                  p.registered && !p.hung && !p.stuck;
                         });
    if (!listens) return false;
  }
  return true;
}

std::optional<std::pair<kubernetes::Endpoint, CompId>> KubernetesRun::working(
    const SgId& sg) const {
  auto it = endpoints_.find(sg.str());
  if (it == endpoints_.end()) return std::nullopt;
  const std::vector<ProcessView> processes = machines_->processes();
  for (const kubernetes::Endpoint& e : it->second) {
    if (works(sg, e, processes)) {
      return std::make_pair(e, su_of(sg.str(), e.slot).components.front().id);
    }
  }
  return std::nullopt;
}

double KubernetesRun::served_fraction(const SgId& sg) const {
  auto it = endpoints_.find(sg.str());
  if (it == endpoints_.end() || it->second.empty()) return 0;
  const std::vector<ProcessView> processes = machines_->processes();
  const auto count = std::count_if(it->second.begin(), it->second.end(),
                                   [&](const auto& e) { return works(sg, e, processes); });
  return static_cast<double>(count) / static_cast<double>(it->second.size());
}

void KubernetesRun::settle_state() {
  for (auto& [comp, held] : held_) {
    if (held == 0 || running_.count(comp) || options_.persistent_volume) continue;
    line("  (" + comp.str() + " has no program: the " + std::to_string(held) +
         " writes it acknowledged are lost)");
    state_.lost += held;
    held = 0;
  }
}

bool KubernetesRun::write(const SgId& sg) {
  auto w = working(sg);
  if (!w) return false;
  ++held_[w->second];
  ++state_.writes;
  return true;
}

}  // namespace amf::sim
