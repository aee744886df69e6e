#include "amf/daemon/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace amf::daemon {

Result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> write_durably(const std::string& path, const std::string& text,
                           const std::string& what) {
  const std::string temporary = path + ".new";
  auto failed = [&](const std::string& step) {
    const std::string message =
        "cannot write " + what + " " + path + " (" + step + "): " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return fail(message);
  };
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return failed("open " + temporary);
  if (!write_all(fd, text)) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return failed("write");
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return failed("fsync");
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return failed("rename");
  // The rename itself is durable once the directory is.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace amf::daemon
