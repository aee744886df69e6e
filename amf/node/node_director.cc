#include "amf/node/node_director.h"

#include <algorithm>
#include <string>

#include "amf/core/assert.h"

namespace amf::node {

using model::HaState;
using model::OperState;
using model::PresenceState;

namespace {

bool starting(PresenceState p) {
  return p == PresenceState::kInstantiating || p == PresenceState::kRestarting;
}

}  // namespace

Event to_event(const protocol::NodeCommand& command) {
  return std::visit([](const auto& c) -> Event { return c; }, command);
}

NodeDirector::NodeDirector(std::shared_ptr<const model::ClusterConfig> config, NodeId self)
    : config_(std::move(config)), self_(std::move(self)) {
  node_config_ = config_->find_node(self_);
  AMF_ASSERT(node_config_ != nullptr);
  for (const model::SgConfig* sg : config_->service_groups()) {
    // Only the SIs of SGs with an SU here: with a thousand nodes, every node director holding
    // every SI of the cluster took 800 MB in the simulator.
    const bool here = std::any_of(sg->sus.begin(), sg->sus.end(),
                                  [&](const model::SuConfig& su) { return su.node == self_; });
    if (here) {
      for (const auto& si : sg->sis) {
        sis_.emplace(si.id, &si);
        if (si.service_address) addressed_sgs_.insert(sg);
      }
    }
    for (const auto& su : sg->sus) {
      if (su.node != self_) continue;
      sus_[su.id].config = &su;
      sus_[su.id].sg = sg;
      for (const auto& comp : su.components) {
        CompState& state = comps_[comp.id];
        state.config = &comp;
        state.su = su.id;
      }
    }
  }
}

void NodeDirector::handle(const Event& event, TimePoint now) {
  batch_start_ = effects_.size();
  touch(event);
  std::visit([&](const auto& e) { on(e, now); }, event);
  flush(now);
}

void NodeDirector::touch(const Event& event) {
  struct Visitor {
    NodeDirector& nd;
    void comp(const CompId& id) {
      if (auto it = nd.comps_.find(id); it != nd.comps_.end()) nd.touch(it->second.su);
    }
    void peer(PeerId p) {
      if (auto it = nd.peers_.find(p); it != nd.peers_.end()) comp(it->second);
    }
    void operator()(const protocol::InstantiateSu& e) { nd.touch(e.su); }
    void operator()(const protocol::TerminateSu& e) { nd.touch(e.su); }
    void operator()(const protocol::RepairSu& e) { nd.touch(e.su); }
    void operator()(const protocol::RestartSu& e) { nd.touch(e.su); }
    void operator()(const protocol::AssignHa& e) { nd.touch(e.su); }
    void operator()(const protocol::RemoveHa& e) { nd.touch(e.su); }
    void operator()(const protocol::SnapshotRequest&) {}  // changes nothing
    void operator()(const ProcessStarted& e) { comp(e.comp); }
    void operator()(const ProcessStartFailed& e) { comp(e.comp); }
    void operator()(const ProcessExited& e) { comp(e.comp); }
    void operator()(const ComponentRegister& e) { comp(CompId(e.name)); }
    void operator()(const ComponentResponse& e) { peer(e.peer); }
    void operator()(const ComponentErrorReport& e) { peer(e.peer); }
    void operator()(const ComponentHealthcheckConfirm& e) { peer(e.peer); }
    void operator()(const ComponentTrackProtectionGroup&) {}  // changes no SU
    void operator()(const ComponentStopTrackingProtectionGroup&) {}
    void operator()(const ComponentNotify& e) { comp(e.comp); }
    void operator()(const HookDone& e) { comp(e.comp); }
    void operator()(const ProbeDone& e) { comp(e.comp); }
    void operator()(const ServiceAddressFailed&) {}  // on() touches the SU it fails
    void operator()(const Leave&) {}                 // changes no SU here; the director moves them
    void operator()(const Shutdown&) { nd.touch_all(); }
  };
  std::visit(Visitor{*this}, event);
}

void NodeDirector::touch_all() {
  for (const auto& [id, su] : sus_) dirty_.insert(dirty_.end(), id);
}

// Reports the touched SUs whose presence or state changed, in SuId order, then re-indexes
// their components' deadlines. Reporting may carry a repair or a switchover on, in the same
// SU: it is indexed after.
void NodeDirector::flush(TimePoint now) {
  float_addresses();
  report_sus(now);
  if (!trackers_.empty()) report_protection_groups();
  for (const SuId& id : dirty_) {
    for (const auto& comp_config : sus_.at(id).config->components) {
      reindex(comp_config.id, comps_.at(comp_config.id));
    }
  }
  dirty_.clear();
}

void NodeDirector::float_addresses() {
  if (addressed_sgs_.empty()) return;
  std::set<const model::SgConfig*> sgs;
  for (const SuId& id : dirty_) {
    const model::SgConfig* sg = sus_.at(id).sg;
    if (addressed_sgs_.count(sg)) sgs.insert(sg);
  }
  std::vector<Effect> changes;
  for (const model::SgConfig* sg : sgs) {
    std::set<SiId> held;
    for (const model::SuConfig& su : sg->sus) {
      if (su.node != self_) continue;
      for (const auto& comp : su.components) {
        for (const auto& [csi, assignment] : comps_.at(comp.id).csis) {
          if (holds_address(assignment.second)) held.insert(assignment.first);
        }
      }
    }
    for (const model::SiConfig& si : sg->sis) {
      if (!si.service_address) continue;
      const bool up = held.count(si.id) > 0;
      if (up == (raised_.count(si.id) > 0)) continue;
      if (up) {
        raised_.insert(si.id);
      } else {
        raised_.erase(si.id);
      }
      changes.push_back(SetServiceAddress{si.id, *si.service_address, up});
    }
  }
  AMF_ASSERT(batch_start_ <= effects_.size());
  effects_.insert(effects_.begin() + static_cast<std::ptrdiff_t>(batch_start_),
                  std::make_move_iterator(changes.begin()), std::make_move_iterator(changes.end()));
}

std::optional<TimePoint> NodeDirector::earliest_deadline(const CompState& comp) {
  std::optional<TimePoint> next;
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(comp.deadline);
  consider(comp.healthcheck);
  consider(comp.retry_at);
  consider(comp.probe_at);
  for (const auto& [inv, cb] : comp.callbacks) consider(cb.deadline);
  return next;
}

void NodeDirector::reindex(const CompId& id, CompState& comp) {
  const std::optional<TimePoint> next = earliest_deadline(comp);
  if (next == comp.indexed) return;
  if (comp.indexed) deadlines_.erase({*comp.indexed, id});
  if (next) deadlines_.emplace(*next, id);
  comp.indexed = next;
}

std::vector<Effect> NodeDirector::take_effects() {
  std::vector<Effect> out = std::exchange(effects_, {});
  for (auto& start : starts_) out.push_back(std::move(start));
  starts_.clear();
  return out;
}

void NodeDirector::emit(Effect effect) {
  if (std::holds_alternative<StartProcess>(effect)) {
    starts_.push_back(std::move(effect));
  } else {
    effects_.push_back(std::move(effect));
  }
}

// ---- director commands ----

void NodeDirector::on(const protocol::InstantiateSu& e, TimePoint now) {
  auto it = sus_.find(e.su);
  if (it == sus_.end()) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), "", "", "",
           "instantiation of an SU this node does not host");
    return;
  }
  // A repair still ending the SU's processes starts it when it completes.
  if (it->second.repair_pending) it->second.repair_instantiates = true;
  if (it->second.oper != OperState::kEnabled || shutting_down_) return;
  for (const auto& comp_config : it->second.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    if (comp.presence != PresenceState::kUninstantiated) continue;
    comp.attempts = 0;
    instantiate(comp, now);
  }
}

void NodeDirector::on(const protocol::TerminateSu& e, TimePoint now) {
  auto it = sus_.find(e.su);
  if (it == sus_.end()) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), "", "", "",
           "termination of an SU this node does not host");
    return;
  }
  it->second.awaiting.clear();
  it->second.repair_instantiates = false;  // a pending repair must not start it either
  for (const auto& comp_config : it->second.config->components) {
    terminate(comps_.at(comp_config.id), "lock-instantiation", now);
  }
}

void NodeDirector::on(const protocol::RepairSu& e, TimePoint now) {
  auto it = sus_.find(e.su);
  if (it == sus_.end()) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), "", "", "",
           "repair of an SU this node does not host");
    return;
  }
  if (it == sus_.end() || shutting_down_) return;
  SuState& su = it->second;
  su.repair_instantiates = e.instantiate;
  // A repaired SU starts afresh: no component may get old CSIs back when it next registers.
  // The operator vouches that a process which survived its cleanup is gone.
  su.awaiting.clear();
  bool any_running = false;
  for (const auto& comp_config : su.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    if (comp.running) {
      forget_csis(comp);  // may survive the cleanup below, still acting on them
    } else {
      comp.csis.clear();
      comp.held_when_terminated.clear();
    }
    if (comp.presence == PresenceState::kInstantiationFailed ||
        comp.presence == PresenceState::kTerminationFailed) {
      set_presence(comp, PresenceState::kUninstantiated, "repair", now);
    }
    if (!comp.running) continue;
    // A sibling still running would go on acting on assignments the director is about to
    // move: it is cleaned up first, and the repair completes once nothing of the SU runs.
    any_running = true;
    disconnect(comp, "cleanup before repair", now);
    comp.after_exit = AfterExit::kNothing;
    if (!comp.killed) {
      set_presence(comp, PresenceState::kTerminating, "cleanup before repair", now);
      kill(comp, now);
    }
  }
  if (any_running) {
    su.repair_pending = true;
    return;
  }
  complete_repair(su, now);
}

// The restart admin operation: graceful termination, then instantiation in place; the SU
// keeps its assignments (the components get their CSIs back as they register). Not counted
// towards escalation: nothing failed.
void NodeDirector::on(const protocol::RestartSu& e, TimePoint now) {
  auto it = sus_.find(e.su);
  if (it == sus_.end()) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), "", "", "",
           "restart of an SU this node does not host");
    return;
  }
  SuState& su = it->second;
  su.force_report = true;  // whatever happens, the director hears of the SU
  if (su.oper != OperState::kEnabled || su_presence(su) != PresenceState::kInstantiated ||
      shutting_down_) {
    return;
  }
  const std::string cause = e.comp ? "admin restart of " + e.comp->str() : "admin restart";
  for (const auto& comp_config : su.config->components) {
    if (e.comp && comp_config.id != *e.comp) continue;
    CompState& comp = comps_.at(comp_config.id);
    if (comp.presence == PresenceState::kTerminationFailed) continue;
    if (comp.running) {
      terminate_for_restart(comp, cause, now);
    } else {
      restart_component(comp, cause, now);
    }
  }
  su.admin_restart = true;
  su.force_report = false;
}

bool NodeDirector::restart_done(const SuState& su) const {
  if (!su.awaiting.empty()) return false;
  for (const auto& comp_config : su.config->components) {
    const CompState& comp = comps_.at(comp_config.id);
    if (!ready(comp)) return false;
    for (const auto& [inv, cb] : comp.callbacks) {
      if (cb.kind != CallbackKind::kHealthcheck) return false;
    }
  }
  return true;
}

void NodeDirector::complete_repair(SuState& su, TimePoint now) {
  su.repair_pending = false;
  su.switching_over = false;
  su.auto_repairable = true;
  set_oper(su, OperState::kEnabled, "repair", now);
  if (su.repair_instantiates) on(protocol::InstantiateSu{su.config->id}, now);
  su.cause = "repair";  // what the director sees as the reason its assignments went
}

void NodeDirector::on(const protocol::AssignHa& e, TimePoint now) {
  auto su_it = sus_.find(e.su);
  const auto si_it = sis_.find(e.si);
  const model::SiConfig* si = si_it == sis_.end() ? nullptr : si_it->second;
  if (su_it == sus_.end() || si == nullptr) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), e.si.str(), "", "",
           "assignment for an SU or SI this node does not host");
    return;
  }
  SuState& su = su_it->second;
  // A disabled SU's fault report is on its way; a node shutting down takes no new work. An SU
  // being switched over (node switchover) is healthy and still running: it carries out what
  // the director asked before it heard of the switchover (and is then asked to let go).
  if ((su.oper != OperState::kEnabled && !su.switching_over) || shutting_down_) return;
  if (e.ha == HaState::kStandby && e.active) {
    su.active_of[e.si] = *e.active;
  } else {
    su.active_of.erase(e.si);
  }
  for (const auto& csi : si->csis) {
    for (const auto& comp_config : su.config->components) {
      const auto& types = comp_config.cs_types;
      if (std::find(types.begin(), types.end(), csi.cs_type) == types.end()) continue;
      CompState& comp = comps_.at(comp_config.id);
      comp.csis[csi.id] = {e.si, e.ha};
      send_csi_set(comp, csi.id, e.reason, now);
    }
  }
  su.awaiting[e.si] = {e.ha, e.id};
  su.assigned_by[e.si] = e.id;
  complete_awaiting(su, &e.si);
}

void NodeDirector::on(const protocol::RemoveHa& e, TimePoint now) {
  auto su_it = sus_.find(e.su);
  if (su_it == sus_.end()) return;
  SuState& su = su_it->second;
  for (const auto& comp_config : su.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    for (auto it = comp.csis.begin(); it != comp.csis.end();) {
      if (it->second.first != e.si) {
        ++it;
        continue;
      }
      if (comp.peer) {
        const Invocation inv = next_invocation_++;
        comp.callbacks[inv] = {CallbackKind::kCsiRemove, it->first, e.si, std::nullopt,
                               now + comp.config->timeouts.csi_remove};
        emit(SendCsiRemove{*comp.peer, inv, comp.config->id, it->first});
      } else if (!comp.config->sa_aware() && ready(comp)) {
        run_hook(comp, it->first, e.si, std::nullopt, now);
      }
      it = comp.csis.erase(it);
    }
  }
  su.active_of.erase(e.si);
  su.assigned_by.erase(e.si);
  su.awaiting[e.si] = {std::nullopt, e.id};
  complete_awaiting(su, &e.si);
}

// ---- launcher events ----

void NodeDirector::on(const ProcessStarted& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end()) return;
  CompState& comp = it->second;
  comp.running = true;
  comp.start_reported = true;
  // It was to be terminated or cleaned up while its start was not reported: now it can be.
  // Its timeout counts from now, when the signal can reach it.
  if (const auto pending = std::exchange(comp.pending_signal, std::nullopt)) {
    comp.deadline = now + (*pending == Signal::kKill ? comp.config->timeouts.cleanup
                                                     : comp.config->timeouts.terminate);
    emit(SignalProcess{comp.config->id, *pending});
    return;
  }
  if (!starting(comp.presence) || comp.killed) return;
  if (comp.config->instantiated_when == model::InstantiatedWhen::kStarted) {
    became_instantiated(comp, "started", now);
  } else if (comp.config->instantiated_when == model::InstantiatedWhen::kProbed) {
    comp.startup_probe_detail.clear();
    run_probe(comp, comp.config->probe->startup_period, now);  // its first, at once
  }
}

void NodeDirector::on(const ProcessStartFailed& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end()) return;
  CompState& comp = it->second;
  if (!starting(comp.presence) || comp.killed || comp.after_exit != AfterExit::kNothing) {
    // Given up on before its start failed (a restart, cleanup or termination in between): the
    // process that was to be stopped never existed.
    return on(ProcessExited{e.comp, "failed to start: " + e.reason}, now);
  }
  comp.running = false;
  comp.start_reported = false;
  comp.pending_signal.reset();
  comp.deadline.reset();
  instantiation_attempt_failed(comp, "cannot start: " + e.reason, now);
}

void NodeDirector::on(const ProcessExited& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end()) return;
  CompState& comp = it->second;
  comp.running = false;
  comp.start_reported = false;
  comp.killed = false;
  comp.pending_signal.reset();
  std::erase_if(terminate_calls_, [&](const auto& call) { return call.second.first == e.comp; });
  disconnect(comp, "its process " + e.status, now);
  comp.deadline.reset();
  const AfterExit after = std::exchange(comp.after_exit, AfterExit::kNothing);
  const std::string cause = "process " + e.status;
  switch (comp.presence) {
    case PresenceState::kTerminating:
      set_presence(comp, PresenceState::kUninstantiated, cause, now);
      if (after == AfterExit::kRestart && !shutting_down_) {
        comp.attempts = 0;
        set_presence(comp, PresenceState::kRestarting, "component-restart", now);
        instantiate(comp, now);
      }
      break;
    case PresenceState::kInstantiating:
    case PresenceState::kRestarting:
      if (after == AfterExit::kRestart) {
        comp.attempts = 0;
        instantiate(comp, now);
      } else if (after == AfterExit::kRetryInstantiate) {
        instantiation_attempt_failed(comp, cause, now);
      } else {
        instantiation_attempt_failed(comp, cause + " before registering", now);
      }
      break;
    case PresenceState::kInstantiated:
      component_failed(comp, cause, now);
      break;
    case PresenceState::kUninstantiated:
    case PresenceState::kInstantiationFailed:
    case PresenceState::kTerminationFailed:
      break;
  }
}

// ---- component messages ----

void NodeDirector::on(const ComponentRegister& e, TimePoint now) {
  auto refuse = [&](std::string why) {
    notify(now, model::NotificationKind::kError, e.name, "", "", "",
           "registration refused: " + why);
    emit(SendRegisterReply{e.peer, false, std::move(why)});
  };
  if (CompState* already = find_by_peer(e.peer)) {
    return refuse("this connection is already registered as component " +
                  already->config->id.str());
  }
  auto it = comps_.find(CompId(e.name));
  if (it == comps_.end()) {
    return refuse("no component named '" + e.name + "' on node " + self_.str());
  }
  CompState& comp = it->second;
  if (comp.peer) return refuse("component " + e.name + " is already registered");
  if (!starting(comp.presence) || comp.killed) {
    return refuse("component " + e.name + " is not being instantiated (presence " +
                  std::string(model::to_string(comp.presence)) + ")");
  }
  if (!comp.config->sa_aware()) {
    return refuse("component " + e.name + " is not SA-aware (instantiated_when: " +
                  std::string(model::instantiated_when_name(comp.config->instantiated_when)) + ")");
  }
  comp.peer = e.peer;
  peers_[e.peer] = it->first;
  emit(SendRegisterReply{e.peer, true, ""});
  became_instantiated(comp, "registered", now);
}

bool NodeDirector::ready(const CompState& comp) {
  return comp.config->sa_aware() ? comp.peer.has_value()
                                 : comp.presence == PresenceState::kInstantiated;
}

void NodeDirector::became_instantiated(CompState& comp, const std::string& cause, TimePoint now) {
  const bool restarted = comp.presence == PresenceState::kRestarting;
  comp.deadline.reset();
  comp.attempts = 0;
  set_presence(comp, PresenceState::kInstantiated, cause, now);
  if (const auto& hc = comp.config->health_check) {
    comp.healthcheck = now + hc->period + (hc->component_invoked ? hc->max_duration : Duration{});
  }
  if (comp.config->probe) {
    comp.probe_at = now + comp.config->probe->period;
    comp.probe_failures = 0;
  }
  if (restarted) {
    // A restarted component gets its CSIs back, as it had them.
    for (const auto& [csi, assignment] : comp.csis) {
      send_csi_set(comp, csi, model::TransitionReason::kRestart, now);
    }
  }
  complete_awaiting(sus_.at(comp.su));
}

void NodeDirector::on(const ComponentNotify& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end()) return;
  CompState& comp = it->second;
  const std::string who = comp.config->id.str();
  if (e.status)
    notify(now, model::NotificationKind::kStatus, who, "", "", *e.status, "STATUS= (sd_notify)");
  if (e.stopping)
    notify(now, model::NotificationKind::kStatus, who, "", "", "stopping",
           "STOPPING=1 (sd_notify)");
  if (comp.config->instantiated_when != model::InstantiatedWhen::kNotified) {
    if (e.ready || e.watchdog || e.watchdog_trigger) {
      notify(now, model::NotificationKind::kProtocolError, who, "", "", "",
             "sd_notify READY/WATCHDOG from a component that is not instantiated_when: notified");
    }
    return;
  }
  if (!comp.running || comp.killed || comp.presence == PresenceState::kTerminating) return;
  if (e.watchdog_trigger) return component_failed(comp, "WATCHDOG=trigger (sd_notify)", now);
  if (e.ready && starting(comp.presence)) became_instantiated(comp, "READY=1", now);
  if (e.watchdog && comp.presence == PresenceState::kInstantiated) {
    if (const auto& hc = comp.config->health_check) {
      comp.healthcheck = now + hc->period + hc->max_duration;
    }
  }
}

void NodeDirector::on(const ComponentResponse& e, TimePoint now) {
  if (auto call = terminate_calls_.find(e.peer);
      call != terminate_calls_.end() && call->second.second == e.invocation) {
    CompState& comp = comps_.at(call->second.first);
    terminate_calls_.erase(call);
    // An answer of ok needs nothing: the process's exit ends the termination.
    if (!e.ok && comp.running && !comp.killed && comp.presence == PresenceState::kTerminating) {
      touch(comp.su);
      notify(now, model::NotificationKind::kError, comp.config->id.str(), "", "", "",
             "terminate callback answered with an error; cleaning up");
      kill(comp, now);
    }
    return;
  }
  CompState* comp = find_by_peer(e.peer);
  if (comp == nullptr) {
    notify(now, model::NotificationKind::kProtocolError, "peer " + std::to_string(e.peer), "", "",
           "", "response from a connection that is not a registered component");
    return;
  }
  answered(*comp, e.invocation, e.ok, "", now);
}

void NodeDirector::on(const HookDone& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end() || !it->second.callbacks.count(e.invocation)) return;  // given up on
  answered(it->second, e.invocation, e.ok, e.detail, now);
}

void NodeDirector::on(const ProbeDone& e, TimePoint now) {
  auto it = comps_.find(e.comp);
  if (it == comps_.end() || it->second.probe_running != e.invocation) return;  // stale
  CompState& comp = it->second;
  comp.probe_running.reset();
  if (starting(comp.presence)) {  // a startup probe: the first success instantiates it
    if (comp.config->instantiated_when != model::InstantiatedWhen::kProbed || !comp.running ||
        !comp.start_reported || comp.killed || comp.after_exit != AfterExit::kNothing) {
      return;
    }
    if (e.ok) return became_instantiated(comp, "probe succeeded", now);
    comp.startup_probe_detail = e.detail;
    return;
  }
  if (comp.presence != PresenceState::kInstantiated) return;  // too late to mean anything
  if (e.ok) {
    comp.probe_failures = 0;
    return;
  }
  const auto& probe = *comp.config->probe;
  if (++comp.probe_failures < probe.failure_threshold) return;
  component_failed(comp,
                   "liveness probe failed " + std::to_string(comp.probe_failures) +
                       " times in a row, last: " + e.detail,
                   now);
}

void NodeDirector::run_hook(CompState& comp, const CsiId& csi, const SiId& si,
                            std::optional<HaState> ha, TimePoint now) {
  const auto& hooks = comp.config->hooks;
  std::string command = hooks.on_remove;
  std::string hook = "on_remove";
  if (ha == HaState::kActive) command = hooks.on_active, hook = "on_active";
  if (ha == HaState::kStandby) command = hooks.on_standby, hook = "on_standby";
  if (ha == HaState::kQuiesced || ha == HaState::kQuiescing) {
    command = hooks.on_quiesced, hook = "on_quiesced";
  }
  if (command.empty()) return;  // taken at once
  std::map<std::string, std::string> env{
      {"AMF_CSI_NAME", csi.str()},
      {"AMF_HA_STATE", ha ? std::string(model::to_string(*ha)) : "removed"}};
  // One variable per attribute; a multi-valued one holds its values one per line.
  const auto add_attributes = [&env](const std::string& prefix,
                                     const model::CsiAttributes& attributes) {
    std::map<std::string, std::string> values;
    for (const auto& [key, value] : attributes) {
      std::string name = prefix;
      for (char ch : key)
        name += std::isalnum(static_cast<unsigned char>(ch))
                    ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch)))
                    : '_';
      auto [it, first] = values.emplace(name, value);
      if (!first) it->second += "\n" + value;
    }
    env.insert(values.begin(), values.end());
  };
  if (auto si_config = sis_.find(si); si_config != sis_.end()) {
    for (const auto& c : si_config->second->csis) {
      if (c.id == csi) add_attributes("AMF_CSI_", c.attributes_for(comp.su));
    }
  }
  if (ha == HaState::kStandby) {
    if (const auto active = active_descriptor(comp, csi)) {
      env["AMF_ACTIVE_COMPONENT"] = active->component;
      env["AMF_ACTIVE_COMPONENT_NAME"] = active->component_dn;
      env["AMF_ACTIVE_SU"] = active->su;
      env["AMF_ACTIVE_NODE"] = active->node;
      add_attributes("AMF_ACTIVE_CSI_", active->attributes);
    }
  }
  const Duration timeout =
      ha ? Duration(comp.config->timeouts.csi_set) : Duration(comp.config->timeouts.csi_remove);
  const Invocation inv = next_invocation_++;
  comp.callbacks[inv] = {
      ha ? CallbackKind::kCsiSet : CallbackKind::kCsiRemove, csi, si, ha, now + timeout, hook, now};
  notify(now, model::NotificationKind::kHook, comp.config->id.str(), csi.str(), "", hook,
         "started");
  emit(RunHook{inv, comp.config->id, std::move(command), std::move(env), timeout});
}

void NodeDirector::answered(CompState& comp_state, Invocation invocation, bool ok,
                            const std::string& detail, TimePoint now) {
  CompState* comp = &comp_state;
  auto cb = comp->callbacks.find(invocation);
  if (cb == comp->callbacks.end()) {
    notify(now, model::NotificationKind::kProtocolError, comp->config->id.str(), "", "", "",
           "response to unknown invocation " + std::to_string(invocation));
    return;
  }
  const Callback callback = cb->second;
  comp->callbacks.erase(cb);
  if (!callback.hook.empty()) {
    notify(
        now, model::NotificationKind::kHook, comp->config->id.str(), callback.csi.str(),
        callback.hook, ok ? "done" : "failed",
        detail + " after " +
            ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(now - callback.started)));
  }
  const std::string how = comp->config->sa_aware() ? "" : " (hook: " + detail + ")";
  if (!ok) {
    switch (callback.kind) {
      case CallbackKind::kCsiSet:
        return component_failed(*comp,
                                "CSI set (" + std::string(model::to_string(*callback.ha)) +
                                    ") of " + callback.csi.str() + " failed" + how,
                                now);
      case CallbackKind::kCsiRemove:
        return component_failed(*comp, "CSI remove of " + callback.csi.str() + " failed" + how,
                                now);
      case CallbackKind::kHealthcheck:
        return component_failed(
            *comp, "health check '" + comp->config->health_check->key + "' failed", now);
    }
  }
  // A component answers a quiescing callback once its work is done: it is quiesced now (as the
  // director counts it), and a restart must not hand it "quiescing" (still serving) back.
  // Unless a later request for the CSI replaced the quiescing one meanwhile.
  if (callback.kind == CallbackKind::kCsiSet && callback.ha == HaState::kQuiescing) {
    auto csi = comp->csis.find(callback.csi);
    if (csi != comp->csis.end() && csi->second.first == callback.si &&
        csi->second.second == HaState::kQuiescing) {
      csi->second.second = HaState::kQuiesced;
    }
  }
  if (callback.kind != CallbackKind::kHealthcheck)
    complete_awaiting(sus_.at(comp->su), &callback.si);
}

void NodeDirector::on(const ComponentErrorReport& e, TimePoint now) {
  CompState* comp = find_by_peer(e.peer);
  if (comp == nullptr) {
    notify(now, model::NotificationKind::kProtocolError, "peer " + std::to_string(e.peer), "", "",
           "", "error report from a connection that is not a registered component");
    return;
  }
  std::optional<model::Recovery> recommended;
  if (!e.recommended_recovery.empty()) {
    recommended = model::parse_recovery(e.recommended_recovery);
    if (!recommended) {
      notify(now, model::NotificationKind::kProtocolError, comp->config->id.str(), "", "", "",
             "error report recommends unknown recovery '" + e.recommended_recovery +
                 "'; using the configured one");
    }
  }
  component_failed(*comp, "error report: " + e.reason, now, recommended);
}

void NodeDirector::on(const ComponentHealthcheckConfirm& e, TimePoint now) {
  CompState* comp = find_by_peer(e.peer);
  const auto& hc = comp ? comp->config->health_check : std::nullopt;
  if (comp == nullptr || !hc || !hc->component_invoked || hc->key != e.key) {
    notify(now, model::NotificationKind::kProtocolError,
           comp ? comp->config->id.str() : "peer " + std::to_string(e.peer), "", "", "",
           "unexpected health check confirmation for key '" + e.key + "'");
    return;
  }
  comp->healthcheck = now + hc->period + hc->max_duration;
}

void NodeDirector::on(const ServiceAddressFailed& e, TimePoint now) {
  if (!raised_.count(e.si)) return;  // taken down since: late
  for (auto& [id, comp] : comps_) {
    for (const auto& [csi, assignment] : comp.csis) {
      if (assignment.first != e.si || !holds_address(assignment.second)) continue;
      touch(comp.su);
      const auto& address = sis_.at(e.si)->service_address;
      return component_failed(comp,
                              "the service address " + (address ? address->str() : "") + " of SI " +
                                  e.si.str() + " cannot be brought up here: " + e.reason,
                              now, model::Recovery::kComponentFailover);
    }
  }
}

void NodeDirector::on(const Leave& e, TimePoint) {
  if (leaving_ || shutting_down_) return;
  leaving_ = true;
  emit(ToDirector{protocol::NodeLeaving{self_, e.cause}});
}

Duration leave_bound(const model::ClusterConfig& config, const NodeId& node) {
  // The SGs with an SU here, and in them every SU's components: a switchover waits for the
  // standby's promotion on another node too.
  Duration callbacks{};
  for (const model::SgConfig* sg : config.service_groups()) {
    if (std::none_of(sg->sus.begin(), sg->sus.end(),
                     [&](const auto& su) { return su.node == node; }))
      continue;
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) {
        callbacks = std::max<Duration>(callbacks, comp.timeouts.csi_set + comp.timeouts.csi_remove);
      }
    }
  }
  return std::chrono::seconds(1) + 2 * callbacks;
}

bool NodeDirector::evacuated() const {
  if (!leaving_) return false;
  for (const auto& [id, su] : sus_) {
    if (!su.awaiting.empty()) return false;
  }
  for (const auto& [id, comp] : comps_) {
    if (!comp.csis.empty()) return false;
  }
  return true;
}

std::optional<CompId> NodeDirector::component_of(PeerId peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return it->second;
}

std::optional<protocol::CommandId> NodeDirector::active_since(const CompId& id) const {
  auto it = comps_.find(id);
  if (it == comps_.end()) return std::nullopt;
  const CompState& comp = it->second;
  const SuState& su = sus_.at(comp.su);
  std::optional<protocol::CommandId> newest;
  for (const auto& [csi, assignment] : comp.csis) {
    const auto& [si, ha] = assignment;
    if (ha != HaState::kActive && ha != HaState::kQuiescing) continue;
    auto by = su.assigned_by.find(si);
    if (by != su.assigned_by.end() && (!newest || by->second > *newest)) newest = by->second;
  }
  return newest;
}

void NodeDirector::on(const Shutdown&, TimePoint now) {
  shutting_down_ = true;
  for (auto& [id, comp] : comps_) terminate(comp, "node shutdown", now);
  for (auto& [id, su] : sus_) su.awaiting.clear();
}

void NodeDirector::forget_csis(CompState& comp) {
  for (auto& [csi, assignment] : comp.csis) comp.held_when_terminated[csi] = assignment;
  comp.csis.clear();
}

void NodeDirector::terminate(CompState& comp, const std::string& cause, TimePoint now) {
  abandon_callbacks(comp, cause, now);
  comp.healthcheck.reset();
  comp.retry_at.reset();
  forget_csis(comp);
  comp.after_exit = AfterExit::kNothing;
  if (!comp.running) {
    if (comp.presence != PresenceState::kUninstantiated &&
        comp.presence != PresenceState::kTerminationFailed) {
      set_presence(comp, PresenceState::kUninstantiated, cause, now);
    }
    return;
  }
  if (comp.presence == PresenceState::kTerminating) return;
  set_presence(comp, PresenceState::kTerminating, cause, now);
  comp.deadline = now + comp.config->timeouts.terminate;
  ask_to_terminate(comp);
}

void NodeDirector::ask_to_terminate(CompState& comp) {
  // A terminate_command is the operator's choice and wins, as it does over SIGTERM.
  if (comp.config->sa_aware() && comp.peer && comp.config->terminate_command.empty()) {
    const Invocation inv = next_invocation_++;
    terminate_calls_[*comp.peer] = {comp.config->id, inv};
    return emit(SendTerminate{*comp.peer, inv, comp.config->id});
  }
  send_signal(comp, Signal::kTerminate);
}

// ---- time ----

void NodeDirector::tick(TimePoint now) {
  batch_start_ = effects_.size();
  // Only the components with a deadline due (deadlines_ knows them), in CompId order as when
  // every component was looked at; each is judged on its state now, which the ones before it
  // may have changed.
  std::set<CompId> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it) {
    due.insert(it->second);
  }
  for (const CompId& id : due) {
    CompState& comp = comps_.at(id);
    touch(comp.su);
    for (auto cb = comp.callbacks.begin(); cb != comp.callbacks.end(); ++cb) {
      if (cb->second.deadline > now) continue;
      switch (cb->second.kind) {
        case CallbackKind::kCsiSet:
        case CallbackKind::kCsiRemove: {
          const bool set = cb->second.kind == CallbackKind::kCsiSet;
          const auto timeout =
              set ? comp.config->timeouts.csi_set : comp.config->timeouts.csi_remove;
          // Every hook of the component that is past its time ends here (component_failed
          // abandons the rest).
          for (auto& [inv, other] : comp.callbacks) {
            if (other.hook.empty() || other.deadline > now) continue;
            notify(now, model::NotificationKind::kHook, comp.config->id.str(), other.csi.str(),
                   other.hook, "timed out",
                   "still running after " +
                       ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(
                           now - other.started)));
            other.hook.clear();
          }
          component_failed(comp,
                           "no response to the CSI callback for " + cb->second.csi.str() +
                               " within " + ms_text(timeout),
                           now);
          break;
        }
        case CallbackKind::kHealthcheck:
          component_failed(comp,
                           "health check '" + comp.config->health_check->key +
                               "' not answered within " +
                               ms_text(comp.config->health_check->max_duration),
                           now);
          break;
      }
      break;  // component_failed cleared the callbacks
    }
    check_health(comp, now);
    if (comp.probe_at && *comp.probe_at <= now) {
      if (comp.presence == PresenceState::kInstantiated) {
        run_probe(comp, comp.config->probe->period, now);
      } else if (comp.config->instantiated_when == model::InstantiatedWhen::kProbed &&
                 starting(comp.presence) && comp.running && comp.start_reported && !comp.killed &&
                 comp.after_exit == AfterExit::kNothing) {
        run_probe(comp, comp.config->probe->startup_period, now);
      } else {
        // Probes wait for the next instantiation (which sets probe_at again). A due probe left
        // in place kept the deadline in the past, and amfd ticked for ever (found by the
        // simulator: a probed component that ignored SIGTERM while being terminated).
        comp.probe_at.reset();
      }
    }
    if (comp.retry_at && *comp.retry_at <= now) {
      comp.retry_at.reset();
      instantiate(comp, now);
    }
    if (!comp.deadline || *comp.deadline > now) continue;
    comp.deadline.reset();
    if (comp.killed) {
      comp.running = false;  // we cannot reap it; never run it again without a repair
      comp.killed = false;
      set_presence(comp, PresenceState::kTerminationFailed,
                   "still running " + ms_text(comp.config->timeouts.cleanup) + " after cleanup",
                   now);
      SuState& su = sus_.at(comp.su);
      set_oper(su, OperState::kDisabled, "cleanup of " + id.str() + " failed", now);
    } else if (comp.presence == PresenceState::kTerminating) {
      kill(comp, now);  // did not stop within the terminate timeout: clean up
    } else if (starting(comp.presence)) {
      const std::string within = " within " + ms_text(comp.config->timeouts.instantiate);
      switch (comp.config->instantiated_when) {
        case model::InstantiatedWhen::kProbed:
          instantiation_attempt_failed(
              comp,
              "probe did not succeed" + within +
                  (comp.startup_probe_detail.empty() ? "" : ", last: " + comp.startup_probe_detail),
              now);
          break;
        case model::InstantiatedWhen::kNotified:
          instantiation_attempt_failed(comp, "no READY=1 (sd_notify)" + within, now);
          break;
        default:
          instantiation_attempt_failed(comp, "not registered" + within, now);
      }
    }
  }
  flush(now);
}

std::optional<TimePoint> NodeDirector::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

// ---- life cycle ----

void NodeDirector::instantiate(CompState& comp, TimePoint now) {
  AMF_ASSERT(!comp.running);  // a second process would orphan the first
  ++comp.attempts;
  if (comp.presence != PresenceState::kRestarting) {
    set_presence(comp, PresenceState::kInstantiating, "attempt " + std::to_string(comp.attempts),
                 now);
  }
  comp.deadline = now + comp.config->timeouts.instantiate;
  comp.running = true;  // from now on, until the launcher says it failed or it is reaped
  comp.start_reported = false;
  comp.pending_signal.reset();
  comp.held_when_terminated.clear();  // a new process: the old one is gone
  // A probe of the old process that is still out answers nothing about this one.
  comp.probe_running.reset();
  comp.probe_at.reset();
  comp.startup_probe_detail.clear();
  StartProcess start{comp.config->id, comp.config->command, comp.config->args, comp.config->env};
  start.env["AMF_COMPONENT_NAME"] = comp.config->id.str();
  if (!comp.config->dn.empty()) start.env["SA_AMF_COMPONENT_NAME"] = comp.config->dn;
  // For saAmfHealthcheckStart (libSaAmf), which checks the key against the configuration.
  if (const auto& hc = comp.config->health_check) {
    start.env["AMF_HEALTHCHECK_KEY"] = hc->key;
    start.env["AMF_HEALTHCHECK_INVOKED_BY"] = hc->component_invoked ? "component" : "amf";
  }
  emit(std::move(start));
}

void NodeDirector::instantiation_attempt_failed(CompState& comp, const std::string& reason,
                                                TimePoint now) {
  notify(now, model::NotificationKind::kError, comp.config->id.str(), "", "", "",
         "instantiation failed: " + reason);
  if (comp.running) {
    comp.after_exit = AfterExit::kRetryInstantiate;
    kill(comp, now);
    return;
  }
  // The hard ceiling (amf/model/recovery_ceiling.h): however many retries are configured, an
  // SU restarted too often in a row is not instantiated once more.
  SuState& su = sus_.at(comp.su);
  const bool retry =
      !shutting_down_ && comp.attempts <= comp.config->instantiate_retries +
                                              comp.config->instantiate_retries_with_delay;
  const bool ceiling = retry && su.restarts.exceeded(now, model::kSuRestartCeiling);
  if (retry && !ceiling && comp.attempts <= comp.config->instantiate_retries) {
    instantiate(comp, now);
    return;
  }
  if (retry && !ceiling) {
    comp.deadline.reset();
    comp.retry_at = now + comp.config->instantiate_delay;
    notify(now, model::NotificationKind::kRecovery, comp.config->id.str(), "", "",
           "instantiate-later",
           "attempt " + std::to_string(comp.attempts + 1) + " in " +
               ms_text(comp.config->instantiate_delay));
    return;
  }
  comp.deadline.reset();  // nothing is left to time out
  set_presence(comp, PresenceState::kInstantiationFailed,
               std::to_string(comp.attempts) + " attempts failed, last: " + reason +
                   (ceiling ? "; no more: " + restart_ceiling_text(su) : ""),
               now);
  fail_over_su(su, "instantiation of " + comp.config->id.str() + " failed", now);
}

void NodeDirector::abandon_callbacks(CompState& comp, const std::string& cause, TimePoint now) {
  for (const auto& [inv, cb] : comp.callbacks) {
    if (cb.hook.empty()) continue;  // a hook's end is an event, however it ends
    notify(now, model::NotificationKind::kHook, comp.config->id.str(), cb.csi.str(), cb.hook,
           "abandoned",
           cause + " after " +
               ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(now - cb.started)));
  }
  comp.callbacks.clear();
}

void NodeDirector::disconnect(CompState& comp, const std::string& cause, TimePoint now) {
  abandon_callbacks(comp, cause, now);
  trackers_.erase(comp.config->id);  // a new process tracks afresh
  if (comp.peer) peers_.erase(*comp.peer);
  comp.peer.reset();
  comp.healthcheck.reset();
  comp.retry_at.reset();
  comp.probe_at.reset();
  comp.probe_running.reset();
  comp.probe_failures = 0;
}

// Probe now, and again `period` later; one probe at a time (the adapter answers within the
// probe's timeout).
void NodeDirector::run_probe(CompState& comp, Duration period, TimePoint now) {
  comp.probe_at = now + period;
  if (comp.probe_running) return;
  comp.probe_running = next_invocation_++;
  emit(RunProbe{*comp.probe_running, comp.config->id});
}

void NodeDirector::kill(CompState& comp, TimePoint now) {
  comp.killed = true;
  comp.deadline = now + comp.config->timeouts.cleanup;
  send_signal(comp, Signal::kKill);
}

void NodeDirector::send_signal(CompState& comp, Signal signal) {
  if (comp.start_reported) return emit(SignalProcess{comp.config->id, signal});
  if (!comp.pending_signal || signal == Signal::kKill) comp.pending_signal = signal;
}

void NodeDirector::send_csi_set(CompState& comp, const CsiId& csi, model::TransitionReason reason,
                                TimePoint now) {
  // Sent when the component (re)registers; a non-SA-aware component runs its hook, if any.
  if (!comp.config->sa_aware() && ready(comp)) {
    const auto& [si, ha] = comp.csis.at(csi);
    return run_hook(comp, csi, si, ha, now);
  }
  if (!comp.peer) return;
  const auto& [si, ha] = comp.csis.at(csi);
  const model::SiConfig* si_config = sis_.at(si);
  model::CsiAttributes attributes;
  for (const auto& c : si_config->csis) {
    if (c.id == csi) attributes = c.attributes_for(comp.su);
  }
  const Invocation inv = next_invocation_++;
  comp.callbacks[inv] = {CallbackKind::kCsiSet, csi, si, ha, now + comp.config->timeouts.csi_set};
  emit(SendCsiSet{*comp.peer, inv, comp.config->id, csi, ha, reason, std::move(attributes),
                  ha == HaState::kStandby ? active_descriptor(comp, csi) : std::nullopt});
}

std::optional<model::ActiveDescriptor> NodeDirector::active_descriptor(const CompState& comp,
                                                                       const CsiId& csi) const {
  const auto held = comp.csis.find(csi);
  if (held == comp.csis.end()) return std::nullopt;
  const SiId& si = held->second.first;
  const SuState& su = sus_.at(comp.su);
  const auto active = su.active_of.find(si);
  if (active == su.active_of.end()) return std::nullopt;
  const model::CsiConfig* csi_config = nullptr;
  for (const auto& c : sis_.at(si)->csis) {
    if (c.id == csi) csi_config = &c;
  }
  const auto active_su = std::find_if(su.sg->sus.begin(), su.sg->sus.end(),
                                      [&](const auto& s) { return s.id == active->second; });
  if (csi_config == nullptr || active_su == su.sg->sus.end()) return std::nullopt;
  for (const auto& c : active_su->components) {
    if (std::find(c.cs_types.begin(), c.cs_types.end(), csi_config->cs_type) == c.cs_types.end()) {
      continue;
    }
    return model::ActiveDescriptor{c.id.str(), c.dn, active_su->id.str(), active_su->node.str(),
                                   csi_config->attributes_for(active_su->id)};
  }
  return std::nullopt;
}

// An SU's request from the director is complete when every component holding a CSI of the SI
// is registered and has answered every callback about it.
void NodeDirector::complete_awaiting(SuState& su, const SiId* only) {
  for (auto it = only ? su.awaiting.find(*only) : su.awaiting.begin(); it != su.awaiting.end();) {
    if (only && it->first != *only) break;
    const SiId& si = it->first;
    bool done = true;
    for (const auto& comp_config : su.config->components) {
      const CompState& comp = comps_.at(comp_config.id);
      for (const auto& [inv, cb] : comp.callbacks) {
        if (cb.si == si) done = false;
      }
      for (const auto& [csi, assignment] : comp.csis) {
        if (assignment.first == si && !ready(comp)) done = false;
      }
    }
    if (!done) {
      ++it;
      continue;
    }
    if (it->second.ha) {
      emit(ToDirector{
          protocol::AssignmentDone{su.config->id, si, *it->second.ha, it->second.command}});
    } else {
      emit(ToDirector{protocol::RemovalDone{su.config->id, si, it->second.command}});
    }
    it = su.awaiting.erase(it);
  }
}

model::PresenceState NodeDirector::su_presence(const SuState& su) const {
  bool all_uninstantiated = true;
  bool any_instantiating = false;
  bool any_terminating = false;
  std::optional<PresenceState> failed;
  for (const auto& comp_config : su.config->components) {
    const PresenceState p = comps_.at(comp_config.id).presence;
    if (p == PresenceState::kInstantiationFailed || p == PresenceState::kTerminationFailed) {
      if (!failed || p == PresenceState::kTerminationFailed) failed = p;
    }
    if (p != PresenceState::kUninstantiated) all_uninstantiated = false;
    if (p == PresenceState::kInstantiating) any_instantiating = true;
    if (p == PresenceState::kTerminating) any_terminating = true;
  }
  // While a sibling is still being terminated the SU is in transition, failed or not: it is
  // reported only once none of its processes runs (director/messages.h).
  if (any_terminating) return PresenceState::kTerminating;
  if (failed) return *failed;
  if (all_uninstantiated) return PresenceState::kUninstantiated;
  if (any_instantiating) return PresenceState::kInstantiating;
  // Instantiated, or a component restarting in place: the SU keeps its assignments.
  return PresenceState::kInstantiated;
}

void NodeDirector::report_sus(TimePoint now) {
  for (const SuId& id : dirty_) {
    SuState& su = sus_.at(id);
    const PresenceState presence = su_presence(su);
    // While a component is still being terminated the SU is in transition; it is reported
    // once every process is gone (the contract in director/messages.h).
    if (presence == PresenceState::kTerminating) continue;
    if (su.admin_restart && (su.oper != OperState::kEnabled || restart_done(su))) {
      su.admin_restart = false;  // over, or failed: either way the director is told
      su.force_report = true;
      if (su.oper == OperState::kEnabled) su.cause = "admin restart done";
    }
    if (presence != su.reported_presence || su.oper != su.reported_oper || su.force_report) {
      su.force_report = false;
      report_su(su, presence, now);
    }
    // The director has been told that nothing of the SU runs: the repair can go on. One that
    // starts nothing (locked-instantiation) is reported here, as nothing else will.
    if (su.repair_pending) {
      complete_repair(su, now);
      if (!su.repair_instantiates && su.oper != su.reported_oper) {
        report_su(su, su_presence(su), now);
      }
    }
    finish_switchover(su, now);
  }
}

void NodeDirector::report_su(SuState& su, PresenceState presence, TimePoint now) {
  const SuId& id = su.config->id;
  if (presence != su.reported_presence) {
    notify(now, model::NotificationKind::kPresence, id.str(), "",
           std::string(model::to_string(su.reported_presence)),
           std::string(model::to_string(presence)), su.cause);
  }
  su.reported_presence = presence;
  su.reported_oper = su.oper;
  // While a repair waits for the SU's processes to end, the director must not repair it.
  emit(ToDirector{protocol::SuStateReport{id, presence, su.oper, su.cause,
                                          su.auto_repairable && !su.repair_pending}});
}

void NodeDirector::set_presence(CompState& comp, PresenceState presence, const std::string& cause,
                                TimePoint now) {
  if (comp.presence == presence) return;
  notify(now, model::NotificationKind::kPresence, comp.config->id.str(), "",
         std::string(model::to_string(comp.presence)), std::string(model::to_string(presence)),
         cause);
  comp.presence = presence;
  // A disabled SU keeps the cause of its fault for its report; cleanup steps do not replace it.
  SuState& su = sus_.at(comp.su);
  if (su.oper == OperState::kEnabled) su.cause = comp.config->id.str() + ": " + cause;
}

void NodeDirector::set_oper(SuState& su, OperState oper, const std::string& cause, TimePoint now) {
  if (su.oper == oper) return;
  notify(now, model::NotificationKind::kOper, su.config->id.str(), "",
         std::string(model::to_string(su.oper)), std::string(model::to_string(oper)), cause);
  su.oper = oper;
  su.cause = cause;
}

NodeDirector::CompState* NodeDirector::find_by_peer(PeerId peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &comps_.at(it->second);
}

void NodeDirector::notify(TimePoint now, model::NotificationKind kind, std::string entity,
                          std::string related, std::string from, std::string to,
                          std::string cause) {
  emit(model::Notification{now, kind, std::move(entity), std::move(related), std::move(from),
                           std::move(to), std::move(cause)});
}

std::vector<NodeDirector::ComponentView> NodeDirector::components() const {
  std::vector<ComponentView> out;
  for (const auto& [id, comp] : comps_) {
    ComponentView view{id, comp.su, comp.presence, comp.peer.has_value(), {}};
    for (const auto& [csi, assignment] : comp.csis) view.csis.emplace_back(csi, assignment.second);
    out.push_back(std::move(view));
  }
  return out;
}

protocol::NodeSnapshot NodeDirector::snapshot(protocol::CommandId request) const {
  protocol::NodeSnapshot out{request, self_, su_failovers_.count, shutting_down_, {}, leaving_};
  for (const auto& [id, su] : sus_) {
    // What the SU's reports have said last, not its state of the moment: a report follows
    // only a change from that (report_sus), so a transient state in the snapshot (an SU
    // restart's terminating) would never be corrected. The components show the moment.
    protocol::SuSnapshot s{.su = id,
                           .presence = su.reported_presence,
                           .oper = su.reported_oper,
                           .auto_repairable = su.auto_repairable,
                           .component_restarts = su.comp_restarts.count,
                           .su_restarts = su.su_restarts.count,
                           .restarts_in_place = su.restarts.count()};
    std::map<SiId, model::HaState> assigned;
    for (const auto& comp_config : su.config->components) {
      const CompState& comp = comps_.at(comp_config.id);
      if (comp.running && !comp.held_when_terminated.empty()) s.terminating = true;
      protocol::ComponentSnapshot c{
          comp_config.id, comp.presence, comp.peer.has_value(), comp.attempts, {}};
      for (const auto& [csi, assignment] : comp.csis) {
        c.csis.emplace_back(csi, assignment.second);
        assigned[assignment.first] = assignment.second;
      }
      // A process told to give up its CSIs acts on them until it is gone: while it is being
      // terminated (the SU is not reported before that, so the director does not move its
      // SIs) and after it survived its cleanup (its SIs stay frozen with the SU until a
      // repair), as for the director that saw it happen.
      if (comp.running || comp.presence == PresenceState::kTerminationFailed) {
        for (const auto& [csi, assignment] : comp.held_when_terminated) {
          c.csis.emplace_back(csi, assignment.second);
          assigned.emplace(assignment.first, assignment.second);
        }
      }
      s.components.push_back(std::move(c));
    }
    s.assignments.assign(assigned.begin(), assigned.end());
    for (const auto& [si, active] : su.active_of) {  // of the standbys it holds
      const auto ha = assigned.find(si);
      if (ha != assigned.end() && ha->second == HaState::kStandby)
        s.told_active.emplace_back(si, active);
    }
    for (const auto& [si, awaiting] : su.awaiting) s.in_progress.push_back(si);
    out.sus.push_back(std::move(s));
  }
  return out;
}

void NodeDirector::on(const protocol::SnapshotRequest& e, TimePoint) {
  emit(ToDirector{snapshot(e.id)});
}

bool NodeDirector::stopped() const {
  if (!shutting_down_) return false;
  for (const auto& [id, comp] : comps_) {
    if (comp.running) return false;
  }
  return true;
}

}  // namespace amf::node
