// amf-ready-bench: how long a component takes from its start to ready (instantiated: READY=1
// for a notified one, registration for an SA-aware one), by restarting it N times through
// amfd's restart admin operation and reading amfd's own event times.
//
//   amf-ready-bench --runtime-dir DIR --comp web/su-1/server [--runs 20]
//
// amfd must be running with DIR as its runtime directory (tools/bench/container-ready.sh sets
// one up with the component in a container). Prints median and worst.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "tools/amfctl/admin_client.h"

int main(int argc, char** argv) {
  CLI::App app{"amf-ready-bench: start -> ready of a component, through restarts"};
  std::string runtime, comp;
  int runs = 20;
  app.add_option("--runtime-dir", runtime, "amfd's runtime directory")->required();
  app.add_option("--comp", comp, "the component, e.g. web/su-1/server")->required();
  app.add_option("--runs", runs, "restarts to time")->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);

  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::uint64_t seen = 0;
    if (auto all = amf::tools::fetch_events(runtime, 0); all && !all->events.empty()) {
      seen = all->events.back().sequence;
    }
    auto result = amf::tools::run_operation(runtime, {"restart", "comp", comp});
    if (!result || !result->ok) {
      std::cerr << "restart " << comp
                << " failed: " << (result ? result->message : result.error().message()) << "\n";
      return 1;
    }
    auto list = amf::tools::fetch_events(runtime, seen);
    if (!list) {
      std::cerr << list.error().message() << "\n";
      return 1;
    }
    std::int64_t started = 0, ready = 0;
    for (const auto& e : list->events) {
      if (e.kind != "presence" || e.entity != comp) continue;
      if (e.to == "restarting") started = e.monotonic_ns;
      if (e.to == "instantiated" && started != 0) ready = e.monotonic_ns;
    }
    if (started == 0 || ready == 0) {
      std::cerr << "run " << i + 1 << ": no restarting -> instantiated events for " << comp << "\n";
      return 1;
    }
    ms.push_back(static_cast<double>(ready - started) / 1e6);
    std::printf("run %2d: start -> ready %.2f ms\n", i + 1, ms.back());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("\n%zu restarts of %s: start -> ready  median %.2f ms  worst %.2f ms\n", ms.size(),
              comp.c_str(), ms[ms.size() / 2], ms.back());
  return 0;
}
