#pragma once

// A loopback port that nobody holds right now (the kernel's choice), for tests, benchmarks and
// the demo that start servers of their own. Another process may take it before the caller
// binds it; the callers' own bind errors say so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace amf::testing {

// `type`: SOCK_STREAM for TCP, SOCK_DGRAM for UDP. -1 when the kernel gives none.
inline int free_loopback_port(int type = SOCK_STREAM) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

}  // namespace amf::testing
