// amf-drill: rehearse a failure and see what a user of the service would see.
//
//   amf-drill compare --config cluster.yaml --fault node-crash
//
// runs the same workload and fault under amf (its cores in the deterministic simulator, with
// the configured redundancy model) and under the Kubernetes model (models/kubernetes, the
// defaults and the tuned profile), and prints what the client saw under each, side by side.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/drill.h"
#include "config/loader.h"
#include "sim/drill.h"
#include "sim/duration.h"

namespace {

namespace sim = amf::sim;

std::optional<double> seconds(const std::optional<amf::Duration>& d) {
  if (!d) return std::nullopt;
  return std::chrono::duration<double>(*d).count();
}

nlohmann::json to_json(const sim::DrillOutcome& o) {
  nlohmann::json j;
  j["controller"] = o.controller;
  if (!o.inapplicable.empty()) {
    j["inapplicable"] = o.inapplicable;
    return j;
  }
  j["served_before"] = o.served_before;
  j["first_failure_s"] = seconds(o.first_failure) ? nlohmann::json(*seconds(o.first_failure))
                                                  : nlohmann::json(nullptr);
  j["restored_s"] =
      seconds(o.restored) ? nlohmann::json(*seconds(o.restored)) : nlohmann::json(nullptr);
  j["outage_s"] = std::chrono::duration<double>(o.outage).count();
  j["requests"] = o.requests;
  j["failed_requests"] = static_cast<std::uint64_t>(o.failed_requests + 0.5);
  j["restarts"] = o.restarts;
  j["notes"] = o.notes;
  if (!o.no_state.empty()) j["no_state"] = o.no_state;
  j["writes"] = o.writes;
  j["started_without_acked_writes"] = o.empty_starts;
  j["writes_lost"] = o.writes_lost ? nlohmann::json(*o.writes_lost) : nlohmann::json(nullptr);
  return j;
}

// The median and the worst of one figure over the runs ("1.234s (worst 2.000s)"); `missing`
// counts the runs that have no value.
std::string spread(std::vector<double> values, int missing, const char* unit) {
  std::string out;
  if (!values.empty()) {
    std::sort(values.begin(), values.end());
    char text[96];
    auto one = [&](double v) {
      if (*unit == 's')
        return sim::format_duration(
            std::chrono::duration_cast<amf::Duration>(std::chrono::duration<double>(v)));
      std::snprintf(text, sizeof text, "%.0f", v);
      return std::string(text);
    };
    const std::size_t n = values.size();
    out = one(n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2);
    if (values.size() > 1) out += " (worst " + one(values.back()) + ")";
  }
  if (missing > 0) {
    out += (out.empty() ? "" : ", ") + std::string(missing == 1 ? "1 run: " : "") +
           (missing > 1 ? std::to_string(missing) + " runs: " : "") + "not within the run";
  }
  return out;
}

void print_table(const std::string& title,
                 const std::vector<std::vector<sim::DrillOutcome>>& by_controller,
                 const sim::DrillSettings& s, int runs) {
  std::vector<std::vector<std::string>> rows = {{""},
                                                {"first failed request"},
                                                {"service restored"},
                                                {"total outage"},
                                                {"failed requests"},
                                                {"processes started"},
                                                {"acknowledged writes"},
                                                {"started without them"},
                                                {"acknowledged writes lost"}};
  for (const auto& outcomes : by_controller) {
    const sim::DrillOutcome& first = outcomes.front();
    rows[0].push_back(first.controller);
    if (!first.inapplicable.empty()) {
      for (std::size_t r = 1; r < rows.size(); ++r) rows[r].push_back(r == 1 ? "n/a" : "");
      continue;
    }
    std::vector<double> failure, restored, outage, failed, started;
    int never_failed = 0, not_restored = 0;
    for (const sim::DrillOutcome& o : outcomes) {
      if (auto f = seconds(o.first_failure)) {
        failure.push_back(*f);
        if (auto r = seconds(o.restored)) {
          restored.push_back(*r);
        } else {
          ++not_restored;
        }
      } else {
        ++never_failed;
      }
      outage.push_back(std::chrono::duration<double>(o.outage).count());
      failed.push_back(o.failed_requests);
      started.push_back(static_cast<double>(o.restarts));
    }
    rows[1].push_back(failure.empty() ? "none" : spread(failure, 0, "s"));
    // Over the runs in which a request failed; those in which none did are counted apart.
    std::string back =
        restored.empty() && not_restored == 0 ? "-" : spread(restored, not_restored, "s");
    if (never_failed > 0 && !failure.empty()) {
      back += ", " + std::to_string(never_failed) + (never_failed == 1 ? " run" : " runs") +
              ": no request failed";
    }
    rows[2].push_back(back);
    rows[3].push_back(spread(outage, 0, "s"));
    rows[4].push_back(spread(failed, 0, "") + " of " + std::to_string(first.requests));
    rows[5].push_back(spread(started, 0, ""));
    if (!first.no_state.empty()) {
      for (int r = 6; r <= 8; ++r) rows[r].push_back(r == 6 ? "n/a: " + first.no_state : "");
      continue;
    }
    std::vector<double> empty, lost, writes;
    for (const sim::DrillOutcome& o : outcomes) {
      empty.push_back(static_cast<double>(o.empty_starts));
      writes.push_back(static_cast<double>(o.writes));
      if (o.writes_lost) lost.push_back(static_cast<double>(*o.writes_lost));
    }
    rows[6].push_back(spread(writes, 0, ""));
    rows[7].push_back(spread(empty, 0, ""));
    // amf counts the new actives whose read missed increments, not the increments.
    const bool none_missed =
        std::all_of(empty.begin(), empty.end(), [](double e) { return e == 0; });
    rows[8].push_back(!lost.empty() ? spread(lost, 0, "") : none_missed ? "0" : "some (see above)");
  }
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::cout << title << "\n"
            << "faults:";
  for (const sim::ScheduledFault& f : s.faults) {
    std::cout << " " << sim::to_string(f.fault)
              << (f.fault == sim::DrillFault::kCrashLoop ? " x" + std::to_string(f.count) : "")
              << " at +" << sim::format_duration(f.at);
  }
  std::cout << "\na request every " << sim::format_duration(s.request_interval) << " for "
            << sim::format_duration(s.observe) << "; " << runs
            << (runs == 1 ? " run" : " runs (median, worst)") << ", simulated\n\n";
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::cout << row[c] << std::string(width[c] - row[c].size() + 2, ' ');
    }
    std::cout << "\n";
  }
  std::cout << "\nacknowledged writes: under amf the active's increments of its SI's checkpoint "
               "(every 50 to 500 ms); under Kubernetes the client's successful requests, each "
               "held by the program that served it.";
  for (const auto& outcomes : by_controller) {
    const sim::DrillOutcome& o = outcomes.front();
    if (!o.inapplicable.empty()) std::cout << "\n" << o.controller << ": " << o.inapplicable;
    for (const std::string& note : outcomes.back().notes) {
      std::cout << "\n" << o.controller << " (seed of the last run): " << note;
    }
    const auto broken = std::count_if(outcomes.begin(), outcomes.end(), [](const auto& x) {
      return x.inapplicable.empty() && !x.served_before;
    });
    if (broken > 0) {
      std::cout << "\n"
                << o.controller << ": in " << broken
                << " runs the service was not whole when the fault struck";
    }
  }
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amf-drill: rehearse failures; compare amf with the Kubernetes way"};
  app.require_subcommand(1);
  CLI::App* compare = app.add_subcommand(
      "compare", "run one fault under amf and under the Kubernetes model (both profiles)");
  std::string config_path;
  std::string fault = "component-crash";
  std::string sg;
  std::string kind = "deployment";
  std::string warmup = "60s";
  std::string observe = "10m";
  std::string interval = "1ms";
  std::string output = "table";
  std::uint64_t seed = 1;
  int runs = 1;
  std::vector<std::string> profiles = {"defaults", "tuned"};
  bool pid1 = false;
  bool volume = false;
  bool trace = false;
  std::string drill_path;
  compare->add_option("drill", drill_path,
                      "a drill file (tools/drill/README.md): configuration, SG and faults");
  compare->add_option("--config", config_path,
                      "without a drill file: the cluster's YAML configuration");
  compare
      ->add_option("--fault", fault,
                   "without a drill file: component-crash, component-hang, sandbox-death "
                   "(Kubernetes only), node-crash or crash-loop (4 failed starts)")
      ->capture_default_str();
  compare->add_option("--sg", sg, "the SG whose service the client uses (default: the first)");
  compare->add_option("--kind", kind, "the Kubernetes workload: deployment or statefulset")
      ->capture_default_str();
  compare->add_option("--warmup", warmup, "simulated time before the fault")->capture_default_str();
  compare->add_option("--observe", observe, "simulated time the client runs after the fault")
      ->capture_default_str();
  compare->add_option("--interval", interval, "time between two requests")->capture_default_str();
  compare->add_option("--seed", seed, "the simulation's seed (the first of --runs)")
      ->capture_default_str();
  compare->add_option("--runs", runs, "runs, each with the next seed: the median and the worst")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  compare
      ->add_option("--profiles", profiles,
                   "the Kubernetes model's profiles: defaults, tuned, pre-1.13 (the node failure "
                   "path of Kubernetes 1.12 and before)")
      ->delimiter(',')
      ->check(CLI::IsMember({"defaults", "tuned", "pre-1.13"}))
      ->capture_default_str();
  compare->add_flag("--pid1", pid1,
                    "the program is PID 1 without a SIGTERM handler: a graceful stop under "
                    "Kubernetes lasts the whole grace period");
  compare->add_flag("--volume", volume,
                    "under Kubernetes the program keeps its state on a persistent volume that "
                    "follows its pod (without, a restarted program starts empty)");
  compare->add_flag("--trace", trace, "print the last trace lines of each controller's last run");
  compare->add_option("-o,--output", output, "table or json")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  sim::DrillSettings settings;
  settings.seed = seed;
  std::string title;
  if (!drill_path.empty()) {
    if (!config_path.empty() || compare->count("--fault") > 0 || !sg.empty()) {
      std::cerr << "amf-drill: a drill file names its configuration, SG and faults: give either "
                   "it or --config and --fault\n";
      return 2;
    }
    auto drill = amf::config::load_drill_file(drill_path);
    if (!drill) {
      for (const auto& d : drill.error()) std::cerr << d.to_string() << "\n";
      return 1;
    }
    title = "drill: " + drill->name + " (" + drill_path + ")";
    config_path = drill->config;
    sg = drill->sg;
    if (compare->count("--warmup") == 0) warmup = std::to_string(drill->warmup.count()) + "ms";
    if (compare->count("--observe") == 0) observe = std::to_string(drill->observe.count()) + "ms";
    settings.faults.clear();
    for (const auto& f : drill->faults) {
      settings.faults.push_back(
          sim::ScheduledFault{f.at, *sim::parse_drill_fault(f.fault), f.count});
    }
  } else {
    if (config_path.empty()) {
      std::cerr << "amf-drill: compare needs a drill file, or --config (and --fault)\n";
      return 2;
    }
    auto parsed_fault = sim::parse_drill_fault(fault);
    if (!parsed_fault) {
      std::cerr << "amf-drill: --fault: '" << fault
                << "' is not a fault; one of component-crash, component-hang, sandbox-death, "
                   "node-crash, crash-loop\n";
      return 2;
    }
    settings.faults = {sim::ScheduledFault{amf::Duration(0), *parsed_fault,
                                           *parsed_fault == sim::DrillFault::kCrashLoop ? 4 : 1}};
    title = "configuration: " + config_path;
  }
  settings.sg = amf::SgId(sg);

  auto loaded = amf::config::load_file(config_path);
  if (!loaded) {
    for (const auto& d : loaded.error()) std::cerr << d.to_string() << "\n";
    return 1;
  }
  auto config = std::make_shared<const amf::model::ClusterConfig>(std::move(*loaded));
  for (auto [text, into, name] :
       {std::tuple{&warmup, &settings.warmup, "--warmup"},
        std::tuple{&observe, &settings.observe, "--observe"},
        std::tuple{&interval, &settings.request_interval, "--interval"}}) {
    auto d = sim::parse_duration(*text);
    if (!d || *d <= amf::Duration(0)) {
      std::cerr << "amf-drill: " << name << ": '" << *text << "' is not a duration above zero\n";
      return 2;
    }
    *into = *d;
  }
  if (settings.observe / settings.request_interval > 100'000'000) {
    std::cerr << "amf-drill: --observe / --interval: more than 100 million requests\n";
    return 2;
  }
  const amf::model::SgConfig* chosen = nullptr;
  for (const auto& a : config->applications) {
    for (const auto& g : a.service_groups) {
      if (chosen == nullptr && (sg.empty() || g.id.str() == sg)) chosen = &g;
    }
  }
  if (chosen == nullptr) {
    std::cerr << "amf-drill: " << config_path
              << (sg.empty() ? " has no service group"
                             : " has no SG '" + sg + "' (SGs are named app/sg)")
              << "\n";
    return 2;
  }
  if (chosen->sus.empty() || chosen->sis.empty()) {
    std::cerr << "amf-drill: SG '" << chosen->id.str() << "' in " << config_path
              << " has no SU or no SI: nothing serves to drill\n";
    return 2;
  }
  if (kind != "deployment" && kind != "statefulset") {
    std::cerr << "amf-drill: --kind: '" << kind << "' is neither deployment nor statefulset\n";
    return 2;
  }
  if (output != "table" && output != "json") {
    std::cerr << "amf-drill: -o: '" << output << "' is neither table nor json\n";
    return 2;
  }

  std::vector<amf::kubernetes::Parameters> parameter_sets;
  std::sort(profiles.begin(), profiles.end());
  profiles.erase(std::unique(profiles.begin(), profiles.end()), profiles.end());
  for (const std::string& p : profiles) {
    parameter_sets.push_back(p == "tuned" ? amf::kubernetes::Parameters::tuned()
                             : p == "pre-1.13"
                                 ? amf::kubernetes::Parameters::before_taint_eviction()
                                 : amf::kubernetes::Parameters::defaults());
  }
  std::vector<std::vector<sim::DrillOutcome>> by_controller(1 + parameter_sets.size());
  for (int run = 0; run < runs; ++run) {
    std::cerr << "\ramf-drill: run " << run + 1 << " of " << runs << ": amf" << std::flush;
    settings.seed = seed + static_cast<std::uint64_t>(run);
    by_controller[0].push_back(sim::drill_amf(config, settings));
    int c = 1;
    for (const auto& parameters : parameter_sets) {
      std::cerr << ", kubernetes (" << parameters.profile << ")" << std::flush;
      sim::KubernetesOptions options;
      options.parameters = parameters;
      options.kind = kind == "statefulset" ? amf::kubernetes::Kind::kStatefulSet
                                           : amf::kubernetes::Kind::kDeployment;
      options.pid1_ignores_sigterm = pid1;
      options.persistent_volume = volume;
      by_controller[c++].push_back(sim::drill_kubernetes(config, settings, options));
    }
  }
  std::cerr << "\n";
  if (trace) {
    for (const auto& outcomes : by_controller) {
      std::cout << "---- " << outcomes.back().controller << "\n" << outcomes.back().trace_tail;
    }
  }
  if (output == "json") {
    nlohmann::json j;
    j["title"] = title;
    for (const auto& f : settings.faults) {
      j["faults"].push_back({{"at_s", std::chrono::duration<double>(f.at).count()},
                             {"fault", sim::to_string(f.fault)},
                             {"count", f.count}});
    }
    j["observe_s"] = std::chrono::duration<double>(settings.observe).count();
    j["request_interval_s"] = std::chrono::duration<double>(settings.request_interval).count();
    j["first_seed"] = seed;
    for (const auto& outcomes : by_controller) {
      nlohmann::json runs_json = nlohmann::json::array();
      for (const auto& o : outcomes) runs_json.push_back(to_json(o));
      j["controllers"].push_back(
          {{"controller", outcomes.front().controller}, {"runs", runs_json}});
    }
    std::cout << j.dump(2) << "\n";
  } else {
    print_table(title, by_controller, settings, runs);
  }
  return 0;
}
