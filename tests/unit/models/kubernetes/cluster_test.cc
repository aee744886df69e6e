// The Kubernetes model's behaviours, each against the timing Kubernetes documents: a small
// host here plays the container runtime (a sandbox in 1 s, a container in 0.5 s, SIGTERM
// obeyed in 0.1 s unless the process ignores it, SIGKILL in 10 ms, a probe answered in 5 ms
// unless the process hangs).
#include "models/kubernetes/cluster.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace amf::kubernetes {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint(seconds(1000));

double at(TimePoint t) { return std::chrono::duration<double>(t - kT0).count(); }

struct Process {
  bool running = false;
  bool hung = false;
  bool ignores_sigterm = false;
  int generation = 0;
};

class Host {
 public:
  Host(Parameters p, std::vector<std::string> nodes, std::vector<Workload> workloads)
      : k(std::move(p), nodes, std::move(workloads), kT0) {}

  Cluster k;
  TimePoint now = kT0;
  std::map<std::string, Process> procs;                        // by "uid/container"
  std::map<std::string, std::optional<Duration>> crash_after;  // by container name: crash loops
  std::map<std::string, bool> hang_from_start;                 // by container name
  std::map<std::string, int> failed_starts;                    // by container name: to come
  Duration start_delay = milliseconds(500);
  std::vector<std::pair<TimePoint, std::vector<Endpoint>>> endpoints;
  std::vector<std::pair<TimePoint, std::string>> starts;  // container starts asked for
  std::vector<std::pair<TimePoint, bool>> signals;        // kill?
  std::vector<std::string> lines;
  bool verbose = false;

  static std::string key(std::uint64_t pod, const std::string& c) {
    return std::to_string(pod) + "/" + c;
  }

  void later(Duration d, std::function<void()> f) { events_.emplace(now + d, std::move(f)); }

  void apply(std::vector<Effect> effects) {
    for (Effect& e : effects) {
      if (auto* s = std::get_if<RunSandbox>(&e)) {
        later(seconds(1), [this, pod = s->pod] { apply(k.sandbox_ready(pod, now)); });
      } else if (auto* s = std::get_if<StartContainer>(&e)) {
        starts.emplace_back(now, s->node);
        const std::string id = key(s->pod, s->container);
        if (failed_starts[s->container] > 0) {
          --failed_starts[s->container];
          later(milliseconds(10), [this, pod = s->pod, c = s->container] {
            apply(k.container_start_failed(pod, c, now));
          });
          continue;
        }
        later(start_delay, [this, id, pod = s->pod, c = s->container] {
          Process& p = procs[id];
          p = Process{true, hang_from_start[c], p.ignores_sigterm, p.generation + 1};
          apply(k.container_started(pod, c, now));
          if (auto after = crash_after[c]) {
            later(*after, [this, id, pod, c, g = p.generation] {
              if (procs[id].running && procs[id].generation == g) exit(pod, c);
            });
          }
        });
      } else if (auto* s = std::get_if<SignalContainer>(&e)) {
        signals.emplace_back(now, s->kill);
        const std::string id = key(s->pod, s->container);
        const Process& p = procs[id];
        if (!p.running || (!s->kill && (p.hung || p.ignores_sigterm))) continue;
        later(s->kill ? milliseconds(10) : milliseconds(100),
              [this, id, pod = s->pod, c = s->container, g = p.generation] {
                if (procs[id].running && procs[id].generation == g) exit(pod, c);
              });
      } else if (auto* s = std::get_if<RunProbe>(&e)) {
        const Process& p = procs[key(s->pod, s->container)];
        const bool ok = p.running && !p.hung;
        later(ok ? milliseconds(5) : s->timeout,
              [this, s = *s, ok] { apply(k.probe_done(s, ok, now)); });
      } else if (auto* s = std::get_if<Endpoints>(&e)) {
        endpoints.emplace_back(now, s->ready);
      } else if (auto* s = std::get_if<Log>(&e)) {
        lines.push_back(std::to_string(at(now)) + " " + s->text);
        if (verbose) std::cerr << lines.back() << "\n";
      }
    }
  }

  void exit(std::uint64_t pod, const std::string& c) {
    procs[key(pod, c)].running = false;
    apply(k.container_exited(pod, c, now));
  }

  void run_until(TimePoint end) {
    for (int steps = 0;; ++steps) {
      if (steps == 1'000'000) {
        ADD_FAILURE() << "a million steps before " << at(end) << " s: time does not advance";
        break;
      }
      std::optional<TimePoint> next = k.next_deadline();
      const bool event = !events_.empty() && (!next || events_.begin()->first <= *next);
      if (event) next = events_.begin()->first;
      if (!next || *next > end) break;
      now = std::max(now, *next);
      if (event) {
        auto f = std::move(events_.begin()->second);
        events_.erase(events_.begin());
        f();
      } else {
        apply(k.tick(now));
      }
    }
    now = end;
  }
  void run_for(Duration d) { run_until(now + d); }

  // The only pod of the workload, and its process.
  Cluster::PodView only_pod() {
    auto pods = k.pods();
    EXPECT_EQ(pods.size(), 1u);
    return pods.front();
  }
  Process& process(const Cluster::PodView& pod) {
    return procs[key(pod.uid, pod.containers.front().name)];
  }
  // When kube-proxy last changed the workload's endpoints, and to how many.
  std::pair<TimePoint, std::size_t> last_endpoints() const {
    return {endpoints.back().first, endpoints.back().second.size()};
  }

 private:
  std::multimap<TimePoint, std::function<void()>> events_;
};

Workload web(Kind kind = Kind::kDeployment, int replicas = 1) {
  return Workload{"web", kind, replicas, {"server"}, {}};
}

TEST(KubernetesModel, APodStartsAndKubeProxySendsTrafficToIt) {
  Host h(Parameters::defaults(), {"n1", "n2"}, {web()});
  h.run_for(seconds(5));
  const auto pod = h.only_pod();
  EXPECT_EQ(pod.node, "n1");
  EXPECT_TRUE(pod.ready);
  ASSERT_EQ(h.endpoints.size(), 1u);
  // Sandbox 1 s, container 0.5 s; no readiness probe: ready once running; kube-proxy's first
  // sync is not held back.
  EXPECT_DOUBLE_EQ(at(h.endpoints[0].first), 1.5);
  EXPECT_EQ(h.endpoints[0].second.size(), 1u);
}

TEST(KubernetesModel, AnExitIsNoticedAtTheNextRelistAndTheFirstRestartIsImmediate) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.run_until(kT0 + milliseconds(20'300));
  const auto pod = h.only_pod();
  h.exit(pod.uid, "server");
  h.run_until(kT0 + seconds(30));
  // Relists tick every second from the kubelet's start: the exit at 20.3 s is seen at 21 s,
  // and the container is started again at once (no back-off for a first crash).
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.starts[1].first), 21.0);
  EXPECT_EQ(h.only_pod().containers[0].restarts, 1);
  // Out of the endpoints from the relist (plus kube-proxy's minimum sync period after its last
  // sync at 1.5 s: long past), back once running again.
  ASSERT_GE(h.endpoints.size(), 3u);
  EXPECT_DOUBLE_EQ(at(h.endpoints[1].first), 21.0);
  EXPECT_TRUE(h.endpoints[1].second.empty());
  EXPECT_DOUBLE_EQ(at(h.endpoints[2].first), 22.0);  // 21.5 running, held to 1 s after 21.0
}

TEST(KubernetesModel, ACrashLoopWaitsTenSecondsThenDoublesUpToFiveMinutes) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.crash_after["server"] = milliseconds(100);  // every start crashes at once
  h.run_for(seconds(1800));
  std::vector<double> gaps;  // from each crash's finish to the next start
  for (std::size_t i = 1; i < h.starts.size(); ++i) {
    gaps.push_back(at(h.starts[i].first) - (at(h.starts[i - 1].first) + 0.6));
  }
  ASSERT_GE(gaps.size(), 8u);
  // The first restart comes with the next relist; then the back-off (10, 20, 40, 80, 160,
  // 300, 300 s), each rounded up to the pod worker's next sync (every 10 s while it waits) and
  // its relist.
  EXPECT_LT(gaps[0], 1.0);
  const double backoff[] = {10, 20, 40, 80, 160, 300, 300};
  for (int i = 0; i < 7; ++i) {
    EXPECT_GE(gaps[i + 1], backoff[i]) << "restart " << i + 2;
    EXPECT_LT(gaps[i + 1], backoff[i] + 11.0) << "restart " << i + 2;
  }
  EXPECT_EQ(h.only_pod().containers[0].restarts, static_cast<int>(h.starts.size()) - 1);
}

TEST(KubernetesModel, TheBackOffStartsOverAfterTenMinutesOfRunning) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.crash_after["server"] = milliseconds(100);
  h.run_for(seconds(100));  // crash-looping: the back-off has grown past 20 s
  const std::size_t looping = h.starts.size();
  h.crash_after["server"] = seconds(700);  // the next start runs for 11 minutes, then crashes
  h.run_for(seconds(1000));
  ASSERT_GE(h.starts.size(), looping + 2);
  const auto crash = h.starts[looping].first + milliseconds(500) + seconds(700);
  const double gap = at(h.starts[looping + 1].first) - at(crash);
  EXPECT_LT(gap, 1.0) << "a container that ran for 10 minutes restarts at once";
}

TEST(KubernetesModel, AContainerThatFailsToStartIsRetriedWithTheSameBackOff) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.failed_starts["server"] = 2;
  h.run_for(seconds(60));
  // The sandbox at 1 s; the first start fails, the second is at once (no back-off entry yet),
  // fails too, and the third waits out 10 s (and the pod worker's next sync).
  ASSERT_EQ(h.starts.size(), 3u);
  EXPECT_DOUBLE_EQ(at(h.starts[0].first), 1.0);
  EXPECT_DOUBLE_EQ(at(h.starts[1].first), 1.01);
  EXPECT_GE(at(h.starts[2].first), 11.02);
  EXPECT_LT(at(h.starts[2].first), 12.1);
  EXPECT_TRUE(h.only_pod().ready);
}

TEST(KubernetesModel, ReplicasGoToDifferentNodesAndAPodWithNoReadyNodeWaits) {
  Workload w = web(Kind::kDeployment, 3);
  Host spread(Parameters::defaults(), {"n1", "n2", "n3"}, {w});
  spread.run_for(seconds(5));
  std::set<std::string> nodes;
  for (const auto& pod : spread.k.pods()) nodes.insert(pod.node);
  EXPECT_EQ(nodes, (std::set<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(spread.endpoints.back().second.size(), 3u);

  Workload pinned = web();
  pinned.nodes = {"n1"};  // node affinity: n1 only
  Host h(Parameters::defaults(), {"n1", "n2"}, {pinned});
  h.run_until(kT0 + seconds(100));
  h.procs.clear();
  h.apply(h.k.node_crashed("n1", h.now));
  h.run_until(kT0 + seconds(600));
  EXPECT_EQ(h.starts.size(), 1u) << "the replacement may not go to n2";
  const auto pods = h.k.pods();
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_TRUE(pods[1].node.empty()) << "pending";
}

TEST(KubernetesModel, AnEvictionThatFindsItsNodeBackStopsThePodThere) {
  Parameters p;
  p.default_unreachable_toleration_seconds = seconds(302);  // evicted at 457 s, between passes
  Host h(p, {"n1", "n2"}, {web()});
  h.run_until(kT0 + seconds(100));
  const auto old = h.only_pod();
  h.procs.clear();
  h.apply(h.k.node_crashed("n1", h.now));
  h.run_until(kT0 + seconds(456));
  h.apply(h.k.node_booted("n1", h.now));  // its kubelet starts the pod again at once
  h.run_until(kT0 + seconds(500));
  // Tainted at 155 s; at 457 s the taint manager evicts the pod its kubelet is starting again
  // (sandbox at 457 s): the kubelet stops the container (SIGTERM at 457 s, and again once it
  // runs, at 457.5 s, which it obeys), the pod goes, and its replacement goes to n2 (n1 stays
  // tainted until the pass of 460 s).
  ASSERT_EQ(h.signals.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.signals[0].first), 457.0);
  EXPECT_DOUBLE_EQ(at(h.signals[1].first), 457.5);
  EXPECT_FALSE(h.k.pod(old.uid)) << "deleted once its container stopped";
  const auto pod = h.only_pod();
  EXPECT_EQ(pod.node, "n2");
  EXPECT_TRUE(pod.ready);
}

TEST(KubernetesModel, ASandboxThatDiesWhileItsContainerStartsStillGetsANewOne) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.start_delay = seconds(3);  // the container runs at 4 s
  h.run_until(kT0 + milliseconds(1'200));
  h.apply(h.k.sandbox_died(h.only_pod().uid, h.now));
  h.run_until(kT0 + seconds(30));
  // The relist of 2 s stops the starting container; once it runs (4 s) it is told to stop, it
  // exits at 4.1 s, and the pod gets a new sandbox (5.1 s) and its container again (8.1 s).
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_NEAR(at(h.starts[1].first), 5.1, 1e-9);
  EXPECT_TRUE(h.only_pod().ready);
  EXPECT_EQ(h.only_pod().containers[0].restarts, 1);
}

TEST(KubernetesModel, ALivenessProbeKillsAHungContainerAfterThreeFailuresAndTheGracePeriod) {
  Parameters p;
  p.liveness_probe = Probe{};
  Host h(p, {"n1"}, {web()});
  h.run_until(kT0 + seconds(30));
  h.process(h.only_pod()).hung = true;  // answers no probe, ignores SIGTERM
  h.run_until(kT0 + seconds(150));
  // Probes at 0, 10, 20, 30 ... s (from the pod's arrival at the kubelet; the one of 30 s
  // passed just before the hang): those of 40, 50 and 60 s fail, each at its 1 s timeout: the
  // third at 61 s.
  ASSERT_GE(h.signals.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.signals[0].first), 61.0);
  EXPECT_FALSE(h.signals[0].second);               // SIGTERM
  EXPECT_DOUBLE_EQ(at(h.signals[1].first), 91.0);  // 30 s later, SIGKILL
  EXPECT_TRUE(h.signals[1].second);
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_NEAR(at(h.starts[1].first), 91.01, 1e-9);  // the kubelet knows of its own kill
  // In the endpoints while hung, until the liveness kill (no readiness probe).
  EXPECT_DOUBLE_EQ(at(h.endpoints[1].first), 61.0);
  EXPECT_TRUE(h.endpoints[1].second.empty());
}

TEST(KubernetesModel, AReadinessProbeGatesTheEndpointsAndAFailedOneTakesThePodOut) {
  Parameters p;
  p.readiness_probe = Probe{};
  p.readiness_probe->initial_delay_seconds = seconds(5);
  Host h(p, {"n1"}, {web()});
  h.run_for(seconds(30));
  // Running at 1.5 s; probes tick at 0, 10, 20 s; the first past the 5 s initial delay is at
  // 10 s: only then is the pod ready.
  ASSERT_FALSE(h.endpoints.empty());
  EXPECT_NEAR(at(h.endpoints[0].first), 10.005, 1e-9);
  h.process(h.only_pod()).hung = true;
  h.run_for(seconds(40));
  // Fails at 40, 50, 60 s (each at its 1 s timeout): not ready after the third, at 61 s.
  EXPECT_DOUBLE_EQ(at(h.endpoints.back().first), 61.0);
  EXPECT_TRUE(h.endpoints.back().second.empty());
  EXPECT_FALSE(h.only_pod().ready);
  EXPECT_EQ(h.starts.size(), 1u) << "readiness never restarts a container";
}

TEST(KubernetesModel, NoLivenessProbeRunsBeforeTheStartupProbeSucceeds) {
  Parameters p;
  p.liveness_probe = Probe{};
  p.liveness_probe->failure_threshold = 1;
  Probe startup;
  startup.period_seconds = seconds(2);
  startup.failure_threshold = 5;
  p.startup_probe = startup;
  p.termination_grace_period_seconds = seconds(2);
  Host h(p, {"n1"}, {web()});
  h.hang_from_start["server"] = true;  // never answers a probe
  h.run_for(seconds(40));
  // The startup probe fails five times (at 2, 4 ... s, each at its 1 s timeout) and the
  // kubelet kills the container; the liveness probe, which would have killed it at its first
  // failure, never ran.
  auto has = [&](const std::string& text) {
    return std::any_of(h.lines.begin(), h.lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("startup probe failed: SIGTERM"));
  EXPECT_FALSE(has("liveness probe"));
  EXPECT_GE(h.starts.size(), 2u);
  EXPECT_TRUE(h.endpoints.empty()) << "never ready";
  // A container that starts up answers: the startup probe passes, liveness takes over.
  h.hang_from_start["server"] = false;
  h.run_for(seconds(120));
  EXPECT_TRUE(h.only_pod().ready);
  h.process(h.only_pod()).hung = true;
  h.run_for(seconds(60));
  EXPECT_TRUE(has("liveness probe failed: SIGTERM"));
}

TEST(KubernetesModel, ADeadNodeIsUnknownAfterTheGracePeriodAndItsPodsAreEvictedAfterTheToleration) {
  Host h(Parameters::defaults(), {"n1", "n2"}, {web()});
  h.run_until(kT0 + seconds(100));
  ASSERT_EQ(h.only_pod().node, "n1");
  h.procs.clear();  // the node's processes die with it
  h.apply(h.k.node_crashed("n1", h.now));
  h.run_until(kT0 + seconds(120));
  EXPECT_TRUE(h.k.node_ready("n1")) << "a lease renewed at 100 s is good until 150 s";
  EXPECT_EQ(h.endpoints.size(), 1u) << "kube-proxy still sends traffic to the dead pod";
  h.run_until(kT0 + seconds(200));
  // Last renewal at 100 s; the monitor (every 5 s) finds it older than 50 s at 155 s.
  EXPECT_FALSE(h.k.node_ready("n1"));
  ASSERT_EQ(h.endpoints.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.endpoints[1].first), 155.0);
  EXPECT_TRUE(h.endpoints[1].second.empty());
  h.run_until(kT0 + seconds(500));
  // Tainted at 155 s, evicted 300 s later; the ReplicaSet's new pod goes to n2 at once.
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.starts[1].first), 456.0);  // 455 s + the 1 s sandbox
  EXPECT_EQ(h.starts[1].second, "n2");
  EXPECT_DOUBLE_EQ(at(h.endpoints.back().first), 456.5);
  EXPECT_EQ(h.endpoints.back().second.size(), 1u);
  // The evicted pod stays Terminating: its kubelet cannot confirm.
  EXPECT_EQ(h.k.pods().size(), 2u);
  h.apply(h.k.node_booted("n1", h.now));
  h.run_for(seconds(10));
  EXPECT_EQ(h.k.pods().size(), 1u) << "the rebooted kubelet drops the deleted pod";
  EXPECT_TRUE(h.k.node_ready("n1"));
}

TEST(KubernetesModel, BeforeTaintBasedEvictionsPodsWentFiveMinutesAfterTheLastHeartbeat) {
  Host h(Parameters::before_taint_eviction(), {"n1", "n2"}, {web()});
  h.run_until(kT0 + seconds(103));
  h.procs.clear();
  h.apply(h.k.node_crashed("n1", h.now));
  h.run_until(kT0 + seconds(500));
  // Last heartbeat at 100 s; Unknown at the pass of 145 s (older than 40 s); evicted at the
  // first pass after 400 s (strictly after, as decisionTimestamp.After() has it); the new
  // pod's sandbox takes 1 s.
  ASSERT_GE(h.endpoints.size(), 3u);
  EXPECT_DOUBLE_EQ(at(h.endpoints[1].first), 145.0);
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.starts[1].first), 406.0);
  EXPECT_EQ(h.starts[1].second, "n2");
}

TEST(KubernetesModel, AStatefulSetPodOnADeadNodeIsNotReplacedUntilItIsForceDeleted) {
  Host h(Parameters::defaults(), {"n1", "n2"}, {web(Kind::kStatefulSet)});
  h.run_until(kT0 + seconds(100));
  const auto pod = h.only_pod();
  EXPECT_EQ(pod.name, "web-0");
  h.procs.clear();
  h.apply(h.k.node_crashed("n1", h.now));
  h.run_until(kT0 + seconds(1000));
  EXPECT_EQ(h.starts.size(), 1u) << "web-0 is Terminating on n1 and is not made again";
  ASSERT_EQ(h.k.pods().size(), 1u);
  EXPECT_TRUE(h.k.pods()[0].deleting);
  EXPECT_TRUE(h.endpoints.back().second.empty());
  h.apply(h.k.force_delete(pod.uid, h.now));
  h.run_for(seconds(10));
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_EQ(h.starts[1].second, "n2");
  EXPECT_EQ(h.only_pod().name, "web-0");
  EXPECT_TRUE(h.only_pod().ready);
}

TEST(KubernetesModel, ADeadSandboxStopsTheContainersWithTheirGracePeriodThenStartsThemAgain) {
  Host h(Parameters::defaults(), {"n1"}, {web()});
  h.run_until(kT0 + milliseconds(10'500));
  const auto pod = h.only_pod();
  h.process(pod).ignores_sigterm = true;  // PID 1 without a handler for SIGTERM
  h.apply(h.k.sandbox_died(pod.uid, h.now));
  h.run_until(kT0 + seconds(60));
  // Relist at 11 s: SIGTERM; SIGKILL at 41 s; a new sandbox (1 s), the container at 42 s.
  ASSERT_EQ(h.signals.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.signals[0].first), 11.0);
  EXPECT_DOUBLE_EQ(at(h.signals[1].first), 41.0);
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_NEAR(at(h.starts[1].first), 42.01, 1e-9);
  EXPECT_TRUE(h.only_pod().ready);
}

TEST(KubernetesModel, TheTunedProfileShortensEveryStep) {
  Host h(Parameters::tuned(), {"n1", "n2"}, {web()});
  h.run_until(kT0 + seconds(20));
  ASSERT_FALSE(h.endpoints.empty());
  h.procs.clear();
  h.apply(h.k.node_crashed(h.only_pod().node, h.now));
  h.run_until(kT0 + seconds(120));
  // Renewed at 20 s; older than 16 s at the 2 s monitor tick of 38 s; evicted 30 s after; a
  // new pod with its readiness probe (every second).
  ASSERT_EQ(h.starts.size(), 2u);
  EXPECT_DOUBLE_EQ(at(h.starts[1].first), 69.0);
  EXPECT_LT(at(h.endpoints.back().first), 71.0);
  EXPECT_EQ(h.endpoints.back().second.size(), 1u);
}

}  // namespace
}  // namespace amf::kubernetes
