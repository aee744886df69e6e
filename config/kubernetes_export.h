#pragma once

#include <string>

#include "amf/model/config.h"

namespace amf::config {

// `amfctl export kubernetes`: the nearest Kubernetes manifests for a configuration, as YAML
// documents, so that users can check the Kubernetes model's numbers on a cluster of their own.
// For each SG:
//   - a Deployment (no-redundancy, N-way-active: no standby state) or a StatefulSet (2N, N+M,
//     N-way: the state a standby kept), with as many replicas as the SG has SUs serving, one
//     container per component of its SUs (command, arguments, environment), a node affinity to
//     the SG's nodes, liveness and readiness probes from the component's probe, a startup probe
//     for one instantiated when probed, and the grace period of its terminate timeout;
//   - a PodDisruptionBudget that keeps them all available.
// Each thing that cannot be expressed gets a comment where it would go: the standby and its
// hot state, checkpoints, SI ranks and dependencies, AMF's recovery escalation, health checks,
// HA-state hooks, floating service addresses, the container image of a plain process.
std::string export_kubernetes(const model::ClusterConfig& config);

}  // namespace amf::config
