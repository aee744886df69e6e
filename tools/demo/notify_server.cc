// amf-demo-notify: an ordinary daemon that knows nothing of amf, only systemd's sd_notify, for
// the tests and drills of non-SA-aware components (instantiated_when: notified).
//
//   amf-demo-notify PORT [READY_DELAY_MS [LISTEN_DELAY_MS]]
//
// Listens on 127.0.0.1:PORT and answers each line: PING -> PONG, PID -> its pid, ROLE -> the
// first line of the file role.PORT in its working directory ("none" without one), which
// HA-state hooks write (on_active: echo active > role.$PORT), as a primary/replica pair's
// promotion script would reconfigure the daemon. After
// READY_DELAY_MS (default 0) it sends READY=1 and STATUS=serving to $NOTIFY_SOCKET; when
// $WATCHDOG_USEC is set it sends WATCHDOG=1 three times per period. HANG stops the watchdog
// (and STATUS=hung), as a process stuck in a loop would, and makes GET (an HTTP request, for
// probes) answer 503 instead of 200; TRIGGER sends WATCHDOG=trigger. On
// SIGTERM it sends STOPPING=1 and exits 0. With LISTEN_DELAY_MS it binds its port only that
// long after its start (connections are refused until then), as a daemon that loads its data
// first would (instantiated_when: probed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

using Clock = std::chrono::steady_clock;

int listen_on(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    std::cerr << "amf-demo-notify: cannot listen on 127.0.0.1:" << port << ": "
              << std::strerror(errno) << "\n";
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: amf-demo-notify PORT [READY_DELAY_MS [LISTEN_DELAY_MS]]\n";
    return 2;
  }
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  std::signal(SIGPIPE, SIG_IGN);
  const auto listen_at =
      Clock::now() + std::chrono::milliseconds(argc == 4 ? std::atoi(argv[3]) : 0);
  while (!g_stop && Clock::now() < listen_at) ::usleep(5'000);
  if (g_stop) return 0;
  const int listener = listen_on(std::atoi(argv[1]));
  const auto ready_at =
      Clock::now() + std::chrono::milliseconds(argc >= 3 ? std::atoi(argv[2]) : 0);
  std::chrono::microseconds watchdog{0};
  if (const char* usec = std::getenv("WATCHDOG_USEC"))
    watchdog = std::chrono::microseconds(std::atoll(usec));
  bool ready = false;
  bool hung = false;
  auto next_watchdog = Clock::now();
  while (!g_stop) {
    const auto now = Clock::now();
    if (!ready && now >= ready_at) {
      sd_notify(0, "READY=1\nSTATUS=serving");
      ready = true;
      next_watchdog = now;
    }
    if (ready && !hung && watchdog.count() > 0 && now >= next_watchdog) {
      sd_notify(0, "WATCHDOG=1");
      next_watchdog = now + watchdog / 3;
    }
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    char buf[64] = {};
    const ssize_t n = ::recv(conn, buf, sizeof buf - 1, 0);
    std::string line(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    line = line.substr(0, line.find_first_of("\r\n"));
    std::string reply = "ERR unknown command\n";
    if (line == "PING") reply = "PONG\n";
    // An HTTP health endpoint for probes: 200 while healthy, 503 once hung.
    if (line.rfind("GET ", 0) == 0) {
      reply =
          hung ? "HTTP/1.0 503 Service Unavailable\r\n\r\nhung\n" : "HTTP/1.0 200 OK\r\n\r\nok\n";
    }
    if (line == "PID") reply = std::to_string(::getpid()) + "\n";
    if (line == "ROLE") {
      std::ifstream in("role." + std::string(argv[1]));
      std::string role;
      reply = (std::getline(in, role) ? role : std::string("none")) + "\n";
    }
    if (line == "HANG") {
      hung = true;
      sd_notify(0, "STATUS=hung");
      reply = "hanging\n";
    }
    if (line == "TRIGGER") {
      sd_notify(0, "WATCHDOG=trigger");
      reply = "triggered\n";
    }
    ::send(conn, reply.data(), reply.size(), 0);
    ::close(conn);
  }
  sd_notify(0, "STOPPING=1");
  return 0;
}
