#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amf/model/states.h"
#include "sim/cluster_spec.h"
#include "sim/faults.h"
#include "sim/simulation.h"

namespace amf::sim {

// Swarm testing (as in TigerBeetle's VOPR): every run draws its own configuration (models,
// SU/SI/component counts, timeouts, recoveries, escalation, health checks) and fault rates
// from its seed, so one seed names a whole case and replays it exactly.
struct SwarmOptions {
  // The models to draw from; empty: every model models::make_policy accepts.
  std::vector<model::RedundancyModel> models;
  // Cleanup failures (FaultKind::kCleanup) are left out unless asked for: see sim/README.md,
  // "Known core findings" 9 and 10.
  bool cleanup = false;
  int max_components = 2;        // per SU
  bool node_crashes = true;      // in clusters of more than one node
  bool director_crashes = true;  // the director dies and a new one takes over
  bool network = true;           // network faults and clock drift (never partitions)
  // The nodes run the real membership and election (Options::membership): every case has
  // three to five nodes, partitions, node and director crashes, and runs 1 to 5 minutes
  // (without a component that fails every callback: the recovery ceilings that end it may
  // take longer than that, and the plain swarm covers them).
  bool membership = false;
};

struct SwarmCase {
  std::uint64_t seed = 0;
  ClusterSpec cluster;
  FaultSpec faults;
  Duration duration{};
  // Components that answer every callback with an error from the start: a failure that repeats
  // every time, which the recovery ceilings (amf/model/recovery_ceiling.h) must end however
  // the escalation is set (the case may raise it until it never ends anything).
  std::vector<CompId> broken;
  // The node the director runs on (Options::director_node): node crashes there are the
  // director's too. None: it runs apart.
  std::optional<NodeId> director_node;
  // With SwarmOptions::membership: the membership's profile ("fast" or "default").
  std::optional<std::string> membership_profile;
  // "3 SGs (2n sus=2 sis=1; ...), faults crash=0.01,..., 20m"
  std::string describe() const;
};

SwarmCase make_swarm_case(std::uint64_t seed, const SwarmOptions& options = {});

struct RunOutcome {
  std::optional<Violation> violation;
  Stats stats;
  TimePoint end{};  // simulated time at the end
};

// Starts the case's cluster, runs it with its faults for its duration, then settles it.
RunOutcome run_case(const SwarmCase& c, Options options = {});

// Models this build's policies accept.
std::vector<model::RedundancyModel> supported_models();

}  // namespace amf::sim
