#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "amf/core/result.h"

namespace amf::sim {

// The faults the simulator injects. Component faults strike one component chosen uniformly;
// kAdmin is a random administrative operation on a random SU or SI of the cluster.
enum class FaultKind {
  kCrash,        // the process exits unexpectedly ("killed by signal 11")
  kHang,         // stops answering callbacks and ignores SIGTERM; only SIGKILL ends it
  kInstantiate,  // the next 1..retries+1 starts fail (spawn fails, or exit before registering)
  kSlow,         // the next callback is answered after the component's callback timeout
  kError,        // the next callback is answered with ok=false
  kCleanup,      // the process ignores SIGKILL (cleanup fails: termination-failed)
  kReport,       // the component reports an error (its configured recovery follows)
  kAdmin,        // a random admin operation on a random entity
  kNode,         // a random node crashes: everything on it ends at once; it boots again later
};
inline constexpr std::size_t kFaultKinds = 9;

std::string_view to_string(FaultKind kind);

// Fault rates, each in events per simulated second: per component for the component faults,
// per cluster for kAdmin, per node for kNode. "crash=0.01,hang=0.001,admin=0.02"; keys as
// to_string(FaultKind) spells them. Faults the cores cannot handle yet (partitions, clock drift)
// are refused with the reason.
struct FaultSpec {
  std::array<double, kFaultKinds> rate{};

  static Result<FaultSpec> parse(std::string_view text);
  double& operator[](FaultKind kind) { return rate[static_cast<std::size_t>(kind)]; }
  double operator[](FaultKind kind) const { return rate[static_cast<std::size_t>(kind)]; }
  bool any() const;
  // "crash=0.01,slow=0.002" (only the non-zero rates), or "none"; parse() reads it back.
  std::string to_string() const;
};

// The keys with what each does, for --help and the README.
std::string fault_keys_help();

}  // namespace amf::sim
