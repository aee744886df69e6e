#include "containers/proc_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace amf::containers {

std::string read_kernel_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      text.clear();
      break;
    }
  }
  ::close(fd);
  return text;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  const std::string text = read_kernel_file("/proc/" + std::to_string(pid) + "/stat");
  // The command name (field 2) is in parentheses and may hold anything, ')' included: the
  // fields that follow start after the last ')'.
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  ProcStat stat;
  std::string skip;
  fields >> stat.state >> stat.ppid;
  for (int field = 5; field <= 13; ++field) fields >> skip;  // pgrp .. cmajflt
  fields >> stat.utime >> stat.stime;
  if (!fields) return std::nullopt;
  return stat;
}

}  // namespace amf::containers
