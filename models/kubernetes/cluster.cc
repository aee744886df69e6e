#include "models/kubernetes/cluster.h"

#include <algorithm>
#include <utility>

#include "amf/core/assert.h"

namespace amf::kubernetes {
namespace {

// The first tick of a period that starts at `phase`, after `now`.
TimePoint next_after(TimePoint phase, Duration period, TimePoint now) {
  if (now < phase) return phase;
  return phase + ((now - phase) / period + 1) * period;
}

std::string secs(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

}  // namespace

std::string to_string(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kStartup:
      return "startup";
    case ProbeKind::kLiveness:
      return "liveness";
    case ProbeKind::kReadiness:
      return "readiness";
  }
  return "?";
}

bool Cluster::Container::ready() const {
  return state == State::kRunning && started_probe_ok && (!readiness || readiness->result);
}

bool Cluster::Pod::ready() const {
  if (!sandbox || deleting || marked_not_ready) return false;
  return std::all_of(containers.begin(), containers.end(),
                     [](const Container& c) { return c.ready(); });
}

Cluster::Cluster(Parameters parameters, std::vector<std::string> nodes,
                 std::vector<Workload> workloads, TimePoint now)
    : p_(std::move(parameters)),
      node_order_(std::move(nodes)),
      workloads_(std::move(workloads)),
      start_(now),
      next_monitor_(now + p_.node_monitor_period) {
  // Periods divide time: none may be zero (the profiles are code, so this is a programming
  // error, not an input one).
  AMF_ASSERT(p_.pleg_relist_period > Duration(0) && p_.node_lease_renew_interval > Duration(0) &&
             p_.node_monitor_period > Duration(0));
  for (const auto* probe : {&p_.liveness_probe, &p_.readiness_probe, &p_.startup_probe}) {
    AMF_ASSERT(!*probe || (*probe)->period_seconds > Duration(0));
  }
  for (const std::string& n : node_order_) {
    Node& node = nodes_[n];
    node.booted = now;
    node.lease_renewed = now;
    node.seen_renewal = now;
    node.probe_timestamp = now;
    next_relist_[n] = now + p_.pleg_relist_period;
  }
  reconcile_due_ = now;
}

bool Cluster::all_down(const Pod& pod) {
  return std::all_of(pod.containers.begin(), pod.containers.end(), [](const Container& c) {
    return c.state == State::kWaiting || c.state == State::kExited;
  });
}

std::string Cluster::pod_name(const Pod& pod) const {
  const Workload& w = workload(pod.workload);
  return w.name + "-" +
         (w.kind == Kind::kStatefulSet ? std::to_string(pod.slot) : std::to_string(pod.uid));
}

std::string Cluster::who(const Pod& pod, const Container& c) const {
  return pod_name(pod) + "/" + c.name;
}

Cluster::Pod* Cluster::find(std::uint64_t uid) {
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : &it->second;
}

Cluster::Container* Cluster::find(Pod& pod, const std::string& container) {
  for (Container& c : pod.containers) {
    if (c.name == container) return &c;
  }
  return nullptr;
}

const Workload& Cluster::workload(const std::string& name) const {
  return *std::find_if(workloads_.begin(), workloads_.end(),
                       [&](const Workload& w) { return w.name == name; });
}

const std::optional<Probe>& Cluster::spec(ProbeKind kind) const {
  switch (kind) {
    case ProbeKind::kStartup:
      return p_.startup_probe;
    case ProbeKind::kLiveness:
      return p_.liveness_probe;
    case ProbeKind::kReadiness:
      break;
  }
  return p_.readiness_probe;
}

TimePoint Cluster::last_renewal(const Node& n, TimePoint now) const {
  if (!n.up) return n.lease_renewed;
  return n.booted +
         ((now - n.booted) / p_.node_lease_renew_interval) * p_.node_lease_renew_interval;
}

// ---- from the host ----

std::vector<Effect> Cluster::sandbox_ready(std::uint64_t uid, TimePoint now) {
  Out out;
  Pod* pod = find(uid);
  if (pod == nullptr || !pod->sandbox_pending || !nodes_.at(pod->node).up) return out;
  pod->sandbox_pending = false;
  pod->sandbox = true;
  log(out, "kubelet " + pod->node + ": sandbox of " + pod_name(*pod) + " ready");
  sync(*pod, now, out);
  return out;
}

std::vector<Effect> Cluster::container_started(std::uint64_t uid, const std::string& container,
                                               TimePoint now) {
  Out out;
  Pod* pod = find(uid);
  Container* c = pod == nullptr ? nullptr : find(*pod, container);
  if (c == nullptr) return out;
  if (c->state == State::kTerminating) {  // stopped while it started: it runs now, so it dies
    c->runtime_running = true;
    out.push_back(SignalContainer{uid, pod->node, c->name, !c->kill_at.has_value()});
    return out;
  }
  if (c->state != State::kStarting) return out;
  c->state = State::kRunning;
  c->runtime_running = true;
  c->started_at = now;
  c->started_probe_ok = !p_.startup_probe;
  reset_workers(*pod, *c, now);
  log(out, "kubelet " + pod->node + ": " + who(*pod, *c) + " running");
  endpoints_changed(now);
  return out;
}

std::vector<Effect> Cluster::container_start_failed(std::uint64_t uid, const std::string& container,
                                                    TimePoint now) {
  Out out;
  Pod* pod = find(uid);
  Container* c = pod == nullptr ? nullptr : find(*pod, container);
  if (c == nullptr || (c->state != State::kStarting && c->state != State::kTerminating)) return out;
  log(out, "kubelet " + pod->node + ": " + who(*pod, *c) + " failed to start");
  exited(*pod, *c, now, now, out);
  sync(*pod, now, out);
  return out;
}

std::vector<Effect> Cluster::container_exited(std::uint64_t uid, const std::string& container,
                                              TimePoint now) {
  Out out;
  Pod* pod = find(uid);
  Container* c = pod == nullptr ? nullptr : find(*pod, container);
  if (c == nullptr || !nodes_.at(pod->node).up) return out;
  c->runtime_running = false;
  if (c->state == State::kTerminating) {  // the kubelet killed it: it knows at once
    exited(*pod, *c, now, now, out);
    sync(*pod, now, out);
  } else if (c->state == State::kRunning || c->state == State::kStarting) {
    c->exited_at = now;  // the next relist notices
  }
  return out;
}

std::vector<Effect> Cluster::probe_done(const RunProbe& probe_run, bool ok, TimePoint now) {
  Out out;
  Pod* pod = find(probe_run.pod);
  Container* c = pod == nullptr ? nullptr : find(*pod, probe_run.container);
  // An answer for an earlier instance of the container (it was started again since) is stale.
  if (c == nullptr || c->instance != probe_run.instance) return out;
  const ProbeKind kind = probe_run.kind;
  std::optional<Worker>& w = kind == ProbeKind::kStartup    ? c->startup
                             : kind == ProbeKind::kLiveness ? c->liveness
                                                            : c->readiness;
  if (!w || !w->in_flight) return out;
  w->in_flight = false;
  if (c->state != State::kRunning) return out;  // for a container that has gone since
  const Probe& probe = *spec(kind);
  const bool before = w->result;
  if (ok) {
    w->failures = 0;
    if (++w->successes >= probe.success_threshold) w->result = true;
  } else {
    w->successes = 0;
    if (++w->failures >= probe.failure_threshold) w->result = false;
  }
  if (!ok) {
    log(out, "kubelet " + pod->node + ": " + to_string(kind) + " probe of " + who(*pod, *c) +
                 " failed (" + std::to_string(w->failures) + " of " +
                 std::to_string(probe.failure_threshold) + ")");
  }
  switch (kind) {
    case ProbeKind::kReadiness:
      if (w->result != before) endpoints_changed(now);
      break;
    case ProbeKind::kStartup:
      if (w->result) {
        c->started_probe_ok = true;
        if (c->readiness) c->readiness->triggered = true;  // probed at once (manual trigger)
        endpoints_changed(now);
      } else if (!ok && w->failures >= probe.failure_threshold) {
        stop(*pod, *c, now, out, "startup probe failed");
      }
      break;
    case ProbeKind::kLiveness:
      if (!ok && w->failures >= probe.failure_threshold) {
        stop(*pod, *c, now, out, "liveness probe failed");
      }
      break;
  }
  return out;
}

std::vector<Effect> Cluster::sandbox_died(std::uint64_t uid, TimePoint now) {
  Pod* pod = find(uid);
  if (pod != nullptr && pod->sandbox && nodes_.at(pod->node).up) pod->sandbox_died_at = now;
  return {};
}

std::vector<Effect> Cluster::node_crashed(const std::string& name, TimePoint now) {
  Out out;
  Node& n = nodes_.at(name);
  if (!n.up) return out;
  n.lease_renewed = last_renewal(n, now);
  n.up = false;
  next_relist_.erase(name);
  // What the API has of its pods stays as the kubelet last reported it: they look ready
  // until the node lifecycle controller marks them.
  return out;
}

std::vector<Effect> Cluster::node_booted(const std::string& name, TimePoint now) {
  Out out;
  Node& n = nodes_.at(name);
  if (n.up) return out;
  n.up = true;
  n.booted = now;
  next_relist_[name] = now + p_.pleg_relist_period;
  log(out, "kubelet " + name + ": started");
  std::vector<std::uint64_t> gone;
  for (auto& [uid, pod] : pods_) {
    if (pod.node != name) continue;
    if (pod.deleting) {
      gone.push_back(uid);  // deleted meanwhile: the kubelet confirms, the object goes
      continue;
    }
    // A fresh kubelet: a new sandbox, every container started again, back-off forgotten.
    pod.sandbox = false;
    pod.sandbox_pending = true;
    pod.sandbox_died_at.reset();
    pod.sandbox_lost = false;
    pod.marked_not_ready = false;
    for (Container& c : pod.containers) {
      c.state = State::kWaiting;
      c.runtime_running = false;
      c.exited_at.reset();
      c.kill_at.reset();
      c.restart_at.reset();
      c.backoff.reset();
      c.startup.reset();  // a fresh kubelet's workers tick from the pod's arrival at it
      c.liveness.reset();
      c.readiness.reset();
      reset_workers(pod, c, now);
    }
    out.push_back(RunSandbox{uid, name});
  }
  for (std::uint64_t uid : gone) {
    log(out, "kubelet " + name + ": " + pod_name(pods_.at(uid)) + " deleted");
    pods_.erase(uid);
  }
  reconcile_due_ = now;
  endpoints_changed(now);
  return out;
}

std::vector<Effect> Cluster::force_delete(std::uint64_t uid, TimePoint now) {
  Out out;
  Pod* pod = find(uid);
  if (pod == nullptr) return out;
  log(out, "api: " + pod_name(*pod) + " force-deleted");
  if (nodes_.at(pod->node).up) {
    for (Container& c : pod->containers) {
      if (c.runtime_running) out.push_back(SignalContainer{uid, pod->node, c.name, true});
    }
  }
  pods_.erase(uid);
  reconcile_due_ = now;
  endpoints_changed(now);
  return out;
}

// ---- time ----

std::optional<TimePoint> Cluster::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  consider(next_monitor_);
  if (reconcile_due_) consider(*reconcile_due_);
  if (proxy_due_) consider(*proxy_due_);
  for (const auto& [node, t] : next_relist_) consider(t);
  for (const auto& [uid, t] : next_pod_sync_) consider(t);
  for (const auto& [uid, pod] : pods_) {
    if (pod.node.empty()) continue;
    const Node& n = nodes_.at(pod.node);
    // Taint-based: the taint's age; before: the node controller's next pass evicts.
    if (n.tainted_at && !pod.deleting && p_.taint_based_evictions) {
      consider(*n.tainted_at + p_.default_unreachable_toleration_seconds);
    }
    if (!n.up) continue;
    for (const Container& c : pod.containers) {
      if (c.kill_at) consider(*c.kill_at);
      // A worker ticks whether its container runs or not (its phase is the pod's arrival).
      for (const auto* w : {&c.startup, &c.liveness, &c.readiness}) {
        if (*w) consider((*w)->triggered ? TimePoint::min() : (*w)->next);
      }
    }
  }
  return next;
}

std::vector<Effect> Cluster::tick(TimePoint now) {
  Out out;
  if (reconcile_due_ && *reconcile_due_ <= now) {
    reconcile_due_.reset();
    reconcile(now, out);
  }
  for (auto& [node, t] : next_relist_) {
    if (t > now) continue;
    t = next_after(nodes_.at(node).booted, p_.pleg_relist_period, now);
    relist(node, now, out);
  }
  const bool monitor_pass = next_monitor_ <= now;
  if (monitor_pass) {
    next_monitor_ = next_after(start_, p_.node_monitor_period, now);
    monitor_nodes(now, out);
  }
  evict(now, monitor_pass, out);
  for (auto it = next_pod_sync_.begin(); it != next_pod_sync_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::uint64_t uid = it->first;
    it = next_pod_sync_.erase(it);
    if (Pod* pod = find(uid); pod != nullptr && nodes_.at(pod->node).up) sync(*pod, now, out);
  }
  for (auto& [uid, pod] : pods_) {
    if (pod.node.empty() || !nodes_.at(pod.node).up) continue;
    for (Container& c : pod.containers) {
      if (c.kill_at && *c.kill_at <= now) {
        c.kill_at.reset();
        if (c.state == State::kTerminating && c.runtime_running) {
          log(out,
              "kubelet " + pod.node + ": " + who(pod, c) + " outlived its grace period: SIGKILL");
          out.push_back(SignalContainer{uid, pod.node, c.name, true});
        }
      }
      if (c.startup) probe_tick(pod, c, ProbeKind::kStartup, *c.startup, now, out);
      if (c.liveness) probe_tick(pod, c, ProbeKind::kLiveness, *c.liveness, now, out);
      if (c.readiness) probe_tick(pod, c, ProbeKind::kReadiness, *c.readiness, now, out);
    }
  }
  if (reconcile_due_ && *reconcile_due_ <= now) {
    reconcile_due_.reset();
    reconcile(now, out);
  }
  if (proxy_due_ && *proxy_due_ <= now) proxy_sync(now, out);
  return out;
}

// ---- the kubelet ----

void Cluster::relist(const std::string& node, TimePoint now, Out& out) {
  std::vector<std::uint64_t> changed_pods;  // synced after the loop: a sync may delete the pod
  for (auto& [uid, pod] : pods_) {
    if (pod.node != node) continue;
    bool changed = false;
    if (pod.sandbox_died_at) {
      log(out, "kubelet " + node + ": relist: the sandbox of " + pod_name(pod) +
                   " died; its containers are stopped");
      pod.sandbox_died_at.reset();
      pod.sandbox = false;
      pod.sandbox_lost = true;
      for (Container& c : pod.containers) stop(pod, c, now, out, "sandbox changed");
      endpoints_changed(now);
      changed = true;
    }
    for (Container& c : pod.containers) {
      if (!c.exited_at) continue;
      log(out, "kubelet " + node + ": relist: " + who(pod, c) + " exited");
      exited(pod, c, *c.exited_at, now, out);
      changed = true;
    }
    if (changed) changed_pods.push_back(uid);
  }
  for (std::uint64_t uid : changed_pods) {
    if (Pod* pod = find(uid)) sync(*pod, now, out);
  }
}

void Cluster::sync(Pod& pod, TimePoint now, Out& out) {
  if (pod.deleting) {
    if (all_down(pod)) {
      log(out, "kubelet " + pod.node + ": " + pod_name(pod) + " deleted");
      next_pod_sync_.erase(pod.uid);
      pods_.erase(pod.uid);
      reconcile_due_ = now;
    }
    return;
  }
  if (!pod.sandbox) {
    if (pod.sandbox_lost &&
        all_down(pod)) {  // computePodActions: a new sandbox, then every container
      pod.sandbox_lost = false;
      pod.sandbox_pending = true;
      log(out, "kubelet " + pod.node + ": a new sandbox for " + pod_name(pod));
      out.push_back(RunSandbox{pod.uid, pod.node});
    }
    return;
  }
  bool waiting = false;
  for (Container& c : pod.containers) {
    if (c.state != State::kWaiting && c.state != State::kExited) continue;
    if (c.ever_started) {
      // kuberuntime_manager.go doBackOff with client-go's flowcontrol.Backoff.
      // IsInBackOffSince() asks whether the entry expired by now; Next() whether it had by the
      // exit (the kubelet's HasExpiredFunc: more than backoff_reset since the last restart).
      const bool expired_now = c.backoff && now - c.backoff_updated > p_.backoff_reset;
      const bool expired_at_exit =
          c.backoff && c.finished_at - c.backoff_updated > p_.backoff_reset;
      if (c.backoff && !expired_now && now - c.finished_at < *c.backoff) {
        c.restart_at = c.finished_at + *c.backoff;
        if (c.state != State::kWaiting) {
          log(out, "kubelet " + pod.node + ": " + who(pod, c) + " in CrashLoopBackOff (" +
                       secs(*c.backoff) + ")");
        }
        c.state = State::kWaiting;
        waiting = true;
        continue;
      }
      c.backoff = !c.backoff || expired_at_exit
                      ? p_.initial_crash_loop_backoff
                      : std::min(*c.backoff * 2, p_.max_container_backoff);
      c.backoff_updated = now;
    }
    start(pod, c, now, out);
  }
  if (waiting) {
    next_pod_sync_[pod.uid] = now + p_.pod_worker_backoff_period;
  } else {
    next_pod_sync_.erase(pod.uid);
  }
}

void Cluster::start(Pod& pod, Container& c, TimePoint now, Out& out) {
  if (c.ever_started) ++c.restarts;
  c.ever_started = true;
  ++c.instance;
  c.state = State::kStarting;
  c.restart_at.reset();
  log(out, "kubelet " + pod.node + ": start " + who(pod, c) +
               (c.restarts > 0 ? " (restart " + std::to_string(c.restarts) + ")" : ""));
  (void)now;
  out.push_back(StartContainer{pod.uid, pod.node, pod.workload, pod.slot, c.name});
}

void Cluster::exited(Pod& pod, Container& c, TimePoint finished, TimePoint now, Out& out) {
  (void)out;
  c.state = State::kExited;
  c.runtime_running = false;
  c.finished_at = finished;
  c.exited_at.reset();
  c.kill_at.reset();
  reset_workers(pod, c, now);
  endpoints_changed(now);
}

void Cluster::stop(Pod& pod, Container& c, TimePoint now, Out& out, const std::string& why) {
  if (c.state != State::kRunning && c.state != State::kStarting) return;
  c.state = State::kTerminating;
  log(out, "kubelet " + pod.node + ": " + why + ": SIGTERM to " + who(pod, c) + " (grace period " +
               secs(p_.termination_grace_period_seconds) + ")");
  if (p_.termination_grace_period_seconds <= Duration(0)) {
    out.push_back(SignalContainer{pod.uid, pod.node, c.name, true});
  } else {
    out.push_back(SignalContainer{pod.uid, pod.node, c.name, false});
    c.kill_at = now + p_.termination_grace_period_seconds;
  }
  endpoints_changed(now);
}

void Cluster::reset_workers(Pod& pod, Container& c, TimePoint now) {
  (void)pod;
  // A worker keeps its ticker (it ticks from the pod's arrival); a new container starts it
  // over: readiness not ready, liveness and startup not failed.
  auto reset = [&](std::optional<Worker>& w, ProbeKind kind) {
    if (!spec(kind)) return;
    if (!w) w = Worker{now};
    w->in_flight = false;
    w->successes = 0;
    w->failures = 0;
    w->result = kind != ProbeKind::kReadiness;
  };
  reset(c.startup, ProbeKind::kStartup);
  reset(c.liveness, ProbeKind::kLiveness);
  reset(c.readiness, ProbeKind::kReadiness);
  if (c.startup) c.startup->result = false;
}

void Cluster::probe_tick(Pod& pod, Container& c, ProbeKind kind, Worker& w, TimePoint now,
                         Out& out) {
  if (w.next > now && !w.triggered) return;
  const Probe& probe = *spec(kind);
  if (w.next <= now) w.next = next_after(w.next, probe.period_seconds, now);
  w.triggered = false;
  if (c.state != State::kRunning || w.in_flight) return;
  if (kind == ProbeKind::kStartup ? c.started_probe_ok : !c.started_probe_ok) return;
  if (now - c.started_at < probe.initial_delay_seconds) return;
  w.in_flight = true;
  out.push_back(RunProbe{pod.uid, pod.node, c.name, kind, probe.timeout_seconds, c.instance});
}

// ---- the control plane ----

void Cluster::reconcile(TimePoint now, Out& out) {
  for (const Workload& w : workloads_) {
    for (int slot = 0; slot < w.replicas; ++slot) {
      const bool has = std::any_of(pods_.begin(), pods_.end(), [&](const auto& entry) {
        const Pod& pod = entry.second;
        // A ReplicaSet does not count a terminating pod; a StatefulSet waits until it is gone.
        return pod.workload == w.name && pod.slot == slot &&
               (w.kind == Kind::kStatefulSet || !pod.deleting);
      });
      if (has) continue;
      Pod pod;
      pod.uid = next_uid_++;
      pod.workload = w.name;
      pod.slot = slot;
      for (const std::string& name : w.containers) pod.containers.push_back(Container{name});
      log(out, "controller: " +
                   std::string(w.kind == Kind::kStatefulSet ? "statefulset " : "replicaset ") +
                   w.name + " creates " + pod_name(pod));
      pods_.emplace(pod.uid, std::move(pod));
    }
  }
  // The scheduler: a pending pod goes to the ready node it may run on that has the fewest pods
  // of its workload (the first in the configuration's order on a tie).
  for (auto& [uid, pod] : pods_) {
    if (!pod.node.empty() || pod.deleting) continue;
    const Workload& w = workload(pod.workload);
    std::string best;
    long best_count = 0;
    for (const std::string& n : node_order_) {
      if (!nodes_.at(n).ready) continue;
      if (!w.nodes.empty() && std::find(w.nodes.begin(), w.nodes.end(), n) == w.nodes.end()) {
        continue;
      }
      const long count = std::count_if(pods_.begin(), pods_.end(), [&](const auto& entry) {
        return entry.second.workload == w.name && entry.second.node == n && !entry.second.deleting;
      });
      if (best.empty() || count < best_count) {
        best = n;
        best_count = count;
      }
    }
    if (best.empty()) continue;  // pending until a node it may run on is ready
    pod.node = best;
    log(out, "scheduler: " + pod_name(pod) + " to " + best);
    if (!nodes_.at(best).up) continue;  // its kubelet is gone; the node is not known down yet
    pod.sandbox_pending = true;
    for (Container& c : pod.containers) reset_workers(pod, c, now);
    out.push_back(RunSandbox{uid, best});
  }
}

void Cluster::monitor_nodes(TimePoint now, Out& out) {
  for (const std::string& name : node_order_) {
    Node& n = nodes_.at(name);
    // tryUpdateNodeHealth: a renewal the controller has not seen yet counts from now.
    if (const TimePoint renewed = last_renewal(n, now); renewed != n.seen_renewal) {
      n.seen_renewal = renewed;
      n.probe_timestamp = now;
    }
    const bool stale = now - n.probe_timestamp > p_.node_monitor_grace_period;
    if (n.ready && stale) {
      n.ready = false;
      n.tainted_at = now;
      log(out, "node lifecycle controller: " + name +
                   " not heard for longer than the grace period: Unknown, tainted unreachable");
      for (auto& [uid, pod] : pods_) {
        if (pod.node == name) pod.marked_not_ready = true;
      }
      endpoints_changed(now);
    } else if (!n.ready && !stale) {
      n.ready = true;
      n.tainted_at.reset();
      log(out, "node lifecycle controller: " + name + " Ready");
      reconcile_due_ = now;
    }
  }
}

void Cluster::evict(TimePoint now, bool monitor_pass, Out& out) {
  bool any = false;
  std::vector<std::uint64_t> evicted_on_running_node;
  for (auto& [uid, pod] : pods_) {
    if (pod.node.empty() || pod.deleting) continue;
    const Node& n = nodes_.at(pod.node);
    if (!n.tainted_at) continue;
    if (p_.taint_based_evictions) {
      if (now < *n.tainted_at + p_.default_unreachable_toleration_seconds) continue;
      log(out, "taint manager: evicts " + pod_name(pod) + " from " + pod.node);
    } else {
      if (!monitor_pass || now <= n.probe_timestamp + p_.pod_eviction_timeout) continue;
      log(out, "node controller: evicts " + pod_name(pod) + " from " + pod.node +
                   " (no heartbeat for the pod eviction timeout)");
    }
    pod.deleting = true;
    any = true;
    if (n.up) {  // its kubelet runs (the node came back): it stops the containers
      for (Container& c : pod.containers) stop(pod, c, now, out, "evicted");
      evicted_on_running_node.push_back(uid);
    }
  }
  for (std::uint64_t uid : evicted_on_running_node) {
    if (Pod* pod = find(uid)) sync(*pod, now, out);  // gone at once if nothing runs
  }
  if (any) {
    reconcile_due_ = now;
    endpoints_changed(now);
  }
}

void Cluster::endpoints_changed(TimePoint now) {
  if (proxy_due_) return;
  proxy_due_ =
      std::max(now + p_.endpoint_updates_batch_period, last_proxy_sync_ + p_.min_sync_period);
}

void Cluster::proxy_sync(TimePoint now, Out& out) {
  proxy_due_.reset();
  last_proxy_sync_ = now;
  for (const Workload& w : workloads_) {
    std::vector<Endpoint> ready;
    for (const auto& [uid, pod] : pods_) {
      if (pod.workload == w.name && pod.ready()) ready.push_back(Endpoint{uid, pod.slot, pod.node});
    }
    std::vector<Endpoint>& programmed = programmed_[w.name];
    if (ready == programmed) continue;
    programmed = ready;
    std::string text = "kube-proxy: " + w.name + " ->";
    for (const Endpoint& e : ready) text += " " + pod_name(pods_.at(e.pod)) + "@" + e.node;
    if (ready.empty()) text += " (no endpoint)";
    log(out, text);
    out.push_back(Endpoints{w.name, ready});
  }
}

// ---- views ----

bool Cluster::node_ready(const std::string& node) const { return nodes_.at(node).ready; }

std::optional<Cluster::PodView> Cluster::pod(std::uint64_t uid) const {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return std::nullopt;
  const Pod& p = it->second;
  PodView v{p.uid, pod_name(p), p.workload, p.slot, p.node, p.ready(), p.deleting, {}};
  for (const Container& c : p.containers) {
    static const char* const kStates[] = {"waiting", "starting", "running", "terminating",
                                          "exited"};
    v.containers.push_back(ContainerView{c.name, kStates[static_cast<int>(c.state)], c.restarts,
                                         c.ready(), c.restart_at});
  }
  return v;
}

std::vector<Cluster::PodView> Cluster::pods() const {
  std::vector<PodView> all;
  for (const auto& [uid, p] : pods_) all.push_back(*pod(uid));
  return all;
}

}  // namespace amf::kubernetes
