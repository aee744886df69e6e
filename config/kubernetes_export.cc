#include "config/kubernetes_export.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace amf::config {
namespace {

// A DNS-1123 name: lower case letters, digits and '-', starting and ending alphanumeric.
std::string dns_name(const std::string& text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  // At most `limit` characters (a StatefulSet's name leaves room for the controller's
  // revision hash in a 63-character label), and never ending in '-' after the cut.
  out = out.substr(0, 52);
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  return out.empty() ? "amf" : out;
}

// Strings as strings: quoted, so that "7000" or "true" stays one (a plain 7000 is an integer to
// a YAML reader, which the API server refuses in args).
void strings(YAML::Emitter& out, const std::vector<std::string>& list) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const std::string& s : list) out << YAML::DoubleQuoted << s;
  out << YAML::EndSeq;
}

long long whole_seconds(std::chrono::milliseconds d, long long least) {
  return std::max<long long>(least, (d.count() + 999) / 1000);
}

bool has_standby(const model::SgConfig& sg) {
  return sg.redundancy == model::RedundancyModel::kTwoN ||
         sg.redundancy == model::RedundancyModel::kNPlusM ||
         sg.redundancy == model::RedundancyModel::kNWay;
}

void probe(YAML::Emitter& out, const model::ProbeConfig& p, bool startup) {
  out << YAML::BeginMap;
  switch (p.kind) {
    case model::ProbeConfig::Kind::kExec:
      out << YAML::Key << "exec" << YAML::Value << YAML::BeginMap << YAML::Key << "command"
          << YAML::Value;
      strings(out, p.command);
      out << YAML::EndMap;
      break;
    case model::ProbeConfig::Kind::kTcp:
      out << YAML::Key << "tcpSocket" << YAML::Value << YAML::BeginMap << YAML::Key << "port"
          << YAML::Value << p.port << YAML::EndMap;
      break;
    case model::ProbeConfig::Kind::kHttp:
      out << YAML::Key << "httpGet" << YAML::Value << YAML::BeginMap << YAML::Key << "path"
          << YAML::Value << YAML::DoubleQuoted << p.path << YAML::Key << "port" << YAML::Value
          << p.port << YAML::EndMap;
      break;
  }
  // Kubernetes counts probes in whole seconds, at least 1.
  out << YAML::Key << "periodSeconds" << YAML::Value
      << whole_seconds(startup ? p.startup_period : p.period, 1);
  out << YAML::Key << "timeoutSeconds" << YAML::Value << whole_seconds(p.timeout, 1);
  out << YAML::Key << "failureThreshold" << YAML::Value << p.failure_threshold;
  out << YAML::EndMap;
}

void container(YAML::Emitter& out, const model::ComponentConfig& c,
               std::vector<std::string>& notes) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << dns_name(c.name);
  out << YAML::Key << "image" << YAML::Value << "replace-me/" + dns_name(c.name) + ":latest";
  out << YAML::Comment(c.runtime != model::Runtime::kOci
                           ? "amf runs it as a plain process: build an image with its program"
                       : c.container.rootfs == "host"
                           ? "amf runs it in runc with the host's /usr and /etc: build an image"
                           : "amf runs it in runc from the root file system " + c.container.rootfs +
                                 ": build an image of it");
  out << YAML::Key << "command" << YAML::Value;
  strings(out, {c.command});
  if (!c.args.empty()) {
    out << YAML::Key << "args" << YAML::Value;
    strings(out, c.args);
  }
  if (!c.env.empty()) {
    out << YAML::Key << "env" << YAML::Value << YAML::BeginSeq;
    for (const auto& [name, value] : c.env) {
      out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name << YAML::Key << "value"
          << YAML::Value << YAML::DoubleQuoted << value << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (c.probe) {
    out << YAML::Key << "livenessProbe" << YAML::Value;
    probe(out, *c.probe, false);
    out << YAML::Key << "readinessProbe" << YAML::Value;
    probe(out, *c.probe, false);
    if (c.instantiated_when == model::InstantiatedWhen::kProbed) {
      out << YAML::Key << "startupProbe" << YAML::Value;
      model::ProbeConfig startup = *c.probe;
      // amf gives it the instantiate timeout to succeed: as many whole-second periods.
      const long long period_ms = whole_seconds(c.probe->startup_period, 1) * 1000;
      startup.failure_threshold = static_cast<int>(
          std::max<long long>(1, (c.timeouts.instantiate.count() + period_ms - 1) / period_ms));
      probe(out, startup, true);
    }
  }
  if (c.sa_aware()) {
    notes.push_back("Not expressible: " + c.name +
                    " is SA-aware (it registers with amfd and takes its CSIs through callbacks); "
                    "in a pod no amfd answers it.");
  }
  if (c.probe) {
    notes.push_back("amf probes " + c.name +
                    " on 127.0.0.1; the kubelet probes the pod's address: the program must "
                    "listen there.");
  }
  if (!c.pid_file.empty()) {
    notes.push_back("Not expressible: " + c.name +
                    " daemonizes (pid_file); a container whose first process exits has ended.");
  }
  if (!c.terminate_command.empty() || !c.cleanup_command.empty()) {
    notes.push_back(c.name + "'s terminate or cleanup command: the nearest is a preStop hook.");
  }
  if (c.health_check) {
    notes.push_back("Not expressible: " + c.name + "'s health check '" + c.health_check->key +
                    "' every " + std::to_string(c.health_check->period.count()) +
                    " ms; the nearest is a liveness probe the program answers.");
  }
  if (!c.hooks.on_active.empty() || !c.hooks.on_standby.empty() || !c.hooks.on_quiesced.empty() ||
      !c.hooks.on_remove.empty()) {
    notes.push_back("Not expressible: " + c.name +
                    "'s HA-state hooks; Kubernetes has no HA states to run them on.");
  }
  out << YAML::EndMap;
}

// One YAML document: its comment lines, then the body.
std::string document(const std::vector<std::string>& comments, const YAML::Emitter& body) {
  std::string text = "---\n";
  for (const std::string& c : comments) text += "# " + c + "\n";
  return text + body.c_str() + "\n";
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string workload(const model::ApplicationConfig& app, const model::SgConfig& sg) {
  YAML::Emitter out;
  std::vector<std::string> notes;
  const std::string name = dns_name(app.name + "-" + sg.name);
  const bool stateful = has_standby(sg);
  const int replicas = model::serving_sus(sg);
  std::vector<std::string> nodes;
  for (const model::SuConfig& su : sg.sus) {
    if (std::find(nodes.begin(), nodes.end(), su.node.str()) == nodes.end()) {
      nodes.push_back(su.node.str());
    }
  }
  notes.push_back("SG " + sg.id.str() + ": " + std::string(model::to_string(sg.redundancy)) + ", " +
                  plural(sg.sus.size(), "SU", "SUs") + ", " + plural(sg.sis.size(), "SI", "SIs") +
                  "; " + plural(replicas, "replica", "replicas") +
                  ", as many as its SUs that serve.");
  notes.push_back(
      "amf's node names are taken as the nodes' kubernetes.io/hostname labels, and "
      "the containers are those of the SG's first SU: check both.");
  if (stateful) {
    notes.push_back(
        "Not expressible: the standby. amf keeps a standby SU whose state is hot and promotes it "
        "in milliseconds; Kubernetes starts a replacement pod, from nothing, after it decides "
        "the old one failed. A StatefulSet with a persistent volume is the nearest.");
    notes.push_back(
        "Not expressible: checkpoints (state replicated to the standby's node); keep it on a "
        "persistent volume (volumeClaimTemplates) or in the application's own replication.");
  }
  bool ranked = false, dependent = false, addressed = false;
  for (const model::SiConfig& si : sg.sis) {
    ranked = ranked || si.rank != 0;
    dependent = dependent || !si.dependencies.empty();
    addressed = addressed || si.service_address.has_value();
  }
  if (ranked) {
    notes.push_back(
        "Not expressible: SI ranks (which SIs keep their actives when SUs run "
        "short); PriorityClasses rank pods, not work within them.");
  }
  if (dependent) {
    notes.push_back(
        "Not expressible: SI dependencies (an SI active only with those it "
        "depends on); use an init container or readiness gates.");
  }
  if (addressed) {
    notes.push_back(
        "Floating service addresses: use a Service (ClusterIP or "
        "LoadBalancer) in front of the pods instead.");
  }
  notes.push_back(
      "Not expressible: AMF's recovery escalation (component restart, SU "
      "restart, failover, each within its probation); the kubelet restarts "
      "containers with CrashLoopBackOff.");
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "apps/v1";
  out << YAML::Key << "kind" << YAML::Value << (stateful ? "StatefulSet" : "Deployment");
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
      << YAML::Value << name << YAML::Key << "labels" << YAML::Value << YAML::BeginMap << YAML::Key
      << "amf-sg" << YAML::Value << name << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "replicas" << YAML::Value << replicas;
  if (stateful) out << YAML::Key << "serviceName" << YAML::Value << name;
  out << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels"
      << YAML::Value << YAML::BeginMap << YAML::Key << "amf-sg" << YAML::Value << name
      << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "labels"
      << YAML::Value << YAML::BeginMap << YAML::Key << "amf-sg" << YAML::Value << name
      << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  std::chrono::milliseconds terminate{0};
  if (!sg.sus.empty()) {
    for (const model::ComponentConfig& c : sg.sus.front().components) {
      terminate = std::max(terminate, c.timeouts.terminate);
    }
  }
  out << YAML::Key << "terminationGracePeriodSeconds" << YAML::Value << whole_seconds(terminate, 0);
  out << YAML::Key << "affinity" << YAML::Value << YAML::BeginMap << YAML::Key << "nodeAffinity"
      << YAML::Value << YAML::BeginMap << YAML::Key
      << "requiredDuringSchedulingIgnoredDuringExecution" << YAML::Value << YAML::BeginMap
      << YAML::Key << "nodeSelectorTerms" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
      << YAML::Key << "matchExpressions" << YAML::Value << YAML::BeginSeq << YAML::BeginMap
      << YAML::Key << "key" << YAML::Value << "kubernetes.io/hostname" << YAML::Key << "operator"
      << YAML::Value << "In" << YAML::Key << "values" << YAML::Value << YAML::Flow
      << YAML::BeginSeq;
  for (const std::string& n : nodes) out << YAML::DoubleQuoted << n;
  out << YAML::EndSeq << YAML::EndMap << YAML::EndSeq << YAML::EndMap << YAML::EndSeq
      << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq;
  if (!sg.sus.empty()) {
    for (const model::ComponentConfig& c : sg.sus.front().components) container(out, c, notes);
  }
  out << YAML::EndSeq;
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  std::string text = document(notes, out);

  YAML::Emitter budget;
  std::vector<std::string> budget_notes;
  budget_notes.push_back(
      "Voluntary disruptions keep every replica of " + sg.id.str() +
      ": a drain of a node that runs one blocks until it is moved by hand. amf's lock switches "
      "the SU's SIs to the standby first; Kubernetes has no standby to switch to.");
  budget << YAML::BeginMap;
  budget << YAML::Key << "apiVersion" << YAML::Value << "policy/v1";
  budget << YAML::Key << "kind" << YAML::Value << "PodDisruptionBudget";
  budget << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
         << YAML::Value << name << YAML::EndMap;
  budget << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  budget << YAML::Key << "minAvailable" << YAML::Value << replicas;
  budget << YAML::Key << "selector" << YAML::Value << YAML::BeginMap << YAML::Key << "matchLabels"
         << YAML::Value << YAML::BeginMap << YAML::Key << "amf-sg" << YAML::Value << name
         << YAML::EndMap << YAML::EndMap;
  budget << YAML::EndMap << YAML::EndMap;
  text += document(budget_notes, budget);
  if (!stateful) return text;

  YAML::Emitter service;
  service << YAML::BeginMap;
  service << YAML::Key << "apiVersion" << YAML::Value << "v1";
  service << YAML::Key << "kind" << YAML::Value << "Service";
  service << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap << YAML::Key << "name"
          << YAML::Value << name << YAML::EndMap;
  service << YAML::Key << "spec" << YAML::Value << YAML::BeginMap << YAML::Key << "clusterIP"
          << YAML::Value << "None" << YAML::Key << "selector" << YAML::Value << YAML::BeginMap
          << YAML::Key << "amf-sg" << YAML::Value << name << YAML::EndMap << YAML::EndMap;
  service << YAML::EndMap;
  return text + document({"The StatefulSet's governing (headless) Service. Clients reach the "
                          "program through a Service of their own, on its ports."},
                         service);
}

}  // namespace

std::string export_kubernetes(const model::ClusterConfig& config) {
  std::string text;
  for (const model::ApplicationConfig& app : config.applications) {
    for (const model::SgConfig& sg : app.service_groups) text += workload(app, sg);
  }
  return text;
}

}  // namespace amf::config
