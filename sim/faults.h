#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "amf/core/result.h"
#include "amf/core/time.h"

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
  kPartition,    // a random node is cut off from the director for a while (see NetworkFaults)
  kDirector,     // the director dies; a new one is elected and takes over from the snapshots
  kStop,         // a random node's amfd is stopped (SIGTERM): it leaves, then ends; boots later
};
inline constexpr std::size_t kFaultKinds = 12;

// The network between the nodes' runtimes (and the director's seat). Each envelope is lost,
// duplicated or held back with these probabilities and takes a delay drawn up to `delay`;
// each node's clock runs fast or slow by up to `drift_ppm` (drawn once per node). All from the
// run's seed. None set: the network delivers at once, in order (as the simulator always did).
struct NetworkFaults {
  double loss = 0;     // probability an envelope is lost
  double dup = 0;      // probability it arrives twice
  double reorder = 0;  // probability it is held back (up to 4 x delay + 5 ms more)
  Duration delay{0};   // one-way delay, uniform in [0, delay]
  double drift_ppm = 0;
  bool any() const { return loss > 0 || dup > 0 || reorder > 0 || delay > Duration(0); }
};

std::string_view to_string(FaultKind kind);

// Fault rates, each in events per simulated second: per component for the component faults,
// per cluster for kAdmin, kPartition and kDirector, per node for kNode and kStop.
// "crash=0.01,hang=0.001,admin=0.02"; keys as to_string(FaultKind) spells them. The network's:
// loss, dup and reorder (probabilities per envelope), delay (milliseconds), drift (parts per
// million).
struct FaultSpec {
  std::array<double, kFaultKinds> rate{};
  NetworkFaults net;

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
