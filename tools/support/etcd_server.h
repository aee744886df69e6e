#pragma once

// A real etcd member for a test, a benchmark or the demo: Debian's etcd-server, on loopback
// ports it chose, with its data in a temporary directory; stopped (by its PID) and the
// directory removed when it goes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tools/support/ports.h"

extern char** environ;

namespace amf::testing {

class EtcdServer {
 public:
  // Starts one member (a cluster of one); `client()` is its client address once it runs.
  EtcdServer() {
    char tmpl[] = "/tmp/amf-etcd-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    client_port_ = free_loopback_port();
    const int peer_port = free_loopback_port();
    const std::string client_url = "http://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
    // Timings for loopback (heartbeat 10 ms, election 50 ms), as the cluster issue measured.
    std::vector<std::string> args{"etcd",
                                  "--name",
                                  "e1",
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
                                  "e1=" + peer_url,
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

  ~EtcdServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  bool started() const { return pid_ > 0 && client_port_ > 0; }
  std::string client() const { return "127.0.0.1:" + std::to_string(client_port_); }
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
  std::string dir_;
  int client_port_ = -1;
  pid_t pid_ = -1;
};

}  // namespace amf::testing
