#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amf/core/id.h"
#include "amf/model/states.h"

namespace amf::model {

// The typed, validated configuration of a cluster: what config/ produces from YAML and what
// every core reads. Plain values, no YAML; built once at the boundary and then immutable.
// Defaults follow the AMF specification / OpenSAF and are documented in config/README.md.

struct ComponentTimeouts {
  std::chrono::milliseconds instantiate{10'000};  // saAmfCompInstantiateTimeout
  std::chrono::milliseconds terminate{5'000};     // saAmfCompTerminateTimeout
  std::chrono::milliseconds cleanup{5'000};       // saAmfCompCleanupTimeout
  std::chrono::milliseconds csi_set{5'000};       // saAmfCompCSISetCallbackTimeout
  std::chrono::milliseconds csi_remove{5'000};    // saAmfCompCSIRmvCallbackTimeout
};

// AMF-invoked (the default): every `period` amfd asks the component, which must answer within
// `max_duration`. Component-invoked: the component must confirm at least once every
// `period` + `max_duration`. Either way a miss is a component failure.
struct HealthCheckConfig {
  std::string key;
  std::chrono::milliseconds period{10'000};       // saAmfHealthcheckPeriod
  std::chrono::milliseconds max_duration{6'000};  // saAmfHealthcheckMaxDuration
  bool component_invoked = false;                 // SA_AMF_HEALTHCHECK_COMPONENT_INVOKED
};

// A liveness probe, as Kubernetes has them: every `period` amfd runs it (within `timeout`);
// `failure_threshold` failures in a row are a component failure, handled by its recovery.
// For a component instantiated_when: probed it is also its startup probe: from its start it
// runs every `startup_period` until it first succeeds, which makes the component
// instantiated; failures before that count for nothing (the instantiate timeout bounds them).
struct ProbeConfig {
  enum class Kind { kExec, kTcp, kHttp };
  Kind kind = Kind::kExec;
  std::vector<std::string> command;  // kExec: argv, run on the node with the component's env
  int port = 0;                      // kTcp, kHttp: on 127.0.0.1
  std::string path = "/";            // kHttp: GET path; 2xx and 3xx are success
  std::chrono::milliseconds period{10'000};
  std::chrono::milliseconds timeout{1'000};
  int failure_threshold = 3;
  std::chrono::milliseconds startup_period{20};
};

// When a started component counts as instantiated. kRegistered: it is SA-aware, links our
// library and registers (then CSIs are set through callbacks). The others are components that
// do not link it (non-SA-aware): kNotified, once it sends READY=1 to its NOTIFY_SOCKET
// (sd_notify); kStarted, as soon as its process runs; kProbed, once its probe first succeeds
// (a daemon that listens some time after its start). Their CSIs are taken at once.
enum class InstantiatedWhen { kRegistered, kNotified, kStarted, kProbed };

// "registered", "notified", "started", "probed": as the configuration names them.
std::string_view instantiated_when_name(InstantiatedWhen when);

// How the component is hosted: a plain process, or an OCI container run by runc.
enum class Runtime { kProcess, kOci };

// An OCI container (runtime: oci). Namespaces pid, mount, uts and ipc always; the network
// namespace too when `own_network` (then the container has only loopback). The root file
// system is read-only with a writable tmpfs at /tmp and /run.
struct ContainerConfig {
  std::string rootfs = "host";  // an absolute directory, or "host": the host's /usr and /etc
  bool own_network = false;     // network: none (own namespace) rather than host
  std::optional<int> memory_limit_mb;
  std::optional<int> pids_limit;
};

struct ComponentConfig {
  CompId id;
  std::string name;
  std::string command;  // resolved on the node's PATH when it has no '/'
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::vector<std::string> cs_types;  // the CS types this component can take CSIs of
  ComponentTimeouts timeouts;
  Recovery recovery = Recovery::kComponentFailover;     // saAmfCompRecoveryOnError
  int instantiate_retries = 2;                          // saAmfCompNumMaxInstantiateWithoutDelay
  int instantiate_retries_with_delay = 0;               // saAmfCompNumMaxInstantiateWithDelay
  std::chrono::milliseconds instantiate_delay{10'000};  // saAmfCompDelayBetweenInstantiateAttempts
  bool disable_restart = false;                         // saAmfCompDisableRestart
  std::optional<HealthCheckConfig> health_check;
  Runtime runtime = Runtime::kProcess;
  ContainerConfig container;  // runtime kOci only
  // A kNotified component's watchdog (watchdog_ms in YAML: it must send WATCHDOG=1 at least
  // that often, and is told in WATCHDOG_USEC) is kept in health_check as a component-invoked
  // check with that period, key "watchdog" and max_duration 0: a miss is a failure.
  InstantiatedWhen instantiated_when = InstantiatedWhen::kRegistered;
  // HA-state hooks of a non-SA-aware component: shell commands (/bin/sh -c) run when one of
  // its CSIs is set to active, standby, quiesced (also for quiescing) or removed, with the
  // component's environment plus AMF_CSI_NAME, AMF_HA_STATE and AMF_CSI_<ATTRIBUTE>; within
  // the CSI set/remove timeout, and exit 0, or the component has failed. Empty: none (the
  // state is taken at once).
  struct Hooks {
    std::string on_active, on_standby, on_quiesced, on_remove;
  } hooks;

  std::optional<ProbeConfig> probe;
  // CLC-CLI commands (/bin/sh -c) in place of amfd's defaults: terminate_command instead of
  // SIGTERM; cleanup_command before the SIGKILL of the component's process group (which
  // follows when the command ends, or at the cleanup timeout). Empty: the default.
  std::string terminate_command;
  std::string cleanup_command;
  // The instantiate command (`command`) daemonizes: it exits 0 once the daemon runs, with the
  // daemon's PID in this file (relative to its working directory), and that process is the
  // component from then on. Processes only. Empty: `command` is the component's process.
  std::string pid_file;
  // Where the component's processes run (its command, hooks, exec probes and CLC-CLI
  // commands; a container's is mounted at the same path): relative to RUNTIME_DIR/work (so that
  // it never is amfd's own files), or absolute. Empty: its own, RUNTIME_DIR/work/SG/SU/COMPONENT
  // (the component's id). Components that
  // name the same directory share its files (a state file that the standby reads when it
  // takes over, say).
  std::string working_dir;
  // Its SA Forum DN, safComp=C,safSu=U,safSg=G,safApp=A: the name OpenSAF components know
  // themselves by, given them in SA_AMF_COMPONENT_NAME (set by the loader; may be empty).
  std::string dn;

  bool sa_aware() const { return instantiated_when == InstantiatedWhen::kRegistered; }
};

struct SuConfig {
  SuId id;
  std::string name;
  NodeId node;
  int rank = 0;  // lower is preferred; 0 means "unranked" and sorts after ranked SUs
  std::vector<ComponentConfig> components;
  // Initial admin states (`admin_state` in YAML; SUs, SIs, SGs, applications and nodes): what a
  // director starts from until an operator changes it (as OpenSAF loads an SU
  // locked-instantiation and has it unlocked by hand). A director that takes over starts from
  // the states its predecessors left in the store instead. Never shutting-down.
  AdminState admin_state = AdminState::kUnlocked;
};

struct CsiConfig {
  CsiId id;
  std::string name;
  std::string cs_type;
  CsiAttributes attributes;
  // Values that one SU's component gets instead (`su_attributes`): each attribute named here
  // replaces all the values of that name, and adds an attribute the CSI lacks. A standby
  // replica told where its active listens, say (ActiveDescriptor carries the active's).
  std::map<SuId, CsiAttributes> su_attributes;

  // The attributes as the component of `su` gets them.
  CsiAttributes attributes_for(const SuId& su) const;
};

// The SI depends on `sponsor` (saAmfSIDependency): it may be active only while the sponsor has
// an active assignment; when the sponsor loses it, the dependent's actives are removed once
// `tolerance` has passed without the sponsor recovering (saAmfToleranceTime).
struct SiDependency {
  SiId sponsor;
  std::chrono::milliseconds tolerance{1'000};
};

// An address that follows the SI's active assignment from node to node (a floating service
// address, as Pacemaker's IPaddr2 gives): the node of the active brings it up on `interface`
// and announces it (gratuitous ARP, unsolicited neighbour advertisement); every other node has
// it down. The configuration reader checks it (an IPv4 or IPv6 literal in canonical form, the
// prefix within the family's range, an interface name the kernel could have).
struct ServiceAddress {
  std::string address;  // "10.0.0.100" or "fd00::100"
  int prefix = 0;       // 0..32 or 0..128
  std::string interface;
  bool ipv6 = false;

  // "10.0.0.100/24 on eth0"
  std::string str() const { return address + "/" + std::to_string(prefix) + " on " + interface; }
  friend bool operator==(const ServiceAddress&, const ServiceAddress&) = default;
};

struct SiConfig {
  SiId id;
  std::string name;
  int rank = 0;                           // lower is more important; 0 means "unranked"
  int preferred_active_assignments = 1;   // N-way-active only
  int preferred_standby_assignments = 1;  // N-way only
  std::vector<SiDependency> dependencies;
  std::vector<CsiConfig> csis;
  AdminState admin_state = AdminState::kUnlocked;  // unlocked or locked (SuConfig)
  // Not in an N-way-active SG, whose SIs have several actives.
  std::optional<ServiceAddress> service_address;
};

struct SgConfig {
  SgId id;
  AppId app;
  std::string name;
  RedundancyModel redundancy = RedundancyModel::kTwoN;
  bool auto_repair = true;   // saAmfSGAutoRepair
  bool auto_adjust = false;  // saAmfSGAutoAdjust
  // With auto_adjust, how long an SU must have been back in service before the SG moves its
  // assignments back to the preferred SUs (saAmfSGAutoAdjustProb).
  std::chrono::milliseconds auto_adjust_probation{10'000};
  int preferred_active_sus = 1;     // N+M: N
  int preferred_standby_sus = 1;    // N+M: M
  int preferred_inservice_sus = 0;  // 0: all configured SUs
  int preferred_assigned_sus = 0;   // N-way, N-way-active; 0: all in-service SUs
  int max_active_sis_per_su = 0;    // 0: no limit
  int max_standby_sis_per_su = 0;   // 0: no limit
  // Recovery escalation (spec 3.11.2): more than `comp_restart_max` component restarts in one
  // SU within the probation window escalate to an SU restart; more than `su_restart_max` SU
  // restarts within theirs escalate to an SU failover. A window starts at the first counted
  // recovery and the count resets when it has passed.
  int comp_restart_max = 10;                                // saAmfSGCompRestartMax
  std::chrono::milliseconds comp_restart_probation{4'000};  // saAmfSGCompRestartProb
  int su_restart_max = 10;                                  // saAmfSGSuRestartMax
  std::chrono::milliseconds su_restart_probation{4'000};    // saAmfSGSuRestartProb
  std::vector<SuConfig> sus;
  std::vector<SiConfig> sis;
  AdminState admin_state = AdminState::kUnlocked;  // see SuConfig
};

struct ApplicationConfig {
  AppId id;
  std::string name;
  std::vector<SgConfig> service_groups;
  AdminState admin_state = AdminState::kUnlocked;  // see SuConfig
};

// The SUs that serve in the SG when every SU is in service: those with active assignments
// (2N: one; N-way: one per SI, at most the preferred assigned SUs; N+M: N; N-way-active: the
// preferred assigned SUs, or all; no-redundancy: one per SI), at most the SUs configured. A
// Kubernetes workload for the SG gets as many replicas (sim/kubernetes.cc,
// config/kubernetes_export.cc).
int serving_sus(const SgConfig& sg);

struct NodeConfig {
  NodeId id;
  std::string name;
  std::string address;      // host or IP the node's amfd listens on (multi-node)
  bool controller = false;  // may run the director (system controller); votes
  // Votes (membership leases; the etcd member) without running the director: the third voter
  // that a cluster of two controllers needs.
  bool witness = false;
  int membership_port = 7301;  // the node's membership socket, on `address`
  int command_port = 7302;     // the node's command socket (director <-> node directors)
  int checkpoint_port = 7303;  // the node's checkpoint socket (replicas <-> replicas)
  // More than `su_failover_max` SU failovers on this node within the probation window
  // escalate to a node failover: every SU on the node is failed over and stays disabled until
  // an operator repairs it.
  int su_failover_max = 10;                                    // saAmfNodeSuFailoverMax
  std::chrono::milliseconds su_failover_probation{1'200'000};  // saAmfNodeSuFailOverProb
  AdminState admin_state = AdminState::kUnlocked;              // see SuConfig
};

// Where each node keeps its checkpoint replicas (amf/checkpoint): in memory only, or also in
// files under its state directory, so that a restart of every node keeps them.
enum class CheckpointStorage { kMemory, kFile };

struct ClusterConfig {
  std::string name;
  std::string membership_profile = "default";  // amf/membership: fast or default
  CheckpointStorage checkpoint_store = CheckpointStorage::kMemory;
  // How long a checkpoint replica made active while not in service waits for the other
  // replicas' answers before it goes on with the newest content among those that answered
  // (amf/checkpoint/README.md, "Stored replicas and recovery"; checkpoint::Settings).
  std::chrono::milliseconds checkpoint_recovery_wait{1'000};
  // The etcd members' client addresses (HOST:PORT): where several nodes elect their director
  // and keep the admin states. A cluster of one node needs none.
  std::vector<std::string> etcd;
  std::vector<NodeConfig> nodes;
  std::vector<ApplicationConfig> applications;

  // Lookups; nullptr when there is no such entity.
  const NodeConfig* find_node(const NodeId& id) const;
  const SgConfig* find_sg(const SgId& id) const;
  const SuConfig* find_su(const SuId& id) const;
  const SiConfig* find_si(const SiId& id) const;
  const ComponentConfig* find_component(const CompId& id) const;
  // The SG whose SU holds the component.
  const SgConfig* sg_of(const CompId& id) const;

  // The nodes whose acknowledgements grant membership leases: controllers and witnesses.
  std::vector<NodeId> voters() const;

  // All SGs across applications, in configuration order.
  std::vector<const SgConfig*> service_groups() const;
};

}  // namespace amf::model
