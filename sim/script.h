#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "amf/core/result.h"
#include "amf/model/config.h"
#include "sim/simulation.h"

namespace amf::sim {

// What a scenario script may need from outside; the simulator itself does no I/O.
struct ScriptEnv {
  // Loads a YAML configuration for `config-file PATH` (amf-sim resolves PATH against the
  // script's directory). Unset: config-file is an error.
  std::function<Result<model::ClusterConfig>(const std::string& path)> load_config;
  // Every trace line of the simulation (amf-sim --trace).
  std::function<void(const std::string&)> trace_sink;
};

struct ScriptResult {
  std::string transcript;  // deterministic: what the golden .expected files hold
  int failed_expectations = 0;
  int errors = 0;                      // bad commands
  std::optional<Violation> violation;  // the simulation's, if any
  bool violation_expected = false;     // an `expect violation` matched it
  std::string trace;                   // the last trace lines, for a failure report

  bool ok() const {
    return failed_expectations == 0 && errors == 0 && (!violation || violation_expected);
  }
};

// Runs a scenario script (the language of tests/scenarios/README.md) and returns its
// transcript: each command echoed, then what it set off (notifications and admin results
// with their simulated times, `show` tables, expectation results). Deterministic.
ScriptResult run_script(std::string_view text, const ScriptEnv& env = {});

}  // namespace amf::sim
