// The simulated processes and components, what they do with the node directors' effects
// (Daemon::carry_out for node effects, with a simulated launcher and simulated components),
// and the faults that make them misbehave.
#include <cmath>
#include <set>

#include "amf/core/assert.h"
#include "sim/duration.h"
#include "sim/format.h"
#include "sim/simulation.h"

namespace amf::sim {

using director::EntityKind;
using model::HaState;

namespace {

std::string ha_text(std::optional<HaState> ha) {
  return ha ? std::string(model::to_string(*ha)) : "nothing (removed)";
}

std::string who(const CompId& comp, std::uint64_t pid) {
  return comp.str() + " (pid " + std::to_string(pid) + ")";
}

}  // namespace

// ---- node effects ----

void Simulation::carry_out(const NodeId& node, const node::Effect& effect) {
  struct Visitor {
    Simulation& s;
    const NodeId& node;
    void operator()(const node::StartProcess& e) { s.start_process(node, e); }
    void operator()(const node::SignalProcess& e) { s.signal(e); }
    void operator()(const node::SendRegisterReply& e) { s.registered(e.peer, e.ok); }
    void operator()(const node::SendCsiSet& e) { s.callback(e.peer, e.invocation, e.csi, e.ha); }
    void operator()(const node::SendCsiRemove& e) {
      s.callback(e.peer, e.invocation, e.csi, std::nullopt);
    }
    void operator()(const node::RunHook& e) { s.run_hook(node, e); }
    void operator()(const node::RunProbe& e) { s.run_probe(node, e); }
    void operator()(const node::SendHealthcheck& e) {
      s.callback(e.peer, e.invocation, CsiId(), std::nullopt);
    }
    void operator()(const node::ToDirector&) { AMF_ASSERT(!"the runtime routes reports"); }
    void operator()(const model::Notification& n) { s.note(n); }
  };
  if (!std::holds_alternative<model::Notification>(effect)) {
    line("  " + node.str() + " -> " + sim::describe(effect));
  }
  std::visit(Visitor{*this, node}, effect);
}

void Simulation::start_process(const NodeId& node, const node::StartProcess& e) {
  if (const Process* old = current(e.comp); old != nullptr && !old->stuck) {
    return violate("process", "the node director started " + e.comp.str() + " while its process " +
                                  who(e.comp, old->pid) + " still runs (it would be orphaned)");
  }
  ++stats_.process_starts;
  bool exit_early = false;
  if (take_armed(e.comp, &Armed::fail_starts)) {
    disturbed();
    if (uniform(2) == 0) {
      line("  (the spawn of " + e.comp.str() + " fails)");
      return deliver(node, node::ProcessStartFailed{e.comp, "simulated spawn failure"});
    }
    exit_early = true;
  }
  Process p;
  p.pid = next_pid_++;
  p.comp = e.comp;
  p.node = node;
  p.ignores_kill = take_armed(e.comp, &Armed::cleanup);
  p.fail_before_register = exit_early;
  p.sa_aware = comp_config_.at(e.comp)->sa_aware();
  line("  " + who(p.comp, p.pid) + " spawned" +
       (exit_early ? "; it will exit before registering" : "") +
       (p.ignores_kill ? "; it will ignore SIGKILL" : ""));
  current_pid_[e.comp] = p.pid;
  Process& placed = processes_.emplace(p.pid, std::move(p)).first->second;
  if (options_.latencies.start.max <= Duration(0)) {
    started(placed);
  } else {
    schedule(draw(options_.latencies.start), ProcStarts{placed.pid});
  }
}

void Simulation::started(Process& p) {
  p.started_reported = true;
  deliver(p.node, node::ProcessStarted{p.comp});
  const model::ComponentConfig& config = *comp_config_.at(p.comp);
  if (p.fail_before_register) {
    schedule(draw(options_.latencies.early_exit), ProcExits{p.pid, "exited with code 1"});
  } else if (config.instantiated_when == model::InstantiatedWhen::kStarted) {
    p.registered = true;  // instantiated once it runs
  } else {
    // SA-aware: it registers; notified: it says READY=1.
    schedule(draw(options_.latencies.registration), ProcRegisters{p.pid});
  }
}

void Simulation::registered(node::PeerId peer, bool ok) {
  auto pid = pid_by_peer_.find(peer);
  if (pid == pid_by_peer_.end()) return;
  Process& p = processes_.at(pid->second);
  if (!ok) {
    // The component library returns the refusal to the program, which gives up.
    return schedule(draw(options_.latencies.callback),
                    ProcExits{p.pid, "exited with code 1 (registration refused)"});
  }
  p.registered = true;
  const auto& hc = comp_config_.at(p.comp)->health_check;
  if (hc && hc->component_invoked) schedule(hc->period, ProcConfirms{p.pid});
}

// amfd signals the process it knows for the component, if any.
void Simulation::signal(const node::SignalProcess& e) {
  Process* p = current(e.comp);
  if (p == nullptr) return;
  if (e.signal == node::Signal::kTerminate) {
    if (p->hung || p->stuck) return line("  (" + who(p->comp, p->pid) + " ignores SIGTERM)");
    if (p->exiting) return;
    p->exiting = true;
    return schedule(draw(options_.latencies.terminate), ProcExits{p->pid, "exited with code 0"});
  }
  if (p->stuck) return;
  if (p->ignores_kill) {
    p->stuck = true;
    disturbed();
    line("  (" + who(p->comp, p->pid) + " ignores SIGKILL and runs on)");
    if (++stuck_processes_ > options_.max_stuck_processes) {
      violate("limit", "more than " + std::to_string(options_.max_stuck_processes) +
                           " processes ignored SIGKILL");
    }
    return;
  }
  schedule(draw(options_.latencies.kill), ProcExits{p->pid, "killed by signal 9"});
}

// A CSI set or remove callback reaches the component behind `peer`.
void Simulation::callback(node::PeerId peer, node::Invocation invocation, const CsiId& csi,
                          std::optional<HaState> ha) {
  auto pid = pid_by_peer_.find(peer);
  if (pid == pid_by_peer_.end()) return;  // gone: amfd's send fails quietly
  Process& p = processes_.at(pid->second);
  if (p.hung || p.stuck) return;
  const model::ComponentConfig& config = *comp_config_.at(p.comp);
  Duration timeout = ha ? Duration(config.timeouts.csi_set) : Duration(config.timeouts.csi_remove);
  if (csi.empty() && config.health_check) timeout = config.health_check->max_duration;
  if (take_armed(p.comp, &Armed::errors)) {
    disturbed();
    line("  (" + who(p.comp, p.pid) + " will answer invocation " + std::to_string(invocation) +
         " with an error)");
    return schedule(in_turn(p, draw(options_.latencies.callback)),
                    ProcAnswers{p.pid, invocation, false, csi, ha, false});
  }
  if (take_armed(p.comp, &Armed::slow)) {
    disturbed();
    line("  (" + who(p.comp, p.pid) + " will answer invocation " + std::to_string(invocation) +
         " too late)");
    if (!csi.empty())
      schedule(in_turn(p, draw(options_.latencies.callback)), ProcApplies{p.pid, csi, ha});
    return schedule(in_turn(p, timeout + draw(options_.latencies.callback)),
                    ProcAnswers{p.pid, invocation, true, csi, ha, true});
  }
  schedule(in_turn(p, draw(options_.latencies.callback)),
           ProcAnswers{p.pid, invocation, true, csi, ha, true});
}

Duration Simulation::in_turn(Process& p, Duration work) {
  p.answered_until = std::max(p.answered_until, now_) + work;
  return p.answered_until - now_;
}

// ---- scheduled process events ----

void Simulation::on(const ProcStarts& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.started_reported) return;
  line(header() + who(it->second.comp, e.pid) + " is started");
  started(it->second);
}

void Simulation::on(const ProcRegisters& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end()) return;
  Process& p = it->second;
  if (p.hung || p.stuck) return;
  if (!p.sa_aware) {
    line(header() + who(p.comp, p.pid) + " says READY=1");
    p.registered = true;
    const auto& hc = comp_config_.at(p.comp)->health_check;
    if (hc && hc->component_invoked) schedule(hc->period / 2, ProcConfirms{p.pid});
    return deliver(p.node, node::ComponentNotify{p.comp, true, false, false, false, std::nullopt});
  }
  p.peer = next_peer_++;
  pid_by_peer_[*p.peer] = p.pid;
  line(header() + who(p.comp, p.pid) + " registers");
  deliver(p.node, node::ComponentRegister{*p.peer, p.comp.str()});
}

void Simulation::on(const ProcExits& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.stuck) return;
  Process& p = it->second;
  line(header() + who(p.comp, p.pid) + " " + e.status);
  // The launcher reports a process's start before its exit.
  if (!p.started_reported) deliver(p.node, node::ProcessStarted{p.comp});
  if (p.peer) pid_by_peer_.erase(*p.peer);
  if (!p.beliefs.empty()) beliefs_changed_ = true;
  const NodeId node = p.node;
  const CompId comp = p.comp;
  if (auto cur = current_pid_.find(comp); cur != current_pid_.end() && cur->second == e.pid) {
    current_pid_.erase(cur);
  }
  processes_.erase(it);
  deliver(node, node::ProcessExited{comp, e.status});
}

void Simulation::on(const ProcReports& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  if (!it->second.sa_aware) {  // sd_notify: it asks to be treated as failed
    if (comp_config_.at(it->second.comp)->instantiated_when != model::InstantiatedWhen::kNotified)
      return;  // no NOTIFY_SOCKET to say it on
    line(header() + who(it->second.comp, e.pid) + " says WATCHDOG=trigger");
    return deliver(it->second.node,
                   node::ComponentNotify{it->second.comp, false, false, true, false, std::nullopt});
  }
  if (!it->second.peer) return;
  line(header() + who(it->second.comp, e.pid) + " reports an error");
  deliver(it->second.node,
          node::ComponentErrorReport{*it->second.peer, "", "simulated error report"});
}

void Simulation::on(const ProcConfirms& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  const auto& hc = comp_config_.at(it->second.comp)->health_check;
  if (!it->second.sa_aware) {
    // Its watchdog, WATCHDOG=1 every half interval (as sd_watchdog_enabled(3) advises: the
    // interval has no slack).
    deliver(it->second.node,
            node::ComponentNotify{it->second.comp, false, true, false, false, std::nullopt});
    return schedule(hc->period / 2, ProcConfirms{e.pid});
  }
  if (!it->second.peer) return;
  deliver(it->second.node, node::ComponentHealthcheckConfirm{*it->second.peer, hc->key});
  schedule(hc->period, ProcConfirms{e.pid});
}

// A hook runs on the node (amfd's /bin/sh -c): it tells the component to take the state and
// exits once it has. With no process to tell it fails; against a hung or stuck one it never
// exits (the node director's CSI timeout ends it). Armed faults: `error` makes the next hook
// exit 1 (the component took the state all the same: it may serve), `slow` makes it overrun
// the CSI timeout.
void Simulation::run_hook(const NodeId& node, const node::RunHook& e) {
  const auto csi_env = e.env.find("AMF_CSI_NAME");
  const auto ha_env = e.env.find("AMF_HA_STATE");
  AMF_ASSERT(csi_env != e.env.end() && ha_env != e.env.end());
  const CsiId csi(csi_env->second);
  const std::optional<HaState> ha = model::parse_ha_state(ha_env->second);  // none: "removed"
  Process* p = current(e.comp);
  if (p == nullptr) {
    return schedule(draw(options_.latencies.callback),
                    HookEnds{node, e.comp, 0, e.invocation, false, csi, std::nullopt});
  }
  if (p->hung || p->stuck) return line("  (the hook hangs on " + who(p->comp, p->pid) + ")");
  if (take_armed(p->comp, &Armed::errors)) {
    disturbed();
    line("  (the hook of " + who(p->comp, p->pid) + " will exit 1)");
    return schedule(in_turn(*p, draw(options_.latencies.callback)),
                    HookEnds{node, e.comp, p->pid, e.invocation, false, csi, ha});
  }
  if (take_armed(p->comp, &Armed::slow)) {
    disturbed();
    line("  (the hook of " + who(p->comp, p->pid) + " will overrun its timeout)");
    return schedule(in_turn(*p, e.timeout + draw(options_.latencies.callback)),
                    HookEnds{node, e.comp, p->pid, e.invocation, true, csi, ha});
  }
  schedule(in_turn(*p, draw(options_.latencies.callback)),
           HookEnds{node, e.comp, p->pid, e.invocation, true, csi, ha});
}

void Simulation::on(const HookEnds& e) {
  auto it = processes_.find(e.pid);
  if (it != processes_.end() && (it->second.hung || it->second.stuck)) {
    // It hung while the hook talked to it: the hook hangs with it.
    return line(header() + "hook of " + e.comp.str() + " (invocation " +
                std::to_string(e.invocation) + ") hangs on " + who(e.comp, e.pid));
  }
  if (it != processes_.end() && !e.csi.empty()) {
    // A quiescing component finishes its work before the hook exits: it is then quiesced.
    set_belief(it->second, e.csi, e.ha == HaState::kQuiescing ? HaState::kQuiesced : e.ha);
  }
  line(header() + "hook of " + e.comp.str() + " (invocation " + std::to_string(e.invocation) +
       ") " + (e.ok ? "exits 0" : "exits 1"));
  deliver(e.node, node::HookDone{e.comp, e.invocation, e.ok,
                                 e.ok ? "exit 0 (simulated)" : "exited with code 1 (simulated)"});
}

// A probe asks the component's process whether it lives: a running process that is neither
// hung nor stuck answers at once; otherwise the probe fails (at its timeout if the process
// is there but does not answer).
void Simulation::run_probe(const NodeId& node, const node::RunProbe& e) {
  const Process* p = current(e.comp);
  const auto& probe = comp_config_.at(e.comp)->probe;
  const bool silent = p != nullptr && (p->hung || p->stuck);
  schedule(silent && probe ? Duration(probe->timeout) : Duration(std::chrono::milliseconds(1)),
           ProbeEnds{node, e.comp, e.invocation});
}

void Simulation::on(const ProbeEnds& e) {
  const Process* p = current(e.comp);
  const bool ok = p != nullptr && !p->hung && !p->stuck;
  if (!ok) line(header() + "probe of " + e.comp.str() + " fails");
  deliver(e.node, node::ProbeDone{e.comp, e.invocation, ok,
                                  ok             ? "simulated"
                                  : p == nullptr ? "no process"
                                                 : "no answer"});
}

void Simulation::on(const ProcApplies& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  line(header() + who(it->second.comp, e.pid) + " takes " + e.csi.str() + " " + ha_text(e.ha));
  set_belief(it->second, e.csi, e.ha);
}

void Simulation::on(const ProcAnswers& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck || !it->second.peer) return;
  Process& p = it->second;
  line(header() + who(p.comp, p.pid) + " answers invocation " + std::to_string(e.invocation) +
       (e.ok ? " ok" : " with an error"));
  // A component answers a quiescing callback once its work is done: it is then quiesced.
  if (e.apply && e.ok && !e.csi.empty()) {
    set_belief(p, e.csi, e.ha == HaState::kQuiescing ? HaState::kQuiesced : e.ha);
  }
  deliver(p.node, node::ComponentResponse{*p.peer, e.invocation, e.ok});
}

void Simulation::set_belief(Process& p, const CsiId& csi, std::optional<HaState> ha) {
  // Quiescing means finishing the work in hand as an active; a component that was not active
  // has none, so it is quiesced at once (a restarted one is handed "quiescing" back, say).
  if (ha == HaState::kQuiescing) {
    auto had = p.beliefs.find(csi);
    if (had == p.beliefs.end() || had->second != HaState::kActive) ha = HaState::kQuiesced;
  }
  if (ha) {
    p.beliefs[csi] = *ha;
    if (*ha == HaState::kActive || *ha == HaState::kQuiescing) touched_csis_.insert(csi);
  } else {
    p.beliefs.erase(csi);
  }
  beliefs_changed_ = true;
}

bool Simulation::take_armed(const CompId& comp, int Armed::*field) {
  for (auto* map : {&armed_, &random_armed_}) {
    auto it = map->find(comp);
    if (it != map->end() && it->second.*field > 0) {
      --(it->second.*field);
      return true;
    }
  }
  return false;
}

Simulation::Process* Simulation::current(const CompId& comp) {
  auto pid = current_pid_.find(comp);
  if (pid == current_pid_.end()) return nullptr;
  auto it = processes_.find(pid->second);
  return it == processes_.end() ? nullptr : &it->second;
}

// A repair tells the cluster that the SU is fit again: an operator repairs an SU whose cleanup
// failed only once the process that survived is gone (a node reboot, say). amfd reaps it.
void Simulation::clean_up_before_repair(director::EntityKind kind, const std::string& entity) {
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    const model::SuConfig* su = nullptr;
    for (const model::SgConfig* sg : config_->service_groups()) {
      for (const auto& s : sg->sus) {
        for (const auto& c : s.components) {
          if (c.id == p.comp) su = &s;
        }
      }
    }
    const bool reached = su != nullptr && ((kind == EntityKind::kSu && su->id.str() == entity) ||
                                           (kind == EntityKind::kNode && su->node.str() == entity));
    if (!p.stuck || !reached) {
      ++it;
      continue;
    }
    line("  (the operator ends " + who(p.comp, p.pid) + ", which survived its cleanup)");
    if (!p.beliefs.empty()) beliefs_changed_ = true;
    --stuck_processes_;
    if (auto cur = current_pid_.find(p.comp); cur != current_pid_.end() && cur->second == p.pid) {
      current_pid_.erase(cur);
      deliver(p.node, node::ProcessExited{p.comp, "killed by signal 9"});
    }
    it = processes_.erase(it);
  }
}

// ---- faults on demand ----

bool Simulation::crash(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck) return false;
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kCrash)];
  line("[" + format_time(now_) + "] fault: crash " + who(comp, p->pid));
  disturbed();
  schedule(Duration(0), ProcExits{p->pid, "killed by signal 11"});
  return true;
}

bool Simulation::hang(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck || p->hung) return false;
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kHang)];
  line("[" + format_time(now_) + "] fault: hang " + who(comp, p->pid));
  p->hung = true;
  disturbed();
  return true;
}

void Simulation::fail_starts(const CompId& comp, int count) {
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kInstantiate)];
  line("[" + format_time(now_) + "] fault: the next " + std::to_string(count) + " starts of " +
       comp.str() + " fail");
  arms(comp).fail_starts += count;
}

void Simulation::slow_callbacks(const CompId& comp, int count) {
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kSlow)];
  line("[" + format_time(now_) + "] fault: the next " + std::to_string(count) + " callbacks of " +
       comp.str() + " are answered too late");
  arms(comp).slow += count;
}

void Simulation::fail_callbacks(const CompId& comp, int count) {
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kError)];
  line("[" + format_time(now_) + "] fault: the next " + std::to_string(count) + " callbacks of " +
       comp.str() + " are answered with an error");
  arms(comp).errors += count;
}

void Simulation::fail_cleanup(const CompId& comp) {
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kCleanup)];
  Process* p = current(comp);
  line("[" + format_time(now_) + "] fault: " +
       (p != nullptr && !p->stuck ? who(comp, p->pid) : "the next process of " + comp.str()) +
       " will ignore SIGKILL");
  if (p != nullptr && !p->stuck) {
    p->ignores_kill = true;
  } else {
    arms(comp).cleanup = 1;
  }
}

bool Simulation::report_error(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck || p->hung || !p->registered) return false;
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kReport)];
  line("[" + format_time(now_) + "] fault: " + who(comp, p->pid) + " will report an error");
  disturbed();
  schedule(Duration(0), ProcReports{p->pid});
  return true;
}

bool Simulation::force_belief(const CompId& comp, const CsiId& csi, HaState ha) {
  Process* p = current(comp);
  if (p == nullptr) return false;
  line("[" + format_time(now_) + "] fault: " + who(comp, p->pid) + " takes " + csi.str() + " " +
       std::string(model::to_string(ha)) + " on its own");
  disturbed();
  schedule(Duration(0), ProcApplies{p->pid, csi, ha});
  return true;
}

// ---- node crashes ----

bool Simulation::crash_node(const NodeId& node) {
  auto nd = nodes_.find(node);
  if (nd == nodes_.end()) return false;
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kNode)];
  ++stats_.node_crashes;
  disturbed();
  std::size_t ended = 0;
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    if (p.node != node) {
      ++it;
      continue;
    }
    ++ended;
    if (!p.beliefs.empty()) beliefs_changed_ = true;
    if (p.stuck) --stuck_processes_;
    if (p.peer) pid_by_peer_.erase(*p.peer);
    if (auto cur = current_pid_.find(p.comp); cur != current_pid_.end() && cur->second == p.pid) {
      current_pid_.erase(cur);
    }
    it = processes_.erase(it);
  }
  nodes_.erase(nd);   // its runtime, with whatever was queued for it
  cuts_.erase(node);  // a partition of it ends with it (the director hears of the crash)
  unheard_.erase(node);
  stirred_.insert(node);  // its deadlines go with it
  std::erase(delivered_, node);
  const std::uint64_t incarnation = ++incarnation_[node];
  line("[" + format_time(now_) + "] fault: " + node.str() + " crashes; " + std::to_string(ended) +
       (ended == 1 ? " process ends" : " processes end"));
  schedule(draw(options_.latencies.node_detect), NodeLeaves{node, incarnation});
  return true;
}

bool Simulation::boot_node(const NodeId& node) {
  if (nodes_.count(node) || config_->find_node(node) == nullptr) return false;
  schedule(Duration(0), NodeBoots{node, incarnation_[node]});
  return true;
}

void Simulation::on(const NodeLeaves& e) {
  // Stale when the node has booted again since: its NodeUp told the director already.
  if (incarnation_[e.node] != e.incarnation || nodes_.count(e.node)) return;
  line(header() + "membership: " + e.node.str() + " has left the cluster");
  line("  director <- NodeDown " + e.node.str());
  to_the_director(director::NodeDown{e.node, "node " + e.node.str() + " left the cluster"});
}

void Simulation::on(const NodeBoots& e) {
  if (incarnation_[e.node] != e.incarnation || nodes_.count(e.node)) return;
  ++stats_.node_boots;
  disturbed();
  nodes_.emplace(e.node, std::make_unique<SimNode>(*this, e.node));
  stir(e.node);
  line(header() + e.node.str() + " boots");
  line("  director <- NodeUp " + e.node.str());
  to_the_director(director::NodeUp{e.node, incarnation_[e.node]});
}

// ---- random faults ----

double Simulation::fault_weight(FaultKind kind) const {
  const double rate = faults_[kind];
  switch (kind) {
    case FaultKind::kAdmin:
    case FaultKind::kPartition:
      return rate;
    case FaultKind::kNode:
      return rate * static_cast<double>(config_->nodes.size());
    default:
      return rate * static_cast<double>(all_comps_.size());
  }
}

void Simulation::set_faults(const FaultSpec& faults) {
  faults_ = faults;
  ++fault_epoch_;
  schedule_next_fault();
}

void Simulation::schedule_next_fault() {
  if (!faults_on_) return;
  double total = 0;
  for (std::size_t k = 0; k < kFaultKinds; ++k) total += fault_weight(static_cast<FaultKind>(k));
  if (total <= 0) return;
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const double seconds = std::min(-std::log1p(-u) / total, 1e7);
  schedule(Duration(static_cast<std::int64_t>(seconds * 1e9)), NextFault{fault_epoch_});
}

void Simulation::on(const NextFault& e) {
  if (e.epoch != fault_epoch_ || !faults_on_) return;
  injecting_ = true;
  inject_random_fault();
  injecting_ = false;
  schedule_next_fault();
}

void Simulation::inject_random_fault() {
  std::array<double, kFaultKinds> weight{};
  double total = 0;
  for (std::size_t k = 0; k < kFaultKinds; ++k) {
    weight[k] = fault_weight(static_cast<FaultKind>(k));
    total += weight[k];
  }
  double x = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * total;
  std::size_t kind = 0;
  while (kind + 1 < kFaultKinds && (weight[kind] <= 0 || x >= weight[kind])) {
    x -= weight[kind];
    ++kind;
  }
  if (static_cast<FaultKind>(kind) == FaultKind::kAdmin) return random_admin();
  if (static_cast<FaultKind>(kind) == FaultKind::kPartition) return random_partition();
  if (static_cast<FaultKind>(kind) == FaultKind::kNode) {
    const NodeId& node = config_->nodes[uniform(config_->nodes.size())].id;
    if (crash_node(node)) {
      schedule(draw(options_.latencies.node_boot), NodeBoots{node, incarnation_[node]});
    }
    return;
  }
  const CompId& comp = all_comps_[uniform(all_comps_.size())];
  switch (static_cast<FaultKind>(kind)) {
    case FaultKind::kCrash:
      crash(comp);
      break;
    case FaultKind::kHang:
      hang(comp);
      break;
    case FaultKind::kInstantiate: {
      const int retries = comp_config_.at(comp)->instantiate_retries;
      fail_starts(comp, 1 + static_cast<int>(uniform(static_cast<std::uint64_t>(retries) + 1)));
      break;
    }
    case FaultKind::kSlow:
      slow_callbacks(comp, 1);
      break;
    case FaultKind::kError:
      fail_callbacks(comp, 1);
      break;
    case FaultKind::kCleanup:
      fail_cleanup(comp);
      break;
    case FaultKind::kReport:
      report_error(comp);
      break;
    case FaultKind::kAdmin:
    case FaultKind::kNode:
    case FaultKind::kPartition:
      break;
  }
}

// An operation and an entity it applies to, mostly SUs (refusals are fine: they must only be
// answered). Lock-like operations go to an SU 7 times in 10, else to a node, SG, application
// or the cluster.
void Simulation::remember_admin_state(const director::AdminRequest& r) {
  using director::AdminOp;
  const auto key = std::pair(r.kind, r.entity);
  switch (r.op) {
    case AdminOp::kLock:
    case AdminOp::kShutdown:
    case AdminOp::kUnlockInstantiation:
      left_locked_[key] = model::AdminState::kLocked;
      break;
    case AdminOp::kLockInstantiation:
      left_locked_[key] = model::AdminState::kLockedInstantiation;
      break;
    case AdminOp::kUnlock:
      left_locked_.erase(key);
      break;
    case AdminOp::kRepair:
    case AdminOp::kSiSwap:
    case AdminOp::kAdjust:
    case AdminOp::kRestart:
      break;
  }
}

void Simulation::random_admin() {
  using director::AdminOp;
  // A third of the time the operator repairs a disabled SU, a third of the time undoes a lock
  // left behind (so the cluster does not drift into staying down), else anything at random.
  const std::uint64_t choice = uniform(3);
  if (choice == 0) {
    std::vector<SuId> disabled;
    for (const auto& su : director().service_units()) {
      if (su.oper == model::OperState::kDisabled) disabled.push_back(su.id);
    }
    if (!disabled.empty()) {
      ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
      admin(AdminOp::kRepair, EntityKind::kSu, disabled[uniform(disabled.size())].str());
      return;
    }
  }
  if (choice == 1 && !left_locked_.empty()) {
    auto it = std::next(left_locked_.begin(), static_cast<long>(uniform(left_locked_.size())));
    ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
    const bool down = it->second == model::AdminState::kLockedInstantiation;
    admin(down ? AdminOp::kUnlockInstantiation : AdminOp::kUnlock, it->first.first,
          it->first.second);
    return;
  }
  static constexpr std::array<AdminOp, 9> kOps{AdminOp::kLock,     AdminOp::kUnlock,
                                               AdminOp::kShutdown, AdminOp::kSiSwap,
                                               AdminOp::kRepair,   AdminOp::kLockInstantiation,
                                               AdminOp::kAdjust,   AdminOp::kUnlockInstantiation,
                                               AdminOp::kRestart};
  ++stats_.faults[static_cast<std::size_t>(FaultKind::kAdmin)];
  const AdminOp op = kOps[uniform(kOps.size())];
  const auto& sgs = config_->service_groups();
  auto random_su = [&] { return all_sus_[uniform(all_sus_.size())].str(); };
  auto random_node = [&] { return config_->nodes[uniform(config_->nodes.size())].id.str(); };
  auto random_sg = [&] { return sgs[uniform(sgs.size())]->id.str(); };
  switch (op) {
    case AdminOp::kSiSwap:
      admin(op, EntityKind::kSi, all_sis_[uniform(all_sis_.size())].str());
      return;
    case AdminOp::kAdjust:
      admin(op, EntityKind::kSg, random_sg());
      return;
    case AdminOp::kRepair:
      if (uniform(4) == 0) return void(admin(op, EntityKind::kNode, random_node()));
      admin(op, EntityKind::kSu, random_su());
      return;
    case AdminOp::kRestart:
      if (uniform(2) == 0)
        return void(admin(op, EntityKind::kComp, all_comps_[uniform(all_comps_.size())].str()));
      admin(op, EntityKind::kSu, random_su());
      return;
    case AdminOp::kLock:
    case AdminOp::kUnlock:
    case AdminOp::kShutdown:
    case AdminOp::kLockInstantiation:
    case AdminOp::kUnlockInstantiation:
      break;
  }
  const std::uint64_t where = uniform(20);
  if (where < 13) return void(admin(op, EntityKind::kSu, random_su()));
  if (where < 14) {
    if (op != AdminOp::kLock && op != AdminOp::kUnlock && op != AdminOp::kShutdown) {
      return void(admin(op, EntityKind::kSu, random_su()));
    }
    return void(admin(op, EntityKind::kSi, all_sis_[uniform(all_sis_.size())].str()));
  }
  if (where < 16) return void(admin(op, EntityKind::kNode, random_node()));
  if (where < 18) return void(admin(op, EntityKind::kSg, random_sg()));
  if (where < 19) return void(admin(op, EntityKind::kApp, sgs[uniform(sgs.size())]->app.str()));
  admin(op, EntityKind::kCluster, config_->name);
}

}  // namespace amf::sim
