#pragma once

// Reading the kernel's small text files (/proc, /sys/fs/cgroup) without exceptions.
//
// A file under /proc/PID fails to read with ESRCH once PID has exited, even when it opened; a
// std::ifstream read through std::istreambuf_iterator turns that into an uncaught
// std::ios_base::failure, which ended an amfd that looked at a component dying at that moment.
// These read with read(2) and give what they could.
#include <sys/types.h>

#include <optional>
#include <string>

namespace amf::containers {

// The whole of `path`; empty when it cannot be opened or read (what was read before an error
// is dropped: a half-read kernel file is not worth parsing).
std::string read_kernel_file(const std::string& path);

// The fields of /proc/PID/stat that amf looks at (proc(5)).
struct ProcStat {
  char state = 0;                // R, S, D, Z, T, ...
  pid_t ppid = 0;                // the parent
  unsigned long long utime = 0;  // user time, in clock ticks
  unsigned long long stime = 0;  // system time, in clock ticks
};

// PID's stat; nullopt when PID is gone (reaped) or the file does not parse.
std::optional<ProcStat> read_proc_stat(pid_t pid);

}  // namespace amf::containers
