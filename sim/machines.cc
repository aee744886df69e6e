// The simulated machines (machines.h): processes, the host protocol and the AMF component
// protocol as they answer them, and the faults that make them misbehave.
#include "sim/machines.h"

#include "amf/core/assert.h"
#include "sim/duration.h"
#include "sim/format.h"

namespace amf::sim {

using model::HaState;

namespace {

std::string ha_text(std::optional<HaState> ha) {
  return ha ? std::string(model::to_string(*ha)) : "nothing (removed)";
}

std::string who(const CompId& comp, std::uint64_t pid) {
  return comp.str() + " (pid " + std::to_string(pid) + ")";
}

}  // namespace

Machines::Machines(const model::ClusterConfig& config, const Latencies& latencies,
                   std::size_t max_stuck_processes, Surroundings& around, Controller& controller)
    : config_(config),
      latencies_(latencies),
      max_stuck_(max_stuck_processes),
      around_(around),
      controller_(controller) {
  for (const model::SgConfig* sg : config_.service_groups()) {
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) {
        comp_config_[comp.id] = &comp;
        su_of_comp_.emplace(comp.id, su.id);
      }
    }
  }
}

void Machines::handle(const MachineEvent& event) {
  std::visit([&](const auto& e) { on(e); }, event);
}

// ---- the host protocol ----

void Machines::start(const NodeId& node, const node::StartProcess& e) {
  if (const Process* old = current(e.comp); old != nullptr && !old->stuck) {
    return around_.violate("process", "its controller started " + e.comp.str() +
                                          " while its process " + who(e.comp, old->pid) +
                                          " still runs (it would be orphaned)");
  }
  ++starts_;
  bool exit_early = false;
  if (take_armed(e.comp, &Armed::fail_starts)) {
    around_.disturbed();
    if (around_.uniform(2) == 0) {
      around_.line("  (the spawn of " + e.comp.str() + " fails)");
      return report(node, node::ProcessStartFailed{e.comp, "simulated spawn failure"});
    }
    exit_early = true;
  }
  Process p;
  p.pid = next_pid_++;
  p.comp = e.comp;
  p.node = node;
  p.ignores_kill = take_armed(e.comp, &Armed::cleanup);
  p.fail_before_register = exit_early;
  p.sa_aware = config_of(e.comp).sa_aware();
  around_.line("  " + who(p.comp, p.pid) + " spawned" +
               (exit_early ? "; it will exit before registering" : "") +
               (p.ignores_kill ? "; it will ignore SIGKILL" : ""));
  current_pid_[e.comp] = p.pid;
  Process& placed = processes_.emplace(p.pid, std::move(p)).first->second;
  if (latencies_.start.max <= Duration(0)) {
    started(placed);
  } else {
    around_.schedule(around_.draw(latencies_.start), machine::Starts{placed.pid});
  }
}

void Machines::started(Process& p) {
  p.started_reported = true;
  report(p.node, node::ProcessStarted{p.comp});
  const model::ComponentConfig& config = config_of(p.comp);
  if (p.fail_before_register) {
    around_.schedule(around_.draw(latencies_.early_exit),
                     machine::Exits{p.pid, "exited with code 1"});
  } else if (config.instantiated_when == model::InstantiatedWhen::kStarted) {
    p.registered = true;  // instantiated once it runs
  } else {
    // SA-aware: it registers; notified: it says READY=1; probed: it starts to listen.
    around_.schedule(around_.draw(latencies_.registration), machine::Registers{p.pid});
  }
}

void Machines::register_reply(node::PeerId peer, bool ok) {
  auto pid = pid_by_peer_.find(peer);
  if (pid == pid_by_peer_.end()) return;
  Process& p = processes_.at(pid->second);
  if (!ok) {
    // The component library returns the refusal to the program, which gives up.
    return around_.schedule(around_.draw(latencies_.callback),
                            machine::Exits{p.pid, "exited with code 1 (registration refused)"});
  }
  p.registered = true;
  const auto& hc = config_of(p.comp).health_check;
  if (hc && hc->component_invoked) around_.schedule(hc->period, machine::Confirms{p.pid});
}

// amfd signals the process it knows for the component, if any.
void Machines::signal(const node::SignalProcess& e) {
  Process* p = current(e.comp);
  if (p == nullptr) return;
  if (e.signal == node::Signal::kTerminate) {
    if (p->hung || p->stuck)
      return around_.line("  (" + who(p->comp, p->pid) + " ignores SIGTERM)");
    if (p->exiting) return;
    p->exiting = true;
    return around_.schedule(around_.draw(latencies_.terminate),
                            machine::Exits{p->pid, "exited with code 0"});
  }
  if (p->stuck) return;
  if (p->ignores_kill) {
    p->stuck = true;
    around_.disturbed();
    around_.line("  (" + who(p->comp, p->pid) + " ignores SIGKILL and runs on)");
    if (++stuck_ > max_stuck_) {
      around_.violate("limit",
                      "more than " + std::to_string(max_stuck_) + " processes ignored SIGKILL");
    }
    return;
  }
  around_.schedule(around_.draw(latencies_.kill), machine::Exits{p->pid, "killed by signal 9"});
}

void Machines::terminate(const node::SendTerminate& e) {
  auto pid = pid_by_peer_.find(e.peer);
  if (pid == pid_by_peer_.end()) return;  // gone: amfd's send fails quietly
  Process& p = processes_.at(pid->second);
  if (p.hung || p.stuck)
    return around_.line("  (" + who(p.comp, p.pid) + " ignores the terminate callback)");
  if (p.exiting) return;
  p.exiting = true;
  const Duration answer = in_turn(p, around_.draw(latencies_.callback));
  around_.schedule(answer,
                   machine::Answers{p.pid, e.invocation, true, CsiId(), std::nullopt, false});
  around_.schedule(answer + around_.draw(latencies_.terminate),
                   machine::Exits{p.pid, "exited with code 0"});
}

// A CSI set or remove callback reaches the component behind `peer`.
void Machines::callback(node::PeerId peer, node::Invocation invocation, const CsiId& csi,
                        std::optional<HaState> ha, const std::string& active) {
  auto pid = pid_by_peer_.find(peer);
  if (pid == pid_by_peer_.end()) return;  // gone: amfd's send fails quietly
  Process& p = processes_.at(pid->second);
  if (p.hung || p.stuck) return;
  const model::ComponentConfig& config = config_of(p.comp);
  Duration timeout = ha ? Duration(config.timeouts.csi_set) : Duration(config.timeouts.csi_remove);
  if (csi.empty() && config.health_check) timeout = config.health_check->max_duration;
  if (take_armed(p.comp, &Armed::errors)) {
    around_.disturbed();
    around_.line("  (" + who(p.comp, p.pid) + " will answer invocation " +
                 std::to_string(invocation) + " with an error)");
    return around_.schedule(in_turn(p, around_.draw(latencies_.callback)),
                            machine::Answers{p.pid, invocation, false, csi, ha, false, active});
  }
  if (take_armed(p.comp, &Armed::slow)) {
    around_.disturbed();
    around_.line("  (" + who(p.comp, p.pid) + " will answer invocation " +
                 std::to_string(invocation) + " too late)");
    if (!csi.empty())
      around_.schedule(in_turn(p, around_.draw(latencies_.callback)),
                       machine::Applies{p.pid, csi, ha, active});
    return around_.schedule(in_turn(p, timeout + around_.draw(latencies_.callback)),
                            machine::Answers{p.pid, invocation, true, csi, ha, true, active});
  }
  around_.schedule(in_turn(p, around_.draw(latencies_.callback)),
                   machine::Answers{p.pid, invocation, true, csi, ha, true, active});
}

Duration Machines::in_turn(Process& p, Duration work) {
  p.answered_until = std::max(p.answered_until, around_.now()) + work;
  return p.answered_until - around_.now();
}

// ---- scheduled process events ----

void Machines::on(const machine::Starts& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.started_reported) return;
  around_.line(around_.header() + who(it->second.comp, e.pid) + " is started");
  started(it->second);
}

void Machines::on(const machine::Registers& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end()) return;
  Process& p = it->second;
  if (p.hung || p.stuck) return;
  if (config_of(p.comp).instantiated_when == model::InstantiatedWhen::kProbed) {
    around_.line(around_.header() + who(p.comp, p.pid) + " listens");
    p.registered = true;  // its probe succeeds from now on
    return;
  }
  if (!p.sa_aware) {
    around_.line(around_.header() + who(p.comp, p.pid) + " says READY=1");
    p.registered = true;
    const auto& hc = config_of(p.comp).health_check;
    if (hc && hc->component_invoked) around_.schedule(hc->period / 2, machine::Confirms{p.pid});
    return report(p.node, node::ComponentNotify{p.comp, true, false, false, false, std::nullopt});
  }
  p.peer = next_peer_++;
  pid_by_peer_[*p.peer] = p.pid;
  around_.line(around_.header() + who(p.comp, p.pid) + " registers");
  tell(p.node, node::ComponentRegister{*p.peer, p.comp.str()});
}

void Machines::on(const machine::Exits& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.stuck) return;
  Process& p = it->second;
  around_.line(around_.header() + who(p.comp, p.pid) + " " + e.status);
  // The launcher reports a process's start before its exit.
  if (!p.started_reported) report(p.node, node::ProcessStarted{p.comp});
  const NodeId node = p.node;
  const CompId comp = p.comp;
  forget(it);
  report(node, node::ProcessExited{comp, e.status});
}

void Machines::on(const machine::Reports& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  if (!it->second.sa_aware) {  // sd_notify: it asks to be treated as failed
    if (config_of(it->second.comp).instantiated_when != model::InstantiatedWhen::kNotified)
      return;  // no NOTIFY_SOCKET to say it on
    around_.line(around_.header() + who(it->second.comp, e.pid) + " says WATCHDOG=trigger");
    return report(it->second.node,
                  node::ComponentNotify{it->second.comp, false, false, true, false, std::nullopt});
  }
  if (!it->second.peer) return;
  around_.line(around_.header() + who(it->second.comp, e.pid) + " reports an error");
  tell(it->second.node, node::ComponentErrorReport{*it->second.peer, "", "simulated error report"});
}

void Machines::on(const machine::Confirms& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  const auto& hc = config_of(it->second.comp).health_check;
  if (!it->second.sa_aware) {
    // Its watchdog, WATCHDOG=1 every half interval (as sd_watchdog_enabled(3) advises: the
    // interval has no slack).
    report(it->second.node,
           node::ComponentNotify{it->second.comp, false, true, false, false, std::nullopt});
    return around_.schedule(hc->period / 2, machine::Confirms{e.pid});
  }
  if (!it->second.peer) return;
  tell(it->second.node, node::ComponentHealthcheckConfirm{*it->second.peer, hc->key});
  around_.schedule(hc->period, machine::Confirms{e.pid});
}

// A hook runs on the node (amfd's /bin/sh -c): it tells the component to take the state and
// exits once it has. With no process to tell it fails; against a hung or stuck one it never
// exits (the node director's CSI timeout ends it). Armed faults: `error` makes the next hook
// exit 1 (the component took the state all the same: it may serve), `slow` makes it overrun
// the CSI timeout.
void Machines::run_hook(const NodeId& node, const node::RunHook& e) {
  const auto csi_env = e.env.find("AMF_CSI_NAME");
  const auto ha_env = e.env.find("AMF_HA_STATE");
  AMF_ASSERT(csi_env != e.env.end() && ha_env != e.env.end());
  const CsiId csi(csi_env->second);
  const std::optional<HaState> ha = model::parse_ha_state(ha_env->second);  // none: "removed"
  const auto active_env = e.env.find("AMF_ACTIVE_COMPONENT");
  const std::string active = active_env == e.env.end() ? "" : active_env->second;
  Process* p = current(e.comp);
  if (p == nullptr) {
    return around_.schedule(
        around_.draw(latencies_.callback),
        machine::HookEnds{node, e.comp, 0, e.invocation, false, csi, std::nullopt});
  }
  if (p->hung || p->stuck)
    return around_.line("  (the hook hangs on " + who(p->comp, p->pid) + ")");
  if (take_armed(p->comp, &Armed::errors)) {
    around_.disturbed();
    around_.line("  (the hook of " + who(p->comp, p->pid) + " will exit 1)");
    return around_.schedule(
        in_turn(*p, around_.draw(latencies_.callback)),
        machine::HookEnds{node, e.comp, p->pid, e.invocation, false, csi, ha, active});
  }
  if (take_armed(p->comp, &Armed::slow)) {
    around_.disturbed();
    around_.line("  (the hook of " + who(p->comp, p->pid) + " will overrun its timeout)");
    return around_.schedule(
        in_turn(*p, e.timeout + around_.draw(latencies_.callback)),
        machine::HookEnds{node, e.comp, p->pid, e.invocation, true, csi, ha, active});
  }
  around_.schedule(in_turn(*p, around_.draw(latencies_.callback)),
                   machine::HookEnds{node, e.comp, p->pid, e.invocation, true, csi, ha, active});
}

void Machines::on(const machine::HookEnds& e) {
  auto it = processes_.find(e.pid);
  if (it != processes_.end() && (it->second.hung || it->second.stuck)) {
    // It hung while the hook talked to it: the hook hangs with it.
    return around_.line(around_.header() + "hook of " + e.comp.str() + " (invocation " +
                        std::to_string(e.invocation) + ") hangs on " + who(e.comp, e.pid));
  }
  if (it != processes_.end() && !e.csi.empty()) {
    // A quiescing component finishes its work before the hook exits: it is then quiesced.
    set_belief(it->second, e.csi, e.ha == HaState::kQuiescing ? HaState::kQuiesced : e.ha,
               e.active);
  }
  around_.line(around_.header() + "hook of " + e.comp.str() + " (invocation " +
               std::to_string(e.invocation) + ") " + (e.ok ? "exits 0" : "exits 1"));
  report(e.node, node::HookDone{e.comp, e.invocation, e.ok,
                                e.ok ? "exit 0 (simulated)" : "exited with code 1 (simulated)"});
}

// A probe asks the component's process whether it lives: a running process that is neither
// hung nor stuck answers at once; otherwise the probe fails (at its timeout if the process
// is there but does not answer).
void Machines::run_probe(const NodeId& node, const node::RunProbe& e) {
  const Process* p = current(e.comp);
  const auto& probe = config_of(e.comp).probe;
  const bool silent = p != nullptr && (p->hung || p->stuck);
  around_.schedule(
      silent && probe ? Duration(probe->timeout) : Duration(std::chrono::milliseconds(1)),
      machine::ProbeEnds{node, e.comp, e.invocation});
}

void Machines::on(const machine::ProbeEnds& e) {
  const Process* p = current(e.comp);
  // A probed component answers only once it listens; the others once they run.
  const bool listening =
      p != nullptr &&
      (config_of(e.comp).instantiated_when != model::InstantiatedWhen::kProbed || p->registered);
  const bool ok = listening && !p->hung && !p->stuck;
  if (!ok) around_.line(around_.header() + "probe of " + e.comp.str() + " fails");
  report(e.node, node::ProbeDone{e.comp, e.invocation, ok,
                                 ok             ? "simulated"
                                 : p == nullptr ? "no process"
                                 : !listening   ? "connection refused"
                                                : "no answer"});
}

void Machines::on(const machine::Applies& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck) return;
  around_.line(around_.header() + who(it->second.comp, e.pid) + " takes " + e.csi.str() + " " +
               ha_text(e.ha));
  set_belief(it->second, e.csi, e.ha, e.active);
}

void Machines::on(const machine::Answers& e) {
  auto it = processes_.find(e.pid);
  if (it == processes_.end() || it->second.hung || it->second.stuck || !it->second.peer) return;
  Process& p = it->second;
  around_.line(around_.header() + who(p.comp, p.pid) + " answers invocation " +
               std::to_string(e.invocation) + (e.ok ? " ok" : " with an error"));
  // A component answers a quiescing callback once its work is done: it is then quiesced.
  if (e.apply && e.ok && !e.csi.empty()) {
    set_belief(p, e.csi, e.ha == HaState::kQuiescing ? HaState::kQuiesced : e.ha, e.active);
  }
  tell(p.node, node::ComponentResponse{*p.peer, e.invocation, e.ok});
}

void Machines::set_belief(Process& p, const CsiId& csi, std::optional<HaState> ha,
                          const std::string& active) {
  // Quiescing means finishing the work in hand as an active; a component that was not active
  // has none, so it is quiesced at once (a restarted one is handed "quiescing" back, say).
  if (ha == HaState::kQuiescing) {
    auto had = p.beliefs.find(csi);
    if (had == p.beliefs.end() || had->second != HaState::kActive) ha = HaState::kQuiesced;
  }
  if (ha == HaState::kStandby && !active.empty()) {
    p.told_active[csi] = active;
  } else {
    p.told_active.erase(csi);
  }
  if (ha) {
    p.beliefs[csi] = *ha;
    if (*ha == HaState::kActive || *ha == HaState::kQuiescing) touched_csis_.insert(csi);
  } else {
    p.beliefs.erase(csi);
  }
  beliefs_changed_ = true;
  ++belief_changes_;
}

bool Machines::take_armed(const CompId& comp, int Armed::*field) {
  for (auto* map : {&armed_, &random_armed_}) {
    auto it = map->find(comp);
    if (it != map->end() && it->second.*field > 0) {
      --(it->second.*field);
      return true;
    }
  }
  return false;
}

Machines::Process* Machines::current(const CompId& comp) {
  auto pid = current_pid_.find(comp);
  if (pid == current_pid_.end()) return nullptr;
  auto it = processes_.find(pid->second);
  return it == processes_.end() ? nullptr : &it->second;
}

// A repair tells the cluster that the SU is fit again: an operator repairs an SU whose cleanup
// failed only once the process that survived is gone (a node reboot, say). amfd reaps it.
void Machines::end_stuck(const std::function<bool(const model::SuConfig&)>& reached) {
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    const model::SuConfig* su = config_.find_su(su_of_comp_.at(p.comp));
    if (!p.stuck || su == nullptr || !reached(*su)) {
      ++it;
      continue;
    }
    around_.line("  (the operator ends " + who(p.comp, p.pid) + ", which survived its cleanup)");
    --stuck_;
    const bool was_current = current_pid_.count(p.comp) && current_pid_.at(p.comp) == p.pid;
    const NodeId node = p.node;
    const CompId comp = p.comp;
    it = forget(it);
    if (was_current) report(node, node::ProcessExited{comp, "killed by signal 9"});
  }
}

// ---- faults on demand ----

bool Machines::crash(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck) return false;
  around_.line("[" + format_time(around_.now()) + "] fault: crash " + who(comp, p->pid));
  around_.disturbed();
  around_.schedule(Duration(0), machine::Exits{p->pid, "killed by signal 11"});
  return true;
}

bool Machines::hang(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck || p->hung) return false;
  around_.line("[" + format_time(around_.now()) + "] fault: hang " + who(comp, p->pid));
  p->hung = true;
  around_.disturbed();
  return true;
}

void Machines::fail_starts(const CompId& comp, int count) {
  around_.line("[" + format_time(around_.now()) + "] fault: the next " + std::to_string(count) +
               " starts of " + comp.str() + " fail");
  arms(comp).fail_starts += count;
}

void Machines::slow_callbacks(const CompId& comp, int count) {
  around_.line("[" + format_time(around_.now()) + "] fault: the next " + std::to_string(count) +
               " callbacks of " + comp.str() + " are answered too late");
  arms(comp).slow += count;
}

void Machines::fail_callbacks(const CompId& comp, int count) {
  around_.line("[" + format_time(around_.now()) + "] fault: the next " + std::to_string(count) +
               " callbacks of " + comp.str() + " are answered with an error");
  arms(comp).errors += count;
}

void Machines::fail_cleanup(const CompId& comp) {
  Process* p = current(comp);
  around_.line(
      "[" + format_time(around_.now()) + "] fault: " +
      (p != nullptr && !p->stuck ? who(comp, p->pid) : "the next process of " + comp.str()) +
      " will ignore SIGKILL");
  if (p != nullptr && !p->stuck) {
    p->ignores_kill = true;
  } else {
    arms(comp).cleanup = 1;
  }
}

bool Machines::report_error(const CompId& comp) {
  Process* p = current(comp);
  if (p == nullptr || p->stuck || p->hung || !p->registered) return false;
  around_.line("[" + format_time(around_.now()) + "] fault: " + who(comp, p->pid) +
               " will report an error");
  around_.disturbed();
  around_.schedule(Duration(0), machine::Reports{p->pid});
  return true;
}

bool Machines::force_belief(const CompId& comp, const CsiId& csi, HaState ha) {
  Process* p = current(comp);
  if (p == nullptr) return false;
  around_.line("[" + format_time(around_.now()) + "] fault: " + who(comp, p->pid) + " takes " +
               csi.str() + " " + std::string(model::to_string(ha)) + " on its own");
  around_.disturbed();
  around_.schedule(Duration(0), machine::Applies{p->pid, csi, ha});
  return true;
}

// ---- node crashes ----

void Machines::service_address(const NodeId& node, const node::SetServiceAddress& e) {
  if (e.up) {
    addresses_[e.si].insert(node);
    return;
  }
  if (auto it = addresses_.find(e.si); it != addresses_.end()) {
    it->second.erase(node);
    if (it->second.empty()) addresses_.erase(it);
  }
}

std::size_t Machines::end_node(const NodeId& node) {
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    it->second.erase(node);
    it = it->second.empty() ? addresses_.erase(it) : std::next(it);
  }
  std::size_t ended = 0;
  for (auto it = processes_.begin(); it != processes_.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    ++ended;
    if (it->second.stuck) --stuck_;
    it = forget(it);
  }
  return ended;
}

std::map<std::uint64_t, Machines::Process>::iterator Machines::forget(
    std::map<std::uint64_t, Process>::iterator it) {
  const Process& p = it->second;
  if (!p.beliefs.empty()) beliefs_changed_ = true;
  ++belief_changes_;
  if (p.peer) pid_by_peer_.erase(*p.peer);
  if (auto cur = current_pid_.find(p.comp); cur != current_pid_.end() && cur->second == p.pid) {
    current_pid_.erase(cur);
  }
  return processes_.erase(it);
}

bool Machines::fault_pending(const std::string& entity) const {
  if (armed_.empty()) return false;
  auto pending = [&](const CompId& comp) {
    auto it = armed_.find(comp);
    return it != armed_.end() &&
           (it->second.errors > 0 || it->second.slow > 0 || it->second.fail_starts > 0);
  };
  if (pending(CompId(entity))) return true;
  const model::SuConfig* su = config_.find_su(SuId(entity));
  if (su == nullptr) return false;
  return std::any_of(su->components.begin(), su->components.end(),
                     [&](const auto& c) { return pending(c.id); });
}

// ---- views ----

ProcessView Machines::view(const Process& p) const {
  auto cur = current_pid_.find(p.comp);
  return {p.pid,     p.comp,        cur != current_pid_.end() && cur->second == p.pid,
          p.hung,    p.stuck,       p.registered,
          p.beliefs, p.told_active, p.peer.value_or(0),
          p.node};
}

std::optional<ProcessView> Machines::process(std::uint64_t pid) const {
  auto it = processes_.find(pid);
  if (it == processes_.end()) return std::nullopt;
  return view(it->second);
}

std::vector<ProcessView> Machines::processes() const {
  std::vector<ProcessView> out;
  out.reserve(processes_.size());
  for (const auto& [pid, p] : processes_) out.push_back(view(p));
  return out;
}

std::vector<ProcessView> Machines::believers(const std::set<CsiId>& csis) const {
  std::vector<ProcessView> out;
  for (const auto& [pid, p] : processes_) {
    const bool concerned = std::any_of(csis.begin(), csis.end(),
                                       [&](const CsiId& c) { return p.beliefs.count(c) > 0; });
    if (concerned) out.push_back(view(p));
  }
  return out;
}

}  // namespace amf::sim
