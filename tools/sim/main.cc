// amf-sim: the deterministic cluster simulator's command line (sim/README.md).
//
//   amf-sim --seed N --config FILE [--faults SPEC] [--duration 1h] [--trace]
//   amf-sim --seed N --spec "2n sus=2 sis=1" [--copies 20] ...
//   amf-sim --swarm --runs K [--seed S] [--max-wall 60s]
//   amf-sim --case SEED [--trace]             replays one swarm run
//   amf-sim --script FILE [--expected FILE]   runs a scenario script (golden transcript)
//
// Exit codes: 0 every invariant held (or the transcript matched), 1 a violation (or a
// mismatch / failed expectation), 2 bad usage or input.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

#include "config/loader.h"
#include "sim/cluster_spec.h"
#include "sim/duration.h"
#include "sim/script.h"
#include "sim/swarm.h"

namespace {

namespace sim = amf::sim;
using WallClock = std::chrono::steady_clock;

constexpr int kUsage = 2;

struct Args {
  std::uint64_t seed = 1;
  std::string config;
  std::vector<std::string> specs;
  int copies = 1;
  int nodes = 1;
  std::string faults =
      "crash=0.001,hang=0.0002,instantiate=0.0005,slow=0.0005,error=0.0005,report=0.0002,admin=0."
      "005";
  std::string duration = "1h";
  std::string quiet = "5m";
  bool trace = false;
  bool swarm = false;
  int runs = 100;
  std::string max_wall = "0s";
  std::optional<std::uint64_t> replay_case;
  bool swarm_cleanup = false;
  int swarm_components = 2;
  bool swarm_membership = false;
  bool checkpoints = false;
  bool checkpoint_files = false;
  std::string checkpoint_recovery_wait = "1s";
  amf::Duration recovery_wait = std::chrono::seconds(1);  // checkpoint_recovery_wait, parsed
  std::string script;
  std::string expected;
  bool update = false;
};

double seconds(WallClock::duration d) { return std::chrono::duration<double>(d).count(); }

amf::Result<amf::model::ClusterConfig> load_yaml(const std::string& path) {
  auto loaded = amf::config::load_file(path);
  if (loaded) return std::move(*loaded);
  std::string text;
  for (const auto& d : loaded.error()) text += (text.empty() ? "" : "\n") + d.to_string();
  return amf::fail(text);
}

std::optional<amf::Duration> duration_arg(const std::string& text, const std::string& name) {
  auto d = sim::parse_duration(text);
  if (!d)
    std::cerr << "amf-sim: " << name << " '" << text << "' is not a duration (1h, 10m, 30s)\n";
  return d;
}

std::string fault_counts(const sim::Stats& s) {
  std::string out;
  for (std::size_t k = 0; k < sim::kFaultKinds; ++k) {
    if (s.faults[k] == 0) continue;
    out += (out.empty() ? "" : ", ") + std::string(sim::to_string(static_cast<sim::FaultKind>(k))) +
           " " + std::to_string(s.faults[k]);
  }
  return out.empty() ? "none" : out;
}

// The process's peak resident set so far.
long peak_memory_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;  // kilobytes on Linux
}

// With --checkpoints: what the writers did and what was lost (empty without).
std::string checkpoint_counts(const sim::Stats& s) {
  if (s.checkpoint_reads == 0 && s.checkpoint_acks == 0) return "";
  return "Checkpoints: " + std::to_string(s.checkpoint_acks) + " increments acknowledged, " +
         std::to_string(s.checkpoint_write_failures) + " failed, " +
         std::to_string(s.checkpoint_reads) + " reads by new actives; lost with every replica " +
         "that held them: " + std::to_string(s.checkpoint_lost_with_replicas) +
         ", lost past a silent replica: " + std::to_string(s.checkpoint_lost_silent) + ". ";
}

std::string summary(const sim::Stats& s, amf::Duration simulated, double wall_s) {
  const double sim_s = std::chrono::duration<double>(simulated).count();
  std::ostringstream out;
  out << "Simulated " << sim::format_duration(simulated) << " in " << s.steps << " steps. "
      << "Faults injected: " << fault_counts(s) << ". Admin operations: " << s.admin_requests
      << " (" << s.admin_ok << " done, " << s.admin_failed << " refused or failed). "
      << "Failovers " << s.failovers << ", switchovers " << s.switchovers
      << ", component/SU restarts " << s.restarts << ", SU failovers " << s.su_failovers
      << ", repairs " << s.repairs << ", node crashes " << s.node_crashes << ", amfds stopped "
      << s.node_stops << " (boots " << s.node_boots << "), partitions " << s.partitions
      << ", lives fenced " << s.fences << ", director crashes " << s.director_crashes
      << "; network: " << s.envelopes_lost << " messages lost, " << s.envelopes_duplicated
      << " duplicated; " << s.process_starts << " process starts, " << s.notifications
      << " notifications. " << checkpoint_counts(s) << "Wall time " << std::fixed
      << std::setprecision(3) << wall_s
      << " s: " << static_cast<long long>(wall_s > 0 ? sim_s / wall_s : 0)
      << " simulated seconds per wall second; peak memory " << peak_memory_mb() << " MB.";
  return out.str();
}

// The configuration of a single run: a YAML file, or specs built in code.
std::shared_ptr<const amf::model::ClusterConfig> single_config(const Args& a) {
  if (!a.config.empty()) {
    auto loaded = load_yaml(a.config);
    if (!loaded) {
      std::cerr << loaded.error().message() << "\n";
      return nullptr;
    }
    return std::make_shared<amf::model::ClusterConfig>(std::move(*loaded));
  }
  sim::ClusterSpec cluster;
  cluster.nodes = a.nodes;
  for (const auto& text : a.specs) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    auto sg = sim::parse_sg_spec(words);
    if (!sg) {
      std::cerr << "amf-sim: --spec '" << text << "': " << sg.error().message() << "\n";
      return nullptr;
    }
    for (int i = 1; i <= a.copies; ++i) {
      sim::SgSpec copy = *sg;
      copy.name = sg->name + "-" + std::to_string(cluster.sgs.size() + 1);
      cluster.sgs.push_back(copy);
    }
  }
  if (auto ok = sim::validate(cluster); !ok) {
    std::cerr << "amf-sim: " << ok.error().message() << "\n";
    return nullptr;
  }
  return sim::build(cluster);
}

int run_single(const Args& a) {
  if (a.config.empty() == a.specs.empty()) {
    std::cerr << "amf-sim: give --config FILE or --spec SPEC (or --swarm, --case, --script)\n";
    return kUsage;
  }
  auto config = single_config(a);
  auto faults = sim::FaultSpec::parse(a.faults);
  auto duration = duration_arg(a.duration, "--duration");
  auto quiet = duration_arg(a.quiet, "--quiet");
  if (!faults) std::cerr << "amf-sim: --faults: " << faults.error().message() << "\n";
  if (!config || !faults || !duration || !quiet) return kUsage;
  sim::Options options;
  options.checkpoints = a.checkpoints || a.checkpoint_files;
  options.checkpoint_files = a.checkpoint_files;
  options.checkpoint_recovery_wait = a.recovery_wait;
  options.faults = *faults;
  options.quiet_period = *quiet;
  if (a.trace) options.trace_sink = [](const std::string& line) { std::cout << line << "\n"; };
  auto made = sim::Simulation::create(config, a.seed, options);
  if (!made) {
    std::cerr << "amf-sim: " << made.error().message() << "\n";
    return kUsage;
  }
  sim::Simulation& s = **made;
  const auto wall_start = WallClock::now();
  s.start();
  s.run_for(*duration);
  if (!s.violation()) s.settle();
  const double wall = seconds(WallClock::now() - wall_start);
  std::cout << "amf-sim: seed " << a.seed << ", faults " << faults->to_string() << ". "
            << summary(s.stats(), s.now().time_since_epoch(), wall) << "\n";
  if (!s.violation()) {
    std::cout << "Every invariant held.\n";
    return 0;
  }
  std::cout << (a.trace ? s.violation()->message : s.violation()->describe()) << "\n";
  return 1;
}

std::string replay_command(const Args& a, std::uint64_t seed) {
  std::string out = "amf-sim --case " + std::to_string(seed);
  if (a.swarm_cleanup) out += " --swarm-cleanup";
  if (a.swarm_components != 2) out += " --swarm-components " + std::to_string(a.swarm_components);
  if (a.swarm_membership) out += " --swarm-membership";
  if (a.checkpoints) out += " --checkpoints";
  if (a.checkpoint_files) out += " --checkpoint-files";
  if (a.checkpoint_recovery_wait != "1s") {
    out += " --checkpoint-recovery-wait " + a.checkpoint_recovery_wait;
  }
  return out + " --trace";
}

sim::SwarmOptions swarm_options(const Args& a) {
  sim::SwarmOptions o;
  o.cleanup = a.swarm_cleanup;
  o.max_components = a.swarm_components;
  o.membership = a.swarm_membership;
  return o;
}

int run_swarm(const Args& a) {
  auto max_wall = duration_arg(a.max_wall, "--max-wall");
  if (!max_wall || a.runs < 1) return kUsage;
  std::mt19937_64 master(a.seed);
  const auto wall_start = WallClock::now();
  int ran = 0, failed = 0;
  double simulated_s = 0;
  sim::Stats total;  // of what the swarm exercised
  for (; ran < a.runs; ++ran) {
    if (*max_wall > amf::Duration(0) && WallClock::now() - wall_start >= *max_wall) break;
    const std::uint64_t seed = master();
    const sim::SwarmCase c = sim::make_swarm_case(seed, swarm_options(a));
    sim::Options options;
    options.checkpoints = a.checkpoints || a.checkpoint_files;
    options.checkpoint_files = a.checkpoint_files;
    options.checkpoint_recovery_wait = a.recovery_wait;
    const sim::RunOutcome r = sim::run_case(c, options);
    simulated_s += std::chrono::duration<double>(r.end.time_since_epoch()).count();
    total.node_crashes += r.stats.node_crashes;
    total.node_stops += r.stats.node_stops;
    total.director_crashes += r.stats.director_crashes;
    total.partitions += r.stats.partitions;
    total.fences += r.stats.fences;
    total.checkpoint_acks += r.stats.checkpoint_acks;
    total.checkpoint_reads += r.stats.checkpoint_reads;
    total.checkpoint_write_failures += r.stats.checkpoint_write_failures;
    total.checkpoint_lost_with_replicas += r.stats.checkpoint_lost_with_replicas;
    total.checkpoint_lost_silent += r.stats.checkpoint_lost_silent;
    total.failovers += r.stats.failovers;
    if (!r.violation) continue;
    ++failed;
    std::cout << "run " << ran + 1 << ": seed " << seed << " FAILED (" << r.violation->invariant
              << " at t=" << sim::format_time(r.violation->time) << "): " << r.violation->message
              << "\n  case: " << c.describe() << "\n  replay: " << replay_command(a, seed) << "\n";
  }
  const double wall = seconds(WallClock::now() - wall_start);
  std::cout << "swarm (master seed " << a.seed << "): " << ran << " of " << a.runs << " runs"
            << (ran < a.runs ? " (stopped by the wall-time limit)" : "") << ", " << failed
            << " failed; simulated "
            << sim::format_duration(std::chrono::duration_cast<amf::Duration>(
                   std::chrono::duration<double>(simulated_s)))
            << " in " << std::fixed << std::setprecision(1) << wall << " s wall time; "
            << total.failovers << " failovers, " << total.node_crashes << " node crashes, "
            << total.node_stops << " amfds stopped, " << total.director_crashes
            << " directors lost, " << total.partitions << " partitions, " << total.fences
            << " lives fenced\n";
  if (a.checkpoints || a.checkpoint_files) std::cout << checkpoint_counts(total) << "\n";
  return failed == 0 ? 0 : 1;
}

int run_replay(const Args& a) {
  const sim::SwarmCase c = sim::make_swarm_case(*a.replay_case, swarm_options(a));
  std::cout << "case " << c.seed << ": " << c.describe() << "\n";
  sim::Options options;
  options.checkpoints = a.checkpoints || a.checkpoint_files;
  options.checkpoint_files = a.checkpoint_files;
  options.checkpoint_recovery_wait = a.recovery_wait;
  if (a.trace) options.trace_sink = [](const std::string& line) { std::cout << line << "\n"; };
  const auto wall_start = WallClock::now();
  const sim::RunOutcome r = sim::run_case(c, options);
  std::cout << summary(r.stats, r.end.time_since_epoch(), seconds(WallClock::now() - wall_start))
            << "\n";
  if (!r.violation) {
    std::cout << "Every invariant held.\n";
    return 0;
  }
  std::cout << (a.trace ? r.violation->message : r.violation->describe()) << "\n";
  return 1;
}

// Prints where two transcripts first differ.
void print_difference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int n = 1;; ++n) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    if (!more_a && !more_b) return;
    if (more_a && more_b && la == lb) continue;
    std::cout << "first difference at line " << n
              << ":\n  expected: " << (more_a ? la : "(end of file)")
              << "\n  actual:   " << (more_b ? lb : "(end of file)") << "\n";
    return;
  }
}

int run_script_file(const Args& a) {
  std::ifstream in(a.script);
  if (!in) {
    std::cerr << "amf-sim: cannot read " << a.script << "\n";
    return kUsage;
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::filesystem::path dir = std::filesystem::path(a.script).parent_path();
  sim::ScriptEnv env;
  env.load_config = [&](const std::string& path) {
    return load_yaml(std::filesystem::path(path).is_absolute() ? path : (dir / path).string());
  };
  if (a.trace) env.trace_sink = [](const std::string& line) { std::cerr << line << "\n"; };
  const sim::ScriptResult r = sim::run_script(text.str(), env);
  if (a.expected.empty()) {
    std::cout << r.transcript;
  } else {
    const char* update = std::getenv("AMF_UPDATE_GOLDEN");
    std::ifstream golden(a.expected);
    std::stringstream want;
    if (golden) want << golden.rdbuf();
    if (a.update || (update != nullptr && std::string(update) == "1")) {
      std::ofstream(a.expected) << r.transcript;
      std::cout << "wrote " << a.expected << "\n";
    } else if (!golden || want.str() != r.transcript) {
      std::cout << r.transcript << "\n"
                << a.expected << ": the transcript differs ("
                << "AMF_UPDATE_GOLDEN=1 rewrites it)\n";
      print_difference(want.str(), r.transcript);
      return 1;
    }
  }
  if (!r.ok()) {
    std::cout << "script failed: " << r.failed_expectations << " failed expectations, " << r.errors
              << " errors"
              << (r.violation && !r.violation_expected ? ", an unexpected violation" : "") << "\n";
    if (r.violation && !r.violation_expected) std::cout << r.violation->describe() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"amf-sim: the deterministic cluster simulator (sim/README.md)"};
  app.footer(
      "Fault keys for --faults (rates per simulated second, per component; admin and "
      "partition per cluster, node per node; the network's loss, dup and reorder are "
      "probabilities per message, delay milliseconds, drift parts per million):\n" +
      sim::fault_keys_help());
  app.add_option("--seed", a.seed, "seed of the run (with --swarm: the master seed)");
  app.add_option("--config", a.config, "YAML configuration file");
  app.add_option("--spec", a.specs,
                 "a service group as scripts' `config` spells it, e.g. "
                 "\"2n sus=2 sis=1\" (repeatable; instead of --config)");
  app.add_option("--copies", a.copies, "stamp each --spec this many times")
      ->check(CLI::Range(1, 10000));
  app.add_option("--nodes", a.nodes, "spread the SUs of the --spec SGs over this many nodes")
      ->check(CLI::Range(1, 1000));
  app.add_option("--faults", a.faults, "fault rates, e.g. crash=0.01,hang=0.001 (default: a mix)");
  app.add_option("--duration", a.duration, "simulated time with faults (then 5 min settling)");
  app.add_option("--quiet", a.quiet, "quiet period after which liveness is judged (default 5m)");
  app.add_flag("--trace", a.trace, "print the whole trace as it happens");
  app.add_flag("--swarm", a.swarm, "run --runs random configurations and fault mixes");
  app.add_option("--runs", a.runs, "swarm runs")->check(CLI::Range(1, 10'000'000));
  app.add_option("--max-wall", a.max_wall, "stop the swarm after this wall time (0s: no limit)");
  app.add_option("--case", a.replay_case, "replay the swarm run of this seed");
  app.add_flag("--swarm-cleanup", a.swarm_cleanup, "let the swarm inject cleanup failures");
  app.add_option("--swarm-components", a.swarm_components, "most components per SU in the swarm")
      ->check(CLI::Range(1, 8));
  app.add_flag("--swarm-membership", a.swarm_membership,
               "the swarm's nodes run the real membership and director election over the "
               "simulated network and a model of etcd, with partitions");
  app.add_flag("--checkpoints", a.checkpoints,
               "every SI has a synchronous checkpoint that its active component increments; "
               "a new active must read every acknowledged increment (sim/README.md)");
  app.add_flag("--checkpoint-files", a.checkpoint_files,
               "--checkpoints, with the replicas kept on each node's disk (checkpoint_store: "
               "file): an increment no replica and no disk holds is a violation");
  app.add_option("--checkpoint-recovery-wait", a.checkpoint_recovery_wait,
                 "how long a recovering replica waits for the others (default 1s)");
  app.add_option("--script", a.script, "run a scenario script and print its transcript");
  app.add_option("--expected", a.expected, "compare the transcript with this golden file");
  app.add_flag("--update", a.update, "rewrite --expected (as AMF_UPDATE_GOLDEN=1 does)");
  CLI11_PARSE(app, argc, argv);
  if (auto wait = duration_arg(a.checkpoint_recovery_wait, "--checkpoint-recovery-wait")) {
    a.recovery_wait = *wait;
  } else {
    return kUsage;
  }
  if (!a.script.empty()) return run_script_file(a);
  if (a.replay_case) return run_replay(a);
  if (a.swarm) return run_swarm(a);
  return run_single(a);
}
