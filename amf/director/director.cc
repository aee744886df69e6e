#include "amf/director/director.h"

#include <algorithm>
#include <string>

#include "amf/core/assert.h"

namespace amf::director {

using model::HaState;
using model::PresenceState;
using models::ha_of;
using protocol::AssignHa;
using protocol::AssignmentDone;
using protocol::InstantiateSu;
using protocol::RemovalDone;
using protocol::RemoveHa;
using protocol::RepairSu;
using protocol::RestartSu;
using protocol::SuStateReport;
using protocol::TerminateSu;

namespace {

std::string ha_name(std::optional<HaState> ha) {
  return ha ? std::string(model::to_string(*ha)) : "unassigned";
}

}  // namespace

Result<Director> Director::create(std::shared_ptr<const model::ClusterConfig> config) {
  Director director(config);
  for (const model::SgConfig* sg : config->service_groups()) {
    auto policy = models::make_policy(sg->redundancy);
    if (!policy)
      return tl::unexpected(policy.error().with_context("service group " + sg->id.str()));
    director.sgs_[sg->id].policy = std::move(*policy);
  }
  return director;
}

Director::Director(std::shared_ptr<const model::ClusterConfig> config)
    : config_(std::move(config)) {
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& si : sg->sis) sg_of_si_[si.id] = sg->id;
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& si : sg->sis) {
      for (const auto& d : si.dependencies) dependent_sgs_[sg_of_si_.at(d.sponsor)].insert(sg->id);
    }
  }
  for (const model::SgConfig* sg : config_->service_groups()) {
    SgState& sg_state = sgs_[sg->id];
    sg_state.config = sg;
    sg_state.admin = sg->admin_state;
    for (const auto& su : sg->sus) {
      SuState& state = sus_[su.id];
      state.config = &su;
      state.sg = sg->id;
      state.admin = su.admin_state;
    }
    for (const auto& si : sg->sis) {
      if (si.admin_state != model::AdminState::kUnlocked) si_admin_[si.id] = si.admin_state;
    }
  }
  // The configured initial admin states (a director that takes over then applies the store's).
  for (const auto& node : config_->nodes) {
    if (node.admin_state != model::AdminState::kUnlocked) node_admin_[node.id] = node.admin_state;
  }
  for (const auto& app : config_->applications) {
    if (app.admin_state != model::AdminState::kUnlocked) app_admin_[app.id] = app.admin_state;
  }
}

void Director::handle(const Event& event, TimePoint now) {
  std::visit([&](const auto& e) { on(e, now); }, event);
  check_admin_ops(now);
  retime();
}

// The director's timers: admin operations' time limits and auto-adjust probations. Callback
// timeouts are the node directors' (they turn a silent component into a fault report). Only
// the SGs whose timer is due are looked at (timers_), in SgId order: a tick costs what is due,
// not the number of SGs.
void Director::tick(TimePoint now) {
  std::set<SgId> due;
  for (auto it = timers_.begin(); it != timers_.end() && it->first <= now; ++it) {
    due.insert(it->second);
  }
  for (const SgId& id : due) {
    SgState& sg = sgs_.at(id);
    for (const auto& [si, deadline] : sg.dependency_deadline) {
      if (deadline <= now) {
        reevaluate(sg, now);
        break;
      }
    }
  }
  for (const SgId& id : due) {
    SgState& sg = sgs_.at(id);
    if (!sg.auto_adjust_at || *sg.auto_adjust_at > now || !sg.pending.empty()) continue;
    const bool operated = std::any_of(admin_ops_.begin(), admin_ops_.end(),
                                      [&](const auto& op) { return op.sgs.count(id) > 0; });
    if (operated) continue;  // picked up when the operation is over
    sg.auto_adjust_at.reset();
    sg.adjust = true;
    notify(now, model::NotificationKind::kRecovery, id.str(), "", "", "auto-adjust",
           "an SU has been back in service for " + ms_text(sg.config->auto_adjust_probation));
    reevaluate(sg, now);
  }
  check_admin_ops(now);
  retime();
}

std::optional<TimePoint> Director::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& op : admin_ops_) consider(op.deadline);  // at most one per SG, few
  if (!timers_.empty()) consider(timers_.begin()->first);
  return next;
}

std::optional<TimePoint> Director::sg_timer(const SgId& id, const SgState& sg) const {
  // A busy SG's adjust waits for the SG, which calls for a new deadline when it settles.
  if (!sg.pending.empty()) return std::nullopt;
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  const bool operated = std::any_of(admin_ops_.begin(), admin_ops_.end(),
                                    [&](const auto& op) { return op.sgs.count(id) > 0; });
  if (sg.auto_adjust_at && !operated) consider(*sg.auto_adjust_at);
  for (const auto& [si, deadline] : sg.dependency_deadline) consider(deadline);
  return next;
}

void Director::retime() {
  for (const SgId& id : touched_) {
    SgState& sg = sgs_.at(id);
    const std::optional<TimePoint> timer = sg_timer(id, sg);
    if (timer == sg.timer) continue;
    if (sg.timer) timers_.erase({*sg.timer, id});
    if (timer) timers_.emplace(*timer, id);
    sg.timer = timer;
  }
  touched_.clear();
}

std::vector<Effect> Director::take_effects() { return std::exchange(effects_, {}); }

void Director::on(const NodeUp& e, TimePoint now) {
  // Up already: it restarted unnoticed (NodeDown does nothing for a node that is down).
  on(NodeDown{e.node, "node " + e.node.str() + " restarted"}, now);
  nodes_leaving_.erase(e.node);  // a new life (of a node that hosts no SU, NodeDown did not)
  std::set<SgId> with_spares;
  for (auto& [id, su] : sus_) {
    if (su.config->node != e.node) continue;
    su.node_up = true;
    update_readiness(su, "node " + e.node.str() + " up", now);
    SgState& sg = sgs_.at(su.sg);
    if (has_spares(sg)) {
      with_spares.insert(su.sg);
    } else if (may_instantiate(su) && su.presence == PresenceState::kUninstantiated) {
      effects_.push_back(ToNode{e.node, InstantiateSu{id}});
    }
  }
  for (const SgId& id : with_spares) keep_preferred_in_service(sgs_.at(id), now);
}

void Director::restore_admin(const AdminStates& admin, std::uint64_t epoch, TimePoint now) {
  AMF_ASSERT(next_command_ == 1);  // a director that has handled nothing yet
  next_command_ = (epoch << 32) + 1;
  apply_admin(admin, now);
}

void Director::apply_admin(const AdminStates& admin, TimePoint now) {
  for (const auto& [key, state] : admin) {
    const auto target = resolve(AdminRequest{0, AdminOp::kLock, key.first, key.second});
    if (!target) {
      notify(now, model::NotificationKind::kError, key.second, "", "",
             std::string(model::to_string(state)),
             "admin state in the store for an entity the configuration does not have: " +
                 target.error().message());
      continue;
    }
    *target->admin = state;
  }
}

void Director::take_over(const Takeover& t, TimePoint now) {
  AMF_ASSERT(next_command_ == 1);  // a director that has handled nothing yet
  // Command ids carry the epoch in their upper half: an answer to an earlier director's
  // command matches nothing outstanding here.
  next_command_ = (t.epoch << 32) + 1;
  apply_admin(t.admin, now);
  auto protocol_error = [&](const std::string& entity, const std::string& related,
                            const std::string& what) {
    notify(now, model::NotificationKind::kProtocolError, entity, related, "", "", what);
  };
  std::set<SuId> not_auto_repairable;  // after a node failover (SuSnapshot::auto_repairable)
  for (const protocol::NodeSnapshot& snapshot : t.nodes) {
    // Its amfd is stopping: as after its NodeLeaving, once the readiness below is derived.
    if (snapshot.leaving) nodes_leaving_.insert(snapshot.node);
    for (const protocol::SuSnapshot& s : snapshot.sus) {
      auto it = sus_.find(s.su);
      if (it == sus_.end() || it->second.config->node != snapshot.node) {
        protocol_error(s.su.str(), "",
                       "snapshot of node " + snapshot.node.str() + " names an SU it does not host");
        continue;
      }
      if (!s.auto_repairable) not_auto_repairable.insert(s.su);
      SuState& su = it->second;
      SgState& sg = sgs_.at(su.sg);
      su.node_up = true;
      su.presence = s.presence;
      su.oper = s.oper;
      auto in_sg = [&](const SiId& si) {
        auto owner = sg_of_si_.find(si);
        if (owner != sg_of_si_.end() && owner->second == su.sg) return true;
        protocol_error(s.su.str(), si.str(), "snapshot names an SI of another service group");
        return false;
      };
      // Nothing is carried out for an SU whose cleanup failed: what it was told, it is taken to
      // hold (frozen with it), as on its report (on(SuStateReport)). Nor for one whose
      // processes are being ended: what they hold stays pending, without a command, until the
      // SU's report says whether they are gone (the SIs move) or survived (frozen).
      const bool frozen = s.presence == PresenceState::kTerminationFailed;
      const bool ending = s.terminating && !frozen;
      const std::set<SiId> in_progress =
          frozen || ending ? std::set<SiId>()
                           : std::set<SiId>(s.in_progress.begin(), s.in_progress.end());
      // What a standby was told of its active: learnt, so that phase 5 tells again only a
      // standby told of another (or of none), and asked for again as it was told.
      auto told_of = [&](const SiId& si) -> std::optional<SuId> {
        for (const auto& [told_si, active] : s.told_active) {
          if (told_si == si) return active;
        }
        return std::nullopt;
      };
      std::map<SiId, HaState> held;
      for (const auto& [si, ha] : s.assignments) {
        if (!in_sg(si)) continue;
        held[si] = ha;
        if (ha == HaState::kStandby) sg.told_active[{s.su, si}] = told_of(si);
        if (in_progress.count(si)) continue;
        if (ending) {
          PendingOp op{s.su, si, ha, next_command_++};
          op.held = true;
          sg.pending.push_back(op);
          continue;
        }
        sg.current.push_back({si, s.su, ha == HaState::kQuiescing ? HaState::kQuiesced : ha});
      }
      // Still being carried out: asked for again, so that the answer is to this director.
      // The node kept the HA state it was told (none while a removal goes on).
      for (const SiId& si : in_progress) {
        if (!in_sg(si)) continue;
        const auto ha = held.find(si);
        PendingOp op{s.su, si, std::nullopt, next_command_++};
        if (ha == held.end()) {
          effects_.push_back(ToNode{snapshot.node, RemoveHa{s.su, si, op.id}});
        } else {
          op.ha = ha->second;
          const auto reason = ha->second == HaState::kActive ? model::TransitionReason::kFailover
                              : ha->second == HaState::kStandby
                                  ? model::TransitionReason::kNewAssignment
                                  : model::TransitionReason::kSwitchover;
          const std::optional<SuId> active =
              ha->second == HaState::kStandby ? told_of(si) : std::nullopt;
          effects_.push_back(
              ToNode{snapshot.node, AssignHa{s.su, si, ha->second, reason, op.id, active}});
        }
        sg.pending.push_back(op);
      }
    }
  }
  notify(
      now, model::NotificationKind::kNode, "director", "", "", "took-over",
      "epoch " + std::to_string(t.epoch) + ": " + std::to_string(t.nodes.size()) + " node(s) up");
  for (auto& [id, su] : sus_) {
    // Learnt, not changed: the cluster's readiness is what it was, so no notification says so.
    su.readiness = model::derive_readiness(effective_admin(su), su.oper, su.presence, su.node_up);
    touched_.insert(su.sg);
    const SgState& sg = sgs_.at(su.sg);
    su.repair_wanted = su.oper == model::OperState::kDisabled &&
                       su.presence == PresenceState::kUninstantiated && sg.config->auto_repair &&
                       effective_admin(su) == model::AdminState::kUnlocked &&
                       !not_auto_repairable.count(id);
    su.repair_cause = "disabled when the director took over";
  }
  // An SI without an active, acknowledged or asked for, lost it: the next one fails over.
  for (auto& [id, sg] : sgs_) {
    for (const auto& si : sg.config->sis) {
      const auto is_active = [&](const auto& a) {
        return a.si == si.id && a.ha == HaState::kActive;
      };
      if (std::none_of(sg.current.begin(), sg.current.end(), is_active) &&
          std::none_of(sg.pending.begin(), sg.pending.end(), is_active)) {
        sg.lost_active.insert(si.id);
      }
    }
  }
  // As after NodeUp: what is up but not instantiated is instantiated.
  for (auto& [id, su] : sus_) {
    if (!su.node_up || has_spares(sgs_.at(su.sg))) continue;
    if (may_instantiate(su) && su.oper == model::OperState::kEnabled &&
        su.presence == PresenceState::kUninstantiated) {
      su.instantiate_sent = true;
      effects_.push_back(ToNode{su.config->node, InstantiateSu{id}});
    }
  }
  for (auto& [id, sg] : sgs_) reevaluate(sg, now);
  check_admin_ops(now);
  retime();
}

bool Director::has_spares(const SgState& sg) const {
  const int preferred = sg.config->preferred_inservice_sus;
  return preferred > 0 && preferred < static_cast<int>(sg.config->sus.size());
}

void Director::keep_preferred_in_service(SgState& sg, TimePoint now) {
  if (!has_spares(sg)) return;
  const int preferred = sg.config->preferred_inservice_sus;
  std::vector<std::pair<SuId, SuState*>> by_rank;
  for (const auto& su_config : sg.config->sus)
    by_rank.emplace_back(su_config.id, &sus_.at(su_config.id));
  std::stable_sort(by_rank.begin(), by_rank.end(), [](const auto& a, const auto& b) {
    return a.second->config->rank < b.second->config->rank;
  });
  // Able to serve: unlocked at every level, enabled, on a node that is up.
  auto able = [&](const SuState& su) {
    return su.node_up && su.oper == model::OperState::kEnabled &&
           effective_admin(su) == model::AdminState::kUnlocked;
  };
  auto running = [](const SuState& su) {
    if (su.leaving) return false;
    return su.instantiate_sent || su.presence == PresenceState::kInstantiating ||
           su.presence == PresenceState::kInstantiated || su.presence == PresenceState::kRestarting;
  };
  int live = 0;
  for (const auto& [id, su] : by_rank) live += able(*su) && running(*su);
  const std::string count =
      std::to_string(live) + " of " + std::to_string(preferred) + " preferred in-service SUs";
  for (auto& [id, su] : by_rank) {
    if (live >= preferred) break;
    if (!able(*su) || running(*su) || su->presence != PresenceState::kUninstantiated) continue;
    notify(now, model::NotificationKind::kRecovery, id.str(), "", "spare", "instantiate", count);
    su->instantiate_sent = true;
    effects_.push_back(ToNode{su->config->node, InstantiateSu{id}});
    ++live;
  }
  // A surplus (a repaired or unlocked SU is back) gives up its lowest-ranked idle SUs, once
  // the SG has nothing outstanding.
  if (!sg.pending.empty()) return;
  for (auto it = by_rank.rbegin(); it != by_rank.rend() && live > preferred; ++it) {
    SuState& su = *it->second;
    if (!able(su) || su.instantiate_sent || su.leaving ||
        su.presence != PresenceState::kInstantiated || holds_assignments(it->first)) {
      continue;
    }
    notify(now, model::NotificationKind::kRecovery, it->first.str(), "", "in-service", "spare",
           count);
    su.leaving = true;
    effects_.push_back(ToNode{su.config->node, TerminateSu{it->first}});
    --live;
  }
}

// Everything on the node is gone, the processes of a failed cleanup included: a node that
// leaves the cluster is rebooted or fenced, which is also the repair of what was disabled on
// it. Its SUs come back enabled and uninstantiated when it rejoins.
void Director::on(const NodeDown& e, TimePoint now) {
  if (!node_up(e.node)) return;
  nodes_leaving_.erase(e.node);  // of the life that went down
  notify(now, model::NotificationKind::kNode, e.node.str(), "", "up", "down", e.cause);
  std::set<SgId> touched;
  for (auto& [id, su] : sus_) {
    if (su.config->node != e.node || !su.node_up) continue;
    su.node_up = false;
    su.instantiate_sent = false;
    su.leaving = false;
    su.presence = PresenceState::kUninstantiated;
    su.oper = model::OperState::kEnabled;
    su.repair_wanted = false;
    su.auto_repairs.reset();  // the node's reboot repairs it
    SgState& sg = sgs_.at(su.sg);
    drop_assignments(sg, id, e.cause, now);
    update_readiness(su, e.cause, now);
    touched.insert(su.sg);
  }
  // Commands to other nodes may still be outstanding in these SGs; each goes on when they are
  // answered.
  for (const SgId& id : touched) reevaluate(sgs_.at(id), now);
  for (const SgId& id : touched) reevaluate_dependents(id, now);
}

bool Director::node_up(const NodeId& node) const {
  return std::any_of(sus_.begin(), sus_.end(), [&](const auto& entry) {
    return entry.second.config->node == node && entry.second.node_up;
  });
}

void Director::on(const protocol::NodeLeaving& e, TimePoint now) {
  // From a life already gone (the runtime hands on only the current life's), or said twice.
  if (!node_up(e.node) || !nodes_leaving_.insert(e.node).second) return;
  notify(now, model::NotificationKind::kNode, e.node.str(), "", "up", "leaving", e.cause);
  const std::string cause = "node " + e.node.str() + " leaving: " + e.cause;
  std::set<SgId> touched;
  for (auto& [id, su] : sus_) {
    if (su.config->node != e.node) continue;
    update_readiness(su, cause, now);
    touched.insert(su.sg);
  }
  for (const SgId& id : touched) reevaluate(sgs_.at(id), now);
  for (const SgId& id : touched) reevaluate_dependents(id, now);
}

void Director::on(const SuStateReport& e, TimePoint now) {
  auto it = sus_.find(e.su);
  if (it == sus_.end()) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), "", "", "",
           "state report for an unknown SU");
    return;
  }
  SuState& su = it->second;
  if (!su.node_up) return;  // sent before its node left the cluster: nothing of it runs
  SgState& sg = sgs_.at(su.sg);
  ++su.reports;
  su.instantiate_sent = false;
  if (e.presence != PresenceState::kInstantiated) su.leaving = false;
  su.presence = e.presence;
  su.oper = e.oper;
  update_readiness(su, e.cause, now);
  // The node director reports a non-instantiated SU only once none of its components runs
  // (messages.h), so its assignments are gone and its SIs can move now. Not after a failed
  // cleanup: a process that survived it may still act on its assignments, so they stay, and
  // their SIs are not moved anywhere, until an operator repairs the SU (spec 3.12.1.3).
  if (su.presence == PresenceState::kTerminationFailed) {
    notify(now, model::NotificationKind::kError, e.su.str(), "", "", "",
           "cleanup failed: its SIs stay assigned to it and are not failed over until it is "
           "repaired (amfctl repair su " +
               e.su.str() + ")");
    // Commands to it will never be answered. Its component may have acted on them, so it is
    // taken to hold what it was told (its SIs freeze with it) and the SG carries on.
    for (const PendingOp& op : sg.pending) {
      if (op.su != e.su || !op.ha) continue;
      std::erase_if(sg.current, [&](const auto& a) { return a.su == op.su && a.si == op.si; });
      sg.current.push_back(
          {op.si, op.su, *op.ha == HaState::kQuiescing ? HaState::kQuiesced : *op.ha});
    }
    std::erase_if(sg.pending, [&](const PendingOp& op) { return op.su == e.su; });
  } else if (su.presence != PresenceState::kInstantiated) {
    drop_assignments(sg, e.su, e.cause, now);
  } else {
    // What a takeover found held by an SU whose processes were being ended, and the SU is
    // instantiated still (a restart in place): it holds them.
    for (const PendingOp& op : sg.pending) {
      if (op.su != e.su || !op.held || !op.ha) continue;
      sg.current.push_back(
          {op.si, op.su, *op.ha == HaState::kQuiescing ? HaState::kQuiesced : *op.ha});
    }
    std::erase_if(sg.pending, [&](const PendingOp& op) { return op.su == e.su && op.held; });
  }
  su.repair_wanted = e.auto_repairable && su.oper == model::OperState::kDisabled &&
                     su.presence == PresenceState::kUninstantiated && sg.config->auto_repair &&
                     effective_admin(su) == model::AdminState::kUnlocked;
  su.repair_cause = e.cause;
  reevaluate(sg, now);
  reevaluate_dependents(sg.config->id, now);
}

void Director::on(const AssignmentDone& e, TimePoint now) {
  auto su = sus_.find(e.su);
  if (su == sus_.end() || !su->second.node_up) return;
  SgState& sg = sgs_.at(su->second.sg);
  const std::optional<PendingOp> op = erase_pending(sg, e.command, e.su, e.si, e.ha);
  if (!op) {
    notify(now, model::NotificationKind::kProtocolError, e.su.str(), e.si.str(), "",
           std::string(model::to_string(e.ha)),
           "assignment acknowledged that was not requested (command " + std::to_string(e.command) +
               ")");
    return;
  }
  const std::optional<HaState> old = ha_of(sg.current, e.su, e.si);
  std::erase_if(sg.current, [&](const auto& a) { return a.su == e.su && a.si == e.si; });
  // A component answers a quiescing callback once it has finished its work: it is quiesced
  // (quiescing was recorded when it was asked, in reevaluate).
  const HaState now_ha = e.ha == HaState::kQuiescing ? HaState::kQuiesced : e.ha;
  sg.current.push_back({e.si, e.su, now_ha});
  std::string cause = op->cause.empty() ? "assigned" : op->cause;
  if (e.ha == HaState::kActive && sg.lost_active.erase(e.si)) cause = "failover";
  notify(now, model::NotificationKind::kHaState, e.su.str(), e.si.str(),
         e.ha == HaState::kQuiescing ? "quiescing" : ha_name(old), ha_name(now_ha), cause);
  reevaluate(sg, now);
  reevaluate_dependents(sg.config->id, now);
}

void Director::on(const RemovalDone& e, TimePoint now) {
  auto su = sus_.find(e.su);
  if (su == sus_.end() || !su->second.node_up) return;
  SgState& sg = sgs_.at(su->second.sg);
  const std::optional<PendingOp> op = erase_pending(sg, e.command, e.su, e.si, std::nullopt);
  if (!op) {
    notify(
        now, model::NotificationKind::kProtocolError, e.su.str(), e.si.str(), "", "unassigned",
        "removal acknowledged that was not requested (command " + std::to_string(e.command) + ")");
    return;
  }
  const std::optional<HaState> old = ha_of(sg.current, e.su, e.si);
  std::erase_if(sg.current, [&](const auto& a) { return a.su == e.su && a.si == e.si; });
  notify(now, model::NotificationKind::kHaState, e.su.str(), e.si.str(), ha_name(old), "unassigned",
         op->cause.empty() ? "removed" : op->cause);
  reevaluate(sg, now);
  reevaluate_dependents(sg.config->id, now);
}

void Director::update_readiness(SuState& su, const std::string& cause, TimePoint now) {
  touched_.insert(su.sg);
  const model::ReadinessState readiness =
      model::derive_readiness(effective_admin(su), su.oper, su.presence, su.node_up);
  if (readiness == su.readiness) return;
  notify(now, model::NotificationKind::kReadiness, su.config->id.str(), "",
         std::string(model::to_string(su.readiness)), std::string(model::to_string(readiness)),
         cause);
  su.readiness = readiness;
  SgState& sg = sgs_.at(su.sg);
  if (readiness == model::ReadinessState::kInService && sg.config->auto_adjust) {
    sg.auto_adjust_at = now + sg.config->auto_adjust_probation;  // (re)start the probation
  }
}

void Director::drop_assignments(SgState& sg, const SuId& su, const std::string& cause,
                                TimePoint now) {
  for (const auto& a : sg.current) {
    if (a.su != su) continue;
    if (a.ha == HaState::kActive) sg.lost_active.insert(a.si);
    notify(now, model::NotificationKind::kHaState, su.str(), a.si.str(), ha_name(a.ha),
           "unassigned", cause);
  }
  for (const PendingOp& op : sg.pending) {  // a takeover's, of an SU being ended: held too
    if (op.su != su || !op.held || !op.ha) continue;
    if (*op.ha == HaState::kActive) sg.lost_active.insert(op.si);
    notify(now, model::NotificationKind::kHaState, su.str(), op.si.str(), ha_name(*op.ha),
           "unassigned", cause);
  }
  std::erase_if(sg.current, [&](const auto& a) { return a.su == su; });
  std::erase_if(sg.pending, [&](const PendingOp& op) { return op.su == su; });
}

std::optional<Director::PendingOp> Director::erase_pending(SgState& sg, protocol::CommandId id,
                                                           const SuId& su, const SiId& si,
                                                           std::optional<HaState> ha) {
  auto it = std::find_if(sg.pending.begin(), sg.pending.end(), [&](const PendingOp& op) {
    return op.id == id && op.su == su && op.si == si && op.ha == ha;
  });
  if (it == sg.pending.end()) return std::nullopt;
  PendingOp op = std::move(*it);
  sg.pending.erase(it);
  return op;
}

void Director::reevaluate(SgState& sg, TimePoint now) {
  touched_.insert(sg.config->id);
  if (sg.pending.empty()) {
    issue_next_batch(sg, now);
    if (sg.pending.empty()) repair_sus(sg, now);
  }
  keep_preferred_in_service(sg, now);
}

// Fail over first, repair second: an SU is repaired only once its SG has nothing outstanding,
// so spawning its processes never delays the promotion that restores the service. An SU that
// keeps failing over is auto-repaired at most kSuAutoRepairCeiling times without a quiet
// period in between: the failover loop ends there, however the escalation is configured.
void Director::repair_sus(SgState& sg, TimePoint now) {
  for (const auto& su_config : sg.config->sus) {
    SuState& su = sus_.at(su_config.id);
    if (!su.repair_wanted) continue;
    su.repair_wanted = false;
    if (su.auto_repairs.exceeded(now, model::kSuAutoRepairCeiling)) {
      const std::string id = su_config.id.str();
      notify(now, model::NotificationKind::kRecovery, id, "", "disabled", "left-disabled",
             su.repair_cause + "; recovery ceiling: auto-repaired " +
                 std::to_string(model::kSuAutoRepairCeiling) + " times without " +
                 std::to_string(model::kRecoveryCeilingQuiet.count()) +
                 " min between two: it stays disabled until an operator repairs it (amfctl "
                 "repair su " +
                 id + ")");
      continue;
    }
    notify(now, model::NotificationKind::kRecovery, su_config.id.str(), "", "disabled",
           "auto-repair", su.repair_cause);
    effects_.push_back(ToNode{su_config.node, RepairSu{su_config.id, may_instantiate(su)}});
  }
}

void Director::issue_next_batch(SgState& sg, TimePoint now) {
  std::vector<models::SuCandidate> candidates;
  for (const auto& su_config : sg.config->sus) {
    const SuState& su = sus_.at(su_config.id);
    candidates.push_back({su_config.id, su_config.rank,
                          su.readiness == model::ReadinessState::kInService && !su.leaving});
  }
  // SIs held by an SU whose cleanup failed are frozen: nothing about them changes. The policy
  // plans the SG without them, so it spends no capacity on an SI that cannot move.
  std::set<SiId> frozen;
  for (const auto& a : sg.current) {
    if (sus_.at(a.su).presence == PresenceState::kTerminationFailed) frozen.insert(a.si);
  }
  // A locked or shutting-down SI is planned nowhere: its assignments are released below.
  std::set<SiId> left_out = frozen;
  for (const auto& si : sg.config->sis) {
    if (si_admin(si.id) != model::AdminState::kUnlocked) left_out.insert(si.id);
  }
  const models::AssignmentTable input = policy_input(sg);
  const auto plan = [&] {
    if (left_out.empty()) return sg.policy->target(*sg.config, candidates, input);
    model::SgConfig planned = *sg.config;
    std::erase_if(planned.sis, [&](const auto& si) { return left_out.count(si.id) > 0; });
    models::AssignmentTable planned_input = input;
    std::erase_if(planned_input, [&](const auto& a) { return left_out.count(a.si) > 0; });
    return sg.policy->target(planned, candidates, planned_input);
  };
  models::AssignmentTable target = plan();
  // Nor is an SI that may get no active (see apply_dependencies): it has none, and a sponsor
  // has none, now or in this target. The policy would spend a slot on it that
  // apply_dependencies empties, while a servable SI goes without (sim finding 12). An SI whose
  // missing sponsors this target makes active keeps its slot: it gets its active once theirs
  // are acknowledged. Each pass leaves out at least one SI more or ends: at most one per SI.
  for (std::size_t pass = 0; pass < sg.config->sis.size(); ++pass) {
    std::set<SiId> planned_active;
    for (const auto& a : target) {
      if (a.ha == HaState::kActive) planned_active.insert(a.si);
    }
    bool more = false;
    for (const auto& si : sg.config->sis) {
      if (left_out.count(si.id) || has_active(si.id)) continue;
      for (const auto& d : si.dependencies) {
        if (!has_active(d.sponsor) && !planned_active.count(d.sponsor)) {
          more |= left_out.insert(si.id).second;
        }
      }
    }
    if (!more) break;
    target = plan();
  }
  sg.swap.reset();
  sg.adjust = false;
  apply_dependencies(sg, target, now);
  // Phase 1, release: actives that must go are quiesced (quiescing when their SU shuts down),
  // standbys that must go are removed.
  for (const auto& a : sg.current) {
    if (frozen.count(a.si)) continue;
    const std::optional<HaState> wanted = ha_of(target, a.su, a.si);
    if (wanted == a.ha) continue;
    if (a.ha == HaState::kActive) {
      const bool graceful = effective_admin(sus_.at(a.su)) == model::AdminState::kShuttingDown ||
                            si_admin(a.si) == model::AdminState::kShuttingDown;
      sg.pending.push_back({a.su, a.si, graceful ? HaState::kQuiescing : HaState::kQuiesced});
    } else if (a.ha == HaState::kStandby && wanted != HaState::kActive) {
      sg.pending.push_back({a.su, a.si, std::nullopt});
    }
  }
  // Phase 2, promotions; phase 3, quiesced assignments settle; phase 4, new standbys.
  if (sg.pending.empty()) {
    for (const auto& a : target) {
      if (a.ha == HaState::kActive && ha_of(sg.current, a.su, a.si) != HaState::kActive) {
        sg.pending.push_back({a.su, a.si, HaState::kActive});
      }
    }
  }
  if (sg.pending.empty()) {
    for (const auto& a : sg.current) {
      if (a.ha != HaState::kQuiesced || frozen.count(a.si)) continue;
      const std::optional<HaState> wanted = ha_of(target, a.su, a.si);
      sg.pending.push_back({a.su, a.si, wanted == HaState::kStandby ? wanted : std::nullopt});
    }
  }
  if (sg.pending.empty()) {
    for (const auto& a : target) {
      if (a.ha == HaState::kStandby && !ha_of(sg.current, a.su, a.si)) {
        sg.pending.push_back({a.su, a.si, HaState::kStandby});
      }
    }
  }
  // Phase 5: a standby that was told of another active (or of none) is told the one it has
  // now, with the same standby assignment (N-way: the others, once one of them is promoted).
  if (sg.pending.empty()) {
    for (const auto& a : target) {
      if (a.ha != HaState::kStandby || ha_of(sg.current, a.su, a.si) != HaState::kStandby) continue;
      const std::optional<SuId> active = active_su(sg.current, a.si);
      if (!active) continue;
      const auto told = sg.told_active.find({a.su, a.si});
      if (told == sg.told_active.end() || told->second != active) {
        sg.pending.push_back({a.su, a.si, HaState::kStandby});
      }
    }
  }

  std::string cause = admin_cause(sg.config->id).value_or("");
  if (cause.empty() && !nodes_leaving_.empty()) {  // "node n1 leaving", "nodes n1, n2 leaving"
    std::set<NodeId> leaving;
    for (const auto& su : sg.config->sus) {
      if (nodes_leaving_.count(su.node)) leaving.insert(su.node);
    }
    for (const NodeId& node : leaving) cause += (cause.empty() ? "" : ", ") + node.str();
    if (!cause.empty()) cause = (leaving.size() > 1 ? "nodes " : "node ") + cause + " leaving";
  }
  for (PendingOp& op : sg.pending) {
    const NodeId node = sus_.at(op.su).config->node;
    op.id = next_command_++;
    op.cause = cause;
    if (!op.ha) {
      effects_.push_back(ToNode{node, RemoveHa{op.su, op.si, op.id}});
      continue;
    }
    model::TransitionReason reason = model::TransitionReason::kNewAssignment;
    std::optional<SuId> active;
    if (*op.ha == HaState::kStandby) {
      active = active_su(sg.current, op.si);
      sg.told_active[{op.su, op.si}] = active;
      if (active && ha_of(sg.current, op.su, op.si) == HaState::kStandby) {
        op.cause = "told the active " + active->str();
      }
    }
    if (*op.ha == HaState::kActive) {
      if (sg.lost_active.count(op.si)) {
        reason = model::TransitionReason::kFailover;
      } else if (ha_of(sg.current, op.su, op.si) == HaState::kStandby) {
        reason = model::TransitionReason::kSwitchover;
      }
    } else if (*op.ha != HaState::kStandby) {
      reason = model::TransitionReason::kSwitchover;  // quiescing / quiesced
    }
    if (*op.ha == HaState::kQuiescing) {  // a state of its own until the component is done
      notify(now, model::NotificationKind::kHaState, op.su.str(), op.si.str(),
             ha_name(ha_of(sg.current, op.su, op.si)), "quiescing",
             cause.empty() ? "quiescing" : cause);
    }
    effects_.push_back(ToNode{node, AssignHa{op.su, op.si, *op.ha, reason, op.id, active}});
  }
}

std::optional<SuId> Director::active_su(const models::AssignmentTable& table, const SiId& si) {
  for (const auto& a : table) {
    if (a.si == si && a.ha == HaState::kActive) return a.su;
  }
  return std::nullopt;
}

bool Director::has_active(const SiId& si) const {
  return active_su(sgs_.at(sg_of_si_.at(si)).current, si).has_value();
}

void Director::apply_dependencies(SgState& sg, models::AssignmentTable& target, TimePoint now) {
  for (const auto& si : sg.config->sis) {
    if (si.dependencies.empty()) continue;
    std::optional<std::chrono::milliseconds> tolerance;  // the shortest of the missing sponsors
    std::string missing;
    for (const auto& d : si.dependencies) {
      if (has_active(d.sponsor)) continue;
      if (!tolerance || d.tolerance < *tolerance) tolerance = d.tolerance;
      missing += (missing.empty() ? "" : ", ") + d.sponsor.str();
    }
    if (!tolerance) {
      sg.dependency_deadline.erase(si.id);
      continue;
    }
    const bool active_now = has_active(si.id);
    // An SI frozen by an SU whose cleanup failed keeps its active until that SU is repaired: no
    // timer for it (it would expire, be noted and start again every tolerance, for nothing).
    const bool frozen = std::any_of(sg.current.begin(), sg.current.end(), [&](const auto& a) {
      return a.si == si.id && sus_.at(a.su).presence == PresenceState::kTerminationFailed;
    });
    if (!active_now || frozen) {
      sg.dependency_deadline.erase(si.id);
    } else if (!sg.dependency_deadline.count(si.id)) {
      sg.dependency_deadline[si.id] = now + *tolerance;
    }
    const bool expired = active_now && !frozen && sg.dependency_deadline.at(si.id) <= now;
    if (expired) {
      notify(now, model::NotificationKind::kRecovery, si.id.str(), "", "", "dependency-removal",
             "sponsor " + missing + " has had no active for " + ms_text(*tolerance));
      sg.dependency_deadline.erase(si.id);
    }
    // No new active while a sponsor has none; the existing ones go once the tolerance is spent.
    std::erase_if(target, [&](const models::Assignment& a) {
      if (a.si != si.id || a.ha != HaState::kActive) return false;
      return expired || ha_of(sg.current, a.su, a.si) != HaState::kActive;
    });
    // Nor a standby without an active: the policy would promote it at the next evaluation, the
    // promotion would be dropped above and the standby removed, again and again for as long as
    // the sponsor has no active (sim finding 11).
    const bool keeps_active = std::any_of(target.begin(), target.end(), [&](const auto& a) {
      return a.si == si.id && a.ha == HaState::kActive;
    });
    if (!keeps_active) std::erase_if(target, [&](const auto& a) { return a.si == si.id; });
  }
}

void Director::reevaluate_dependents(const SgId& sponsor_sg, TimePoint now) {
  auto it = dependent_sgs_.find(sponsor_sg);
  if (it == dependent_sgs_.end()) return;
  for (const SgId& dependent : it->second) {
    if (dependent != sponsor_sg) reevaluate(sgs_.at(dependent), now);
  }
}

void Director::notify(TimePoint now, model::NotificationKind kind, std::string entity,
                      std::string related, std::string from, std::string to, std::string cause) {
  effects_.push_back(model::Notification{now, kind, std::move(entity), std::move(related),
                                         std::move(from), std::move(to), std::move(cause)});
}

std::vector<Director::SuView> Director::service_units() const {
  std::vector<SuView> out;
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& su_config : sg->sus) {
      const SuState& su = sus_.at(su_config.id);
      out.push_back({su_config.id, sg->id, su_config.node, effective_admin(su), su.oper,
                     su.presence, su.readiness, su.node_up, su.admin});
    }
  }
  return out;
}

std::vector<Director::SuView> Director::service_units(const SgId& id) const {
  std::vector<SuView> out;
  auto sg = sgs_.find(id);
  if (sg == sgs_.end()) return out;
  for (const auto& su_config : sg->second.config->sus) {
    const SuState& su = sus_.at(su_config.id);
    out.push_back({su_config.id, id, su_config.node, effective_admin(su), su.oper, su.presence,
                   su.readiness, su.node_up, su.admin});
  }
  return out;
}

models::AssignmentTable Director::assignments(const SgId& sg) const {
  auto it = sgs_.find(sg);
  if (it == sgs_.end()) return {};
  models::AssignmentTable out;
  for (const auto& si : it->second.config->sis) {
    for (const auto& a : it->second.current) {
      if (a.si == si.id) out.push_back(a);
    }
  }
  return out;
}

model::AdminState Director::sg_admin(const SgId& sg) const {
  auto it = sgs_.find(sg);
  return it == sgs_.end() ? model::AdminState::kUnlocked : it->second.admin;
}

model::AdminState Director::node_admin(const NodeId& node) const {
  auto it = node_admin_.find(node);
  return it == node_admin_.end() ? model::AdminState::kUnlocked : it->second;
}

model::AdminState Director::app_admin(const AppId& app) const {
  auto it = app_admin_.find(app);
  return it == app_admin_.end() ? model::AdminState::kUnlocked : it->second;
}

model::AdminState Director::si_admin(const SiId& si) const {
  auto it = si_admin_.find(si);
  return it == si_admin_.end() ? model::AdminState::kUnlocked : it->second;
}

bool Director::busy(const SgId& sg) const {
  auto it = sgs_.find(sg);
  return it != sgs_.end() && !it->second.pending.empty();
}

}  // namespace amf::director
