// The Kubernetes model run on the simulator's machines (KubernetesRun) and the drills that
// compare it with amf: each behaviour of models/kubernetes seen end to end, by the client.
#include "sim/kubernetes.h"

#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/drill.h"

namespace amf::sim {
namespace {

using namespace std::chrono_literals;

const SgId kSg("app");

// A 2N SG whose three SUs may run on three nodes, health-checked every second under amf.
std::shared_ptr<const model::ClusterConfig> three_nodes() {
  SgSpec sg;
  sg.sus = 3;
  sg.inservice_sus = 2;
  sg.health = SgSpec::Health::kAmfInvoked;
  sg.health_period = 1'000ms;
  sg.health_max_duration = 500ms;
  return build({"k8s", 3, {sg}});
}

KubernetesOptions profile(const kubernetes::Parameters& p) {
  KubernetesOptions o;
  o.parameters = p;
  return o;
}

DrillSettings drill(DrillFault fault, std::uint64_t seed = 1, Duration observe = 10min) {
  DrillSettings s;
  s.sg = kSg;
  s.faults = {ScheduledFault{Duration(0), fault}};
  s.seed = seed;
  s.observe = observe;
  s.request_interval = 10ms;
  return s;
}

// When the service was whole again, in seconds after the fault: 0 when no request failed, and
// far past any bound when it was still out at the end.
double restored(const DrillOutcome& o) {
  if (!o.first_failure) return 0;
  if (!o.restored) return 1e9;
  return std::chrono::duration<double>(*o.restored).count();
}

TEST(SimKubernetesTest, ACrashedContainerIsBackAfterTheRelistTheRestartAndKubeProxysSync) {
  auto config = three_nodes();
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto k8s = drill_kubernetes(config, drill(DrillFault::kComponentCrash, seed, 1min),
                                      profile(kubernetes::Parameters::defaults()));
    ASSERT_TRUE(k8s.served_before);
    // The exit is seen at the next relist (within 1 s), the container runs again 0.3 to 0.6 s
    // later plus its start-up, and kube-proxy programs it no sooner than 1 s after it took the
    // endpoint out.
    ASSERT_TRUE(k8s.first_failure) << "seed " << seed;
    EXPECT_GE(restored(k8s), 1.0) << "seed " << seed;
    EXPECT_LE(restored(k8s), 2.1) << "seed " << seed;
    EXPECT_EQ(k8s.restarts, 1u);
    const auto amf = drill_amf(config, drill(DrillFault::kComponentCrash, seed, 1min));
    ASSERT_TRUE(amf.served_before);
    EXPECT_LT(restored(amf), 0.1) << "the standby takes over (simulated latencies)";
  }
}

TEST(SimKubernetesTest, AContainerThatKeepsCrashingWaitsOutADoublingBackOff) {
  KubernetesRun run(three_nodes(), profile(kubernetes::Parameters::defaults()), 3);
  run.run_for(30s);
  std::vector<double> outages;
  for (int crash = 0; crash < 4; ++crash) {
    ASSERT_EQ(run.served_fraction(kSg), 1.0);
    ASSERT_TRUE(run.crash(kSg));
    const TimePoint struck = run.now();
    run.run_for(1ms);  // the process ends in the next step
    ASSERT_EQ(run.served_fraction(kSg), 0.0);
    while (run.served_fraction(kSg) < 1.0 && run.now() - struck < 10min) run.run_for(10ms);
    outages.push_back(std::chrono::duration<double>(run.now() - struck).count());
  }
  // Each crash comes at once after the last restart: immediate restart, then 10, 20, 40 s of
  // CrashLoopBackOff (plus the pod worker's next sync, every 10 s while it waits).
  EXPECT_GE(outages[0], 1.0);
  EXPECT_LT(outages[0], 2.1);
  EXPECT_GE(outages[1], 10.0);
  EXPECT_LT(outages[1], 22.0);
  EXPECT_GE(outages[2], 20.0);
  EXPECT_LT(outages[2], 32.0);
  EXPECT_GE(outages[3], 40.0);
  EXPECT_LT(outages[3], 52.0);
}

TEST(SimKubernetesTest, AHungContainerIsNeverRecoveredWithoutALivenessProbe) {
  auto config = three_nodes();
  const auto defaults = drill_kubernetes(config, drill(DrillFault::kComponentHang, 1, 5min),
                                         profile(kubernetes::Parameters::defaults()));
  EXPECT_FALSE(defaults.restored) << "no probe: kube-proxy keeps sending to the hung pod";
  EXPECT_EQ(defaults.outage, 5min);
  EXPECT_EQ(defaults.restarts, 0u);
  // Tuned: liveness every second, one failure, SIGTERM ignored by the hung process, SIGKILL
  // after the 1 s grace period, the restart, the startup and readiness probes.
  const auto tuned = drill_kubernetes(config, drill(DrillFault::kComponentHang, 1, 5min),
                                      profile(kubernetes::Parameters::tuned()));
  EXPECT_GT(restored(tuned), 2.0);
  EXPECT_LT(restored(tuned), 6.0);
  EXPECT_EQ(tuned.restarts, 1u);
  // amf's health check (every second, 500 ms to answer) fails the hung active over.
  const auto amf = drill_amf(config, drill(DrillFault::kComponentHang, 1, 5min));
  EXPECT_LT(restored(amf), 1.6);
}

TEST(SimKubernetesTest, APodServesOnlyOnceItsReadinessProbeSucceeded) {
  KubernetesRun run(three_nodes(), profile(kubernetes::Parameters::tuned()), 5);
  std::optional<TimePoint> listening, served;
  while (!served && run.now() < TimePoint(30s)) {
    run.run_for(1ms);
    if (!listening && run.trace().tail(400).find("registers") != std::string::npos) {
      listening = run.now();
    }
    if (run.served_fraction(kSg) > 0) served = run.now();
  }
  ASSERT_TRUE(listening && served);
  // The startup probe ticks every second from the pod's arrival: the first after the program
  // listens passes, readiness is probed at once, and kube-proxy syncs at once (tuned).
  EXPECT_GT(*served - *listening, 0ms);
  EXPECT_LE(*served - *listening, 1'100ms);
  EXPECT_NE(run.trace().tail(400).find("kube-proxy: app ->"), std::string::npos);
}

TEST(SimKubernetesTest, ADeadNodesPodIsReplacedAfterTheGracePeriodAndTheToleration) {
  auto config = three_nodes();
  const auto defaults = drill_kubernetes(config, drill(DrillFault::kNodeCrash),
                                         profile(kubernetes::Parameters::defaults()));
  // Unknown after the 50 s grace period (checked every 5 s), evicted 300 s after the taint,
  // the new pod started on another node.
  EXPECT_GE(restored(defaults), 340.0);
  EXPECT_LE(restored(defaults), 362.0);
  EXPECT_EQ(defaults.restarts, 1u);
  const auto tuned = drill_kubernetes(config, drill(DrillFault::kNodeCrash),
                                      profile(kubernetes::Parameters::tuned()));
  EXPECT_GE(restored(tuned), 44.0);  // 16 s + 2 s + 30 s, less the lease's age
  EXPECT_LE(restored(tuned), 55.0);
  const auto amf = drill_amf(config, drill(DrillFault::kNodeCrash));
  EXPECT_LT(restored(amf), 0.1) << "detection (10 to 30 ms simulated), then the standby";
}

TEST(SimKubernetesTest, AStatefulSetPodOnADeadNodeIsNotReplaced) {
  auto options = profile(kubernetes::Parameters::tuned());
  options.kind = kubernetes::Kind::kStatefulSet;
  const auto run = drill_kubernetes(three_nodes(), drill(DrillFault::kNodeCrash), options);
  EXPECT_TRUE(run.served_before);
  ASSERT_TRUE(run.first_failure) << "the node crash struck";
  EXPECT_FALSE(run.restored) << "app-0 stays Terminating on the dead node";
  EXPECT_EQ(run.outage, 10min) << "out from the crash to the end";
  EXPECT_EQ(run.restarts, 0u);
}

TEST(SimKubernetesTest, ADeadSandboxCostsTheGracePeriodWhenThProgramIgnoresSigterm) {
  auto config = three_nodes();
  auto options = profile(kubernetes::Parameters::defaults());
  const auto obeys = drill_kubernetes(config, drill(DrillFault::kSandboxDeath, 1, 2min), options);
  ASSERT_TRUE(obeys.first_failure) << "the pod's network went with its sandbox";
  EXPECT_LT(restored(obeys), 4.5);
  options.pid1_ignores_sigterm = true;
  const auto pid1 = drill_kubernetes(config, drill(DrillFault::kSandboxDeath, 1, 2min), options);
  EXPECT_GE(restored(pid1), 31.0);  // the relist, 30 s of grace, a new sandbox, the start
  EXPECT_LE(restored(pid1), 35.0);
  EXPECT_EQ(drill_amf(config, drill(DrillFault::kSandboxDeath)).inapplicable,
            "amf runs no sandbox");
}

TEST(SimKubernetesTest, ARestartedProgramStartsEmptyUnlessItsStateIsOnAVolume) {
  auto config = three_nodes();
  auto options = profile(kubernetes::Parameters::defaults());
  const auto empty = drill_kubernetes(config, drill(DrillFault::kComponentCrash, 1, 1min), options);
  // The client wrote for 10 s before the crash (every 10 ms): those writes went with the
  // program; the restarted one serves from nothing.
  EXPECT_EQ(empty.empty_starts, 1u);
  ASSERT_TRUE(empty.writes_lost);
  EXPECT_EQ(*empty.writes_lost, 1'000u);
  EXPECT_GT(empty.writes, 6'000u);
  options.persistent_volume = true;
  const auto kept = drill_kubernetes(config, drill(DrillFault::kComponentCrash, 1, 1min), options);
  EXPECT_EQ(kept.empty_starts, 0u);
  EXPECT_EQ(kept.writes_lost, 0u);
  // amf: the standby's replica of the SI's checkpoint holds every acknowledged increment.
  const auto amf = drill_amf(config, drill(DrillFault::kNodeCrash, 1, 1min));
  EXPECT_GT(amf.writes, 0u);
  EXPECT_GE(amf.reads, 1u) << "the standby read the counter when it became active";
  EXPECT_EQ(amf.empty_starts, 0u);
}

TEST(SimKubernetesTest, AServiceNotWholeWhenTheWarmUpEndsIsRestoredOnceItIs) {
  DrillSettings s = drill(DrillFault::kComponentCrash, 1, 30s);
  s.warmup = 1ms;  // the pod is not running yet: the crash finds nothing to strike
  s.jitter = Duration(0);
  const auto run = drill_kubernetes(three_nodes(), s, profile(kubernetes::Parameters::defaults()));
  EXPECT_FALSE(run.served_before);
  ASSERT_EQ(run.notes.size(), 1u);
  EXPECT_NE(run.notes[0].find("no pod serving to strike"), std::string::npos) << run.notes[0];
  EXPECT_GT(restored(run), 0.5) << "the sandbox and the container take that long";
  EXPECT_LT(restored(run), 5.0);
}

TEST(SimKubernetesTest, TheSameSeedGivesTheSameRun) {
  auto config = three_nodes();
  auto once = [&](std::uint64_t seed) {
    KubernetesRun run(config, profile(kubernetes::Parameters::tuned()), seed);
    run.run_for(20s);
    run.crash_node(kSg);
    run.run_for(2min);
    return run.trace().hash();
  };
  EXPECT_EQ(once(7), once(7));
  EXPECT_NE(once(7), once(8));
}

}  // namespace
}  // namespace amf::sim
