// Error handling of the node director: what to do when a component fails, escalation through
// the probation windows, and the restarts and failovers themselves; and health checks.
#include <string>

#include "amf/node/node_director.h"

namespace amf::node {

using model::OperState;
using model::PresenceState;

void NodeDirector::component_failed(CompState& comp, const std::string& cause, TimePoint now,
                                    std::optional<model::Recovery> recommended) {
  if (shutting_down_) return;
  notify(now, model::NotificationKind::kError, comp.config->id.str(), "", "", "", cause);
  SuState& su = sus_.at(comp.su);
  if (comp.presence == PresenceState::kTerminating && comp.after_exit == AfterExit::kNothing) {
    // Being stopped for good (lock-instantiation, a spare given back, a switched-over SU): a
    // failure now ends in its cleanup, never in a recovery that would start it again.
    disconnect(comp, cause, now);
    if (comp.running && !comp.killed) kill(comp, now);
    return;
  }
  if (su.switching_over) {
    // It cannot hand its work over gracefully any more: it is failed over like the rest.
    su.switching_over = false;
    return fail_over_su(su, "node switchover: " + comp.config->id.str() + ": " + cause, now);
  }
  if (su.oper == OperState::kDisabled) {
    // The SU is already out of service (failed over, or a cleanup failed): nothing in it is
    // restarted until it is repaired; the failed component is only cleaned up.
    disconnect(comp, cause, now);
    comp.after_exit = AfterExit::kNothing;
    if (comp.running && !comp.killed) {
      set_presence(comp, PresenceState::kTerminating, "cleanup: SU disabled", now);
      kill(comp, now);
    } else if (!comp.running && comp.presence != PresenceState::kTerminationFailed &&
               comp.presence != PresenceState::kInstantiationFailed) {
      set_presence(comp, PresenceState::kUninstantiated, cause, now);
    }
    return;
  }
  const auto [recovery, why] = escalate(comp, su, recommended.value_or(comp.config->recovery), now);
  const std::string entity =
      recovery == model::Recovery::kComponentRestart ? comp.config->id.str() : comp.su.str();
  notify(now, model::NotificationKind::kRecovery, entity, "", "",
         std::string(model::to_string(recovery)),
         comp.config->id.str() + ": " + cause + (why.empty() ? "" : "; " + why));
  switch (recovery) {
    case model::Recovery::kComponentRestart:
      return restart_component(comp, cause, now);
    case model::Recovery::kSuRestart:
      return restart_su(su, comp, cause, now);
    case model::Recovery::kComponentFailover:
    case model::Recovery::kSuFailover:
      return fail_over_su(su, comp.config->id.str() + ": " + cause, now);
    case model::Recovery::kNodeSwitchover:
      return switch_over_node(su, comp.config->id.str() + ": " + cause, now);
    case model::Recovery::kNodeFailover:
    case model::Recovery::kNodeFailfast:
      return fail_over_node(comp.config->id.str() + ": " + cause, now);
  }
}

NodeDirector::Escalation NodeDirector::escalate(CompState& comp, SuState& su,
                                                model::Recovery recovery, TimePoint now) {
  using model::Recovery;
  std::string why;
  if (recovery == Recovery::kComponentRestart && comp.config->disable_restart) {
    recovery = Recovery::kComponentFailover;  // spec: disable-restart turns restart into failover
    why = "restart disabled";
  }
  auto window_text = [](int max, std::chrono::milliseconds probation) {
    return "more than " + std::to_string(max) + " within " + ms_text(probation);
  };
  if (recovery == Recovery::kComponentRestart &&
      su.comp_restarts.exceeded(now, su.sg->comp_restart_max, su.sg->comp_restart_probation)) {
    recovery = Recovery::kSuRestart;
    su.comp_restarts = {};  // the restarted SU's components start with a clean count
    why = "escalated: component restarts " +
          window_text(su.sg->comp_restart_max, su.sg->comp_restart_probation);
  }
  if (recovery == Recovery::kSuRestart &&
      su.su_restarts.exceeded(now, su.sg->su_restart_max, su.sg->su_restart_probation)) {
    recovery = Recovery::kSuFailover;
    su.su_restarts = {};
    su.comp_restarts = {};
    why =
        "escalated: SU restarts " + window_text(su.sg->su_restart_max, su.sg->su_restart_probation);
  }
  // The hard ceiling (amf/model/recovery_ceiling.h): however the maxima and probations above
  // are set, a restart that keeps failing ends in a failover.
  if ((recovery == Recovery::kComponentRestart || recovery == Recovery::kSuRestart) &&
      su.restarts.exceeded(now, model::kSuRestartCeiling)) {
    recovery = Recovery::kSuFailover;
    su.su_restarts = {};
    su.comp_restarts = {};
    why = "escalated: " + restart_ceiling_text(su);
  }
  if ((recovery == Recovery::kComponentFailover || recovery == Recovery::kSuFailover) &&
      su_failovers_.exceeded(now, node_config_->su_failover_max,
                             node_config_->su_failover_probation)) {
    recovery = Recovery::kNodeFailover;
    why = "escalated: SU failovers on node " + self_.str() + " " +
          window_text(node_config_->su_failover_max, node_config_->su_failover_probation);
  }
  return {recovery, why};
}

void NodeDirector::restart_component(CompState& comp, const std::string& cause, TimePoint now) {
  disconnect(comp, cause, now);
  comp.attempts = 0;
  if (comp.running) {
    set_presence(comp, PresenceState::kTerminating, cause, now);
    comp.after_exit = AfterExit::kRestart;
    kill(comp, now);
  } else {
    set_presence(comp, PresenceState::kRestarting, cause, now);
    instantiate(comp, now);
  }
}

// SU restart: the faulty component is cleaned up, the others terminated gracefully, and all
// of them instantiated again; the SU keeps its assignments, which are given back to the
// components as they register.
void NodeDirector::restart_su(SuState& su, const CompState& faulty, const std::string& cause,
                              TimePoint now) {
  for (const auto& comp_config : su.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    if (comp.presence == PresenceState::kTerminationFailed) continue;  // only a repair may
    if (&comp == &faulty || !comp.running) {
      restart_component(comp, cause, now);
    } else {
      terminate_for_restart(comp, "su-restart", now);
    }
  }
}

void NodeDirector::terminate_for_restart(CompState& comp, const std::string& cause, TimePoint now) {
  ask_to_terminate(comp);  // while the component is still connected
  disconnect(comp, cause, now);
  comp.attempts = 0;
  set_presence(comp, PresenceState::kTerminating, cause, now);
  comp.after_exit = AfterExit::kRestart;
  comp.deadline = now + comp.config->timeouts.terminate;
}

void NodeDirector::fail_over_node(const std::string& cause, TimePoint now) {
  touch_all();
  notify(now, model::NotificationKind::kRecovery, self_.str(), "", "", "node-failover", cause);
  for (auto& [id, su] : sus_) {
    if (su.oper == OperState::kDisabled) continue;
    su.auto_repairable = false;
    fail_over_su(su, "node failover: " + cause, now);
  }
}

// Node switchover (spec 3.11.1.3): the faulty component's SU is failed over; every other SU
// of the node is disabled but keeps running, so that the director switches its actives over
// gracefully (quiesce, promote elsewhere, remove) instead of losing them; once an SU holds
// nothing any more its components are terminated. All stay disabled until the node is
// repaired.
void NodeDirector::switch_over_node(SuState& faulty, const std::string& cause, TimePoint now) {
  touch_all();
  notify(now, model::NotificationKind::kRecovery, self_.str(), "", "", "node-switchover", cause);
  for (auto& [id, su] : sus_) {
    if (su.oper == OperState::kDisabled) continue;
    su.auto_repairable = false;
    if (&su == &faulty) {
      fail_over_su(su, "node switchover: " + cause, now);
      continue;
    }
    su.switching_over = true;
    set_oper(su, OperState::kDisabled, "node switchover: " + cause, now);
  }
}

// A switched-over SU that holds nothing and waits for nothing is terminated.
void NodeDirector::finish_switchover(SuState& su, TimePoint now) {
  if (!su.switching_over || !su.awaiting.empty()) return;
  for (const auto& comp_config : su.config->components) {
    const CompState& comp = comps_.at(comp_config.id);
    if (!comp.csis.empty() || !comp.callbacks.empty()) return;
  }
  su.switching_over = false;
  for (const auto& comp_config : su.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    if (comp.running && comp.presence != PresenceState::kTerminating) {
      terminate(comp, "node switchover done", now);
    }
  }
}

std::string NodeDirector::restart_ceiling_text(const SuState& su) {
  return "recovery ceiling: more than " + std::to_string(model::kSuRestartCeiling) +
         " restarts of " + su.config->id.str() + " without " +
         std::to_string(model::kRecoveryCeilingQuiet.count()) + " min between two";
}

void NodeDirector::fail_over_su(SuState& su, const std::string& cause, TimePoint now) {
  su.restarts.reset();  // repaired, it starts afresh
  set_oper(su, OperState::kDisabled, cause, now);
  su.awaiting.clear();
  for (const auto& comp_config : su.config->components) {
    CompState& comp = comps_.at(comp_config.id);
    forget_csis(comp);
    disconnect(comp, cause, now);
    comp.after_exit = AfterExit::kNothing;
    if (comp.running) {
      if (comp.presence != PresenceState::kTerminating) {
        set_presence(comp, PresenceState::kTerminating, "cleanup: " + cause, now);
      }
      if (!comp.killed) kill(comp, now);
    } else if (comp.presence != PresenceState::kInstantiationFailed &&
               comp.presence != PresenceState::kTerminationFailed &&
               comp.presence != PresenceState::kUninstantiated) {
      set_presence(comp, PresenceState::kUninstantiated, cause, now);
    }
  }
}

void NodeDirector::check_health(CompState& comp, TimePoint now) {
  const auto& hc = comp.config->health_check;
  if (!hc || !comp.healthcheck || *comp.healthcheck > now || !ready(comp)) return;
  if (hc->component_invoked) {
    const std::string what = comp.config->sa_aware()
                                 ? "no health check confirmation for '" + hc->key + "'"
                                 : std::string("no WATCHDOG=1 (sd_notify)");
    return component_failed(comp, what + " within " + ms_text(hc->period + hc->max_duration), now);
  }
  comp.healthcheck = now + hc->period;
  for (const auto& [inv, cb] : comp.callbacks) {
    if (cb.kind == CallbackKind::kHealthcheck) return;  // the previous one is still running
  }
  const Invocation inv = next_invocation_++;
  comp.callbacks[inv] = {CallbackKind::kHealthcheck, CsiId(), SiId(), std::nullopt,
                         now + hc->max_duration};
  emit(SendHealthcheck{*comp.peer, inv, comp.config->id, hc->key});
}

}  // namespace amf::node
