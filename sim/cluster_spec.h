#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amf/core/result.h"
#include "amf/model/config.h"

namespace amf::sim {

// A service group described by a handful of numbers, built into the typed configuration in
// code (no YAML): what scenario scripts (`config 2n sus=2 sis=1`) and the swarm use.
//
// Names: SG `name` (default "app"); SUs NAME/su-1..su-N ranked 1..N; in each SU components
// "server", "server-2", ...; SIs NAME/si-1..si-M ranked 1..M, each with one CSI per component,
// "csi", "csi-2", ..., of CS types "svc", "svc-2", ... matching the components in order.
struct SgSpec {
  std::string name = "app";
  model::RedundancyModel model = model::RedundancyModel::kTwoN;
  int sus = 2;
  int sis = 1;
  int components = 1;  // per SU
  model::Recovery recovery = model::Recovery::kComponentFailover;
  int instantiate_retries = 2;
  bool auto_repair = true;
  bool disable_restart = false;  // every component's saAmfCompDisableRestart
  model::ComponentTimeouts timeouts;
  int active_sus = 1;           // n+m: N
  int standby_sus = 1;          // n+m: M
  int assigned_sus = 0;         // n-way, n-way-active; 0: all
  int max_active_per_su = 0;    // n+m, n-way, n-way-active; 0: no limit
  int max_standby_per_su = 0;   // n+m, n-way; 0: no limit
  int active_assignments = 1;   // n-way-active, per SI
  int standby_assignments = 1;  // n-way, per SI
  int inservice_sus = 0;        // preferred in-service SUs; 0: all (no spares)
  int comp_restart_max = 10;    // recovery escalation (SgConfig)
  int su_restart_max = 10;
  std::chrono::milliseconds restart_probation{4'000};  // both escalation windows
  // When set, si-k depends on si-(k-1) (SI dependency) with this tolerance.
  std::optional<std::chrono::milliseconds> chain_tolerance;
  enum class Health { kNone, kAmfInvoked, kComponentInvoked };
  Health health = Health::kNone;  // every component gets this health check, key "alive"
  std::chrono::milliseconds health_period{10'000};
  std::chrono::milliseconds health_max_duration{6'000};
  // How the components say they are instantiated: SA-aware ones register (and take their CSIs
  // through callbacks); the others do not link the library: `notified` ones send READY=1
  // (sd_notify; a component-invoked health check is then their watchdog, WATCHDOG=1),
  // `started` ones are instantiated once running. Those take their CSIs through HA-state
  // hooks, which the simulator runs as the hosts would.
  model::InstantiatedWhen kind = model::InstantiatedWhen::kRegistered;
  // Every SI floats a service address (10.SG.SI.1/24 on eth0; not n-way-active): the invariant
  // that no address is up on two nodes at once watches it.
  bool addresses = false;
  bool probe = false;  // an exec liveness probe, every probe_period, 3 failures in a row
  std::chrono::milliseconds probe_period{5'000};
  // Initial admin states (config/README.md, "Initial admin states"): the last `li_sus` SUs
  // are configured locked-instantiation, the last `locked_sis` SIs locked, as OpenSAF loads
  // an application; the operator unlocks them.
  int li_sus = 0;
  int locked_sis = 0;
};

struct ClusterSpec {
  std::string name = "sim";
  int nodes = 1;  // SUs are spread over the nodes round robin
  std::vector<SgSpec> sgs;
  // Every node's escalation of SU failovers to a node failover (NodeConfig).
  int su_failover_max = 10;
  std::chrono::milliseconds su_failover_probation{1'200'000};
};

// The rules of config/README.md ("Counts for the redundancy model") and our limits
// (1..64 SUs, SIs and components each); the first problem found.
Result<void> validate(const SgSpec& sg);
Result<void> validate(const ClusterSpec& cluster);

std::shared_ptr<const model::ClusterConfig> build(const ClusterSpec& cluster);

// Reads "2n sus=2 sis=1 recovery=component-restart csi-set=1s" (the arguments of a script's
// `config` command): the model first, then KEY=VALUE settings; see tests/scenarios/README.md.
Result<SgSpec> parse_sg_spec(const std::vector<std::string>& words);

// The spec as parse_sg_spec reads it back (only settings that differ from the defaults).
std::string describe(const SgSpec& sg);

}  // namespace amf::sim
