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
}};

// Keys people will try that the cores cannot handle yet, with why.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kUnsupported{{
    {"partition", "network partitions need the membership layer, which is not built yet"},
    {"network", "network faults need the membership layer, which is not built yet"},
    {"drift", "clock drift needs the membership layer, which is not built yet"},
    {"clock-drift", "clock drift needs the membership layer, which is not built yet"},
}};

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
    for (const auto& [name, why] : kUnsupported) {
      if (key == name)
        return fail("fault '" + std::string(key) + "' is not supported: " + std::string(why));
    }
    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds) {
      if (k.key == key) info = &k;
    }
    if (info == nullptr) {
      return fail("unknown fault '" + std::string(key) +
                  "' (known: crash, hang, instantiate, slow, error, cleanup, report, admin, node)");
    }
    char* end = nullptr;
    const double rate = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !(rate >= 0) || rate > 1000) {
      return fail("fault '" + std::string(key) + "': rate '" + value +
                  "' is not a number between 0 and 1000 (events per simulated second)");
    }
    spec[info->kind] = rate;
  }
  return spec;
}

bool FaultSpec::any() const {
  for (double r : rate) {
    if (r > 0) return true;
  }
  return false;
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
  return out.empty() ? "none" : out;
}

std::string fault_keys_help() {
  std::string out;
  for (const KindInfo& k : kKinds) {
    out += "  " + std::string(k.key) + std::string(13 - k.key.size(), ' ') + std::string(k.help) +
           "\n";
  }
  return out;
}

}  // namespace amf::sim
