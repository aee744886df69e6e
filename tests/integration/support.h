#pragma once

// Support for tests that run the real binaries: temp directories, free loopback ports,
// subprocesses with captured output, and bounded waiting.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "containers/proc_files.h"
#include "tools/support/ports.h"

extern char** environ;

namespace amf::itest {

namespace fs = std::filesystem;

inline std::string bin(const std::string& name) { return std::string(AMF_BIN_DIR) + "/" + name; }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/amf-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

// A loopback TCP port nobody holds right now, outside the ephemeral range (tools/support/ports.h).
inline int free_port() { return amf::testing::free_loopback_port(SOCK_STREAM); }

// Environment of this process plus `extra` (which wins), with build/bin first on PATH.
inline std::vector<std::string> environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["PATH"] =
      std::string(AMF_BIN_DIR) + ":" + (env.count("PATH") ? env["PATH"] : "/usr/bin:/bin");
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

inline pid_t spawn(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, const std::string& out_path,
                   const std::string& err_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto env_strings = environment(env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data()) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// The whole of a file; empty when it cannot be read (also a /proc/PID file of a process that
// exits while it is read).
inline std::string slurp(const std::string& path) { return containers::read_kernel_file(path); }

struct Output {
  int exit_code = -1;
  std::string out, err;
};

// Runs a command to completion (killed after `limit`) and captures its output.
inline Output run(const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env = {},
                  std::chrono::seconds limit = std::chrono::seconds(30)) {
  TempDir tmp;
  const std::string o = tmp.path() + "/out", e = tmp.path() + "/err";
  Output result;
  const pid_t pid = spawn(args, env, o, e);
  if (pid < 0) return result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(o);
  result.err = slurp(e);
  return result;
}

// Polls `pred` until it holds or `limit` passes. Generous limits: this is a bound on a hang,
// not a timing assertion.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

inline bool process_exists(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

}  // namespace amf::itest
