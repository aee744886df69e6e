#pragma once

// What a process costs, from /proc: its CPU time so far and its resident memory. For the
// benchmarks that report an idle amfd's cost.
#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>

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

}  // namespace amf::testing
