// amfd: the amf node daemon.
#include <sched.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "amf/daemon/daemon.h"
#include "amf/daemon/runtime_dir.h"
#include "amf/daemon/supported.h"
#include "amf/wire/codec.h"
#include "config/loader.h"

namespace {

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  std::shared_ptr<spdlog::logger> log;
  if (std::getenv("JOURNAL_STREAM") != nullptr) {  // started by systemd: log to the journal
    log = std::make_shared<spdlog::logger>("amfd",
                                           std::make_shared<spdlog::sinks::systemd_sink_mt>());
  } else {
    log = std::make_shared<spdlog::logger>("amfd",
                                           std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  log->set_level(spdlog::level::from_str(level));
  log->flush_on(spdlog::level::warn);
  return log;
}

// Loads and validates; prints every problem. Empty on failure.
std::shared_ptr<const amf::model::ClusterConfig> load(const std::string& path) {
  auto loaded = amf::config::load_file(path);
  if (!loaded) {
    for (const auto& d : loaded.error()) std::cerr << d.to_string() << "\n";
    std::cerr << path << ": " << loaded.error().size() << " error(s)\n";
    return nullptr;
  }
  return std::make_shared<const amf::model::ClusterConfig>(std::move(*loaded));
}

// SCHED_RR at `priority` for amfd's threads (its loop, ZeroMQ's I/O threads), as corosync takes
// for its heartbeats: a host busy with other work must not delay a heartbeat or its
// acknowledgement past the lease (20 ms with the fast profile). With SCHED_RESET_ON_FORK, so
// that the processes amfd starts (components, hooks, runc) run at normal priority; since that
// flag also keeps a new thread from inheriting the policy, it is set on every thread once they
// have started. Not being allowed (no CAP_SYS_NICE, RLIMIT_RTPRIO below `priority`) is logged,
// not fatal.
void take_realtime_priority(int priority, spdlog::logger& log) {
  const sched_param param{.sched_priority = priority};
  std::vector<pid_t> done;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    const pid_t tid = std::stoi(task.path().filename().string());
    if (::sched_setscheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, &param) != 0) {
      const int error = errno;
      // All or none: the threads already set go back (lowering is always allowed).
      const sched_param normal{.sched_priority = 0};
      for (const pid_t set : done) ::sched_setscheduler(set, SCHED_OTHER, &normal);
      log.warn(
          "cannot take real-time priority {} (SCHED_RR): {} (it needs CAP_SYS_NICE, or "
          "RLIMIT_RTPRIO of at least {}); running at normal priority, where a busy host can "
          "delay heartbeats past the membership lease",
          priority, std::strerror(error), priority);
      return;
    }
    done.push_back(tid);
  }
  log.info(
      "real-time priority {} (SCHED_RR) on amfd's {} threads; the processes it starts run "
      "at normal priority",
      priority, done.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amfd: the amf node daemon (availability management framework)"};
  std::string config_path;
  std::string check_path;
  std::string node_name;
  std::string log_level = "info";
  amf::daemon::Options options;
  options.runtime_dir = amf::daemon::default_runtime_dir();
  app.add_option("-c,--config", config_path, "cluster configuration (YAML)");
  app.add_option("--check-config", check_path,
                 "validate a configuration, print its errors or a summary, and exit");
  app.add_option("--node", node_name, "this node's name (default: the only node in the file)");
  app.add_option("--runtime-dir", options.runtime_dir,
                 "sockets, lock and components' working directory (default $AMF_RUNTIME_DIR, "
                 "/run/amf as root, else $XDG_RUNTIME_DIR/amf)");
  app.add_option("--log-dir", options.log_dir, "components' output (default RUNTIME_DIR/log)");
  app.add_option("--state-dir", options.state_dir,
                 "the admin-state store, admin-states.json: the admin states operators set, "
                 "which a restarted amfd starts from (default RUNTIME_DIR)");
  app.add_option("--cluster-key", options.cluster_key_file,
                 "several nodes: the cluster's key (amfctl keygen FILE), which seals the "
                 "membership datagrams and encrypts the command links (CURVE); required unless "
                 "every node's address is on loopback");
  app.add_option("--remote-admin", options.remote_admin,
                 "ADDRESS:PORT where amfctl --connect from another host reaches this amfd, "
                 "over CURVE with the cluster's key (needs --cluster-key; default: the local "
                 "admin.sock only)");
  bool no_cgroups = false;
  app.add_flag("--no-cgroups", no_cgroups,
               "contain components by process group and an environment mark only, as on a host "
               "without a writable cgroup2 hierarchy (default: a cgroup per component)");
  int realtime_priority = 0;
  app.add_option("--realtime-priority", realtime_priority,
                 "run amfd (not its components) with SCHED_RR at this priority, 1 to 99, so that "
                 "a busy host does not delay its heartbeats (needs CAP_SYS_NICE; default 0: "
                 "normal priority)")
      ->check(CLI::Range(0, 99));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error; every usage error exits 2
  }

  if (!check_path.empty()) {
    auto config = load(check_path);
    if (!config) return 1;
    std::cout << amf::config::summary(*config) << "\n";
    for (const auto& problem : amf::daemon::unsupported_features(*config)) {
      std::cout << "note: amfd cannot run this yet: " << problem << "\n";
    }
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "amfd: --config FILE is required (or --check-config FILE)\n";
    return 2;
  }
  if (!options.remote_admin.empty() && options.cluster_key_file.empty()) {
    std::cerr << "amfd: --remote-admin " << options.remote_admin
              << " needs --cluster-key: amfctl from another host is let in with the cluster's "
                 "key only (make one with 'amfctl keygen FILE')\n";
    return 2;
  }
  auto config = load(config_path);
  if (!config) return 1;
  if (auto problems = amf::daemon::unsupported_features(*config); !problems.empty()) {
    for (const auto& p : problems) std::cerr << config_path << ": " << p << "\n";
    return 1;
  }
  if (node_name.empty()) node_name = config->nodes.front().name;
  if (config->find_node(amf::NodeId(node_name)) == nullptr) {
    std::cerr << "amfd: node '" << node_name << "' is not defined in " << config_path << "\n";
    return 2;
  }
  if (options.log_dir.empty()) options.log_dir = options.runtime_dir + "/log";
  // Container inits are reparented to amfd when runc detaches: amfd must be their subreaper
  // before the first one starts.
  for (const amf::model::SgConfig* sg : config->service_groups()) {
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) {
        // And a daemonizing instantiate command's daemon, to be its parent (and reaper).
        if (comp.runtime != amf::model::Runtime::kOci && comp.pid_file.empty()) continue;
        if (auto ok = amf::containers::OciLauncher::become_child_subreaper(); !ok) {
          std::cerr << "amfd: " << ok.error().message() << "\n";
          return 1;
        }
      }
    }
  }
  options.config_path = config_path;
  options.use_cgroups = !no_cgroups;
  // A pidfd per component (and a socket per notified one): thousands of components need more
  // than the usual soft limit of 1,024 open files. Raised to the hard limit for amfd; the
  // processes it starts get the limit amfd was given.
  if (rlimit nofile{};
      ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    options.child_fd_limit = nofile.rlim_cur;
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }

  auto log = make_logger(log_level);
  amf::wire::silence_library_log();  // peers' malformed strings must not fill our log
  auto daemon = amf::daemon::Daemon::create(options, config, amf::NodeId(node_name), log);
  if (!daemon) {
    std::cerr << "amfd: " << daemon.error().message() << "\n";
    return 1;
  }
  // Once its threads have started (the daemon started them: sockets, links).
  if (realtime_priority > 0) take_realtime_priority(realtime_priority, *log);
  return (*daemon)->run();
}
