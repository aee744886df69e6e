#include "sim/invariants.h"

#include <algorithm>
#include <climits>
#include <set>

namespace amf::sim {

namespace {

using model::HaState;
using model::RedundancyModel;

std::string ha_text(HaState ha) { return std::string(model::to_string(ha)); }

bool serving(HaState ha) { return ha == HaState::kActive || ha == HaState::kQuiescing; }

const model::SiConfig* si_of_csi(const model::ClusterConfig& config, const CsiId& csi,
                                 const model::SgConfig** sg_out) {
  for (const model::SgConfig* sg : config.service_groups()) {
    for (const auto& si : sg->sis) {
      for (const auto& c : si.csis) {
        if (c.id == csi) {
          *sg_out = sg;
          return &si;
        }
      }
    }
  }
  return nullptr;
}

std::string process_text(const ProcessView& p) {
  std::string out = p.comp.str() + " (pid " + std::to_string(p.pid);
  if (!p.current) out += ", an older process";
  if (p.hung) out += ", hung";
  if (p.stuck) out += ", ignored SIGKILL";
  return out + ")";
}

int max_actives(const model::SgConfig& sg, const model::SiConfig& si) {
  return sg.redundancy == RedundancyModel::kNWayActive ? si.preferred_active_assignments : 1;
}

int max_standbys(const model::SgConfig& sg, const model::SiConfig& si) {
  switch (sg.redundancy) {
    case RedundancyModel::kTwoN:
    case RedundancyModel::kNPlusM:
      return 1;
    case RedundancyModel::kNWay:
      return si.preferred_standby_assignments;
    case RedundancyModel::kNoRedundancy:
    case RedundancyModel::kNWayActive:
      return 0;
  }
  return 0;
}

// Per-SU and whole-SG limits of the model, given which SUs hold actives and standbys.
std::optional<std::string> check_su_limits(const model::SgConfig& sg,
                                           const std::map<SuId, int>& actives,
                                           const std::map<SuId, int>& standbys,
                                           const std::set<SuId>& holders) {
  const std::string model = std::string(model::to_string(sg.redundancy));
  for (const auto& [su, n] : actives) {
    if (sg.max_active_sis_per_su > 0 && n > sg.max_active_sis_per_su) {
      return su.str() + " holds " + std::to_string(n) + " active SIs; max_active_sis_per_su is " +
             std::to_string(sg.max_active_sis_per_su);
    }
    if (standbys.count(su) &&
        (sg.redundancy == RedundancyModel::kTwoN || sg.redundancy == RedundancyModel::kNPlusM)) {
      return su.str() + " holds both active and standby assignments, which " + model + " forbids";
    }
  }
  for (const auto& [su, n] : standbys) {
    if (sg.max_standby_sis_per_su > 0 && n > sg.max_standby_sis_per_su) {
      return su.str() + " holds " + std::to_string(n) + " standby SIs; max_standby_sis_per_su is " +
             std::to_string(sg.max_standby_sis_per_su);
    }
  }
  auto too_many = [&](std::size_t count, int limit,
                      const std::string& what) -> std::optional<std::string> {
    if (static_cast<int>(count) <= limit) return std::nullopt;
    return std::to_string(count) + " SUs hold " + what + "; " + model + " allows " +
           std::to_string(limit);
  };
  switch (sg.redundancy) {
    case RedundancyModel::kTwoN:
      if (auto e = too_many(actives.size(), 1, "active assignments")) return e;
      return too_many(standbys.size(), 1, "standby assignments");
    case RedundancyModel::kNPlusM:
      if (auto e = too_many(actives.size(), sg.preferred_active_sus, "active assignments"))
        return e;
      return too_many(standbys.size(), sg.preferred_standby_sus, "standby assignments");
    case RedundancyModel::kNoRedundancy:
      for (const auto& [su, n] : actives) {
        if (n > 1) return su.str() + " holds " + std::to_string(n) + " SIs; no-redundancy allows 1";
      }
      return std::nullopt;
    case RedundancyModel::kNWay:
    case RedundancyModel::kNWayActive:
      if (sg.preferred_assigned_sus > 0) {
        return too_many(holders.size(), sg.preferred_assigned_sus, "assignments");
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::set<SiId> blocked_sis(const model::SgConfig& sg, const std::set<SiId>& served) {
  std::set<SiId> out;
  for (const auto& si : sg.sis) {
    for (const auto& d : si.dependencies) {
      if (!served.count(d.sponsor)) out.insert(si.id);
    }
  }
  return out;
}

std::set<SiId> frozen_sis(const models::AssignmentTable& table,
                          const std::vector<director::Director::SuView>& sus) {
  std::set<SuId> failed;
  for (const auto& su : sus) {
    if (su.presence == model::PresenceState::kTerminationFailed) failed.insert(su.id);
  }
  std::set<SiId> out;
  for (const auto& a : table) {
    if (failed.count(a.su)) out.insert(a.si);
  }
  return out;
}

std::optional<std::string> check_safety(const model::ClusterConfig& config,
                                        const std::vector<ProcessView>& processes) {
  std::map<CsiId, std::vector<const ProcessView*>> believers;
  for (const ProcessView& p : processes) {
    for (const auto& [csi, ha] : p.beliefs) {
      if (serving(ha)) believers[csi].push_back(&p);
    }
  }
  for (const auto& [csi, list] : believers) {
    if (list.size() < 2) continue;
    const model::SgConfig* sg = nullptr;
    const model::SiConfig* si = si_of_csi(config, csi, &sg);
    const int limit = si ? max_actives(*sg, *si) : 1;
    if (static_cast<int>(list.size()) <= limit) continue;
    std::string who;
    for (const ProcessView* p : list) {
      who += "\n    " + process_text(*p) + " believes " + ha_text(p->beliefs.at(csi));
    }
    return std::to_string(list.size()) + " live components believe they are active for CSI " +
           csi.str() + " (at most " + std::to_string(limit) + " may):" + who;
  }
  return std::nullopt;
}

std::optional<std::string> check_settled_sg(const model::SgConfig& sg,
                                            const models::AssignmentTable& table,
                                            const std::vector<director::Director::SuView>& sus,
                                            const std::set<SiId>& blocked) {
  const std::string where = "service group " + sg.id.str() + " is settled, but ";
  std::map<SuId, model::ReadinessState> readiness;
  for (const auto& su : sus) readiness[su.id] = su.readiness;
  const std::set<SiId> frozen = frozen_sis(table, sus);
  std::set<std::pair<SiId, SuId>> seen;
  std::map<SiId, std::pair<int, int>> per_si;  // actives, standbys
  std::map<SuId, int> actives, standbys;
  std::set<SuId> holders;
  for (const auto& a : table) {
    auto r = readiness.find(a.su);
    if (r == readiness.end()) return where + "SI " + a.si.str() + " is on unknown SU " + a.su.str();
    if (frozen.count(a.si)) continue;
    if (r->second != model::ReadinessState::kInService) {
      return where + a.si.str() + " is " + ha_text(a.ha) + " on " + a.su.str() + ", which is " +
             std::string(model::to_string(r->second));
    }
    if (a.ha == HaState::kQuiescing || a.ha == HaState::kQuiesced) {
      return where + a.si.str() + " is left " + ha_text(a.ha) + " on " + a.su.str();
    }
    if (!seen.insert({a.si, a.su}).second) {
      return where + a.su.str() + " holds " + a.si.str() + " twice";
    }
    holders.insert(a.su);
    if (a.ha == HaState::kActive) {
      ++per_si[a.si].first;
      ++actives[a.su];
    } else {
      ++per_si[a.si].second;
      ++standbys[a.su];
    }
  }
  for (const auto& si : sg.sis) {
    if (frozen.count(si.id)) continue;
    const auto [na, ns] = per_si[si.id];
    if (na > max_actives(sg, si) || ns > max_standbys(sg, si)) {
      return where + si.id.str() + " has " + std::to_string(na) + " active and " +
             std::to_string(ns) + " standby assignments; " +
             std::string(model::to_string(sg.redundancy)) + " allows at most " +
             std::to_string(max_actives(sg, si)) + " and " + std::to_string(max_standbys(sg, si));
    }
    if (na == 0 && ns > 0 && !blocked.count(si.id)) {
      return where + si.id.str() + " has a standby but no active";
    }
  }
  if (auto e = check_su_limits(sg, actives, standbys, holders)) return where + *e;
  return std::nullopt;
}

void AdminLedger::asked(std::uint64_t id, std::set<SgId> sgs, const std::string& what,
                        TimePoint now) {
  open_[id] = {std::move(sgs), what, now};
  answers_[id] = 0;
}

std::optional<std::string> AdminLedger::answered(std::uint64_t id) {
  auto seen = answers_.find(id);
  if (seen == answers_.end())
    return "result for admin request #" + std::to_string(id) + ", which nobody asked";
  if (++seen->second > 1) {
    return "admin request #" + std::to_string(id) + " answered " + std::to_string(seen->second) +
           " times";
  }
  open_.erase(id);
  return std::nullopt;
}

std::optional<std::string> AdminLedger::overdue(TimePoint now) const {
  for (const auto& [id, op] : open_) {
    if (now - op.asked > limit_) {
      return "admin request #" + std::to_string(id) + " (" + op.what + ") has had no result for " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(now - op.asked).count()) +
             " s";
    }
  }
  return std::nullopt;
}

bool AdminLedger::outstanding(const SgId& sg) const {
  return std::any_of(open_.begin(), open_.end(),
                     [&](const auto& kv) { return kv.second.sgs.count(sg) > 0; });
}

int serving_capacity(const model::SgConfig& sg, int in_service) {
  if (in_service <= 0) return 0;
  const int sis = static_cast<int>(sg.sis.size());
  const int per_su = sg.max_active_sis_per_su > 0 ? sg.max_active_sis_per_su : sis;
  switch (sg.redundancy) {
    case RedundancyModel::kTwoN:
      return sis;
    case RedundancyModel::kNoRedundancy:
      return std::min(sis, in_service);
    case RedundancyModel::kNPlusM:
      return std::min(sis, std::min(sg.preferred_active_sus, in_service) * per_su);
    case RedundancyModel::kNWay:
    case RedundancyModel::kNWayActive: {
      const int assigned = sg.preferred_assigned_sus > 0
                               ? std::min(sg.preferred_assigned_sus, in_service)
                               : in_service;
      return std::min(sis, assigned * per_su);
    }
  }
  return 0;
}

namespace {

// What each component of the SG should believe, from the director's table.
std::map<CompId, std::map<CsiId, HaState>> expected_beliefs(const model::SgConfig& sg,
                                                            const models::AssignmentTable& table) {
  std::map<CompId, std::map<CsiId, HaState>> out;
  for (const auto& a : table) {
    const model::SiConfig* si = nullptr;
    for (const auto& s : sg.sis) {
      if (s.id == a.si) si = &s;
    }
    const model::SuConfig* su = nullptr;
    for (const auto& s : sg.sus) {
      if (s.id == a.su) su = &s;
    }
    if (si == nullptr || su == nullptr) continue;
    for (const auto& csi : si->csis) {
      for (const auto& comp : su->components) {
        const auto& types = comp.cs_types;
        if (std::find(types.begin(), types.end(), csi.cs_type) != types.end()) {
          out[comp.id][csi.id] = a.ha;
        }
      }
    }
  }
  return out;
}

std::string beliefs_text(const std::map<CsiId, HaState>& beliefs) {
  if (beliefs.empty()) return "nothing";
  std::string out;
  for (const auto& [csi, ha] : beliefs)
    out += (out.empty() ? "" : ", ") + csi.str() + " " + ha_text(ha);
  return out;
}

std::optional<std::string> check_processes(const LivenessInput& in) {
  const auto expected = expected_beliefs(*in.sg, in.table);
  // The component each CSI's active is with; not for a frozen SI, where nothing changes until
  // its SU is repaired (its standbys may have been told of an active before it).
  std::map<CsiId, CompId> active_of;
  for (const auto& [comp, beliefs] : expected) {
    for (const auto& [csi, ha] : beliefs) {
      if (ha == HaState::kActive) active_of.emplace(csi, comp);
    }
  }
  for (const SiId& si : frozen_sis(in.table, in.sus)) {
    for (const auto& s : in.sg->sis) {
      if (s.id != si) continue;
      for (const auto& csi : s.csis) active_of.erase(csi.id);
    }
  }
  std::set<SuId> failed;  // cleanup failed: what its surviving processes believe is unknown
  for (const auto& su : in.sus) {
    if (su.presence == model::PresenceState::kTerminationFailed) failed.insert(su.id);
  }
  std::map<CompId, const ProcessView*> current;
  for (const ProcessView& p : in.processes) {
    if (p.stuck) continue;
    auto presence = in.presence.find(p.comp);
    const bool not_running = presence != in.presence.end() &&
                             (presence->second == model::PresenceState::kUninstantiated ||
                              presence->second == model::PresenceState::kInstantiationFailed ||
                              presence->second == model::PresenceState::kTerminationFailed);
    if (!p.current || not_running) {
      return "orphan process: " + process_text(p) + " still runs, but the node director has " +
             p.comp.str() + " " +
             (presence == in.presence.end() ? "?"
                                            : std::string(model::to_string(presence->second)));
    }
    current[p.comp] = &p;
  }
  // An SU locked for instantiation runs nothing, unless its cleanup failed (then what still
  // runs is beyond the node director's reach until an operator repairs it).
  std::set<SuId> locked_instantiation;
  for (const auto& su : in.sus) {
    if (su.admin == model::AdminState::kLockedInstantiation && !failed.count(su.id)) {
      locked_instantiation.insert(su.id);
    }
  }
  for (const auto& su : in.sg->sus) {
    if (!locked_instantiation.count(su.id)) continue;
    for (const auto& comp : su.components) {
      if (auto p = current.find(comp.id); p != current.end()) {
        return su.id.str() + " is locked-instantiation, but " + process_text(*p->second) + " runs";
      }
    }
  }
  for (const auto& su : in.sg->sus) {
    if (failed.count(su.id)) continue;
    for (const auto& comp : su.components) {
      auto want = expected.find(comp.id);
      const std::map<CsiId, HaState> none;
      const auto& wanted = want == expected.end() ? none : want->second;
      auto p = current.find(comp.id);
      const auto& has = p == current.end() ? none : p->second->beliefs;
      if (wanted.empty() && has.empty()) continue;
      if (p == current.end() || !p->second->registered) {
        return comp.id.str() + " should hold " + beliefs_text(wanted) +
               ", but it has no registered process";
      }
      if (wanted != has) {
        return comp.id.str() + " believes " + beliefs_text(has) +
               ", but the director's table says " + beliefs_text(wanted);
      }
      for (const auto& [csi, ha] : wanted) {
        const auto active = active_of.find(csi);
        if (ha != HaState::kStandby || active == active_of.end()) continue;
        const auto told = p->second->told_active.find(csi);
        const std::string heard = told == p->second->told_active.end() ? "" : told->second;
        if (heard != active->second.str()) {
          return comp.id.str() + " stands by for " + csi.str() + " as a standby of " +
                 (heard.empty() ? "no active" : heard) + ", but " + active->second.str() +
                 " holds it active";
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> check_liveness(const LivenessInput& in) {
  const model::SgConfig& sg = *in.sg;
  const std::string where = "service group " + sg.id.str() + " after the quiet period: ";
  if (in.busy) return where + "it still has commands outstanding";
  if (in.admin_outstanding) return where + "an admin operation of it is still unanswered";
  int in_service = 0;
  std::string states;
  for (const auto& su : in.sus) {
    if (su.readiness == model::ReadinessState::kInService) ++in_service;
    states += "\n    " + su.id.str() + " " + std::string(model::to_string(su.admin)) + " " +
              std::string(model::to_string(su.oper)) + " " +
              std::string(model::to_string(su.presence)) + " " +
              std::string(model::to_string(su.readiness));
  }
  // A frozen SI active on an in-service SU uses up capacity the others cannot have. A blocked
  // SI (a sponsor without an active) must not be active, and is not counted.
  const std::set<SiId> blocked = blocked_sis(sg, in.served_anywhere);
  std::set<SiId> frozen = frozen_sis(in.table, in.sus);
  for (const auto& a : in.table) {
    if (a.ha == HaState::kActive && blocked.count(a.si) && !frozen.count(a.si)) {
      return where + a.si.str() + " is active on " + a.su.str() +
             " although an SI it depends on has no active";
    }
  }
  frozen.insert(blocked.begin(), blocked.end());
  for (const auto& a : in.table) {
    if (in.locked.count(a.si) && !frozen.count(a.si)) {
      return where + a.si.str() + " is locked, but still " + ha_text(a.ha) + " on " + a.su.str();
    }
  }
  frozen.insert(in.locked.begin(), in.locked.end());
  std::set<SiId> served, frozen_in_service;
  std::set<SuId> serving_sus;
  for (const auto& su : in.sus) {
    if (su.readiness == model::ReadinessState::kInService) serving_sus.insert(su.id);
  }
  for (const auto& a : in.table) {
    if (a.ha != HaState::kActive) continue;
    if (!frozen.count(a.si)) served.insert(a.si);
    if (frozen.count(a.si) && serving_sus.count(a.su)) frozen_in_service.insert(a.si);
  }
  const int movable = static_cast<int>(sg.sis.size() - frozen.size());
  const int capacity = std::min(
      movable, serving_capacity(sg, in_service) - static_cast<int>(frozen_in_service.size()));
  if (static_cast<int>(served.size()) < capacity) {
    std::string unserved;
    for (const auto& si : sg.sis) {
      if (!served.count(si.id) && !frozen.count(si.id)) {
        unserved += (unserved.empty() ? "" : ", ") + si.id.str();
      }
    }
    return where + "SI " + unserved + " not served: " + std::to_string(served.size()) + " of " +
           std::to_string(movable) + " SIs (not frozen or blocked) have an active, but " +
           std::to_string(in_service) + " SUs in service can serve " + std::to_string(capacity) +
           ". SUs:" + states;
  }
  const int preferred = sg.preferred_inservice_sus;
  if (preferred > 0) {
    // Spares: as many SUs as preferred serve, of those that could (unlocked, enabled, on a
    // node that is up, not failed).
    int able = 0;
    for (const auto& su : in.sus) {
      able += su.node_up && su.admin == model::AdminState::kUnlocked &&
              su.oper == model::OperState::kEnabled &&
              su.presence != model::PresenceState::kInstantiationFailed &&
              su.presence != model::PresenceState::kTerminationFailed;
    }
    if (in_service < std::min(preferred, able)) {
      return where + "only " + std::to_string(in_service) + " SUs in service, but " +
             std::to_string(preferred) + " are preferred and " + std::to_string(able) +
             " could serve. SUs:" + states;
    }
  }
  if (auto e = check_processes(in)) return where + *e;
  return std::nullopt;
}

std::optional<std::string> check_service_addresses(const std::map<SiId, std::set<NodeId>>& raised) {
  for (const auto& [si, nodes] : raised) {
    if (nodes.size() < 2) continue;
    std::string names;
    for (const NodeId& node : nodes) names += (names.empty() ? "" : ", ") + node.str();
    return "the service address of SI " + si.str() + " is up on " + std::to_string(nodes.size()) +
           " nodes at once: " + names;
  }
  return std::nullopt;
}

CheckpointReadVerdict judge_checkpoint_read(const CheckpointRead& r) {
  if (r.read >= r.acked) return CheckpointReadVerdict::kHolds;
  if (r.in_service) return CheckpointReadVerdict::kViolated;
  if (r.holders.empty()) {
    return r.durable ? CheckpointReadVerdict::kViolated : CheckpointReadVerdict::kLostWithReplicas;
  }
  for (const NodeId& holder : r.holders) {
    if (!r.silent.contains(holder)) return CheckpointReadVerdict::kViolated;
  }
  return CheckpointReadVerdict::kLostSilent;
}

std::optional<std::string> check_checkpoint_read(const CheckpointRead& r) {
  if (judge_checkpoint_read(r) != CheckpointReadVerdict::kViolated) return std::nullopt;
  if (r.in_service) {
    return "checkpoint '" + r.checkpoint + "': the new active on " + r.reader.str() +
           " (generation " + std::to_string(r.generation) + ") read " + std::to_string(r.read) +
           ", but increment " + std::to_string(r.acked) +
           " was acknowledged and its replica was in service when it became active: a replica "
           "in service lacks an acknowledged synchronous write";
  }
  if (r.holders.empty()) {
    return "checkpoint '" + r.checkpoint + "': the new active on " + r.reader.str() +
           " (generation " + std::to_string(r.generation) + ") read " + std::to_string(r.read) +
           ", but increment " + std::to_string(r.acked) +
           " was acknowledged and no replica holds it, on disk either: an acknowledged "
           "synchronous write was never stored";
  }
  std::string holders;
  for (const NodeId& holder : r.holders) {
    if (!r.silent.contains(holder)) holders += (holders.empty() ? "" : ", ") + holder.str();
  }
  return "checkpoint '" + r.checkpoint + "': the new active on " + r.reader.str() +
         " (generation " + std::to_string(r.generation) + ") read " + std::to_string(r.read) +
         ", but increment " + std::to_string(r.acked) + " was acknowledged and the replicas on " +
         holders + ", up and answering, hold it: an acknowledged synchronous write is missing";
}

std::optional<std::string> check_checkpoint_ack(
    const std::string& checkpoint, std::uint64_t generation, std::uint64_t value,
    const std::map<std::uint64_t, std::uint64_t>& reads) {
  for (auto it = reads.upper_bound(generation); it != reads.end(); ++it) {
    if (value <= it->second) continue;
    return "checkpoint '" + checkpoint + "': increment " + std::to_string(value) +
           " of generation " + std::to_string(generation) +
           " was acknowledged after the active of generation " + std::to_string(it->first) +
           " read " + std::to_string(it->second) +
           ": a deposed writer completed a write the new active lacks";
  }
  return std::nullopt;
}

}  // namespace amf::sim
