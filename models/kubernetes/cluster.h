#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/time.h"
#include "models/kubernetes/parameters.h"

namespace amf::kubernetes {

// A workload: a Deployment (its ReplicaSet replaces a deleted pod at once, on any node it may
// run on) or a StatefulSet (pod `name-i` is made again only once the old one is gone: a pod on
// a node that stopped answering stays Terminating, and is not replaced, until the node comes
// back or someone force-deletes it). Every pod runs one container per name in `containers`.
enum class Kind { kDeployment, kStatefulSet };

struct Workload {
  std::string name;
  Kind kind = Kind::kDeployment;
  int replicas = 1;
  std::vector<std::string> containers;
  std::vector<std::string> nodes;  // where its pods may run (node affinity); empty: anywhere
};

enum class ProbeKind { kStartup, kLiveness, kReadiness };
std::string to_string(ProbeKind kind);

// ---- what the model asks of its host (the container runtime, the network, the trace) ----
// The kubelet of `node` creates the pod's sandbox; the host answers sandbox_ready().
struct RunSandbox {
  std::uint64_t pod;
  std::string node;
};
// Start the container; the host answers container_started() or container_start_failed(), and
// container_exited() whenever it ends. `slot` is the pod's place in its workload (the
// StatefulSet ordinal; for a Deployment the place of the pod it replaced), which lets the host
// run the same program for every pod of a slot.
struct StartContainer {
  std::uint64_t pod;
  std::string node;
  std::string workload;
  int slot;
  std::string container;
};
// SIGTERM (`kill` false) or SIGKILL the container's process.
struct SignalContainer {
  std::uint64_t pod;
  std::string node;
  std::string container;
  bool kill;
};
// Run a probe; the host answers probe_done() (a probe that gets no answer within `timeout`
// fails).
struct RunProbe {
  std::uint64_t pod;
  std::string node;
  std::string container;
  ProbeKind kind;
  Duration timeout;
  std::uint64_t instance;  // which start of the container it probes (echoed back)
};
// kube-proxy's rules now send the workload's service to these pods (ready, on nodes in
// service), as programmed on every node.
struct Endpoint {
  std::uint64_t pod;
  int slot;
  std::string node;
  auto operator<=>(const Endpoint&) const = default;
};
struct Endpoints {
  std::string workload;
  std::vector<Endpoint> ready;
};
// What the model did, for a trace ("kubelet n1: relist: app-0/server exited").
struct Log {
  std::string text;
};
using Effect = std::variant<RunSandbox, StartContainer, SignalContainer, RunProbe, Endpoints, Log>;

// The Kubernetes way of self-healing, as a sans-I/O model: each node's kubelet (PLEG relist,
// restarts with CrashLoopBackOff, probes, the termination grace period), the control plane
// (node leases and the node lifecycle controller's taint-based eviction, the ReplicaSet and
// StatefulSet controllers, the scheduler, EndpointSlices with readiness gating) and
// kube-proxy's rules. It reproduces the timing of each step that decides how long a service
// is out, as the parameters (parameters.h) set it; API server round trips (milliseconds) are
// taken as instant.
//
// Time comes in with every call; tick() at next_deadline() runs what is due. Every call
// returns the effects it caused. Deterministic; single-threaded.
class Cluster {
 public:
  // Every node is up from `now`; each workload's pods are created and scheduled at once.
  Cluster(Parameters parameters, std::vector<std::string> nodes, std::vector<Workload> workloads,
          TimePoint now);

  // ---- from the host ----
  std::vector<Effect> sandbox_ready(std::uint64_t pod, TimePoint now);
  std::vector<Effect> container_started(std::uint64_t pod, const std::string& container,
                                        TimePoint now);
  std::vector<Effect> container_start_failed(std::uint64_t pod, const std::string& container,
                                             TimePoint now);
  // The container's process ended (the runtime knows at once; the kubelet at its next relist,
  // unless it killed the container itself).
  std::vector<Effect> container_exited(std::uint64_t pod, const std::string& container,
                                       TimePoint now);
  // The probe `probe` (as RunProbe asked it) succeeded or failed.
  std::vector<Effect> probe_done(const RunProbe& probe, bool ok, TimePoint now);
  // The node crashed: its kubelet and containers are gone (the host ends the processes); it
  // renews its lease no more. A node that boots again runs a fresh kubelet, which starts what
  // is still bound to it and drops what was deleted meanwhile.
  // The pod's sandbox (its pause container, which holds its network) died. The kubelet notices
  // at its next relist, stops every container of the pod (SIGTERM, the grace period, SIGKILL),
  // then makes a new sandbox and starts them again.
  std::vector<Effect> sandbox_died(std::uint64_t pod, TimePoint now);
  std::vector<Effect> node_crashed(const std::string& node, TimePoint now);
  std::vector<Effect> node_booted(const std::string& node, TimePoint now);
  // An operator force-deletes the pod (kubectl delete --force --grace-period=0): it is gone
  // from the API at once, whatever its node says.
  std::vector<Effect> force_delete(std::uint64_t pod, TimePoint now);

  std::optional<TimePoint> next_deadline() const;
  std::vector<Effect> tick(TimePoint now);

  // ---- views ----
  struct ContainerView {
    std::string name;
    std::string state;  // waiting, starting, running, terminating, exited (as the kubelet has it)
    int restarts = 0;
    bool ready = false;
    std::optional<TimePoint> waiting_until;  // CrashLoopBackOff: the restart is not before
  };
  struct PodView {
    std::uint64_t uid = 0;
    std::string name;  // "web-0" for a StatefulSet, "web-<uid>" for a Deployment
    std::string workload;
    int slot = 0;
    std::string node;  // empty: pending (no node it may run on is ready)
    bool ready = false;
    bool deleting = false;  // has a deletion timestamp (Terminating)
    std::vector<ContainerView> containers;
  };
  std::vector<PodView> pods() const;
  std::optional<PodView> pod(std::uint64_t uid) const;
  // The node's condition as the control plane has it: Ready, or Unknown (and tainted
  // unreachable:NoExecute) once its lease is older than the grace period.
  bool node_ready(const std::string& node) const;
  const Parameters& parameters() const { return p_; }

 private:
  enum class State { kWaiting, kStarting, kRunning, kTerminating, kExited };
  struct Worker {  // a prober worker: ticks every period from the pod's arrival at the kubelet
    TimePoint next;
    bool triggered = false;  // probe at once, whatever the ticker (its phase stays)
    bool in_flight = false;
    int successes = 0;
    int failures = 0;
    bool result = false;
  };
  struct Container {
    std::string name;
    State state = State::kWaiting;
    bool runtime_running = false;  // the runtime's truth (the kubelet learns an exit by relist)
    std::optional<TimePoint> exited_at;  // the runtime's finish time, not yet relisted
    TimePoint started_at{};
    TimePoint finished_at{};
    int restarts = 0;
    bool ever_started = false;
    std::uint64_t instance = 0;           // starts so far
    std::optional<TimePoint> restart_at;  // in CrashLoopBackOff until then
    std::optional<TimePoint> kill_at;     // SIGKILL at the end of the grace period
    // client-go flowcontrol.Backoff's entry for the container.
    std::optional<Duration> backoff;
    TimePoint backoff_updated{};
    bool started_probe_ok = false;  // the startup probe succeeded (or there is none)
    std::optional<Worker> startup, liveness, readiness;
    bool ready() const;
  };
  struct Pod {
    std::uint64_t uid = 0;
    std::string workload;
    int slot = 0;
    std::string node;
    bool sandbox = false;                      // its sandbox runs
    bool sandbox_pending = false;              // asked for
    std::optional<TimePoint> sandbox_died_at;  // the runtime's truth, not yet relisted
    bool sandbox_lost = false;      // the kubelet stops the containers, then makes a new one
    bool deleting = false;          // deletion timestamp set (evicted, scaled away)
    bool marked_not_ready = false;  // the node lifecycle controller marked it (node Unknown)
    std::vector<Container> containers;
    bool ready() const;
  };
  struct Node {
    bool up = true;
    TimePoint booted{};
    TimePoint lease_renewed{};  // the last renewal (while up: the latest tick of the interval)
    // The node lifecycle controller's view: the last renewal it saw, and when it saw it (its
    // probeTimestamp, which the grace period and the pod eviction timeout count from).
    TimePoint seen_renewal{};
    TimePoint probe_timestamp{};
    bool ready = true;  // the control plane's condition
    std::optional<TimePoint> tainted_at;
  };

  using Out = std::vector<Effect>;
  void log(Out& out, std::string text) { out.push_back(Log{std::move(text)}); }
  std::string pod_name(const Pod& pod) const;
  // Nothing of the pod runs or is being started or stopped.
  static bool all_down(const Pod& pod);
  std::string who(const Pod& pod, const Container& c) const;
  Pod* find(std::uint64_t uid);
  Container* find(Pod& pod, const std::string& container);
  const Workload& workload(const std::string& name) const;

  // The kubelet.
  void relist(const std::string& node, TimePoint now, Out& out);
  void sync(Pod& pod, TimePoint now, Out& out);  // syncPod: start what should run
  void start(Pod& pod, Container& c, TimePoint now, Out& out);
  void exited(Pod& pod, Container& c, TimePoint finished, TimePoint now, Out& out);
  void stop(Pod& pod, Container& c, TimePoint now, Out& out, const std::string& why);
  void probe_tick(Pod& pod, Container& c, ProbeKind kind, Worker& w, TimePoint now, Out& out);
  const std::optional<Probe>& spec(ProbeKind kind) const;
  void reset_workers(Pod& pod, Container& c, TimePoint now);

  // The control plane.
  void reconcile(TimePoint now, Out& out);  // ReplicaSet/StatefulSet controllers + scheduler
  void monitor_nodes(TimePoint now, Out& out);
  // Taint-based: on every tick; before (taint_based_evictions false): on a monitoring pass.
  void evict(TimePoint now, bool monitor_pass, Out& out);
  void endpoints_changed(TimePoint now);
  void proxy_sync(TimePoint now, Out& out);
  TimePoint next_relist(const Node& n, TimePoint now) const;
  TimePoint last_renewal(const Node& n, TimePoint now) const;

  Parameters p_;
  std::vector<std::string> node_order_;
  std::map<std::string, Node> nodes_;
  std::vector<Workload> workloads_;
  std::map<std::uint64_t, Pod> pods_;
  std::uint64_t next_uid_ = 1;
  TimePoint start_;
  TimePoint next_monitor_;
  std::map<std::string, TimePoint> next_relist_;      // by up node
  std::map<std::uint64_t, TimePoint> next_pod_sync_;  // pods waiting out a back-off
  std::optional<TimePoint> proxy_due_;                // a kube-proxy sync is due
  std::optional<TimePoint> reconcile_due_;            // the controllers and the scheduler
  TimePoint last_proxy_sync_{};
  std::map<std::string, std::vector<Endpoint>> programmed_;
};

}  // namespace amf::kubernetes
