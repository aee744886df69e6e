#include "sim/swarm.h"

#include <cmath>
#include <random>

#include "models/policy.h"
#include "sim/duration.h"

namespace amf::sim {

namespace {

using model::RedundancyModel;

class Draw {
 public:
  // A generator apart from the simulation's own (seeded with the same seed), so the case and
  // the run do not share a stream.
  explicit Draw(std::uint64_t seed) : rng_(seed ^ 0x9e3779b97f4a7c15ULL) {}
  int between(int lo, int hi) {  // inclusive
    return hi <= lo ? lo : lo + static_cast<int>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return unit() < p; }
  double unit() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  // Log-uniform in [lo, hi].
  double rate(double lo, double hi) { return lo * std::pow(hi / lo, unit()); }
  std::chrono::milliseconds ms(int lo, int hi) {
    return std::chrono::milliseconds(between(lo, hi));
  }

 private:
  std::mt19937_64 rng_;
};

model::Recovery draw_recovery(Draw& d) {
  const int r = d.between(0, 99);
  if (r < 35) return model::Recovery::kComponentRestart;
  if (r < 70) return model::Recovery::kComponentFailover;
  if (r < 82) return model::Recovery::kSuRestart;
  if (r < 97) return model::Recovery::kSuFailover;
  if (r < 98) return model::Recovery::kNodeSwitchover;
  return model::Recovery::kNodeFailover;
}

void draw_model_settings(Draw& d, SgSpec& sg) {
  switch (sg.model) {
    case RedundancyModel::kTwoN:
      break;
    case RedundancyModel::kNoRedundancy:
      sg.sis = d.between(1, sg.sus);
      break;
    case RedundancyModel::kNPlusM:
      sg.active_sus = d.between(1, sg.sus - 1);
      sg.standby_sus = d.between(0, sg.sus - sg.active_sus);
      sg.max_active_per_su = d.chance(0.3) ? d.between(1, 3) : 0;
      sg.max_standby_per_su = d.chance(0.3) ? d.between(1, 3) : 0;
      break;
    case RedundancyModel::kNWay:
      sg.assigned_sus = d.chance(0.3) ? d.between(1, sg.sus) : 0;
      sg.standby_assignments = d.between(0, sg.sus - 1);
      sg.max_active_per_su = d.chance(0.3) ? d.between(1, 3) : 0;
      sg.max_standby_per_su = d.chance(0.3) ? d.between(1, 3) : 0;
      break;
    case RedundancyModel::kNWayActive:
      sg.assigned_sus = d.chance(0.3) ? d.between(1, sg.sus) : 0;
      sg.active_assignments = d.between(1, sg.sus);
      sg.max_active_per_su = d.chance(0.3) ? d.between(1, 3) : 0;
      break;
  }
}

SgSpec draw_sg(Draw& d, const SwarmOptions& options, const std::vector<RedundancyModel>& models,
               int index) {
  SgSpec sg;
  sg.name = "sg-" + std::to_string(index);
  sg.model = models[static_cast<std::size_t>(d.between(0, static_cast<int>(models.size()) - 1))];
  sg.sus = d.between(sg.model == RedundancyModel::kNPlusM ? 2 : 1, 5);
  sg.sis = d.between(1, 4);
  sg.components = d.between(1, std::max(1, options.max_components));
  sg.recovery = draw_recovery(d);
  sg.instantiate_retries = d.between(0, 3);
  sg.auto_repair = d.chance(0.85);
  sg.timeouts.instantiate = d.ms(500, 10'000);
  sg.timeouts.terminate = d.ms(500, 5'000);
  sg.timeouts.cleanup = d.ms(500, 5'000);
  sg.timeouts.csi_set = d.ms(200, 5'000);
  sg.timeouts.csi_remove = d.ms(200, 5'000);
  if (d.chance(0.3)) {
    sg.comp_restart_max = d.between(0, 3);
    sg.su_restart_max = d.between(0, 3);
  }
  const int health = d.between(0, 3);
  if (health == 1) sg.health = SgSpec::Health::kAmfInvoked;
  if (health == 2) sg.health = SgSpec::Health::kComponentInvoked;
  sg.health_period = d.ms(1'000, 20'000);
  sg.health_max_duration = d.ms(200, 5'000);
  if (sg.sis > 1 && d.chance(0.2)) sg.chain_tolerance = d.ms(0, 5'000);
  draw_model_settings(d, sg);
  return sg;
}

}  // namespace

std::vector<RedundancyModel> supported_models() {
  std::vector<RedundancyModel> out;
  for (RedundancyModel m :
       {RedundancyModel::kNoRedundancy, RedundancyModel::kTwoN, RedundancyModel::kNPlusM,
        RedundancyModel::kNWay, RedundancyModel::kNWayActive}) {
    if (models::make_policy(m)) out.push_back(m);
  }
  return out;
}

SwarmCase make_swarm_case(std::uint64_t seed, const SwarmOptions& options) {
  Draw d(seed);
  SwarmCase c;
  c.seed = seed;
  const auto models = options.models.empty() ? supported_models() : options.models;
  c.cluster.nodes = d.chance(0.8) ? 1 : d.between(2, 3);
  const int sgs = d.between(1, 3);
  for (int i = 1; i <= sgs; ++i) c.cluster.sgs.push_back(draw_sg(d, options, models, i));
  int components = 0;
  for (const SgSpec& sg : c.cluster.sgs) components += sg.sus * sg.components;
  for (std::size_t k = 0; k < kFaultKinds; ++k) {
    const auto kind = static_cast<FaultKind>(k);
    if (kind == FaultKind::kCleanup && !options.cleanup) continue;
    if (kind == FaultKind::kNode) continue;       // drawn last, so older cases keep their draws
    if (kind == FaultKind::kPartition) continue;  // never (see the network below)
    if (kind == FaultKind::kDirector) continue;   // drawn last, so older cases keep their draws
    if (kind == FaultKind::kStop) continue;       // drawn last, so older cases keep their draws
    if (kind == FaultKind::kAdmin) {
      // Per cluster: scaled with its size, so the operator keeps up with the repairs.
      if (d.chance(0.7)) c.faults[kind] = d.rate(1e-3, 5e-2) * std::max(1, components / 4);
    } else if (d.chance(0.6)) {
      c.faults[kind] = d.rate(1e-4, 2e-2);
    }
  }
  c.duration = std::chrono::minutes(d.between(5, 30));
  // Node crashes where another node can take over; a node comes back after 5 to 30 s.
  if (c.cluster.nodes > 1 && options.node_crashes && d.chance(0.6)) {
    c.faults[FaultKind::kNode] = d.rate(1e-4, 5e-3);
  }
  // Spares: fewer preferred in-service SUs than configured.
  for (SgSpec& sg : c.cluster.sgs) {
    if (sg.sus > 1 && d.chance(0.25)) sg.inservice_sus = d.between(1, sg.sus - 1);
  }
  // A component that fails every callback, with the escalation raised half the time so that
  // only the recovery ceilings end its loop.
  if (d.chance(0.1)) {
    const SgSpec& sg = c.cluster.sgs[static_cast<std::size_t>(
        d.between(0, static_cast<int>(c.cluster.sgs.size()) - 1))];
    const int su = d.between(1, sg.sus);
    const int comp = d.between(1, sg.components);
    c.broken.push_back(CompId(sg.name + "/su-" + std::to_string(su) + "/server" +
                              (comp == 1 ? "" : "-" + std::to_string(comp))));
    if (d.chance(0.5)) {  // as far as scenario scripts can write it
      c.cluster.su_failover_max = 1000;
      for (SgSpec& s : c.cluster.sgs) {
        s.comp_restart_max = 64;
        s.su_restart_max = 64;
      }
    }
  }
  // Components that do not link the library, in one SG in four: sd_notify (READY=1, their
  // watchdog for a component-invoked health check) or instantiated when started, taking their
  // CSIs through HA-state hooks, with a liveness probe half the time (drawn after the rest,
  // so older cases keep their draws).
  for (SgSpec& sg : c.cluster.sgs) {
    if (!d.chance(0.25)) continue;
    sg.kind =
        d.chance(0.5) ? model::InstantiatedWhen::kNotified : model::InstantiatedWhen::kStarted;
    if (sg.health == SgSpec::Health::kAmfInvoked ||
        (sg.kind == model::InstantiatedWhen::kStarted &&
         sg.health == SgSpec::Health::kComponentInvoked)) {
      sg.health = SgSpec::Health::kNone;
    }
    sg.probe = d.chance(0.5);
  }
  // The network between the runtimes, half the time: loss, duplication, reordering, delay and
  // clock drift (drawn last, so older cases keep their draws). Never partitions: until the
  // membership fences a cut-off node, a partition longer than the detection latency ends in
  // two actives (sim/README.md).
  if (options.network && d.chance(0.5)) {
    NetworkFaults& net = c.faults.net;
    if (d.chance(0.7)) net.loss = d.unit() * 0.1;
    if (d.chance(0.5)) net.dup = d.unit() * 0.05;
    if (d.chance(0.5)) net.reorder = d.unit() * 0.1;
    net.delay = std::chrono::microseconds(d.between(0, 10'000));
    if (d.chance(0.5)) net.drift_ppm = d.between(1, 1000);
  }
  // Director crashes, in one case in three (drawn last, so older cases keep their draws).
  if (options.director_crashes && d.chance(1.0 / 3)) {
    c.faults[FaultKind::kDirector] = d.rate(1e-3, 2e-2);
  }
  // In half the clusters of several nodes the director runs on node-1 and dies with it.
  if (options.director_crashes && c.cluster.nodes > 1 && d.chance(0.5)) {
    c.director_node = NodeId("node-1");
  }
  // Half the started components with a probe are instantiated only once it succeeds
  // (drawn last, so older cases keep their draws).
  for (SgSpec& sg : c.cluster.sgs) {
    if (sg.kind == model::InstantiatedWhen::kStarted && sg.probe && d.chance(0.5)) {
      sg.kind = model::InstantiatedWhen::kProbed;
    }
  }
  // Initial admin states, in one SG in six: SUs configured locked-instantiation and SIs
  // configured locked, which the operator unlocks (drawn last, so older cases keep their
  // draws).
  for (SgSpec& sg : c.cluster.sgs) {
    if (!d.chance(1.0 / 6)) continue;
    sg.li_sus = d.between(0, sg.sus);
    sg.locked_sis = d.between(0, sg.sis);
  }
  // The membership's cases (drawn after everything else, so the others keep their draws):
  // three to five nodes (the first three vote), partitions, node and director crashes, the
  // fast profile in one case in four (it costs ten times the datagrams), a shorter run.
  if (options.membership) {
    c.cluster.nodes = d.between(3, 5);
    c.membership_profile = d.chance(0.25) ? "fast" : "default";
    c.faults[FaultKind::kPartition] = d.rate(5e-3, 5e-2);
    if (options.node_crashes && d.chance(0.6)) c.faults[FaultKind::kNode] = d.rate(1e-4, 5e-3);
    if (options.director_crashes && d.chance(0.5)) {
      c.faults[FaultKind::kDirector] = d.rate(1e-3, 2e-2);
    }
    c.director_node.reset();
    c.duration = std::chrono::minutes(d.between(1, 5));
    // Runs this short end before the recovery ceilings end a component that fails every
    // callback (they may take 20 minutes): the plain swarm covers those.
    c.broken.clear();
  }
  // Floating service addresses in half the SGs that may have them (drawn last, so older cases
  // keep their draws).
  for (SgSpec& sg : c.cluster.sgs) {
    if (sg.model != RedundancyModel::kNWayActive && d.chance(0.5)) sg.addresses = true;
  }
  // amfd stopped on a node (it leaves, then ends; it boots again later), in clusters of
  // several nodes, two cases in five (drawn last, so older cases keep their draws).
  if (c.cluster.nodes > 1 && options.node_crashes && d.chance(0.4)) {
    c.faults[FaultKind::kStop] = d.rate(1e-4, 5e-3);
  }
  return c;
}

std::string SwarmCase::describe() const {
  std::string out = std::to_string(cluster.nodes) + (cluster.nodes == 1 ? " node, " : " nodes, ");
  out += std::to_string(cluster.sgs.size()) + (cluster.sgs.size() == 1 ? " SG (" : " SGs (");
  for (std::size_t i = 0; i < cluster.sgs.size(); ++i) {
    out += (i ? "; " : "") + sim::describe(cluster.sgs[i]);
  }
  out += "), faults " + faults.to_string() + ", " + format_duration(duration);
  for (const CompId& comp : broken) out += ", " + comp.str() + " fails every callback";
  if (cluster.su_failover_max != ClusterSpec{}.su_failover_max) {
    out += ", node escalation " + std::to_string(cluster.su_failover_max);
  }
  if (director_node) out += ", director on " + director_node->str();
  if (membership_profile) out += ", membership (" + *membership_profile + " profile)";
  return out;
}

RunOutcome run_case(const SwarmCase& c, Options options) {
  options.faults = c.faults;
  options.director_node = c.director_node;
  auto config = build(c.cluster);
  if (c.membership_profile) {
    auto with = std::make_shared<model::ClusterConfig>(*config);
    with->membership_profile = *c.membership_profile;
    // Three controllers vote and may direct (build() makes node-1 the only one).
    for (std::size_t i = 0; i < with->nodes.size(); ++i) with->nodes[i].controller = i < 3;
    config = std::move(with);
    options.membership = true;
  }
  auto sim = Simulation::create(config, c.seed, std::move(options));
  RunOutcome out;
  if (!sim) {
    out.violation = Violation{"config", sim.error().message(), c.seed, 0, TimePoint{}, ""};
    return out;
  }
  for (const CompId& comp : c.broken) (*sim)->fail_callbacks(comp, 1'000'000'000);
  (*sim)->start();
  (*sim)->run_for(c.duration);
  if (!(*sim)->violation()) (*sim)->settle();
  out.violation = (*sim)->violation();
  out.stats = (*sim)->stats();
  out.end = (*sim)->now();
  return out;
}

}  // namespace amf::sim
