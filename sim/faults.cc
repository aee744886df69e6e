#include "sim/faults.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace amf::sim {

namespace {

struct KindInfo {
  FaultKind kind;
  std::string_view key;
  std::string_view help;
};

constexpr std::array<KindInfo, kFaultKinds> kKinds{{
    {FaultKind::kCrash, "crash", "the component's process exits unexpectedly"},
    {FaultKind::kHang, "hang",
     "the component stops answering callbacks and ignores SIGTERM; only SIGKILL ends it"},
    {FaultKind::kInstantiate, "instantiate",
     "its next 1..retries+1 starts fail (spawn fails, or the process exits before registering)"},
    {FaultKind::kSlow, "slow", "its next callback is answered after the callback timeout"},
    {FaultKind::kError, "error", "its next callback is answered with an error (ok=false)"},
    {FaultKind::kCleanup, "cleanup",
     "its process ignores SIGKILL, so cleanup fails (termination-failed)"},
    {FaultKind::kReport, "report",
     "the component reports an error; its configured recovery follows"},
    {FaultKind::kAdmin, "admin",
     "a random admin operation on a random entity (rate per cluster, not per component)"},
    {FaultKind::kNode, "node",
     "a node crashes (rate per node): every process on it ends at once, the director learns it "
     "after the detection latency, the node boots again after the boot latency"},
    {FaultKind::kPartition, "partition",
     "a random node is cut off from the director (rate per cluster) for 0.1 to 5 s: both ways, "
     "one way, or flapping. Nothing fences a cut-off node yet (the membership of the cluster "
     "issue will), so one cut longer than the detection latency ends in a violation"},
    {FaultKind::kDirector, "director",
     "the director's process dies (rate per cluster) while every node runs on: the nodes keep "
     "their components and restart them locally, a new director is elected after the election "
     "latency and takes over from the nodes' snapshots and the admin states in the store"},
    {FaultKind::kStop, "stop",
     "a node's amfd is stopped (rate per node), as by SIGTERM: the node leaves (the director "
     "moves its assignments to other nodes), ends its components once it holds none or after "
     "amfd's bound, exits, and boots again after the boot latency"},
}};

struct NetInfo {
  std::string_view key;
  std::string_view help;
};
constexpr std::array<NetInfo, 5> kNet{{
    {"loss", "probability that an envelope between two runtimes is lost (0..1)"},
    {"dup", "probability that an envelope arrives twice (0..1)"},
    {"reorder", "probability that an envelope is held back behind later ones (0..1)"},
    {"delay", "one-way network delay, uniform from 0 to this many milliseconds"},
    {"drift", "each node's clock runs fast or slow by up to this many parts per million"},
}};

std::string known_keys() {
  std::string out;
  for (const KindInfo& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.key);
  for (const NetInfo& n : kNet) out += ", " + std::string(n.key);
  return out;
}

}  // namespace

std::string_view to_string(FaultKind kind) { return kKinds[static_cast<std::size_t>(kind)].key; }

Result<FaultSpec> FaultSpec::parse(std::string_view text) {
  FaultSpec spec;
  if (text.empty() || text == "none") return spec;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return fail("fault '" + std::string(item) + "': expected KEY=RATE (e.g. crash=0.01)");
    }
    const std::string_view key = item.substr(0, eq);
    const std::string value(item.substr(eq + 1));
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);
    const bool numeric = !value.empty() && end == value.c_str() + value.size() && number >= 0;
    if (key == "loss" || key == "dup" || key == "reorder") {
      if (!numeric || number > 1) {
        return fail("fault '" + std::string(key) + "': '" + value +
                    "' is not a probability between 0 and 1 (per envelope)");
      }
      (key == "loss" ? spec.net.loss : key == "dup" ? spec.net.dup : spec.net.reorder) = number;
      continue;
    }
    if (key == "delay") {
      if (!numeric || number > 10'000) {
        return fail("fault 'delay': '" + value +
                    "' is not a number of milliseconds between 0 and 10000");
      }
      spec.net.delay = Duration(static_cast<std::int64_t>(number * 1e6));
      continue;
    }
    if (key == "drift") {
      if (!numeric || number > 100'000) {
        return fail("fault 'drift': '" + value +
                    "' is not a number of parts per million between 0 and 100000");
      }
      spec.net.drift_ppm = number;
      continue;
    }
    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds) {
      if (k.key == key) info = &k;
    }
    if (info == nullptr) {
      return fail("unknown fault '" + std::string(key) + "' (known: " + known_keys() + ")");
    }
    if (!numeric || number > 1000) {
      return fail("fault '" + std::string(key) + "': rate '" + value +
                  "' is not a number between 0 and 1000 (events per simulated second)");
    }
    spec[info->kind] = number;
  }
  return spec;
}

bool FaultSpec::any() const {
  for (double r : rate) {
    if (r > 0) return true;
  }
  return net.any() || net.drift_ppm > 0;
}

std::string FaultSpec::to_string() const {
  std::string out;
  for (const KindInfo& k : kKinds) {
    const double r = (*this)[k.kind];
    if (r <= 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", r);
    out += (out.empty() ? "" : ",") + std::string(k.key) + "=" + buf;
  }
  const std::pair<std::string_view, double> net[] = {
      {"loss", this->net.loss},
      {"dup", this->net.dup},
      {"reorder", this->net.reorder},
      {"delay", static_cast<double>(this->net.delay.count()) / 1e6},
      {"drift", this->net.drift_ppm}};
  for (const auto& [key, value] : net) {
    if (value <= 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    out += (out.empty() ? "" : ",") + std::string(key) + "=" + buf;
  }
  return out.empty() ? "none" : out;
}

std::string fault_keys_help() {
  std::string out;
  for (const KindInfo& k : kKinds) {
    out += "  " + std::string(k.key) + std::string(13 - k.key.size(), ' ') + std::string(k.help) +
           "\n";
  }
  for (const NetInfo& n : kNet) {
    out += "  " + std::string(n.key) + std::string(13 - n.key.size(), ' ') + std::string(n.help) +
           "\n";
  }
  return out;
}

}  // namespace amf::sim
