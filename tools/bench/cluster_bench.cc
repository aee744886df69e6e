// amf-cluster-bench: what a client of the demo counter sees when a node of a real amfd cluster
// fails. Three amfds on loopback (n1 and n2 hold a 2N counter's SUs, n3 none; all three are
// controllers), one etcd member, membership datagrams sealed with a key made for the run.
//
//   amf-cluster-bench [--fault node|director|component] [--profile fast|default] [--runs 20]
//                     [--idle SECONDS] [--realtime-priority N]
//
// Each run waits until the SI has an active and a standby, then a client sends INC to the
// active counter back to back; the fault is injected between two answered requests, and the
// client keeps asking until one is answered again. The outage is the time from the last
// answer before the fault to the first after it. Faults:
//   node       SIGKILL of the amfd of the active's node and of its components
//   director   the same for the director's node (which may or may not hold the active)
//   component  SIGKILL of the active component alone (its amfd fails its SU over)
// A killed node is started again as its next life before the next run, and the run waits for
// a restarted voter's quiet time (amf/membership/README.md, rule 2) before the next fault. An
// amfd that ends on its own between runs (a node that fenced itself) is started again too, as
// systemd's Restart= would, and the count is printed at the end.
// Prints each run with what it killed, then median, 90th percentile and worst.
//
// With --idle, first the idle cost: once the cluster has settled (the SI has its active and
// standby, the client is not asking), each amfd's CPU time over that many seconds, as a share
// of one core, and its resident memory at the end. --runs 0 measures only that.
// --realtime-priority N starts each amfd with it (SCHED_RR; root or CAP_SYS_NICE).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "amf/keys/cluster_key.h"
#include "amf/wire/codec.h"
#include "tools/support/etcd_server.h"
#include "tools/support/proc_stats.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string bin_dir() { return fs::canonical("/proc/self/exe").parent_path().string(); }

pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  if (::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// The status amfctl prints for a node's amfd, parsed; none when it does not answer.
std::optional<amf::wire::ClusterStatus> status(const std::string& runtime_dir) {
  const std::string out = runtime_dir + ".status.json";
  const std::string command = bin_dir() + "/amfctl --runtime-dir " + runtime_dir +
                              " status -o json > " + out + " 2>/dev/null";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = amf::wire::status_from_json(text.str());
  return parsed ? std::optional(*parsed) : std::nullopt;
}

// One request to the counter; true when it was answered.
bool ask(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, "INC\n", 4) == 4) {
    char buf[64];
    ok = ::read(fd, buf, sizeof buf) > 0;
  }
  ::close(fd);
  return ok;
}

struct Cluster {
  std::string dir;
  std::string config;
  int port = 0;
  std::map<std::string, pid_t> amfd;
  std::string key;
  int realtime_priority = 0;

  void start(const std::string& node) {
    amfd[node] = spawn(
        {bin_dir() + "/amfd", "--config", config, "--node", node, "--runtime-dir", dir + "/" + node,
         "--cluster-key", key, "--realtime-priority", std::to_string(realtime_priority)},
        dir + "/" + node + ".log");
  }
  // The PIDs of a node's components, as its amfd reports them (its status shows every node's;
  // only its own SUs' are taken).
  std::vector<int> component_pids(const std::string& node) {
    std::vector<int> pids;
    if (auto s = status(dir + "/" + node)) {
      for (const auto& sg : s->service_groups) {
        for (const auto& su : sg.service_units) {
          for (const auto& c : su.components) {
            if (c.pid > 0 && su.node == node) pids.push_back(c.pid);
          }
        }
      }
    }
    return pids;
  }
  // The node dies whole: its amfd and its components at once.
  void kill_node(const std::string& node, const std::vector<int>& pids) {
    ::kill(amfd[node], SIGKILL);
    for (int p : pids) ::kill(p, SIGKILL);
  }
  void reap(const std::string& node) {
    ::waitpid(amfd[node], nullptr, 0);
    amfd[node] = -1;
  }
  // As systemd's Restart= does: an amfd that ended on its own (a node whose lease ran out
  // fences itself and exits 3) is started again as its next life. Counted, and said.
  int restarted = 0;
  void supervise() {
    for (auto& [node, pid] : amfd) {
      int status = 0;
      if (pid <= 0 || ::waitpid(pid, &status, WNOHANG) != pid) continue;
      std::fprintf(stderr, "node %s: its amfd exited (%s %d); started again\n", node.c_str(),
                   WIFEXITED(status) ? "code" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
      ++restarted;
      start(node);
    }
  }
  void stop_all() {
    for (auto& [node, pid] : amfd) {
      if (pid > 0) ::kill(pid, SIGTERM);
    }
    for (auto& [node, pid] : amfd) {
      if (pid > 0) ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~Cluster() { stop_all(); }
};

struct Settled {
  std::string director;
  std::string active_su;
  std::string active_node;
  int active_pid = 0;
};

// Waits (up to 30 s) until the running nodes agree on a director whose table has the SI with
// an active and a standby.
std::optional<Settled> settle(Cluster& c) {
  const auto until = SteadyClock::now() + 30s;
  while (SteadyClock::now() < until) {
    c.supervise();
    std::string director;
    bool agree = true;
    for (const auto& [node, pid] : c.amfd) {
      if (pid <= 0) continue;
      auto s = status(c.dir + "/" + node);
      if (!s || s->director.empty() || (!director.empty() && s->director != director)) {
        agree = false;
        break;
      }
      director = s->director;
    }
    if (agree && !director.empty()) {
      if (auto s = status(c.dir + "/" + director)) {
        Settled r{director, "", "", 0};
        bool standby = false;
        for (const auto& sg : s->service_groups) {
          if (sg.busy || sg.service_instances.empty()) continue;
          for (const auto& a : sg.service_instances.front().assignments) {
            if (a.ha_state == "active") r.active_su = a.service_unit;
            if (a.ha_state == "standby") standby = true;
          }
          for (const auto& u : sg.service_units) {
            if (u.name == r.active_su) r.active_node = u.node;
          }
        }
        if (!r.active_su.empty() && standby) {
          if (auto local = status(c.dir + "/" + r.active_node)) {
            for (const auto& sg : local->service_groups) {
              for (const auto& u : sg.service_units) {
                if (u.name == r.active_su && !u.components.empty()) {
                  r.active_pid = u.components[0].pid;
                }
              }
            }
          }
          if (r.active_pid > 0) return r;
        }
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

void summary(std::vector<double> ms) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  std::printf("client-observed outage: median %.2f ms  p90 %.2f ms  worst %.2f ms  (%zu runs)\n",
              at(0.5), at(0.9), ms.back(), ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "amf-cluster-bench: client-observed outage when a node of a real amfd cluster fails"};
  std::string fault = "node";
  std::string profile = "fast";
  int runs = 20;
  bool keep = false;
  app.add_option("--fault", fault, "node, director or component")
      ->check(CLI::IsMember({"node", "director", "component"}));
  app.add_option("--profile", profile, "membership profile: fast or default")
      ->check(CLI::IsMember({"fast", "default"}));
  app.add_option("--runs", runs, "faults to inject")->check(CLI::Range(0, 1000));
  double idle_seconds = 0;
  app.add_option("--idle", idle_seconds,
                 "first measure each amfd's CPU and memory over this many idle seconds")
      ->check(CLI::Range(0.0, 600.0));
  app.add_flag("--keep", keep, "keep the runtime directories and logs (printed at the end)");
  int realtime_priority = 0;
  app.add_option("--realtime-priority", realtime_priority,
                 "start each amfd with --realtime-priority N (0: normal priority)")
      ->check(CLI::Range(0, 99));
  CLI11_PARSE(app, argc, argv);

  amf::testing::EtcdServer etcd;
  if (!etcd.started()) {
    std::cerr << "cannot start etcd (tools/run setup installs etcd-server)\n";
    return 1;
  }
  char tmpl[] = "/tmp/amf-cluster-bench-XXXXXX";
  Cluster c;
  c.realtime_priority = realtime_priority;
  c.dir = ::mkdtemp(tmpl);
  c.key = c.dir + "/cluster.key";
  if (auto made = amf::keys::ClusterKey::generate(c.key); !made) {
    std::cerr << made.error().message() << "\n";
    return 1;
  }
  c.port = amf::testing::free_loopback_port();
  std::string nodes;
  for (const char* n : {"n1", "n2", "n3"}) {
    nodes += std::string("  - {name: ") + n + ", controller: true, membership_port: " +
             std::to_string(amf::testing::free_loopback_port(SOCK_DGRAM)) +
             ", command_port: " + std::to_string(amf::testing::free_loopback_port()) +
             ", checkpoint_port: " + std::to_string(amf::testing::free_loopback_port()) + "}\n";
  }
  c.config = c.dir + "/cluster.yaml";
  std::ofstream(c.config)
      << "cluster:\n  name: bench\n  membership_profile: " << profile << "\n  etcd: [\""
      << etcd.client() << "\"]\nnodes:\n"
      << nodes
      << "applications:\n  - name: counter\n    service_groups:\n      - name: counter\n"
         "        redundancy: 2n\n        su_template:\n          nodes: [n1, n2]\n"
         "          components:\n            - name: server\n"
         "              command: " +
             bin_dir() +
             "/amf-demo-counter\n"
             "              cs_types: [counter]\n              recovery: component-failover\n"
             "        service_instances:\n          - name: si-1\n            csis:\n"
             "              - name: endpoint\n                cs_type: counter\n"
             "                attributes: {port: \""
      << c.port << "\"}\n";
  // n3 first: it wins epoch 1 and directs from a node without SUs.
  c.start("n3");
  std::this_thread::sleep_for(300ms);
  c.start("n1");
  c.start("n2");

  if (idle_seconds > 0) {
    const auto settled = settle(c);
    if (!settled) {
      std::cerr << "the cluster did not settle; logs in " << c.dir << "\n";
      return 1;
    }
    std::map<std::string, double> before;
    for (const auto& [node, pid] : c.amfd) before[node] = amf::testing::cpu_seconds(pid);
    const double etcd_before = amf::testing::cpu_seconds(etcd.pid());
    const auto from = SteadyClock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
    const double idle = std::chrono::duration<double>(SteadyClock::now() - from).count();
    std::printf("idle for %.1f s, %s profile (%s directs; n1 and n2 hold the counter's SUs):\n",
                idle, profile.c_str(), settled->director.c_str());
    for (const auto& [node, pid] : c.amfd) {
      if (pid <= 0 || ::waitpid(pid, nullptr, WNOHANG) == pid) {
        c.amfd[node] = -1;
        std::cerr << "amfd " << node << " ended while idle; logs in " << c.dir << "\n";
        return 1;
      }
    }
    for (const auto& [node, pid] : c.amfd) {
      const double cpu = (amf::testing::cpu_seconds(pid) - before[node]) / idle * 100.0;
      std::printf("  amfd %s: %.2f %% of a core, %.1f MiB resident\n", node.c_str(), cpu,
                  static_cast<double>(amf::testing::rss_kib(pid)) / 1024.0);
    }
    std::printf("  etcd (the one member): %.2f %% of a core\n",
                (amf::testing::cpu_seconds(etcd.pid()) - etcd_before) / idle * 100.0);
    std::fflush(stdout);
  }

  std::vector<double> outages;
  for (int run = 1; run <= runs; ++run) {
    auto s = settle(c);
    if (!s) {
      std::cerr << "run " << run << ": the cluster did not settle; logs in " << c.dir << "\n";
      return 1;
    }
    std::string victim = fault == "director" ? s->director : s->active_node;
    std::string what = fault == "component"
                           ? "the active component, on " + s->active_node
                           : "node " + victim + " (" +
                                 (victim == s->active_node ? "the active's" : "not the active's") +
                                 (victim == s->director ? ", the director's)" : ")");
    const std::vector<int> pids =
        fault == "component" ? std::vector<int>{s->active_pid} : c.component_pids(victim);
    // Served before the fault: the last answer's time; the fault follows at once.
    SteadyClock::time_point last{};
    for (int i = 0; i < 1000 && last == SteadyClock::time_point{}; ++i) {
      if (ask(c.port)) last = SteadyClock::now();
    }
    if (last == SteadyClock::time_point{}) {
      std::cerr << "run " << run << ": the counter does not answer\n";
      return 1;
    }
    if (fault == "component") {
      ::kill(s->active_pid, SIGKILL);
    } else {
      c.kill_node(victim, pids);
    }
    std::optional<SteadyClock::time_point> back;
    const auto give_up = SteadyClock::now() + 20s;
    while (!back && SteadyClock::now() < give_up) {
      if (ask(c.port)) back = SteadyClock::now();
    }
    if (!back) {
      std::cerr << "run " << run << ": no answer within 20 s after the fault; logs in " << c.dir
                << "\n";
      return 1;
    }
    const double ms = std::chrono::duration<double, std::milli>(*back - last).count();
    outages.push_back(ms);
    std::printf("run %2d: %-44s outage %8.2f ms\n", run, what.c_str(), ms);
    std::fflush(stdout);
    if (fault != "component") {
      c.reap(victim);
      c.start(victim);
      // The restarted voter's quiet time (at most ~450 ms with the default profile).
      std::this_thread::sleep_for(profile == "fast" ? 200ms : 1s);
    }
  }
  summary(outages);
  if (c.restarted > 0) {
    std::printf("amfds that ended on their own (fenced) and were started again: %d\n", c.restarted);
  }
  c.stop_all();
  if (keep) {
    std::printf("logs: %s/n1.log, n2.log, n3.log\n", c.dir.c_str());
  } else {
    std::error_code ignored;
    fs::remove_all(c.dir, ignored);
  }
  return 0;
}
