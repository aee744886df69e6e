// Administrative operations of the director: validation and refusal, starting each operation,
// and deciding when it has completed.
#include <algorithm>
#include <array>
#include <utility>

#include "amf/core/dn.h"
#include "amf/core/names.h"
#include "amf/director/director.h"

namespace amf::director {

using model::AdminState;
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

// How long an accepted operation may take before the operator is told it did not complete.
constexpr std::chrono::seconds kAdminOpTimeout{60};

constexpr NameTable<AdminOp, 9> kOps{{
    {"lock", AdminOp::kLock},
    {"unlock", AdminOp::kUnlock},
    {"lock-instantiation", AdminOp::kLockInstantiation},
    {"unlock-instantiation", AdminOp::kUnlockInstantiation},
    {"shutdown", AdminOp::kShutdown},
    {"repair", AdminOp::kRepair},
    {"si-swap", AdminOp::kSiSwap},
    {"adjust", AdminOp::kAdjust},
    {"restart", AdminOp::kRestart},
}};

std::string state_text(AdminState s) { return std::string(model::to_string(s)); }

// How an operator names an entity of each kind: amf's id, or the SA Forum DN that OpenSAF
// would give it (the configuration's names in it).
struct NameForms {
  std::string_view what;
  std::string_view id;
  std::string_view dn;
  std::vector<std::string_view> dn_keys;  // the RDNs' attributes, outermost last
};
const NameForms& forms(EntityKind kind) {
  static const NameForms kSu{
      "service unit", "SG/SU", "safSu=SU,safSg=SG,safApp=APP", {"safSu", "safSg", "safApp"}};
  static const NameForms kComp{"component",
                               "SG/SU/COMPONENT",
                               "safComp=COMPONENT,safSu=SU,safSg=SG,safApp=APP",
                               {"safComp", "safSu", "safSg", "safApp"}};
  static const NameForms kSg{"service group", "SG", "safSg=SG,safApp=APP", {"safSg", "safApp"}};
  static const NameForms kApp{"application", "APP", "safApp=APP", {"safApp"}};
  static const NameForms kSi{
      "service instance", "SG/SI", "safSi=SI,safApp=APP", {"safSi", "safApp"}};
  static const NameForms kNode{
      "node", "NODE", "safAmfNode=NODE,safAmfCluster=CLUSTER", {"safAmfNode", "safAmfCluster"}};
  static const NameForms kCluster{
      "cluster", "CLUSTER (or nothing)", "safAmfCluster=CLUSTER", {"safAmfCluster"}};
  switch (kind) {
    case EntityKind::kSu:
      return kSu;
    case EntityKind::kComp:
      return kComp;
    case EntityKind::kSg:
      return kSg;
    case EntityKind::kApp:
      return kApp;
    case EntityKind::kSi:
      return kSi;
    case EntityKind::kNode:
      return kNode;
    case EntityKind::kCluster:
      return kCluster;
  }
  return kCluster;
}

// How every admin event names its entity: the kind and the id ("su app/su-1", "node node-1",
// "cluster demo").
std::string admin_entity(const AdminRequest& e, const std::string& cluster) {
  return std::string(to_string(e.kind)) + " " +
         (e.kind == EntityKind::kCluster && e.entity.empty() ? cluster : e.entity);
}

// "; name a service unit as SG/SU or as safSu=SU,safSg=SG,safApp=APP": for an unknown name.
std::string name_hint(EntityKind kind) {
  const std::string_view what = forms(kind).what;
  return std::string(what.front() == 'a' ? "; name an " : "; name a ") + std::string(what) +
         " as " + std::string(forms(kind).id) + " or as " + std::string(forms(kind).dn);
}

// The amf id of the entity of `kind` that the SA Forum DN `dn` names; why not, when the DN is
// not of that kind's form or names nothing in `config`.
Result<std::string> id_of_dn(const model::ClusterConfig& config, EntityKind kind,
                             std::string_view dn) {
  const NameForms& form = forms(kind);
  const std::vector<Rdn> rdns = split_dn(dn);
  const bool node_without_cluster = kind == EntityKind::kNode && rdns.size() == 1;
  bool shaped = rdns.size() == form.dn_keys.size() || node_without_cluster;  // both forms
  for (std::size_t i = 0; shaped && i < rdns.size(); ++i) {
    shaped = rdns[i].key == form.dn_keys[i] && !rdns[i].value.empty();
  }
  if (!shaped) {
    return fail("'" + std::string(dn) + "' is not the DN of a " + std::string(form.what) + " (" +
                std::string(form.dn) + ")");
  }
  auto value = [&](std::string_view key) {
    for (const Rdn& r : rdns) {
      if (r.key == key) return r.value;
    }
    return std::string();
  };
  auto unknown = [&] {
    return fail("no " + std::string(form.what) + " named '" + std::string(dn) + "'" +
                name_hint(kind));
  };
  if (kind == EntityKind::kCluster) {
    if (value("safAmfCluster") != config.name) {
      return fail("the cluster is named '" + config.name + "'" + name_hint(kind));
    }
    return config.name;
  }
  // amf has one cluster: a node's DN is read for its node, whatever cluster it names (an
  // imported configuration may have a name of its own).
  if (kind == EntityKind::kNode) return value("safAmfNode");
  if (kind == EntityKind::kApp) return value("safApp");
  std::vector<std::string> sis;  // SI names are unique within an SG only: a DN may name several
  for (const model::ApplicationConfig& app : config.applications) {
    if (app.name != value("safApp")) continue;
    if (kind == EntityKind::kSi) {
      for (const model::SgConfig& sg : app.service_groups) {
        for (const model::SiConfig& si : sg.sis) {
          if (si.name == value("safSi")) sis.push_back(si.id.str());
        }
      }
      continue;
    }
    // The SG of that name in the application (SGs of one name in two applications keep it:
    // their ids are APP.SG); else one named APP.SG itself, as configurations imported before
    // that named the second, whose DNs still reach it.
    auto named = [&](const std::string& name) -> const model::SgConfig* {
      for (const model::SgConfig& sg : app.service_groups) {
        if (sg.name == name) return &sg;
      }
      return nullptr;
    };
    const model::SgConfig* sg = named(value("safSg"));
    if (sg == nullptr) sg = named(app.name + "." + value("safSg"));
    if (sg == nullptr) continue;
    if (kind == EntityKind::kSg) return sg->id.str();
    for (const model::SuConfig& su : sg->sus) {
      if (su.name != value("safSu")) continue;
      if (kind == EntityKind::kSu) return su.id.str();
      for (const model::ComponentConfig& comp : su.components) {
        if (comp.name == value("safComp")) return comp.id.str();
      }
    }
  }
  if (sis.size() == 1) return sis.front();
  if (sis.size() > 1) {
    std::string list;
    for (const std::string& si : sis) list += (list.empty() ? "" : ", ") + si;
    return fail("'" + std::string(dn) + "' names " + std::to_string(sis.size()) +
                " service instances (" + list +
                "): SI names are unique within a service group only; name one as SG/SI");
  }
  return unknown();
}

// How restrictive an admin state is, for combining the levels.
int restriction(AdminState s) {
  switch (s) {
    case AdminState::kUnlocked:
      return 0;
    case AdminState::kShuttingDown:
      return 1;
    case AdminState::kLocked:
      return 2;
    case AdminState::kLockedInstantiation:
      return 3;
  }
  return 0;
}

bool settled_presence(PresenceState p) {
  return p == PresenceState::kInstantiated || p == PresenceState::kInstantiationFailed ||
         p == PresenceState::kTerminationFailed;
}

}  // namespace

std::string_view to_string(AdminOp op) { return name_in(kOps, op); }

std::optional<AdminOp> parse_admin_op(std::string_view text) { return value_in(kOps, text); }

namespace {

constexpr NameTable<EntityKind, 7> kKinds{{
    {"su", EntityKind::kSu},
    {"comp", EntityKind::kComp},
    {"node", EntityKind::kNode},
    {"sg", EntityKind::kSg},
    {"app", EntityKind::kApp},
    {"cluster", EntityKind::kCluster},
    {"si", EntityKind::kSi},
}};

}  // namespace

std::string_view to_string(EntityKind kind) { return name_in(kKinds, kind); }

std::optional<EntityKind> parse_entity_kind(std::string_view text) {
  return value_in(kKinds, text);
}

std::string entity_kinds() { return names_in(kKinds); }

AdminState Director::effective_admin(const SuState& su) const {
  AdminState out = su.admin;
  auto consider = [&](AdminState s) {
    if (restriction(s) > restriction(out)) out = s;
  };
  if (auto it = node_admin_.find(su.config->node); it != node_admin_.end()) consider(it->second);
  if (nodes_leaving_.count(su.config->node)) consider(AdminState::kLocked);
  const SgState& sg = sgs_.at(su.sg);
  consider(sg.admin);
  if (auto it = app_admin_.find(sg.config->app); it != app_admin_.end()) consider(it->second);
  consider(cluster_admin_);
  return out;
}

std::optional<std::string> Director::instantiation_locked_by(const SuState& su) const {
  constexpr AdminState kLi = AdminState::kLockedInstantiation;
  const SgState& sg = sgs_.at(su.sg);
  if (cluster_admin_ == kLi) return "the cluster";
  if (auto it = app_admin_.find(sg.config->app); it != app_admin_.end() && it->second == kLi) {
    return "application " + sg.config->app.str();
  }
  if (sg.admin == kLi) return "service group " + su.sg.str();
  if (auto it = node_admin_.find(su.config->node); it != node_admin_.end() && it->second == kLi) {
    return "node " + su.config->node.str();
  }
  return std::nullopt;
}

std::optional<std::string> Director::admin_cause(const SgId& sg) const {
  for (const AdminInProgress& op : admin_ops_) {
    if (!op.sgs.contains(sg)) continue;
    const AdminRequest& r = op.request;
    return std::string(to_string(r.op)) + " " + std::string(to_string(r.kind)) +
           (r.entity.empty() ? "" : " " + r.entity);
  }
  return std::nullopt;
}

bool Director::si_assigned(const SiId& si) const {
  const SgState& sg = sgs_.at(sg_of_si_.at(si));
  return std::any_of(sg.current.begin(), sg.current.end(),
                     [&](const auto& a) { return a.si == si; });
}

bool Director::holds_assignments(const SuId& su) const {
  const SgState& sg = sgs_.at(sus_.at(su).sg);
  return std::any_of(sg.current.begin(), sg.current.end(),
                     [&](const auto& a) { return a.su == su; });
}

void Director::on(const AdminRequest& request, TimePoint now) {
  auto refuse_with = [&](std::string why) {
    effects_.push_back(AdminResult{request.id, false, std::move(why)});
  };
  const std::string what = std::string(to_string(request.op)) + " " +
                           std::string(to_string(request.kind)) +
                           (request.entity.empty() ? "" : " " + request.entity);
  // An entity named by its SA Forum DN is the entity of that id from here on.
  AdminRequest e = request;
  if (looks_like_dn(e.entity)) {
    auto id = id_of_dn(*config_, e.kind, e.entity);
    if (!id) return refuse_with(what + ": " + id.error().message());
    e.entity = *id;
  }
  if (e.op == AdminOp::kSiSwap) {
    if (e.kind != EntityKind::kSi)
      return refuse_with("si-swap applies to a service instance (si), not " +
                         std::string(to_string(e.kind)));
    if (auto why = start_si_swap(e, now)) refuse_with(what + ": " + *why);
    return;
  }
  auto target = resolve(e);
  if (!target) return refuse_with(what + ": " + target.error().message());
  if (auto why = refuse(e, *target)) return refuse_with(what + ": " + *why);
  start(e, *target, now);
}

// The admin state an operation changes and the SUs it reaches, or why there is none.
Result<Director::AdminTarget> Director::resolve(const AdminRequest& e) {
  AdminTarget t;
  auto add_sus = [&](auto pred) {
    for (auto& [id, su] : sus_) {
      if (!pred(su)) continue;
      t.sus.push_back(id);
      t.sgs.insert(su.sg);
    }
  };
  if (e.op == AdminOp::kAdjust && e.kind != EntityKind::kSg) {
    return fail("adjust applies to a service group (sg)");
  }
  if (e.op == AdminOp::kRepair && e.kind != EntityKind::kSu && e.kind != EntityKind::kNode) {
    return fail("repair applies to a service unit (su) or a node");
  }
  if (e.op == AdminOp::kRestart && e.kind != EntityKind::kSu && e.kind != EntityKind::kComp) {
    return fail("restart applies to a service unit (su) or a component (comp)");
  }
  if (e.kind == EntityKind::kSu) {
    auto it = sus_.find(SuId(e.entity));
    if (it == sus_.end()) {
      return fail("no service unit named '" + e.entity + "'" + name_hint(e.kind));
    }
    t.admin = &it->second.admin;
    add_sus([&](const SuState& su) { return su.config->id == it->first; });
  } else if (e.kind == EntityKind::kNode) {
    if (config_->find_node(NodeId(e.entity)) == nullptr) {
      return fail("no node named '" + e.entity + "'" + name_hint(e.kind));
    }
    t.admin = &node_admin_[NodeId(e.entity)];
    add_sus([&](const SuState& su) { return su.config->node == NodeId(e.entity); });
  } else if (e.kind == EntityKind::kSg) {
    auto it = sgs_.find(SgId(e.entity));
    if (it == sgs_.end()) {
      return fail("no service group named '" + e.entity + "'" + name_hint(e.kind));
    }
    t.admin = &it->second.admin;
    add_sus([&](const SuState& su) { return su.sg == it->first; });
    t.sgs.insert(it->first);
  } else if (e.kind == EntityKind::kApp) {
    const bool known = std::any_of(config_->applications.begin(), config_->applications.end(),
                                   [&](const auto& app) { return app.id == AppId(e.entity); });
    if (!known) return fail("no application named '" + e.entity + "'" + name_hint(e.kind));
    t.admin = &app_admin_[AppId(e.entity)];
    add_sus([&](const SuState& su) { return sgs_.at(su.sg).config->app == AppId(e.entity); });
  } else if (e.kind == EntityKind::kComp) {
    if (e.op != AdminOp::kRestart) {
      return fail(std::string(to_string(e.op)) + " does not apply to a component (restart does)");
    }
    const auto it = std::find_if(sus_.begin(), sus_.end(), [&](const auto& entry) {
      const auto& comps = entry.second.config->components;
      return std::any_of(comps.begin(), comps.end(),
                         [&](const auto& c) { return c.id == CompId(e.entity); });
    });
    if (it == sus_.end()) {
      return fail("no component named '" + e.entity + "'" + name_hint(e.kind));
    }
    t.admin = &it->second.admin;
    add_sus([&](const SuState& su) { return su.config->id == it->first; });
  } else if (e.kind == EntityKind::kSi) {
    if (e.op != AdminOp::kLock && e.op != AdminOp::kUnlock && e.op != AdminOp::kShutdown) {
      return fail(std::string(to_string(e.op)) +
                  " does not apply to a service instance (lock, unlock, shutdown and si-swap do)");
    }
    auto it = sg_of_si_.find(SiId(e.entity));
    if (it == sg_of_si_.end()) {
      return fail("no service instance named '" + e.entity + "'" + name_hint(e.kind));
    }
    t.admin = &si_admin_[it->first];
    t.sgs.insert(it->second);
  } else if (e.kind == EntityKind::kCluster) {
    if (!e.entity.empty() && e.entity != config_->name) {
      return fail("the cluster is named '" + config_->name + "'" + name_hint(e.kind));
    }
    t.admin = &cluster_admin_;
    add_sus([](const SuState&) { return true; });
  }
  return t;
}

// Why the operation cannot start now, or nothing. The admin state machine of the spec:
// unlocked <-> locked <-> locked-instantiation, unlocked -> shutting-down -> locked.
std::optional<std::string> Director::refuse(const AdminRequest& e, const AdminTarget& t) const {
  for (const auto& op : admin_ops_) {
    for (const SgId& sg : t.sgs) {
      if (op.sgs.count(sg)) {
        return "service group " + sg.str() + " is busy with '" +
               std::string(to_string(op.request.op)) + " " +
               std::string(to_string(op.request.kind)) + " " + op.request.entity + "'; try again";
      }
    }
  }
  const AdminState admin = *t.admin;
  const std::string state = "it is " + state_text(admin);
  switch (e.op) {
    case AdminOp::kLock:
      if (admin == AdminState::kLocked) return "it is already locked";
      if (admin == AdminState::kLockedInstantiation) return state;
      break;
    case AdminOp::kUnlock:
      if (admin == AdminState::kUnlocked) return "it is already unlocked";
      if (admin == AdminState::kLockedInstantiation) return state + "; unlock-instantiation first";
      break;
    case AdminOp::kLockInstantiation:
      if (admin == AdminState::kLockedInstantiation) return "it is already locked-instantiation";
      if (admin != AdminState::kLocked) return state + "; lock it first";
      break;
    case AdminOp::kUnlockInstantiation:
      if (admin != AdminState::kLockedInstantiation) return state;
      break;
    case AdminOp::kShutdown:
      if (admin != AdminState::kUnlocked) return state;
      break;
    case AdminOp::kRepair: {
      bool any_disabled = false;
      for (const SuId& id : t.sus) {
        const SuState& su = sus_.at(id);
        if (su.oper != model::OperState::kDisabled) continue;
        any_disabled = true;
        if (su.presence != PresenceState::kUninstantiated && !settled_presence(su.presence)) {
          return id.str() + " is still " + std::string(model::to_string(su.presence)) +
                 "; try again";
        }
      }
      if (!any_disabled)
        return e.kind == EntityKind::kSu ? "it is not disabled"
                                         : "no service unit on it is disabled";
      return std::nullopt;  // repairing does not depend on the SGs' assignments
    }
    case AdminOp::kAdjust:
      if (admin != AdminState::kUnlocked) return state;
      break;
    case AdminOp::kRestart:
      for (const SuId& id : t.sus) {
        const SuState& su = sus_.at(id);
        if (!su.node_up) return "its node " + su.config->node.str() + " is not up";
        if (su.oper == model::OperState::kDisabled) return "it is disabled; repair it instead";
        if (su.presence != PresenceState::kInstantiated) {
          const std::string p(model::to_string(su.presence));
          return su.presence == PresenceState::kUninstantiated ? "it is not instantiated"
                                                               : "it is " + p + "; try again";
        }
      }
      break;
    case AdminOp::kSiSwap:
      return "si-swap applies to service instances";
  }
  for (const SgId& sg : t.sgs) {
    if (!sgs_.at(sg).pending.empty()) {
      return "service group " + sg.str() + " is changing assignments; try again";
    }
  }
  return std::nullopt;
}

void Director::start(const AdminRequest& e, const AdminTarget& t, TimePoint now) {
  const std::string cause = "admin " + std::string(to_string(e.op));
  admin_ops_.push_back({e, t.sgs, t.sus, now + kAdminOpTimeout, {}});
  auto& waiting = admin_ops_.back().waiting;
  switch (e.op) {
    case AdminOp::kLock:
      set_admin(e, t.admin, AdminState::kLocked, cause, now);
      break;
    case AdminOp::kUnlock:
      set_admin(e, t.admin, AdminState::kUnlocked, cause, now);
      break;
    case AdminOp::kShutdown:
      set_admin(e, t.admin, AdminState::kShuttingDown, cause, now);
      break;
    case AdminOp::kLockInstantiation:
      set_admin(e, t.admin, AdminState::kLockedInstantiation, cause, now);
      for (const SuId& id : t.sus)
        effects_.push_back(ToNode{sus_.at(id).config->node, TerminateSu{id}});
      break;
    case AdminOp::kUnlockInstantiation: {
      set_admin(e, t.admin, AdminState::kLocked, cause, now);
      // An SU that cannot start now is named in the result: the operator asked for it.
      std::string& remark = admin_ops_.back().remark;
      auto not_started = [&](const SuId& id, const std::string& why) {
        remark += (remark.empty() ? "not started: " : ", ") + id.str() + " (" + why + ")";
      };
      for (const SuId& id : t.sus) {
        const SuState& su = sus_.at(id);
        if (su.presence == PresenceState::kInstantiationFailed ||
            su.presence == PresenceState::kTerminationFailed) {
          not_started(id, std::string(model::to_string(su.presence)) + "; repair it");
          continue;
        }
        if (su.presence != PresenceState::kUninstantiated) continue;  // it runs already
        if (su.admin == AdminState::kLockedInstantiation) {
          not_started(id, "its own admin state is locked-instantiation");
        } else if (auto above = instantiation_locked_by(su)) {
          not_started(id, *above + " is locked-instantiation");
        } else if (su.oper == model::OperState::kDisabled) {
          // As on a takeover: a disabled SU starts when it is repaired, not before.
          not_started(id, "disabled; repair it to start it");
        } else if (!su.node_up) {
          not_started(id, "its node " + su.config->node.str() + " is not up");
        } else if (nodes_leaving_.count(su.config->node)) {
          not_started(id, "its node " + su.config->node.str() + " is leaving (its amfd stops)");
        } else {
          waiting[id] = su.reports;
          effects_.push_back(ToNode{su.config->node, InstantiateSu{id}});
        }
      }
      break;
    }
    case AdminOp::kRepair:
      for (const SuId& id : t.sus) {
        SuState& su = sus_.at(id);
        if (su.oper != model::OperState::kDisabled) continue;
        su.repair_wanted = false;
        su.auto_repairs.reset();  // an operator's repair clears the recovery ceiling
        // Its frozen SIs move when the node director reports that nothing of it runs.
        notify(now, model::NotificationKind::kRecovery, id.str(), "", "disabled", "repair", cause);
        waiting[id] = su.reports;
        effects_.push_back(ToNode{su.config->node, RepairSu{id, may_instantiate(su)}});
      }
      break;
    case AdminOp::kAdjust:
      notify(now, model::NotificationKind::kAdmin, admin_entity(e, config_->name), "", "", "adjust",
             cause);
      sgs_.at(SgId(e.entity)).adjust = true;
      break;
    case AdminOp::kRestart:
      for (const SuId& id : t.sus) {
        const SuState& su = sus_.at(id);
        notify(now, model::NotificationKind::kAdmin, admin_entity(e, config_->name), "", "",
               "restart", cause);
        waiting[id] = su.reports;
        std::optional<CompId> comp;
        if (e.kind == EntityKind::kComp) comp = CompId(e.entity);
        effects_.push_back(ToNode{su.config->node, RestartSu{id, comp}});
      }
      break;
    case AdminOp::kSiSwap:
      break;
  }
  for (const SgId& sg : t.sgs) reevaluate(sgs_.at(sg), now);
}

std::optional<std::string> Director::start_si_swap(const AdminRequest& e, TimePoint now) {
  const model::SiConfig* si = config_->find_si(SiId(e.entity));
  if (si == nullptr) {
    return "no service instance named '" + e.entity + "'" + name_hint(EntityKind::kSi);
  }
  SgState* sg = nullptr;
  for (auto& [id, state] : sgs_) {
    for (const auto& s : state.config->sis) {
      if (s.id == si->id) sg = &state;
    }
  }
  const auto model = sg->config->redundancy;
  if (model == model::RedundancyModel::kNoRedundancy ||
      model == model::RedundancyModel::kNWayActive) {
    return "service group " + sg->config->id.str() + " is " + std::string(model::to_string(model)) +
           ": it has no standby to swap with";
  }
  for (const auto& op : admin_ops_) {
    if (op.sgs.count(sg->config->id))
      return "service group is busy with another operation; try again";
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
  admin_ops_.push_back({e, {sg->config->id}, {}, now + kAdminOpTimeout, {}});
  notify(now, model::NotificationKind::kAdmin, admin_entity(e, config_->name), "", "", "si-swap",
         "admin si-swap");
  sg->swap = si->id;
  reevaluate(*sg, now);
  return std::nullopt;
}

// What the SG's policy sees as current. For a pending swap the active and standby of the SI
// trade places (in 2N and N+M the two SUs trade roles for all their SIs), so the sticky
// policy aims at the swapped table and the director quiesces, promotes and re-assigns. For a
// pending adjust the policy sees nothing in force and so aims at the preferred SUs.
models::AssignmentTable Director::policy_input(const SgState& sg) const {
  if (sg.adjust) return {};
  if (!sg.swap) return sg.current;
  SuId active, standby;
  for (const auto& a : sg.current) {
    if (a.si != *sg.swap) continue;
    if (a.ha == HaState::kActive) active = a.su;
    if (a.ha == HaState::kStandby && standby.empty()) standby = a.su;
  }
  // In 2N and N+M an SU is active or standby for all its SIs, so the two SUs trade roles for
  // every SI they share as active and standby; in N-way only the one SI is swapped. An SI the
  // standby SU backs for some third SU keeps its roles: swapping it would give it two actives.
  const bool whole_sus = sg.config->redundancy == model::RedundancyModel::kTwoN ||
                         sg.config->redundancy == model::RedundancyModel::kNPlusM;
  std::set<SiId> shared;
  for (const auto& a : sg.current) {
    if (a.su != active || a.ha != HaState::kActive) continue;
    if (!whole_sus && a.si != *sg.swap) continue;
    if (ha_of(sg.current, standby, a.si) == HaState::kStandby) shared.insert(a.si);
  }
  models::AssignmentTable swapped = sg.current;
  for (auto& a : swapped) {
    if (!shared.count(a.si)) continue;
    if (a.su == active && a.ha == HaState::kActive) {
      a.ha = HaState::kStandby;
    } else if (a.su == standby && a.ha == HaState::kStandby) {
      a.ha = HaState::kActive;
    }
  }
  return swapped;
}

void Director::set_admin(const AdminRequest& e, AdminState* admin, AdminState to,
                         const std::string& cause, TimePoint now) {
  if (*admin == to) return;
  notify(now, model::NotificationKind::kAdmin, admin_entity(e, config_->name), "",
         state_text(*admin), state_text(to), cause);
  *admin = to;
  effects_.push_back(
      AdminStateChanged{e.kind, e.kind == EntityKind::kCluster ? std::string() : e.entity, to});
  for (auto& [id, su] : sus_) update_readiness(su, cause, now);
}

AdminStates Director::admin_states() const {
  AdminStates out;
  auto add = [&](EntityKind kind, const std::string& entity, AdminState state,
                 AdminState configured) {
    if (state != configured) out[{kind, entity}] = state;
  };
  add(EntityKind::kCluster, "", cluster_admin_, AdminState::kUnlocked);
  for (const auto& [id, state] : node_admin_) {
    add(EntityKind::kNode, id.str(), state, config_->find_node(id)->admin_state);
  }
  for (const auto& [id, state] : app_admin_) {
    const auto app = std::find_if(config_->applications.begin(), config_->applications.end(),
                                  [&](const auto& a) { return a.id == id; });
    add(EntityKind::kApp, id.str(), state, app->admin_state);
  }
  for (const auto& [id, sg] : sgs_)
    add(EntityKind::kSg, id.str(), sg.admin, sg.config->admin_state);
  for (const auto& [id, su] : sus_)
    add(EntityKind::kSu, id.str(), su.admin, su.config->admin_state);
  for (const auto& [id, state] : si_admin_) {
    add(EntityKind::kSi, id.str(), state, config_->find_si(id)->admin_state);
  }
  return out;
}

// Whether an accepted operation has done what it set out to do: nothing while it has not, else
// how it ended (an error says what failed).
std::optional<Result<void>> Director::admin_op_complete(const AdminInProgress& op, TimePoint now) {
  const std::optional<Result<void>> not_yet;
  const Result<void> done;
  for (const SgId& sg : op.sgs) {
    if (!sgs_.at(sg).pending.empty()) return not_yet;
  }
  const auto all = [&](auto pred) { return std::all_of(op.sus.begin(), op.sus.end(), pred); };
  switch (op.request.op) {
    case AdminOp::kSiSwap:
      return sgs_.at(*op.sgs.begin()).swap ? not_yet : done;
    case AdminOp::kAdjust:
      return sgs_.at(*op.sgs.begin()).adjust ? not_yet : done;
    case AdminOp::kLock:
      if (op.request.kind == EntityKind::kSi) {
        return si_assigned(SiId(op.request.entity)) ? not_yet : done;
      }
      return all([&](const SuId& su) { return !holds_assignments(su); }) ? done : not_yet;
    case AdminOp::kUnlock:
      return done;
    case AdminOp::kShutdown: {
      if (op.request.kind == EntityKind::kSi && si_assigned(SiId(op.request.entity))) {
        return not_yet;
      }
      if (!all([&](const SuId& su) { return !holds_assignments(su); })) return not_yet;
      if (auto target = resolve(op.request)) {
        set_admin(op.request, target->admin, AdminState::kLocked, "shutdown complete", now);
      }
      return done;
    }
    case AdminOp::kLockInstantiation:
      return all([&](const SuId& id) {
        const PresenceState p = sus_.at(id).presence;
        return p == PresenceState::kUninstantiated || p == PresenceState::kTerminationFailed;
      })
                 ? done
                 : not_yet;
    case AdminOp::kUnlockInstantiation:
    case AdminOp::kRepair:
    case AdminOp::kRestart: {
      std::vector<std::string> failed;
      for (const auto& [id, reports_then] : op.waiting) {
        const SuState& su = sus_.at(id);
        if (!su.node_up) {
          failed.push_back(id.str() + " (its node left the cluster)");
          continue;
        }
        if (su.reports == reports_then) return not_yet;  // no news since the operation began
        if (op.request.op == AdminOp::kRestart && su.oper == model::OperState::kDisabled) {
          failed.push_back(id.str() + " (disabled while it restarted)");
          continue;
        }
        if (su.presence == PresenceState::kInstantiationFailed ||
            su.presence == PresenceState::kTerminationFailed) {
          failed.push_back(id.str() + " (" + std::string(model::to_string(su.presence)) + ")");
        } else if (op.request.op == AdminOp::kRepair && !may_instantiate(su) &&
                   su.oper == model::OperState::kEnabled &&
                   su.presence == PresenceState::kUninstantiated) {
          continue;  // repaired; locked for instantiation, so it is not started
        } else if (su.presence != PresenceState::kInstantiated) {
          return not_yet;
        }
      }
      if (failed.empty()) return done;
      std::string message =
          op.request.op == AdminOp::kRestart ? "restart failed:" : "not instantiated:";
      for (const auto& f : failed) message += " " + f;
      return Result<void>(fail(message + "; see amfctl events"));
    }
  }
  return not_yet;
}

void Director::check_admin_ops(TimePoint now) {
  for (auto it = admin_ops_.begin(); it != admin_ops_.end();) {
    if (const auto ended = admin_op_complete(*it, now)) {
      effects_.push_back(AdminResult{it->request.id, ended->has_value(),
                                     ended->has_value() ? it->remark : ended->error().message()});
      touched_.insert(it->sgs.begin(), it->sgs.end());  // an auto-adjust may go on
      it = admin_ops_.erase(it);
    } else if (now >= it->deadline) {
      effects_.push_back(AdminResult{it->request.id, false,
                                     std::string(to_string(it->request.op)) + " " +
                                         it->request.entity + " did not complete within " +
                                         std::to_string(kAdminOpTimeout.count()) +
                                         " s; see amfctl events"});
      touched_.insert(it->sgs.begin(), it->sgs.end());
      it = admin_ops_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace amf::director
