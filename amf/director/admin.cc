// Administrative operations of the director: validation and refusal, starting each operation,
// and deciding when it has completed.
#include <algorithm>
#include <array>
#include <utility>

#include "amf/director/director.h"

namespace amf::director {

using model::AdminState;
using model::HaState;
using model::PresenceState;

namespace {

// How long an accepted operation may take before the operator is told it did not complete.
constexpr std::chrono::seconds kAdminOpTimeout{60};

constexpr std::array<std::pair<std::string_view, AdminOp>, 7> kOps{{
    {"lock", AdminOp::kLock},
    {"unlock", AdminOp::kUnlock},
    {"lock-instantiation", AdminOp::kLockInstantiation},
    {"unlock-instantiation", AdminOp::kUnlockInstantiation},
    {"shutdown", AdminOp::kShutdown},
    {"repair", AdminOp::kRepair},
    {"si-swap", AdminOp::kSiSwap},
}};

std::string state_text(AdminState s) { return std::string(model::to_string(s)); }

}  // namespace

std::string_view to_string(AdminOp op) {
  for (const auto& [name, value] : kOps) {
    if (value == op) return name;
  }
  return "?";
}

std::optional<AdminOp> parse_admin_op(std::string_view text) {
  for (const auto& [name, value] : kOps) {
    if (name == text) return value;
  }
  return std::nullopt;
}

void Director::on(const AdminRequest& e, TimePoint now) {
  auto refuse = [&](std::string why) {
    effects_.push_back(AdminResult{e.id, false, std::move(why)});
  };
  const std::string what = std::string(to_string(e.op)) + " " + e.kind + " " + e.entity;
  if (e.op == AdminOp::kSiSwap) {
    if (e.kind != "si") return refuse("si-swap applies to a service instance (si), not " + e.kind);
    if (auto why = start_si_swap(e, now)) refuse(what + ": " + *why);
    return;
  }
  if (e.kind != "su") {
    return refuse(what + ": this build implements " + std::string(to_string(e.op)) +
                  " on service units (su) only");
  }
  auto it = sus_.find(SuId(e.entity));
  if (it == sus_.end()) return refuse(what + ": no service unit named '" + e.entity + "'");
  if (auto why = refuse_su_op(e, it->second)) return refuse(what + ": " + *why);
  start_su_op(e, it->second, now);
}

// Why an SU operation cannot start now, or nothing. Follows the admin state machine of the
// spec (unlocked <-> locked <-> locked-instantiation, unlocked -> shutting-down -> locked).
std::optional<std::string> Director::refuse_su_op(const AdminRequest& e, const SuState& su) const {
  const std::string state = "it is " + state_text(su.admin);
  for (const auto& op : admin_ops_) {
    if (op.sg == su.sg) {
      return "service group " + su.sg.str() + " is busy with '" +
             std::string(to_string(op.request.op)) + " " + op.request.entity + "'; try again";
    }
  }
  const bool busy = sgs_.at(su.sg).pending.size() > 0;
  switch (e.op) {
    case AdminOp::kLock:
      if (su.admin == AdminState::kLocked) return "it is already locked";
      if (su.admin == AdminState::kLockedInstantiation) return state;
      break;
    case AdminOp::kUnlock:
      if (su.admin == AdminState::kUnlocked) return "it is already unlocked";
      if (su.admin == AdminState::kLockedInstantiation) {
        return state + "; unlock-instantiation first";
      }
      break;
    case AdminOp::kLockInstantiation:
      if (su.admin != AdminState::kLocked) return state + "; lock it first";
      break;
    case AdminOp::kUnlockInstantiation:
      if (su.admin != AdminState::kLockedInstantiation) return state;
      break;
    case AdminOp::kShutdown:
      if (su.admin != AdminState::kUnlocked) return state;
      break;
    case AdminOp::kRepair:
      if (su.oper != model::OperState::kDisabled) return "it is not disabled";
      if (su.presence != PresenceState::kUninstantiated &&
          su.presence != PresenceState::kInstantiationFailed &&
          su.presence != PresenceState::kTerminationFailed) {
        return "it is still " + std::string(model::to_string(su.presence)) + "; try again";
      }
      return std::nullopt;  // repairing does not depend on the SG's assignments
    case AdminOp::kSiSwap: return "si-swap applies to service instances";
  }
  if (busy) return "service group " + su.sg.str() + " is changing assignments; try again";
  return std::nullopt;
}

void Director::start_su_op(const AdminRequest& e, SuState& su, TimePoint now) {
  const std::string cause = "admin " + std::string(to_string(e.op));
  const SuId& id = su.config->id;
  admin_ops_.push_back({e, su.sg, now + kAdminOpTimeout});
  switch (e.op) {
    case AdminOp::kLock: set_admin(su, AdminState::kLocked, cause, now); break;
    case AdminOp::kUnlock: set_admin(su, AdminState::kUnlocked, cause, now); break;
    case AdminOp::kShutdown: set_admin(su, AdminState::kShuttingDown, cause, now); break;
    case AdminOp::kLockInstantiation:
      set_admin(su, AdminState::kLockedInstantiation, cause, now);
      effects_.push_back(ToNode{su.config->node, TerminateSu{id}});
      break;
    case AdminOp::kUnlockInstantiation:
      set_admin(su, AdminState::kLocked, cause, now);
      if (su.node_up) effects_.push_back(ToNode{su.config->node, InstantiateSu{id}});
      break;
    case AdminOp::kRepair:
      su.repair_wanted = false;
      notify(now, "recovery", id.str(), "", "disabled", "repair", cause);
      effects_.push_back(ToNode{su.config->node, RepairSu{id}});
      break;
    case AdminOp::kSiSwap: break;
  }
  reevaluate(sgs_.at(su.sg), now);
}

std::optional<std::string> Director::start_si_swap(const AdminRequest& e, TimePoint now) {
  const model::SiConfig* si = config_->find_si(SiId(e.entity));
  if (si == nullptr) return "no service instance named '" + e.entity + "'";
  SgState* sg = nullptr;
  for (auto& [id, state] : sgs_) {
    for (const auto& s : state.config->sis) {
      if (s.id == si->id) sg = &state;
    }
  }
  const auto model = sg->config->redundancy;
  if (model == model::RedundancyModel::kNoRedundancy ||
      model == model::RedundancyModel::kNWayActive) {
    return "service group " + sg->config->id.str() + " is " +
           std::string(model::to_string(model)) + ": it has no standby to swap with";
  }
  for (const auto& op : admin_ops_) {
    if (op.sg == sg->config->id) return "service group is busy with another operation; try again";
  }
  if (!sg->pending.empty()) {
    return "service group " + sg->config->id.str() + " is changing assignments; try again";
  }
  const bool has_active = std::any_of(sg->current.begin(), sg->current.end(), [&](const auto& a) {
    return a.si == si->id && a.ha == HaState::kActive;
  });
  const bool has_standby = std::any_of(sg->current.begin(), sg->current.end(), [&](const auto& a) {
    return a.si == si->id && a.ha == HaState::kStandby;
  });
  if (!has_active || !has_standby) return "it needs an active and a standby assignment to swap";
  admin_ops_.push_back({e, sg->config->id, now + kAdminOpTimeout});
  notify(now, "admin", e.entity, "", "", "si-swap", "admin si-swap");
  sg->swap = si->id;
  reevaluate(*sg, now);
  return std::nullopt;
}

// What the SG's policy sees as current. For a pending swap the active and standby of the SI
// trade places (in 2N and N+M the two SUs trade roles for all their SIs), so the sticky
// policy aims at the swapped table and the director quiesces, promotes and re-assigns.
models::AssignmentTable Director::policy_input(const SgState& sg) const {
  if (!sg.swap) return sg.current;
  SuId active, standby;
  for (const auto& a : sg.current) {
    if (a.si != *sg.swap) continue;
    if (a.ha == HaState::kActive) active = a.su;
    if (a.ha == HaState::kStandby && standby.empty()) standby = a.su;
  }
  const bool whole_sus = sg.config->redundancy == model::RedundancyModel::kTwoN ||
                         sg.config->redundancy == model::RedundancyModel::kNPlusM;
  models::AssignmentTable swapped = sg.current;
  for (auto& a : swapped) {
    if (!whole_sus && a.si != *sg.swap) continue;
    if (a.su == active && a.ha == HaState::kActive) {
      a.ha = HaState::kStandby;
    } else if (a.su == standby && a.ha == HaState::kStandby) {
      a.ha = HaState::kActive;
    }
  }
  return swapped;
}

void Director::set_admin(SuState& su, AdminState admin, const std::string& cause, TimePoint now) {
  if (su.admin == admin) return;
  notify(now, "admin", su.config->id.str(), "", state_text(su.admin), state_text(admin), cause);
  su.admin = admin;
  update_readiness(su, cause, now);
}

// Whether an accepted operation has done what it set out to do; `message` says how it ended.
bool Director::admin_op_complete(const AdminInProgress& op, std::string& message,
                                 TimePoint now) {
  const SgState& sg = sgs_.at(op.sg);
  if (!sg.pending.empty()) return false;
  if (op.request.op == AdminOp::kSiSwap) return !sg.swap;
  SuState& su = sus_.at(SuId(op.request.entity));
  const bool holds = std::any_of(sg.current.begin(), sg.current.end(),
                                 [&](const auto& a) { return a.su == su.config->id; });
  switch (op.request.op) {
    case AdminOp::kLock: return !holds;
    case AdminOp::kUnlock: return true;
    case AdminOp::kShutdown:
      if (holds) return false;
      set_admin(su, AdminState::kLocked, "shutdown complete", now);
      return true;
    case AdminOp::kLockInstantiation: return su.presence == PresenceState::kUninstantiated;
    case AdminOp::kUnlockInstantiation:
    case AdminOp::kRepair:
      if (su.presence == PresenceState::kInstantiated && su.oper == model::OperState::kEnabled) {
        return true;
      }
      if (su.presence == PresenceState::kInstantiationFailed ||
          su.presence == PresenceState::kTerminationFailed) {
        message = "instantiation of " + su.config->id.str() + " failed (" +
                  std::string(model::to_string(su.presence)) + "); see amfctl events";
        return true;
      }
      return false;
    case AdminOp::kSiSwap: return true;
  }
  return false;
}

void Director::check_admin_ops(TimePoint now) {
  for (auto it = admin_ops_.begin(); it != admin_ops_.end();) {
    std::string failure;
    if (admin_op_complete(*it, failure, now)) {
      effects_.push_back(AdminResult{it->request.id, failure.empty(), failure});
      it = admin_ops_.erase(it);
    } else if (now >= it->deadline) {
      effects_.push_back(AdminResult{
          it->request.id, false,
          std::string(to_string(it->request.op)) + " " + it->request.entity + " did not complete within " +
              std::to_string(kAdminOpTimeout.count()) + " s; see amfctl events"});
      it = admin_ops_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace amf::director
