#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "amf/core/time.h"

namespace amf::kubernetes {

using std::chrono::seconds;

// A container probe (core/v1 Probe), with the API server's defaults (pkg/apis/core/v1/
// defaults.go, SetDefaults_Probe). Liveness and startup probes take a success threshold of 1
// only.
struct Probe {
  Duration initial_delay_seconds{0};
  Duration period_seconds = seconds(10);
  Duration timeout_seconds = seconds(1);
  int success_threshold = 1;
  int failure_threshold = 3;
};

// Every setting of the model, named as Kubernetes names it. The defaults, and where each is
// defined, are in models/kubernetes/README.md; tuned() is the shortest settings operators
// commonly run.
struct Parameters {
  std::string profile = "defaults";

  // ---- the kubelet ----
  // The generic PLEG relists the containers this often: an exit is noticed at the next relist
  // (kubelet.go, genericPlegRelistPeriod).
  Duration pleg_relist_period = seconds(1);
  // CrashLoopBackOff (kubelet.go, initialCrashLoopBackOff and MaxContainerBackOff; client-go
  // flowcontrol.Backoff): the first restart after an exit is immediate and sets the back-off to
  // the initial value; a later exit waits the back-off from its finish, which then doubles up
  // to the cap. The back-off starts over for an exit more than backoff_reset after the last
  // (re)start (the kubelet's HasExpiredFunc; KEP-4603 keeps these 10 minutes).
  Duration initial_crash_loop_backoff = seconds(10);
  Duration max_container_backoff = seconds(300);
  Duration backoff_reset = seconds(600);
  // A pod whose sync failed (a container in back-off) is synced again this long after
  // (pod_workers.go, backOffPeriod; the kubelet adds up to 50 % jitter, the model none).
  Duration pod_worker_backoff_period = seconds(10);
  // The probes every container of the workload has (none by default: a Deployment without
  // probes is what `kubectl create deployment` makes).
  std::optional<Probe> liveness_probe;
  std::optional<Probe> readiness_probe;
  std::optional<Probe> startup_probe;
  // SIGTERM, then SIGKILL this long after if the container still runs (core/v1,
  // DefaultTerminationGracePeriodSeconds).
  Duration termination_grace_period_seconds = seconds(30);

  // ---- endpoints and kube-proxy ----
  // The EndpointSlice controller's batching of pod changes (kube-controller-manager
  // --endpointslice-updates-batch-period, 0 by default) and kube-proxy's least time between
  // two syncs of its rules (--iptables-min-sync-period, 1 s).
  Duration endpoint_updates_batch_period{0};
  Duration min_sync_period = seconds(1);

  // ---- nodes ----
  // The kubelet renews its node lease every nodeLeaseRenewIntervalFraction (0.25) of
  // nodeLeaseDurationSeconds (40 s); the node lifecycle controller looks every
  // --node-monitor-period and takes a node whose lease is older than
  // --node-monitor-grace-period as unreachable (40 s until Kubernetes 1.31, 50 s since 1.32),
  // taints it NoExecute and marks its pods not ready. A pod is evicted once the taint is older
  // than its toleration (--default-unreachable-toleration-seconds, 300 s).
  Duration node_lease_renew_interval = seconds(10);
  Duration node_monitor_period = seconds(5);
  Duration node_monitor_grace_period = seconds(50);
  Duration default_unreachable_toleration_seconds = seconds(300);
  // Before taint-based evictions (the default from Kubernetes 1.13), the node controller
  // evicted the pods of a node whose condition is Unknown once its last heartbeat was older
  // than --pod-eviction-timeout (5 min), at its next monitoring pass (monitorNodeStatus:
  // probeTimestamp + podEvictionTimeout): the grace period counts within those 5 minutes.
  bool taint_based_evictions = true;
  Duration pod_eviction_timeout = seconds(300);

  static Parameters defaults() { return {}; }
  // The defaults but for the node failure path of Kubernetes 1.12 and before: a 40 s grace
  // period and the eviction 5 minutes after the last heartbeat. The published measurement of a
  // node failure (models/kubernetes/README.md) was made then.
  static Parameters before_taint_eviction() {
    Parameters p;
    p.profile = "pre-1.13 eviction";
    p.node_monitor_grace_period = seconds(40);
    p.taint_based_evictions = false;
    return p;
  }
  // The shortest settings operators commonly run: probes every second that give up at the
  // first failure (behind a startup probe that gives the program 30 s), a 1 s grace period, the
  // alpha ReduceDefaultCrashLoopBackOffDecay back-off (1 s, capped at 60 s), kube-proxy syncing at
  // once, node leases renewed every 2 s, a 16 s grace period for nodes checked every 2 s, and pods
  // evicted 30 s after the taint.
  static Parameters tuned() {
    Parameters p;
    p.profile = "tuned";
    p.initial_crash_loop_backoff = seconds(1);
    p.max_container_backoff = seconds(60);
    p.pod_worker_backoff_period = seconds(1);
    Probe fast;
    fast.period_seconds = seconds(1);
    fast.timeout_seconds = seconds(1);
    fast.failure_threshold = 1;
    p.liveness_probe = fast;
    p.readiness_probe = fast;
    // Which needs a startup probe, lest liveness kill a program still starting up.
    Probe startup = fast;
    startup.failure_threshold = 30;
    p.startup_probe = startup;
    p.termination_grace_period_seconds = seconds(1);
    p.min_sync_period = Duration(0);
    p.node_lease_renew_interval = seconds(2);
    p.node_monitor_period = seconds(2);
    p.node_monitor_grace_period = seconds(16);
    p.default_unreachable_toleration_seconds = seconds(30);
    return p;
  }
};

}  // namespace amf::kubernetes
