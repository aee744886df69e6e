#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/time.h"
#include "amf/model/config.h"
#include "models/kubernetes/cluster.h"
#include "sim/machines.h"
#include "sim/trace.h"

namespace amf::sim {

struct KubernetesOptions {
  kubernetes::Parameters parameters;
  kubernetes::Kind kind = kubernetes::Kind::kDeployment;
  // The simulated machines' latencies (a container's start, its program's start-up, SIGTERM
  // and SIGKILL), as amf's runs have them.
  Latencies latencies;
  // The container runtime makes a pod's sandbox (RunPodSandbox: the pause container, the
  // network) in this long. With scheduling and the container's start this is the pod start-up
  // the SLO bounds at 5 s at the 99th percentile (sig-scalability, pod_startup_latency.md).
  LatencyRange sandbox{std::chrono::milliseconds(500), std::chrono::milliseconds(1500)};
  // The container runtime creates and starts a container (CRI CreateContainer and
  // StartContainer) in this long before its program runs; the published measurement of a
  // container's restart under Kubernetes has 0.47 s for it (models/kubernetes/README.md).
  LatencyRange container_start{std::chrono::milliseconds(300), std::chrono::milliseconds(600)};
  // A probe's answer from a container that serves (an HTTP GET on loopback of the pod).
  LatencyRange probe_answer{std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  // The container's program is PID 1 without a SIGTERM handler, which the kernel does not end
  // on SIGTERM: every graceful stop lasts the whole grace period.
  bool pid1_ignores_sigterm = false;
  // The program keeps its state on a persistent volume that follows its pod (network storage,
  // every acknowledged write on it). Without one, a container that starts again starts empty:
  // the writes its predecessor acknowledged are lost.
  bool persistent_volume = false;
  std::function<void(const std::string&)> trace_sink;
};

// The Kubernetes reconciler model (models/kubernetes) run on the simulator's machines: the
// same simulated processes amf's runs have (sim/machines.h), started, signalled and probed by
// the kubelets of the model. Each SG of the configuration is a workload (a Deployment, or a
// StatefulSet) with as many replicas as the SG has SUs serving under AMF (2N: one), each pod
// running the components of the SU of its slot as its containers, on the SG's nodes.
// Deterministic: the same seed gives the same run.
class KubernetesRun : private Surroundings, private Controller {
 public:
  KubernetesRun(std::shared_ptr<const model::ClusterConfig> config, KubernetesOptions options,
                std::uint64_t seed);
  ~KubernetesRun() override;

  void run_until(TimePoint end);
  void run_for(Duration d) { run_until(now_ + d); }
  TimePoint now() const override { return now_; }

  // ---- faults on the pod that serves the SG (the first of its programmed endpoints) ----
  // The first component of that pod: crash (SIGSEGV) or hang; its sandbox dies (the pod's
  // network with it); its node crashes (and stays down).
  bool crash(const SgId& sg);
  bool hang(const SgId& sg);
  // The first component crashes and its next `count` starts fail (Machines::fail_starts).
  bool crash_loop(const SgId& sg, int count);
  bool kill_sandbox(const SgId& sg);
  bool crash_node(const SgId& sg);
  // The node of that pod, if any.
  std::optional<std::string> serving_node(const SgId& sg) const;

  // A request to the SG's service succeeds when kube-proxy sends it to an endpoint whose pod's
  // network is up and whose every container has a process that listens and is not hung.
  // The share of the SG's requests that succeed now (kube-proxy spreads them evenly over the
  // endpoints; 0 with none).
  double served_fraction(const SgId& sg) const;
  std::uint64_t starts() const { return machines_->starts(); }
  // A client's write: acknowledged by the program of the first endpoint that works (false:
  // none does). The program holds it in its state until it ends (or on its volume).
  bool write(const SgId& sg);
  struct StateLoss {
    std::uint64_t writes = 0;        // acknowledged
    std::uint64_t lost = 0;          // acknowledged, then gone with a program that started empty
    std::uint64_t empty_starts = 0;  // programs that started without writes acknowledged before
  };
  const StateLoss& state() const { return state_; }
  // When the client stops: the writes held by a program that ended and has not been replaced
  // (its pod never made again, or not yet) are lost too.
  void settle_state();
  const kubernetes::Cluster& cluster() const { return *k8s_; }
  const Trace& trace() const { return trace_; }

 private:
  struct SandboxReady {
    std::uint64_t pod;
  };
  struct ContainerCreated {
    kubernetes::StartContainer start;
  };
  struct ProbeAnswer {
    kubernetes::RunProbe probe;
    bool ok;
  };
  using Event = std::variant<MachineEvent, SandboxReady, ContainerCreated, ProbeAnswer>;

  // Surroundings
  Duration draw(const LatencyRange& range) override;
  std::uint64_t uniform(std::uint64_t n) override { return n <= 1 ? 0 : rng_() % n; }
  void schedule(Duration after, MachineEvent event) override { at(after, std::move(event)); }
  void line(std::string text) override { trace_.add(std::move(text)); }
  std::string header() const override;
  void disturbed() override {}
  void violate(std::string invariant, std::string message) override;
  // Controller: what the machines report goes to the kubelet of the node.
  void host_report(const NodeId& node, HostReport report) override;
  void component_message(const NodeId& node, ComponentMessage message) override;

  void at(Duration after, Event event);
  void apply(std::vector<kubernetes::Effect> effects);
  void created(const kubernetes::StartContainer& start);
  const CompId* owned(std::uint64_t pod, const std::string& container) const;
  std::optional<ProcessView> process_of(const CompId& comp) const;  // its current process
  // The first component of the pod of the SG's first endpoint, if its process is that pod's.
  std::optional<CompId> target(const SgId& sg) const;
  const model::SuConfig& su_of(const std::string& workload, int slot) const;
  // The pod that serves the SG now (the first programmed endpoint), and its SU.
  std::optional<kubernetes::Endpoint> endpoint(const SgId& sg) const;

  std::shared_ptr<const model::ClusterConfig> config_;
  KubernetesOptions options_;
  std::mt19937_64 rng_;
  TimePoint now_{};
  std::uint64_t steps_ = 0;
  std::uint64_t seq_ = 0;
  std::map<std::pair<TimePoint, std::uint64_t>, Event> queue_;
  Trace trace_;
  std::unique_ptr<Machines> machines_;
  std::unique_ptr<kubernetes::Cluster> k8s_;
  std::map<std::string, const model::SgConfig*> sg_of_workload_;
  std::map<std::string, std::vector<kubernetes::Endpoint>> endpoints_;  // as kube-proxy has them
  struct Running {  // the pod and container a component's process runs for, on which node
    std::uint64_t pod;
    std::string container;
    std::string node;
  };
  std::map<CompId, Running> running_;  // from the start asked of the machines to the exit
  std::map<CompId, kubernetes::StartContainer> waiting_;  // until the component's process ends
  std::set<std::uint64_t> network_down_;                  // pods whose sandbox died
  std::set<std::string> nodes_down_;
  std::map<CompId, std::uint64_t> held_;  // writes each component's program holds
  StateLoss state_;
  // Requests sent to endpoint `e` succeed (its pod's network and node are up, and each of its
  // components has a process of this pod that listens and is not hung).
  bool works(const SgId& sg, const kubernetes::Endpoint& e,
             const std::vector<ProcessView>& processes) const;
  // The first endpoint of the SG that works, and its first component.
  std::optional<std::pair<kubernetes::Endpoint, CompId>> working(const SgId& sg) const;
};

}  // namespace amf::sim
