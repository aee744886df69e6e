#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "amf/core/result.h"

namespace amf::containers {

struct ProcessSpec {
  std::string command;  // resolved on amfd's PATH when it has no '/'
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // the whole environment of the process
  std::string working_dir;
  std::string log_path;      // stdout and stderr are appended here (never through a symbolic
                             // link); stdin is /dev/null
  int cgroup_procs_fd = -1;  // >= 0: the cgroup.procs of the cgroup to start in (written
                             // by the child before it execs; CgroupTree::create)
};

struct ExitStatus {
  int code = 0;                  // exit code when signal == 0
  int signal = 0;                // terminating signal, or 0
  std::string describe() const;  // "exited with code 3", "killed by signal 9 (Killed)"
};

// Reaps the process behind `pidfd`, which has exited (its pidfd was readable), and says how it
// ended. Not a child of ours: nothing to reap, reported as exited with code 0.
ExitStatus reap(int pidfd);

// Starts processes, each in a process group of its own, and reports each one's end the moment
// it happens: a pidfd per process is watched by the Asio loop, so there is no SIGCHLD handler
// and no polling. The process is reaped before the exit handler runs.
//
// Runs on the io_context's thread; not thread-safe. Destroying the launcher stops watching;
// it does not signal anything (the owner terminates components first).
class ProcessLauncher {
 public:
  using ExitHandler = std::function<void(pid_t pid, ExitStatus status)>;

  ProcessLauncher(boost::asio::io_context& io, ExitHandler on_exit);
  ~ProcessLauncher();
  ProcessLauncher(const ProcessLauncher&) = delete;
  ProcessLauncher& operator=(const ProcessLauncher&) = delete;

  // Fails (with the reason) when the program cannot be run: no such file, not executable,
  // the log file cannot be opened.
  Result<pid_t> start(const ProcessSpec& spec);

  // Watches a process this launcher did not start (a daemon that an instantiate command
  // left behind) as if it had: its end is reported through the exit handler. Its exit status
  // is known only when it is our child (amfd is a child subreaper then); otherwise it is
  // reported as exited with code 0. Fails when there is no such process.
  Result<void> adopt(pid_t pid);

  // Sends `signal` to the process's whole group (or to the process alone when it leads no
  // group). A process that is already gone is ignored.
  void signal(pid_t pid, int signal);

  std::size_t running() const;

  // The soft limit of open files the started processes get (amfd raises its own to supervise
  // thousands of components; a program started with a huge limit may loop over all of it).
  // 0, the default: they inherit amfd's.
  void set_child_fd_limit(std::uint64_t soft) { child_fd_limit_ = soft; }

 private:
  struct Watch;
  // Descriptors start() moves what a child needs into, low enough that the child's own file
  // table need hold nothing above them (run_child in the .cc says why).
  struct Slots {
    int null_fd = -1;    // /dev/null, the child's stdin
    int log_fd = -1;     // the log file, for the duration of a start
    int cgroup_fd = -1;  // the cgroup.procs, for the duration of a start
    int keep_below = 0;  // one above the highest of the three
  };
  static Result<Slots> make_slots();
  void on_readable(pid_t pid);

  boost::asio::io_context& io_;
  ExitHandler on_exit_;
  Result<Slots> slots_;
  std::map<pid_t, std::unique_ptr<Watch>> watches_;
  std::uint64_t child_fd_limit_ = 0;
};

}  // namespace amf::containers
