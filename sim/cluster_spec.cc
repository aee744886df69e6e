#include "sim/cluster_spec.h"

#include <array>
#include <charconv>
#include <set>

#include "sim/duration.h"

namespace amf::sim {

namespace {

using model::RedundancyModel;

constexpr int kMaxEntities = 64;  // per service group
constexpr int kMaxNodes = 1000;

struct IntKey {
  std::string_view key;
  int SgSpec::*field;
  int min;
};

constexpr std::array<IntKey, 16> kIntKeys{{
    {"sus", &SgSpec::sus, 1},
    {"sis", &SgSpec::sis, 1},
    {"components", &SgSpec::components, 1},
    {"retries", &SgSpec::instantiate_retries, 0},
    {"active-sus", &SgSpec::active_sus, 1},
    {"standby-sus", &SgSpec::standby_sus, 0},
    {"assigned-sus", &SgSpec::assigned_sus, 0},
    {"max-active", &SgSpec::max_active_per_su, 0},
    {"max-standby", &SgSpec::max_standby_per_su, 0},
    {"actives", &SgSpec::active_assignments, 1},
    {"standbys", &SgSpec::standby_assignments, 0},
    {"comp-restart-max", &SgSpec::comp_restart_max, 0},
    {"su-restart-max", &SgSpec::su_restart_max, 0},
    {"inservice", &SgSpec::inservice_sus, 0},
    {"li-sus", &SgSpec::li_sus, 0},
    {"locked-sis", &SgSpec::locked_sis, 0},
}};

struct TimeoutKey {
  std::string_view key;
  std::chrono::milliseconds model::ComponentTimeouts::*field;
};

constexpr std::array<TimeoutKey, 5> kTimeoutKeys{{
    {"instantiate", &model::ComponentTimeouts::instantiate},
    {"terminate", &model::ComponentTimeouts::terminate},
    {"cleanup", &model::ComponentTimeouts::cleanup},
    {"csi-set", &model::ComponentTimeouts::csi_set},
    {"csi-remove", &model::ComponentTimeouts::csi_remove},
}};

std::string numbered(const std::string& base, int i) {
  return i == 1 ? base : base + "-" + std::to_string(i);
}

std::string model_name(RedundancyModel m) { return std::string(model::to_string(m)); }

// The settings that take a duration; nothing when `key` is none of them.
std::optional<Result<void>> set_duration_word(SgSpec& sg, std::string_view key,
                                              const std::string& value) {
  std::chrono::milliseconds* field = nullptr;
  for (const TimeoutKey& k : kTimeoutKeys) {
    if (k.key == key) field = &(sg.timeouts.*k.field);
  }
  if (key == "health-period") field = &sg.health_period;
  if (key == "health-max") field = &sg.health_max_duration;
  if (key == "restart-probation") field = &sg.restart_probation;
  if (key == "chain-tolerance") field = &sg.chain_tolerance.emplace();
  if (field == nullptr) return std::nullopt;
  auto d = parse_duration(value);
  if (!d || *d < std::chrono::milliseconds(key == "chain-tolerance" ? 0 : 1) ||
      *d > std::chrono::hours(24)) {
    return fail(std::string(key) + " must be a duration from 1ms to 24h, not '" + value + "'");
  }
  *field = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  return Result<void>{};
}

Result<void> set_word(SgSpec& sg, std::string_view key, const std::string& value) {
  if (key == "name") {
    if (value.empty() || value.find('/') != std::string::npos)
      return fail("bad name '" + value + "'");
    sg.name = value;
    return {};
  }
  if (key == "recovery") {
    auto r = model::parse_recovery(value);
    if (!r) return fail("unknown recovery '" + value + "'");
    sg.recovery = *r;
    return {};
  }
  if (key == "kind") {
    if (value == "sa-aware") {
      sg.kind = model::InstantiatedWhen::kRegistered;
    } else if (value == "notified") {
      sg.kind = model::InstantiatedWhen::kNotified;
    } else if (value == "started") {
      sg.kind = model::InstantiatedWhen::kStarted;
    } else if (value == "probed") {
      sg.kind = model::InstantiatedWhen::kProbed;
    } else {
      return fail("kind is sa-aware, notified, started or probed, not '" + value + "'");
    }
    return {};
  }
  if (key == "probe" || key == "addresses") {
    if (value != "on" && value != "off")
      return fail(std::string(key) + " is on or off, not '" + value + "'");
    (key == "probe" ? sg.probe : sg.addresses) = value == "on";
    return {};
  }
  if (key == "health") {
    if (value == "none") {
      sg.health = SgSpec::Health::kNone;
    } else if (value == "amf") {
      sg.health = SgSpec::Health::kAmfInvoked;
    } else if (value == "component") {
      sg.health = SgSpec::Health::kComponentInvoked;
    } else {
      return fail("health is none, amf or component, not '" + value + "'");
    }
    return {};
  }
  if (key == "auto-repair" || key == "disable-restart") {
    if (value != "on" && value != "off")
      return fail(std::string(key) + " is on or off, not '" + value + "'");
    (key == "auto-repair" ? sg.auto_repair : sg.disable_restart) = value == "on";
    return {};
  }
  for (const IntKey& k : kIntKeys) {
    if (k.key != key) continue;
    int n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < k.min || n > kMaxEntities) {
      return fail(std::string(key) + " must be a number from " + std::to_string(k.min) + " to " +
                  std::to_string(kMaxEntities) + ", not '" + value + "'");
    }
    sg.*k.field = n;
    return {};
  }
  if (auto done = set_duration_word(sg, key, value)) return *done;
  return fail("unknown setting '" + std::string(key) +
              "' (name, sus, sis, components, recovery, retries, auto-repair, disable-restart, "
              "instantiate, "
              "terminate, cleanup, csi-set, csi-remove, active-sus, standby-sus, assigned-sus, "
              "max-active, max-standby, actives, standbys, comp-restart-max, su-restart-max, "
              "health, health-period, health-max, restart-probation, chain-tolerance, "
              "inservice, kind, probe, addresses)");
}

}  // namespace

Result<void> validate(const SgSpec& sg) {
  const std::string where = "service group " + sg.name + " (" + model_name(sg.model) + "): ";
  for (int n : {sg.sus, sg.sis, sg.components}) {
    if (n < 1 || n > kMaxEntities) {
      return fail(where + "SUs, SIs and components per SU must each be 1 to " +
                  std::to_string(kMaxEntities));
    }
  }
  if (sg.kind != model::InstantiatedWhen::kRegistered && sg.health == SgSpec::Health::kAmfInvoked) {
    return fail(where + "an AMF-invoked health check needs SA-aware components (kind=sa-aware)");
  }
  if (sg.kind == model::InstantiatedWhen::kProbed && !sg.probe) {
    return fail(where + "a probed component needs its probe (kind=probed needs probe=on)");
  }
  if ((sg.kind == model::InstantiatedWhen::kStarted ||
       sg.kind == model::InstantiatedWhen::kProbed) &&
      sg.health == SgSpec::Health::kComponentInvoked) {
    return fail(where +
                "a started or probed component has no watchdog (health=component needs "
                "kind=sa-aware or kind=notified)");
  }
  const bool n_way = sg.model == RedundancyModel::kNWay;
  const bool n_way_active = sg.model == RedundancyModel::kNWayActive;
  const bool n_plus_m = sg.model == RedundancyModel::kNPlusM;
  if (sg.model == RedundancyModel::kNoRedundancy && sg.sis > sg.sus) {
    return fail(where + "an SU takes at most one SI, so sis <= sus");
  }
  if (n_plus_m && (sg.active_sus < 1 || sg.active_sus + sg.standby_sus > sg.sus)) {
    return fail(where + "needs active-sus >= 1 and active-sus + standby-sus <= sus");
  }
  if (!n_plus_m && (sg.active_sus != 1 || sg.standby_sus != 1)) {
    return fail(where + "active-sus and standby-sus apply to n+m only");
  }
  if (!n_way && !n_way_active && sg.assigned_sus != 0) {
    return fail(where + "assigned-sus applies to n-way and n-way-active only");
  }
  if (sg.assigned_sus > sg.sus) return fail(where + "assigned-sus exceeds sus");
  if (sg.inservice_sus > sg.sus) return fail(where + "inservice exceeds sus");
  if (sg.li_sus > sg.sus) return fail(where + "li-sus exceeds sus");
  if (sg.locked_sis > sg.sis) return fail(where + "locked-sis exceeds sis");
  if (!n_plus_m && !n_way && !n_way_active && sg.max_active_per_su != 0) {
    return fail(where + "max-active applies to n+m, n-way and n-way-active only");
  }
  if (!n_plus_m && !n_way && sg.max_standby_per_su != 0) {
    return fail(where + "max-standby applies to n+m and n-way only");
  }
  if (!n_way_active && sg.active_assignments != 1) {
    return fail(where + "actives applies to n-way-active only");
  }
  if (n_way_active && sg.active_assignments > sg.sus) return fail(where + "actives exceeds sus");
  if (n_way_active && sg.addresses) {
    return fail(where + "addresses: an n-way-active SI has several actives");
  }
  if (!n_way && sg.standby_assignments != 1) return fail(where + "standbys applies to n-way only");
  if (n_way && sg.standby_assignments > sg.sus - 1) {
    return fail(where + "standbys must be at most sus - 1");
  }
  return {};
}

Result<void> validate(const ClusterSpec& cluster) {
  if (cluster.nodes < 1 || cluster.nodes > kMaxNodes) {
    return fail("nodes must be 1 to " + std::to_string(kMaxNodes));
  }
  if (cluster.sgs.empty()) return fail("a cluster needs at least one service group");
  std::set<std::string> names;
  for (const SgSpec& sg : cluster.sgs) {
    if (!names.insert(sg.name).second) return fail("two service groups are named " + sg.name);
    if (auto ok = validate(sg); !ok) return ok;
  }
  return {};
}

namespace {

model::ComponentConfig build_component(const SgSpec& spec, const model::SuConfig& su, int c) {
  model::ComponentConfig comp;
  comp.name = numbered("server", c);
  comp.id = CompId(su.id.str() + "/" + comp.name);
  comp.command = "sim-" + comp.name;
  comp.cs_types = {numbered("svc", c)};
  comp.timeouts = spec.timeouts;
  comp.recovery = spec.recovery;
  comp.disable_restart = spec.disable_restart;
  comp.instantiate_retries = spec.instantiate_retries;
  comp.instantiated_when = spec.kind;
  if (spec.kind == model::InstantiatedWhen::kNotified &&
      spec.health == SgSpec::Health::kComponentInvoked) {
    // The watchdog, as config/ builds it from watchdog_ms.
    comp.health_check = model::HealthCheckConfig{"watchdog", spec.health_period,
                                                 std::chrono::milliseconds(0), true};
  } else if (spec.health != SgSpec::Health::kNone) {
    comp.health_check =
        model::HealthCheckConfig{"alive", spec.health_period, spec.health_max_duration,
                                 spec.health == SgSpec::Health::kComponentInvoked};
  }
  if (!comp.sa_aware()) {
    comp.hooks = {"sim-hook active", "sim-hook standby", "sim-hook quiesced", "sim-hook remove"};
  }
  if (spec.probe) {
    model::ProbeConfig probe;
    probe.command = {"sim-probe"};
    probe.period = spec.probe_period;
    comp.probe = probe;
  }
  return comp;
}

// One SG of the spec; its SUs go to the nodes round robin, continuing from `placed`.
model::SgConfig build_sg(const SgSpec& spec, const std::vector<model::NodeConfig>& nodes,
                         std::size_t& placed) {
  model::SgConfig sg;
  sg.id = SgId(spec.name);
  sg.app = AppId("app");
  sg.name = spec.name;
  sg.redundancy = spec.model;
  sg.auto_repair = spec.auto_repair;
  sg.preferred_active_sus = spec.active_sus;
  sg.preferred_standby_sus = spec.standby_sus;
  sg.preferred_assigned_sus = spec.assigned_sus;
  sg.preferred_inservice_sus = spec.inservice_sus;
  sg.max_active_sis_per_su = spec.max_active_per_su;
  sg.max_standby_sis_per_su = spec.max_standby_per_su;
  sg.comp_restart_max = spec.comp_restart_max;
  sg.su_restart_max = spec.su_restart_max;
  sg.comp_restart_probation = spec.restart_probation;
  sg.su_restart_probation = spec.restart_probation;
  for (int i = 1; i <= spec.sus; ++i) {
    const std::string su_name = "su-" + std::to_string(i);
    model::SuConfig su{
        SuId(spec.name + "/" + su_name), su_name, nodes[placed++ % nodes.size()].id, i, {}};
    if (i > spec.sus - spec.li_sus) su.admin_state = model::AdminState::kLockedInstantiation;
    for (int c = 1; c <= spec.components; ++c)
      su.components.push_back(build_component(spec, su, c));
    sg.sus.push_back(su);
  }
  for (int i = 1; i <= spec.sis; ++i) {
    model::SiConfig si;
    si.name = "si-" + std::to_string(i);
    si.id = SiId(spec.name + "/" + si.name);
    si.rank = i;
    si.preferred_active_assignments = spec.active_assignments;
    si.preferred_standby_assignments = spec.standby_assignments;
    if (i > spec.sis - spec.locked_sis) si.admin_state = model::AdminState::kLocked;
    if (spec.chain_tolerance && i > 1) {
      si.dependencies.push_back(
          {SiId(spec.name + "/si-" + std::to_string(i - 1)), *spec.chain_tolerance});
    }
    for (int c = 1; c <= spec.components; ++c) {
      const std::string csi = numbered("csi", c);
      si.csis.push_back({CsiId(si.id.str() + "/" + csi), csi, numbered("svc", c), {}});
    }
    if (spec.addresses) si.service_address = model::ServiceAddress{"", 24, "eth0", false};
    sg.sis.push_back(si);
  }
  return sg;
}

}  // namespace

std::shared_ptr<const model::ClusterConfig> build(const ClusterSpec& cluster) {
  auto config = std::make_shared<model::ClusterConfig>();
  config->name = cluster.name;
  for (int n = 1; n <= cluster.nodes; ++n) {
    const std::string name = "node-" + std::to_string(n);
    config->nodes.push_back({NodeId(name), name, "127.0.0.1", n == 1});
    config->nodes.back().su_failover_max = cluster.su_failover_max;
    config->nodes.back().su_failover_probation = cluster.su_failover_probation;
  }
  model::ApplicationConfig app{AppId("app"), "app", {}};
  std::size_t placed = 0;
  for (const SgSpec& spec : cluster.sgs) {
    app.service_groups.push_back(build_sg(spec, config->nodes, placed));
    const int sg_index = static_cast<int>(app.service_groups.size());
    for (auto& si : app.service_groups.back().sis) {
      if (si.service_address) {
        si.service_address->address =
            "10." + std::to_string(sg_index) + "." + std::to_string(si.rank) + ".1";
      }
    }
  }
  config->applications.push_back(app);
  return config;
}

Result<SgSpec> parse_sg_spec(const std::vector<std::string>& words) {
  if (words.empty())
    return fail("expected a redundancy model (2n, no-redundancy, n+m, n-way, n-way-active)");
  SgSpec sg;
  auto m = model::parse_redundancy_model(words[0]);
  if (!m) return fail("unknown redundancy model '" + words[0] + "'");
  sg.model = *m;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::size_t eq = words[i].find('=');
    if (eq == std::string::npos) return fail("expected KEY=VALUE, not '" + words[i] + "'");
    if (auto ok = set_word(sg, std::string_view(words[i]).substr(0, eq), words[i].substr(eq + 1));
        !ok) {
      return tl::unexpected(ok.error());
    }
  }
  if (auto ok = validate(sg); !ok) return tl::unexpected(ok.error());
  return sg;
}

std::string describe(const SgSpec& sg) {
  const SgSpec d;
  std::string out = model_name(sg.model);
  auto add = [&](std::string_view key, const std::string& value) {
    out += " " + std::string(key) + "=" + value;
  };
  if (sg.name != d.name) add("name", sg.name);
  for (const IntKey& k : kIntKeys) {
    if (k.key == "sus" || k.key == "sis" || sg.*k.field != d.*k.field) {
      add(k.key, std::to_string(sg.*k.field));
    }
  }
  if (sg.recovery != d.recovery) add("recovery", std::string(model::to_string(sg.recovery)));
  if (sg.health != d.health) {
    add("health", sg.health == SgSpec::Health::kAmfInvoked ? "amf" : "component");
    add("health-period", std::to_string(sg.health_period.count()) + "ms");
    add("health-max", std::to_string(sg.health_max_duration.count()) + "ms");
  }
  if (sg.kind == model::InstantiatedWhen::kNotified) add("kind", "notified");
  if (sg.kind == model::InstantiatedWhen::kStarted) add("kind", "started");
  if (sg.kind == model::InstantiatedWhen::kProbed) add("kind", "probed");
  if (sg.probe) add("probe", "on");
  if (sg.addresses) add("addresses", "on");
  if (sg.auto_repair != d.auto_repair) add("auto-repair", sg.auto_repair ? "on" : "off");
  if (sg.disable_restart) add("disable-restart", "on");
  if (sg.chain_tolerance)
    add("chain-tolerance", std::to_string(sg.chain_tolerance->count()) + "ms");
  if (sg.restart_probation != d.restart_probation) {
    add("restart-probation", std::to_string(sg.restart_probation.count()) + "ms");
  }
  for (const TimeoutKey& k : kTimeoutKeys) {
    if (sg.timeouts.*k.field != d.timeouts.*k.field) {
      add(k.key, std::to_string((sg.timeouts.*k.field).count()) + "ms");
    }
  }
  return out;
}

}  // namespace amf::sim
