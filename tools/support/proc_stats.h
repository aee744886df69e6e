#pragma once

// What a process costs, from /proc: its CPU time so far and its resident memory. For the
// benchmarks that report an idle amfd's cost. And a stop that waits until it took effect.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include "containers/proc_files.h"

namespace amf::testing {

// utime + stime of a process, in seconds.
inline double cpu_seconds(pid_t pid) {
  const auto stat = containers::read_proc_stat(pid);
  if (!stat) return 0;
  return static_cast<double>(stat->utime + stat->stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Resident memory in KiB; -1 when the process is gone.
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// SIGSTOP to PID, then wait until every thread of it has stopped: kill() returns before a
// thread running on another core has, and such a thread may still answer a request sent just
// after. False when PID is gone or some thread did not stop within TIMEOUT.
inline bool stop_process(pid_t pid,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  if (::kill(pid, SIGSTOP) != 0) return false;
  const auto tasks = std::filesystem::path("/proc") / std::to_string(pid) / "task";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all_stopped = true;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
      const auto stat = containers::read_proc_stat(std::stoi(task.path().filename().string()));
      if (stat && stat->state != 'T' && stat->state != 't') all_stopped = false;
    }
    if (ec) return false;
    if (all_stopped) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace amf::testing
