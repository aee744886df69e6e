#pragma once

// A loopback port that nobody holds right now, for tests, benchmarks and the demo that start
// servers of their own. Another process may take it before the caller binds it; the callers'
// own bind errors say so.
//
// The port is drawn outside the kernel's ephemeral range (net.ipv4.ip_local_port_range), where
// the kernel never puts the local end of an outgoing connection. A port the kernel chose by
// binding port 0 lies inside it, and any connection made later on the machine (a test's client,
// a ZeroMQ peer, gRPC to etcd) may take it as its local port, and keep it for a minute in
// TIME_WAIT after: a server that binds the port then fails with "address in use", even with
// SO_REUSEADDR. CI saw exactly that (a counter that could not listen on its port).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>

namespace amf::testing {

// Whether `port` (0: the kernel's choice) can be bound on 127.0.0.1 now; the port bound, or -1.
inline int bind_loopback_port(int type, int port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  int bound = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  ::close(fd);
  return bound;
}

// `type`: SOCK_STREAM for TCP, SOCK_DGRAM for UDP. -1 when none is free.
inline int free_loopback_port(int type = SOCK_STREAM) {
  int low = 32768;
  int high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  // The wider of the two stretches outside the range, above the well-known ports.
  const bool below = low - 10000 >= 65535 - high;
  const int first = below ? 10000 : high + 1;
  const int last = below ? low - 1 : 65535;
  if (last - first >= 100) {
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> pick(first, last);
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (const int port = bind_loopback_port(type, pick(random)); port > 0) return port;
    }
  }
  return bind_loopback_port(type, 0);  // a machine whose range leaves no room outside it
}

}  // namespace amf::testing
