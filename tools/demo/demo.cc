// amf-demo: starts amfd with the demo configuration, kills the active component with SIGKILL
// a number of times, and shows the standby taking over, with how long each step took. Each
// round's first increment after the kill must continue the counter; with --client,
// amf-demo-client increments throughout as well, and an acknowledged increment it finds lost
// fails the run (`amf-demo -n 1000 --client`: the checkpoint's 1,000 kills).
//
// Timing: amfd stamps every event with CLOCK_MONOTONIC (steady_clock), which this process
// shares, so the outage splits into
//   detection  kill() here -> amfd's node director handles the process's death (pidfd)
//   recovery   that moment -> the standby's component answered its CSI set (active), split
//              into the decision (until the director has dropped the dead SU's assignment and
//              ordered the promotion) and the CSI callback round trip through the component
// and, seen from a client, kill() -> the first INC the new active acknowledges.
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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/loader.h"
#include "tools/amfctl/admin_client.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

// One request/response on the counter service; nullopt when it is not being served.
std::optional<std::string> ask(int port, const std::string& command) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::optional<std::string> out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string line = command + "\n";
    char buf[128];
    if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        std::string reply(buf, static_cast<std::size_t>(n));
        while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
        if (reply.rfind("ERR", 0) != 0) out = reply;
      }
    }
  }
  ::close(fd);
  return out;
}

struct Shape {  // what the demo needs from the configuration
  std::string sg, si;
  int port = 0;
};

std::optional<Shape> shape_of(const amf::model::ClusterConfig& config) {
  for (const auto* sg : config.service_groups()) {
    if (sg->redundancy != amf::model::RedundancyModel::kTwoN) continue;
    for (const auto& si : sg->sis) {
      for (const auto& csi : si.csis) {
        if (auto port = csi.attributes.find("port"); port != csi.attributes.end()) {
          return Shape{sg->id.str(), si.id.str(), std::atoi(port->second.c_str())};
        }
      }
    }
  }
  return std::nullopt;
}

struct Holders {
  std::string active, standby;
  int active_pid = 0;
  std::string active_comp;
};

std::optional<Holders> holders(const std::string& runtime, const Shape& shape) {
  auto status = amf::tools::fetch_status(runtime);
  if (!status) return std::nullopt;
  Holders h;
  for (const auto& sg : status->service_groups) {
    if (sg.name != shape.sg || sg.busy) continue;
    for (const auto& si : sg.service_instances) {
      if (si.name != shape.si) continue;
      for (const auto& a : si.assignments)
        (a.ha_state == "active" ? h.active : h.standby) = a.service_unit;
    }
    for (const auto& su : sg.service_units) {
      if (su.name == h.active && !su.components.empty()) {
        h.active_pid = su.components[0].pid;
        h.active_comp = su.components[0].name;
      }
    }
  }
  if (h.active.empty() || h.standby.empty() || h.active_pid == 0) return std::nullopt;
  return h;
}

template <class Pred>
bool wait_for(std::chrono::milliseconds limit, Pred pred) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

struct Round {
  double detection_ms = 0, recovery_ms = 0, decision_ms = 0, callback_ms = 0, client_ms = 0,
         repair_ms = 0;
};

void summarize(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double median =
      v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  std::printf("  %-34s median %8.3f ms   worst %8.3f ms\n", what, median, v.back());
}

// Starts `args` with stdout and stderr to `log`; -1 if it cannot.
pid_t spawn_logged(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return err == 0 ? pid : -1;
}

pid_t spawn_amfd(const fs::path& bin, const std::string& config, const std::string& runtime) {
  // The demo component is found on PATH: put our own directory first.
  const char* path = std::getenv("PATH");
  const std::string new_path = bin.string() + ":" + (path ? path : "/usr/bin:/bin");
  ::setenv("PATH", new_path.c_str(), 1);
  return spawn_logged({(bin / "amfd").string(), "--config", config, "--runtime-dir", runtime},
                      runtime + "/amfd.log");
}

void stop_amfd(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 1000; ++i) {  // 10 s at most, then the hard way
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amf-demo: a 2N failover, shown and timed"};
  std::string config_path = "config/examples/demo.yaml";
  int rounds = 5;
  bool keep = false;
  app.add_option("-c,--config", config_path, "demo configuration")->check(CLI::ExistingFile);
  app.add_option("-n,--rounds", rounds, "how many times to kill the active component")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--keep", keep, "keep the runtime directory (logs) afterwards");
  bool with_client = false;
  app.add_flag("--client", with_client,
               "run amf-demo-client against the counter meanwhile, an increment every 0.2 ms, and "
               "fail if it counts an acknowledged increment lost");
  CLI11_PARSE(app, argc, argv);

  auto config = amf::config::load_file(config_path);
  if (!config) {
    for (const auto& d : config.error()) std::cerr << d.to_string() << "\n";
    return 1;
  }
  auto shape = shape_of(*config);
  if (!shape) {
    std::cerr << config_path << ": the demo needs a 2n service group with a CSI 'port' attribute\n";
    return 1;
  }
  const fs::path bin = fs::canonical("/proc/self/exe").parent_path();
  char tmpl[] = "/tmp/amf-demo-XXXXXX";
  const std::string runtime = ::mkdtemp(tmpl);

  std::printf("Starting amfd with %s (runtime directory %s)\n", config_path.c_str(),
              runtime.c_str());
  const pid_t amfd = spawn_amfd(bin, fs::absolute(config_path).string(), runtime);
  if (amfd < 0) {
    std::cerr << "cannot start " << (bin / "amfd").string() << "\n";
    return 1;
  }
  int exit_code = 0;
  std::vector<Round> results;
  std::optional<Holders> h;
  if (!wait_for(std::chrono::seconds(10),
                [&] { return (h = holders(runtime, *shape)).has_value(); })) {
    std::cerr << "the service group did not reach active+standby within 10 s; see " << runtime
              << "/amfd.log\n";
    stop_amfd(amfd);
    return 1;
  }
  std::printf("%s: %s is active, %s is standby\n", shape->si.c_str(), h->active.c_str(),
              h->standby.c_str());

  long value = 0;
  for (int i = 0; i < 3; ++i) {
    auto reply = ask(shape->port, "INC");
    if (reply) value = std::atol(reply->c_str());
  }
  std::printf("client: INC x3 on 127.0.0.1:%d -> counter is %ld\n\n", shape->port, value);

  // The client increments throughout, the kills included: each answer must be above the one
  // before (amf-demo-client counts those that are not).
  pid_t client = -1;
  if (with_client) {
    client =
        spawn_logged({(bin / "amf-demo-client").string(), "--port", std::to_string(shape->port),
                      "--seconds", "3600", "--interval-ms", "0.2", "--gap-ms", "60000"},
                     runtime + "/client.log");
    if (client < 0) {
      std::cerr << "cannot start " << (bin / "amf-demo-client").string() << "\n";
      stop_amfd(amfd);
      return 1;
    }
    std::printf("client: amf-demo-client increments every 0.2 ms meanwhile\n");
  }

  std::uint64_t seen = 0;
  if (auto all = amf::tools::fetch_events(runtime, 0); all && !all->events.empty()) {
    seen = all->events.back().sequence;
  }
  int operator_repairs = 0;
  for (int round = 1; round <= rounds && exit_code == 0; ++round) {
    if (!wait_for(std::chrono::seconds(10),
                  [&] { return (h = holders(runtime, *shape)).has_value(); })) {
      std::cerr << "round " << round << ": no active+standby pair within 10 s\n";
      exit_code = 1;
      break;
    }
    const std::int64_t t_kill = now_ns();
    ::kill(h->active_pid, SIGKILL);

    // First the client's view, with nothing else running here: reconnect until an INC is
    // served. amfd's own timestamps are read afterwards, so reading them costs the failover
    // nothing.
    std::int64_t t_detect = 0, t_decide = 0, t_active = 0, t_back = 0, t_client = 0;
    bool left_disabled = false;  // the recovery ceiling stopped auto-repair (amf/model)
    std::optional<std::string> reply;
    const auto client_deadline = Clock::now() + std::chrono::seconds(10);
    while (!(reply = ask(shape->port, "INC")) && Clock::now() < client_deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (reply) t_client = now_ns();
    const bool done = wait_for(std::chrono::seconds(10), [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      auto list = amf::tools::fetch_events(runtime, seen);
      if (!list) return false;
      for (const auto& e : list->events) {
        seen = e.sequence;
        if (e.kind == "error" && e.entity == h->active_comp && t_detect == 0)
          t_detect = e.monotonic_ns;
        if (e.kind == "ha-state" && e.related == shape->si && e.entity == h->active &&
            e.to == "unassigned" && t_decide == 0)
          t_decide = e.monotonic_ns;
        if (e.kind == "ha-state" && e.related == shape->si && e.to == "active" &&
            e.entity == h->standby)
          t_active = e.monotonic_ns;
        if (e.kind == "ha-state" && e.related == shape->si && e.to == "standby" &&
            e.entity == h->active)
          t_back = e.monotonic_ns;
        if (e.kind == "recovery" && e.entity == h->active && e.to == "left-disabled" &&
            !left_disabled) {
          // An SU that keeps failing over is auto-repaired 20 times at most without a quiet
          // period; then it waits for an operator, as a real one would be called: the demo
          // repairs it (amfctl repair su) and counts it.
          left_disabled = true;
          ++operator_repairs;
          auto repaired = amf::tools::run_operation(runtime, {"repair", "su", h->active});
          if (!repaired || !repaired->ok) {
            std::cerr << "round " << round << ": repair su " << h->active
                      << " failed: " << (repaired ? repaired->message : repaired.error().message())
                      << "\n";
          }
        }
      }
      return t_detect && t_decide && t_active && t_back && t_client;
    });
    if (!done) {
      std::cerr << "round " << round << ": failover not seen within 10 s; see " << runtime
                << "/amfd.log. The last events:\n";
      if (auto recent = amf::tools::fetch_events(runtime, seen > 10 ? seen - 10 : 0)) {
        for (const auto& e : recent->events) {
          std::cerr << "  " << e.kind << " " << e.entity << " " << e.related << " " << e.from
                    << " -> " << e.to << " (" << e.cause << ")\n";
        }
      }
      exit_code = 1;
      break;
    }
    const long now_value = std::atol(reply->c_str());
    Round r{ms(t_detect - t_kill),   ms(t_active - t_detect), ms(t_decide - t_detect),
            ms(t_active - t_decide), ms(t_client - t_kill),   ms(t_back - t_detect)};
    results.push_back(r);
    std::printf(
        "round %2d: SIGKILL %s (pid %d): seen dead after %.3f ms, %s active after %.3f ms more; "
        "client served again %.3f ms after the kill, counter %ld -> %ld; %s back as standby after "
        "%.1f ms\n",
        round, h->active_comp.c_str(), h->active_pid, r.detection_ms, h->standby.c_str(),
        r.recovery_ms, r.client_ms, value, now_value, h->active.c_str(), r.repair_ms);
    // With the client, other increments come in between: the value only has to be newer.
    if (with_client ? now_value <= value : now_value != value + 1) {
      std::printf("  counter did not continue: expected %s%ld\n", with_client ? "over " : "",
                  with_client ? value : value + 1);
      exit_code = 1;
    }
    value = now_value;
  }

  std::string client_loss;
  if (client > 0) {
    ::kill(client, SIGTERM);
    ::waitpid(client, nullptr, 0);
    std::ifstream in(runtime + "/client.log");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("requests:", 0) == 0 || line.rfind("acknowledged increments lost:", 0) == 0) {
        client_loss += "  client: " + line + "\n";
      }
      if (line.rfind("acknowledged increments lost: ", 0) == 0 &&
          line.rfind("acknowledged increments lost: 0;", 0) != 0) {
        exit_code = 1;
      }
    }
    if (client_loss.empty()) {
      client_loss = "  client: no summary in " + runtime + "/client.log\n";
      exit_code = 1;
    }
  }
  if (!results.empty()) {
    std::printf("\n%zu failovers of a SIGKILLed active component:\n", results.size());
    auto column = [&](double Round::*field) {
      std::vector<double> v;
      for (const auto& r : results) v.push_back(r.*field);
      return v;
    };
    summarize("detection (kill -> amfd sees death)", column(&Round::detection_ms));
    summarize("recovery (death -> standby active)", column(&Round::recovery_ms));
    summarize("  of which decision in amfd", column(&Round::decision_ms));
    summarize("  of which CSI callback round trip", column(&Round::callback_ms));
    summarize("client-visible (kill -> INC served)", column(&Round::client_ms));
    summarize("repair (death -> old SU standby)", column(&Round::repair_ms));
    if (operator_repairs > 0) {
      std::printf(
          "  the recovery ceiling left an SU disabled %d times (20 auto-repairs without 10 min "
          "between two); the demo repaired it as an operator would (amfctl repair su), and those "
          "rounds' repair time includes that\n",
          operator_repairs);
    }
    std::printf("%s", client_loss.c_str());
    if (exit_code == 0) {
      std::printf("  every round's INC continued the counter: no acknowledged increment lost\n");
    }
  }
  std::printf("\nStopping amfd\n");
  stop_amfd(amfd);
  if (keep || exit_code != 0) {
    std::printf("logs kept in %s\n", runtime.c_str());
  } else {
    fs::remove_all(runtime);
  }
  return exit_code;
}
