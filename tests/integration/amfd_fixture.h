#pragma once

// The fixture of the tests that run the real amfd: a configuration of the demo counter, amfd
// started on a temp runtime directory, amfctl status parsed back.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amf/wire/codec.h"
#include "tests/integration/support.h"

namespace amf::itest {

inline std::string cluster_yaml(int port, const std::string& redundancy = "2n", int sus = 2,
                                const std::string& recovery = "component-failover",
                                const std::string& command = "amf-demo-counter") {
  std::string nodes = "[";
  for (int i = 0; i < sus; ++i) nodes += std::string(i ? ", " : "") + "node-1";
  nodes += "]";
  return "cluster:\n  name: itest\n"
         "nodes:\n  - name: node-1\n    controller: true\n"
         "applications:\n  - name: counter\n    service_groups:\n"
         "      - name: counter\n        redundancy: " +
         redundancy +
         "\n"
         "        su_template:\n          nodes: " +
         nodes +
         "\n"
         "          components:\n            - name: server\n"
         "              command: " +
         command +
         "\n"
         "              cs_types: [counter]\n"
         "              recovery: " +
         recovery +
         "\n"
         "              instantiate_retries: 1\n"
         "              timeouts: {instantiate_ms: 3000, csi_set_ms: 2000}\n"
         "        service_instances:\n          - name: si-1\n            csis:\n"
         "              - name: endpoint\n                cs_type: counter\n"
         "                attributes: {port: \"" +
         std::to_string(port) + "\"}\n";  // its value in checkpoint counter-PORT
}

class AmfdTest : public ::testing::Test {
 protected:
  std::string runtime() const { return dir_.path() + "/run"; }
  // The working directory of a component without `working_dir`, by its id (SG/SU/COMPONENT).
  std::string work_dir(const std::string& comp) const { return runtime() + "/work/" + comp; }

  void start(const std::string& yaml, const std::map<std::string, std::string>& env = {},
             const std::vector<std::string>& extra_args = {}) {
    const std::string config = dir_.file("cluster.yaml", yaml);
    std::vector<std::string> args = wrapper_;
    args.insert(args.end(), {bin("amfd"), "--config", config, "--runtime-dir", runtime(),
                             "--log-level", "debug"});
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    amfd_ = spawn(args, env, dir_.path() + "/amfd.out", dir_.path() + "/amfd.err");
    ASSERT_GT(amfd_, 0);
  }

  // SIGTERM and wait; the exit code, or -1 if it had to be killed.
  int stop() {
    if (amfd_ <= 0) return 0;
    ::kill(amfd_, SIGTERM);
    int status = 0;
    const bool exited = eventually([&] { return ::waitpid(amfd_, &status, WNOHANG) == amfd_; },
                                   std::chrono::seconds(20));
    if (!exited) {
      ::kill(amfd_, SIGKILL);
      ::waitpid(amfd_, &status, 0);
    }
    amfd_ = -1;
    return exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void TearDown() override {
    stop();
    if (HasFailure()) {
      std::cerr << "---- amfd stderr ----\n" << slurp(dir_.path() + "/amfd.err") << "\n";
    }
  }

  // What `amfctl status -o json` says, parsed back.
  std::optional<wire::ClusterStatus> status() {
    Output o = run({bin("amfctl"), "--runtime-dir", runtime(), "status", "-o", "json"});
    if (o.exit_code != 0) return std::nullopt;
    auto parsed = wire::status_from_json(o.out);
    EXPECT_TRUE(parsed) << parsed.error().message() << "\n" << o.out;
    return parsed ? std::optional(*parsed) : std::nullopt;
  }

  // The SU holding `ha` for counter/si-1 in a settled SG, or "".
  static std::string holder(const wire::ClusterStatus& s, const std::string& ha) {
    for (const auto& sg : s.service_groups) {
      if (sg.busy) return "";
      for (const auto& si : sg.service_instances) {
        for (const auto& a : si.assignments) {
          if (a.ha_state == ha) return a.service_unit;
        }
      }
    }
    return "";
  }

  static int pid_of(const wire::ClusterStatus& s, const std::string& su) {
    for (const auto& sg : s.service_groups) {
      for (const auto& u : sg.service_units) {
        if (u.name == su && !u.components.empty()) return u.components[0].pid;
      }
    }
    return 0;
  }

  static std::string su_field(const wire::ClusterStatus& s, const std::string& su,
                              std::string wire::ServiceUnitStatus::*field) {
    for (const auto& sg : s.service_groups) {
      for (const auto& u : sg.service_units) {
        if (u.name == su) return u.*field;
      }
    }
    return "";
  }

  // Waits for an active and a standby; returns {active, standby}.
  std::pair<std::string, std::string> settled_pair() {
    std::pair<std::string, std::string> out;
    eventually([&] {
      auto s = status();
      if (!s) return false;
      out = {holder(*s, "active"), holder(*s, "standby")};
      return !out.first.empty() && !out.second.empty() && pid_of(*s, out.first) > 0;
    });
    return out;
  }

  TempDir dir_;
  pid_t amfd_ = -1;
  // A command that start() runs amfd under (setpriv, say); none by default.
  std::vector<std::string> wrapper_;
};

// Sends one line to the demo counter on 127.0.0.1:port; the reply, or "" if none.
inline std::string ask(int port, const std::string& line) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string out = line + "\n";
    char buf[128];
    if (::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size())) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) reply.assign(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace amf::itest
