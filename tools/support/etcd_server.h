#pragma once

// A real etcd member for a test or a benchmark: Debian's etcd-server, on loopback ports it
// chose (one member, or the members of a cluster), with its data in a temporary directory; stopped
// (by its PID) and the directory removed when it goes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tools/support/ports.h"

extern char** environ;

namespace amf::testing {

class EtcdServer {
 public:
  // Starts one member (a cluster of one); `client()` is its client address once it runs.
  EtcdServer() : EtcdServer("e1", "127.0.0.1", free_loopback_port(), free_loopback_port(), "") {}

  // Starts the members of one cluster, member i on hosts[i] (loopback addresses, e.g.
  // 127.0.0.11), named e1, e2, ...; they elect their leader among themselves.
  static std::vector<std::unique_ptr<EtcdServer>> cluster(const std::vector<std::string>& hosts) {
    std::vector<std::pair<int, int>> ports;  // client, peer
    std::string initial;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      ports.emplace_back(free_loopback_port(), free_loopback_port());
      initial += (i == 0 ? "" : ",") + std::string("e") + std::to_string(i + 1) + "=http://" +
                 hosts[i] + ":" + std::to_string(ports[i].second);
    }
    std::vector<std::unique_ptr<EtcdServer>> members;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      members.push_back(std::unique_ptr<EtcdServer>(new EtcdServer(
          "e" + std::to_string(i + 1), hosts[i], ports[i].first, ports[i].second, initial)));
    }
    return members;
  }

 private:
  // `initial_cluster` empty: a cluster of this member alone.
  EtcdServer(const std::string& name, const std::string& host, int client_port, int peer_port,
             const std::string& initial_cluster)
      : host_(host), client_port_(client_port) {
    char tmpl[] = "/tmp/amf-etcd-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string client_url = "http://" + host + ":" + std::to_string(client_port_);
    const std::string peer_url = "http://" + host + ":" + std::to_string(peer_port);
    // Timings for loopback (heartbeat 10 ms, election 50 ms), as the cluster issue measured.
    std::vector<std::string> args{"etcd",
                                  "--name",
                                  name,
                                  "--data-dir",
                                  dir_ + "/data",
                                  "--listen-client-urls",
                                  client_url,
                                  "--advertise-client-urls",
                                  client_url,
                                  "--listen-peer-urls",
                                  peer_url,
                                  "--initial-advertise-peer-urls",
                                  peer_url,
                                  "--initial-cluster",
                                  initial_cluster.empty() ? name + "=" + peer_url : initial_cluster,
                                  "--heartbeat-interval",
                                  "10",
                                  "--election-timeout",
                                  "50"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = dir_ + "/etcd.log";
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (::posix_spawnp(&pid_, "etcd", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

 public:
  ~EtcdServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  bool started() const { return pid_ > 0 && client_port_ > 0; }
  std::string client() const { return host_ + ":" + std::to_string(client_port_); }
  int client_port() const { return client_port_; }
  pid_t pid() const { return pid_; }
  std::string log_path() const { return dir_ + "/etcd.log"; }

  // SIGKILL: as when its machine dies.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {  // 5 s, then SIGKILL
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill();
  }

 private:
  std::string host_;
  std::string dir_;
  int client_port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace amf::testing
