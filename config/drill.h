#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/loader.h"

namespace amf::config {

// A drill file (tools/drill/README.md): the cluster configuration it runs on, the SG whose
// service the client uses, and the faults, each at a time after the warm-up:
//
//   name: node crash
//   config: ../cluster.yaml        # relative to the drill file
//   sg: counter/counter            # optional: the first SG
//   warmup_ms: 60000               # optional (60 s)
//   observe_ms: 420000             # optional (10 minutes); every fault comes before it
//   faults:
//     - {at_ms: 0, fault: node-crash}
//     - {at_ms: 5000, fault: crash-loop, count: 4}
struct DrillFaultSpec {
  std::chrono::milliseconds at{0};
  std::string fault;  // one of kDrillFaults
  int count = 1;      // crash-loop: the starts that fail
};

struct DrillFile {
  std::string name;
  std::string config;  // the cluster configuration's path, resolved against the drill file's
  std::string sg;      // app/sg; empty: the first SG
  std::chrono::milliseconds warmup{60'000};
  std::chrono::milliseconds observe{600'000};
  std::vector<DrillFaultSpec> faults;
};

inline constexpr std::string_view kDrillFaults[] = {"component-crash", "component-hang",
                                                    "sandbox-death", "node-crash", "crash-loop"};

using DrillResult = tl::expected<DrillFile, std::vector<Diagnostic>>;

// Every problem found, each with its position, or the whole drill; as load_file() reads.
DrillResult load_drill_file(const std::string& path);
DrillResult load_drill_string(std::string_view yaml, const std::string& file_name);

}  // namespace amf::config
