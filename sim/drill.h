#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amf/core/time.h"
#include "amf/model/config.h"
#include "sim/kubernetes.h"

namespace amf::sim {

// One fault, struck at the part that serves the SG when it strikes: under amf the component
// active for the SG's first SI (or its node), under Kubernetes the pod of kube-proxy's first
// endpoint (its first container, its sandbox, or its node).
// A crash loop: the component crashes, and its next `count` starts fail (the spawn fails or
// the program exits before it registers), as a program with a broken configuration does.
enum class DrillFault { kComponentCrash, kComponentHang, kSandboxDeath, kNodeCrash, kCrashLoop };
std::optional<DrillFault> parse_drill_fault(std::string_view text);
std::string to_string(DrillFault fault);

// A fault `at` after the warm-up ends (the first request measured; the client has been writing
// for 10 s already); it strikes at the first request at or after that time.
struct ScheduledFault {
  Duration at{0};
  DrillFault fault = DrillFault::kComponentCrash;
  int count = 1;  // kCrashLoop: the starts that fail
};

struct DrillSettings {
  SgId sg;  // the SG whose service the client uses (empty: the first SG)
  std::vector<ScheduledFault> faults{ScheduledFault{}};
  // The service settles before the fault, which strikes `warmup` plus a share of `jitter`
  // drawn from the seed after the start (the same instant under every controller): so that
  // runs of several seeds meet the periodic parts (relists, probes, leases) at every phase.
  Duration warmup = std::chrono::seconds(60);
  Duration jitter = std::chrono::seconds(10);
  Duration observe = std::chrono::minutes(10);  // the client runs on this long after it
  Duration request_interval = std::chrono::milliseconds(1);  // one request every ...
  std::uint64_t seed = 1;
};

// What the client saw. A request succeeds when it reaches a process that serves (amf: one
// that believes itself active for each SI of the SG, listens and is not hung; Kubernetes:
// KubernetesRun::served_fraction); it is sent at every interval and answered at once. The
// share that succeeds is, under amf, that of the SG's SIs served; under Kubernetes, that of
// kube-proxy's endpoints that work (a replica already out of the endpoints does not count
// against it, as its requests go to the others).
struct DrillOutcome {
  std::string controller;          // "amf (2n)", "kubernetes (defaults)"
  std::string inapplicable;        // why no fault has a meaning under this controller (else empty)
  std::vector<std::string> notes;  // faults skipped, and why ("+5.000s sandbox-death: ...")
  bool served_before = false;      // every request succeeded before the first fault
  // From the end of the warm-up to the first failed request, and to the end of the last outage
  // (nullopt: still out when the client stopped).
  std::optional<Duration> first_failure;
  std::optional<Duration> restored;
  Duration outage{0};  // the time no request succeeded
  std::uint64_t requests = 0;
  double failed_requests = 0;  // a share of each request when only some endpoints serve
  std::uint64_t restarts = 0;  // processes started after the warm-up
  // State, from when the client starts. Under amf: the counter of each SI in a synchronous
  // checkpoint (every SG but N-way-active ones), incremented by its active every 50 to 500 ms
  // (sim/checkpoints.cc); `writes` its acknowledged increments, `empty_starts` the new actives
  // whose read missed some. Under Kubernetes: each successful request is a write the serving
  // program acknowledges and holds; `empty_starts` the programs that started without their
  // predecessor's writes (no persistent volume), `writes_lost` those writes and the ones held
  // by a program that had not been replaced when the client stopped. `no_state`: why it was not
  // measured (amf in an N-way-active SG, which has no checkpoint).
  std::uint64_t writes = 0;
  std::uint64_t empty_starts = 0;
  std::optional<std::uint64_t> writes_lost;  // Kubernetes only
  std::string no_state;
  std::uint64_t reads = 0;  // amf: new actives that read their SI's counter
  std::string trace_tail;   // the run's last trace lines, for a report
};

// The drill under amf's cores in the simulator (Simulation, with checkpoints) and under the
// Kubernetes model (KubernetesRun with `options`), on the same configuration, fault and seed.
DrillOutcome drill_amf(std::shared_ptr<const model::ClusterConfig> config,
                       const DrillSettings& settings);
DrillOutcome drill_kubernetes(std::shared_ptr<const model::ClusterConfig> config,
                              const DrillSettings& settings, const KubernetesOptions& options);

}  // namespace amf::sim
