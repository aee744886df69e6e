// amf-membership-bench: how fast a crashed node is detected and declared gone, with real
// processes and real UDP sockets on loopback, and what membership costs an idle node.
//
//   amf-membership-bench crash [--profile fast|default] [--runs 20]
//
// starts three membership nodes (n1 leads, all three vote; datagrams sealed with a cluster key
// made for the run), and for each run SIGKILLs n3 once
// the director has it in the view, times the kill to n1's "suspected" and "node left" (every
// process's steady clock is CLOCK_MONOTONIC, so their times compare), and restarts n3 as its
// next incarnation. Then it measures n1's CPU and resident memory over a few idle seconds.
// Prints every run, then median, 90th percentile and worst.
//
//   amf-membership-bench node --name n1 --incarnation 1 --endpoint udp://127.0.0.1:7101
//       --peer n2=udp://127.0.0.1:7102 ... --voters n1,n2,n3 [--lead EPOCH] [--profile fast]
//
// is one node: it prints each membership event with its time in nanoseconds and runs until
// SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "amf/daemon/membership_service.h"
#include "amf/wire/codec.h"
#include "tools/support/ports.h"
#include "tools/support/proc_stats.h"

extern char** environ;

namespace {

using namespace amf;
using namespace std::chrono_literals;

// ---- one node ----

int run_node(const std::string& name, std::uint64_t incarnation, const std::string& endpoint,
             const std::vector<std::string>& peers, const std::vector<std::string>& voters,
             std::uint64_t lead, const std::string& profile_name, const std::string& key_file) {
  auto profile = membership::profile_named(profile_name);
  if (!profile) {
    std::cerr << profile.error().message() << "\n";
    return 2;
  }
  daemon::MembershipService::Settings settings{
      {NodeId(name), incarnation}, endpoint, {}, {}, *profile};
  for (const std::string& p : peers) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "--peer " << p << ": expected NAME=ENDPOINT\n";
      return 2;
    }
    settings.peers[NodeId(p.substr(0, eq))] = p.substr(eq + 1);
  }
  for (const std::string& v : voters) settings.voters.insert(NodeId(v));
  if (!key_file.empty()) {
    auto key = keys::ClusterKey::load(key_file);
    if (!key) {
      std::cerr << key.error().message() << "\n";
      return 2;
    }
    settings.key = *key;
  }

  wire::silence_library_log();  // a peer's malformed datagrams are reported once, below
  boost::asio::io_context io;
  auto print = [](const std::string& line, TimePoint at) {
    std::printf("%lld %s\n", static_cast<long long>(to_ns(at)), line.c_str());
    std::fflush(stdout);
  };
  std::unique_ptr<daemon::MembershipService>* service_ptr = nullptr;
  auto service = daemon::MembershipService::start(
      io, settings,
      [&](const membership::Effect& e, TimePoint at) {
        print(membership::describe(e), at);
        // When the lease itself ended (the fence above is when this process noticed).
        if (std::holds_alternative<membership::Fence>(e) && service_ptr && *service_ptr) {
          if (auto end = (*service_ptr)->node().member().lease_end()) print("lease ended", *end);
        }
      },
      [&](const std::string& reason) { print("refused: " + reason, Clock::now()); });
  if (!service) {
    std::cerr << service.error().message() << "\n";
    return 1;
  }
  service_ptr = &*service;
  if (lead > 0) (*service)->lead(lead);
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}

// ---- the benchmarks' nodes ----

// Each node's endpoint on loopback, on a port nobody holds; empty when there is none.
std::map<std::string, std::string> loopback_endpoints(const std::vector<std::string>& names) {
  std::map<std::string, std::string> endpoint;
  for (const auto& n : names) {
    const int port = amf::testing::free_loopback_port(SOCK_DGRAM);
    if (port < 0) return {};
    endpoint[n] = "udp://127.0.0.1:" + std::to_string(port);
  }
  return endpoint;
}

// The command line of one node (`node` mode) among `endpoint`'s, all of them voters.
std::vector<std::string> node_args(const std::string& n, std::uint64_t incarnation,
                                   const std::map<std::string, std::string>& endpoint,
                                   const std::string& profile, const std::string& key_file) {
  std::vector<std::string> a{"amf-membership-bench",
                             "node",
                             "--name",
                             n,
                             "--incarnation",
                             std::to_string(incarnation),
                             "--endpoint",
                             endpoint.at(n),
                             "--profile",
                             profile,
                             "--key-file",
                             key_file};
  std::string voters;
  for (const auto& [p, e] : endpoint) {
    voters += (voters.empty() ? "" : ",") + p;
    if (p != n) a.insert(a.end(), {"--peer", p + "=" + e});
  }
  a.insert(a.end(), {"--voters", voters});
  return a;
}

// ---- the crash benchmark ----

// A cluster key in a directory of its own, removed when it goes: the nodes seal their
// datagrams with it, as a cluster off loopback must.
struct BenchKey {
  std::string dir;
  std::string file;
  BenchKey() {
    char tmpl[] = "/tmp/amf-bench-key-XXXXXX";
    dir = ::mkdtemp(tmpl);
    file = dir + "/cluster.key";
    if (!keys::ClusterKey::generate(file)) file.clear();
  }
  ~BenchKey() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

struct Child {
  pid_t pid = -1;
  int out = -1;  // its stdout, when captured
  std::string partial;
  std::vector<std::string> lines;  // every complete line it printed
  std::size_t cursor = 0;          // wait_for() looks from here on
};

Child spawn(const std::vector<std::string>& args, bool capture) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int fds[2] = {-1, -1};
  if (capture) {
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  Child child;
  const int err =
      posix_spawn(&child.pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (capture) {
    ::close(fds[1]);
    child.out = fds[0];
  }
  if (err != 0) child.pid = -1;
  return child;
}

void end(Child& c, int signal) {
  if (c.pid > 0) {
    ::kill(c.pid, signal);
    ::waitpid(c.pid, nullptr, 0);
  }
  if (c.out >= 0) ::close(c.out);
  c = {};
}

// Reads the child's output until a line at index `from` or later contains `text`; returns the
// line's index, or nothing when the time is up. Polls at least once, so a zero limit still
// takes what is there already.
std::optional<std::size_t> find(Child& c, std::size_t from, const std::string& text,
                                Duration limit) {
  const TimePoint until = Clock::now() + limit;
  for (std::size_t i = from;;) {
    for (; i < c.lines.size(); ++i) {
      if (c.lines[i].find(text) != std::string::npos) return i;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{c.out, POLLIN, 0};
    if (c.out < 0 || ::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0))) <= 0) {
      if (left.count() <= 0) return std::nullopt;
      continue;
    }
    char buf[4096];
    const ssize_t n = ::read(c.out, buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    c.partial.append(buf, static_cast<std::size_t>(n));
    for (auto nl = c.partial.find('\n'); nl != std::string::npos; nl = c.partial.find('\n')) {
      c.lines.push_back(c.partial.substr(0, nl));
      c.partial.erase(0, nl + 1);
    }
  }
}

// The next line (after the cursor) that contains `text`; moves the cursor past it.
std::optional<std::string> wait_for(Child& c, const std::string& text, Duration limit) {
  auto at = find(c, c.cursor, text, limit);
  if (!at) return std::nullopt;
  c.cursor = *at + 1;
  return c.lines[*at];
}

std::int64_t time_of(const std::string& line) { return std::stoll(line.substr(0, line.find(' '))); }

struct Stats {
  std::vector<double> ms;
  void print(const char* what) {
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; };
    std::printf("%-28s median %7.2f ms  p90 %7.2f ms  worst %7.2f ms  (%zu runs)\n", what, at(0.5),
                at(0.9), ms.back(), ms.size());
  }
};

// The floor under the idle cost: CPU of a process that does nothing but wake every `period`
// on an Asio timer, as a membership node wakes at least once per heartbeat interval; over
// `seconds`, as a percentage of a core. On a virtual machine every wake-up costs far more than
// on bare metal (the timer interrupt and the idle exit and entry are the hypervisor's).
double bare_wake_cpu(amf::Duration period, double seconds) {
  const pid_t child = ::fork();
  if (child < 0) return -1;
  if (child == 0) {
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds + 5);
    std::function<void()> wake = [&] {
      if (std::chrono::steady_clock::now() >= end) return;
      timer.expires_after(period);
      timer.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) wake();
      });
    };
    wake();
    io.run();
    ::_exit(0);
  }
  // Its time on a CPU in nanoseconds (/proc/PID/schedstat; the clock ticks of /proc/PID/stat
  // are 10 ms, too coarse for a few milliseconds a second).
  const auto on_cpu = [child] {
    std::ifstream in("/proc/" + std::to_string(child) + "/schedstat");
    double ns = 0;
    in >> ns;
    return ns / 1e9;
  };
  std::this_thread::sleep_for(200ms);  // past its start
  const double before = on_cpu();
  const auto from = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double cpu =
      (on_cpu() - before) / std::chrono::duration<double>(Clock::now() - from).count() * 100.0;
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return cpu;
}

int run_crash(const std::string& profile_name, int runs, double idle_seconds) {
  auto profile = membership::profile_named(profile_name);
  if (!profile) {
    std::cerr << profile.error().message() << "\n";
    return 2;
  }
  const BenchKey key;
  const std::vector<std::string> names{"n1", "n2", "n3"};
  const auto endpoint = loopback_endpoints(names);
  if (endpoint.empty()) {
    std::cerr << "no free loopback port\n";
    return 1;
  }
  const auto args = [&](const std::string& n, std::uint64_t incarnation) {
    auto a = node_args(n, incarnation, endpoint, profile_name, key.file);
    if (n == "n1") a.insert(a.end(), {"--lead", "1"});
    return a;
  };
  Child n1 = spawn(args("n1", 1), true);
  Child n2 = spawn(args("n2", 1), false);
  Child n3 = spawn(args("n3", 1), false);
  const auto fail_with = [&](const std::string& why) {
    std::cerr << why << "\n";
    end(n3, SIGKILL);
    end(n2, SIGTERM);
    end(n1, SIGTERM);
    return 1;
  };
  if (n1.pid < 0 || n2.pid < 0 || n3.pid < 0) return fail_with("cannot start the nodes");

  std::mt19937_64 rng(std::random_device{}());
  Stats suspected, left;
  for (int run = 1; run <= runs; ++run) {
    const std::string life = "n3#" + std::to_string(run);
    if (!wait_for(n1, "node joined: " + life, 5s))
      return fail_with("n1 never took " + life + " in");
    // Let it settle, then kill at a random moment of the heartbeat interval.
    std::this_thread::sleep_for(
        50ms +
        std::chrono::microseconds(
            rng() %
            std::chrono::duration_cast<std::chrono::microseconds>(profile->interval).count()));
    const TimePoint kill_at = Clock::now();
    ::kill(n3.pid, SIGKILL);
    ::waitpid(n3.pid, nullptr, 0);
    n3 = {};
    auto s = wait_for(n1, "suspected " + life, 10 * profile->timeout);
    auto l = wait_for(n1, "node left: " + life, 10 * profile->timeout);
    if (!s || !l) return fail_with("n1 never declared " + life + " gone");
    suspected.ms.push_back(static_cast<double>(time_of(*s) - to_ns(kill_at)) / 1e6);
    left.ms.push_back(static_cast<double>(time_of(*l) - to_ns(kill_at)) / 1e6);
    std::printf("run %2d: kill -> suspected %6.2f ms, -> node left %6.2f ms\n", run,
                suspected.ms.back(), left.ms.back());
    n3 = spawn(args("n3", static_cast<std::uint64_t>(run) + 1), false);
    if (n3.pid < 0) return fail_with("cannot restart n3");
  }
  if (!wait_for(n1, "node joined: n3#" + std::to_string(runs + 1), 5s)) {
    return fail_with("n1 never took the last n3 in");
  }
  const double cpu_before = amf::testing::cpu_seconds(n1.pid);
  const TimePoint idle_from = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
  const double idle = std::chrono::duration<double>(Clock::now() - idle_from).count();
  const double cpu = (amf::testing::cpu_seconds(n1.pid) - cpu_before) / idle * 100.0;
  const long rss = amf::testing::rss_kib(n1.pid);
  end(n3, SIGTERM);
  end(n2, SIGTERM);
  end(n1, SIGTERM);
  const double floor = bare_wake_cpu(profile->interval, idle_seconds);

  std::printf(
      "\nnode crash (SIGKILL), %s profile (interval %lld ms, timeout %lld ms), "
      "three nodes on loopback:\n",
      profile_name.c_str(), static_cast<long long>(profile->interval / 1ms),
      static_cast<long long>(profile->timeout / 1ms));
  suspected.print("kill -> suspected");
  left.print("kill -> node left (failover)");
  std::printf(
      "director node, idle %.1f s: CPU %.2f %% of a core, resident %ld KiB "
      "(the membership alone, not amfd)\n",
      idle, cpu, rss);
  std::printf(
      "a process that only wakes every %lld ms (an Asio timer, nothing else): CPU %.2f %% of a "
      "core, the floor of one wake-up per heartbeat interval on this machine\n",
      static_cast<long long>(profile->interval / 1ms), floor);
  return 0;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amf-membership-bench: node crash detection over real sockets"};
  app.require_subcommand(1);

  auto* crash = app.add_subcommand("crash", "time the detection of crashed nodes");
  std::string profile = "fast";
  int runs = 20;
  double idle = 3.0;
  crash->add_option("--profile", profile, "fast or default");
  crash->add_option("--runs", runs, "crashes to time")->check(CLI::Range(1, 1000));
  crash->add_option("--idle", idle, "seconds to measure the idle cost")
      ->check(CLI::Range(0.1, 60.0));

  auto* node = app.add_subcommand("node", "one membership node (the benchmark starts these)");
  std::string name, endpoint, voters;
  std::uint64_t incarnation = 1, lead = 0;
  std::vector<std::string> peers;
  node->add_option("--name", name)->required();
  node->add_option("--incarnation", incarnation);
  node->add_option("--endpoint", endpoint)->required();
  node->add_option("--peer", peers, "NAME=ENDPOINT, once per other node");
  node->add_option("--voters", voters, "comma-separated")->required();
  node->add_option("--lead", lead, "lead with this epoch");
  node->add_option("--profile", profile);
  std::string key_file;
  node->add_option("--key-file", key_file, "seal datagrams with this cluster key");

  CLI11_PARSE(app, argc, argv);

  if (*crash) return run_crash(profile, runs, idle);
  return run_node(name, incarnation, endpoint, peers, split(voters), lead, profile, key_file);
}
