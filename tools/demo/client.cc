// amf-demo-client: the demo counter's client, as a user of the service sees it. It sends INC to
// ADDRESS:PORT, a request every --interval-ms (0: back to back), each on a new TCP connection
// so that every request finds out anew where the service is, and prints a line for each gap
// between two answers longer than --gap-ms:
//
//   outage 31.42 ms from 1765012345.123456 to 1765012345.154876 (counter 41 -> 42)
//
// The two times are the last answer before the gap and the first after it, in seconds of
// CLOCK_REALTIME, so that a script can tell which gap a fault it injected caused. An attempt
// that gets no connection within 5 ms or no answer within --answer-ms (200) counts as
// unanswered and is made again (after 0.2 ms, so that a refused connection does not spin). A
// request in flight on a node that dies gets no answer and no reset (a dead machine sends
// nothing): it waits out --answer-ms, which then is the outage this client sees.
//
// SIGUSR1 marks a moment (a script sends it right after injecting a fault): the first answer to
// a request started after the mark prints the gap it closes, however short,
//
//   mark: outage 3.21 ms from 1765012345.123456 to 1765012345.126666 (counter 41 -> 42)
//
// that is, the time from the last answer before the mark to the first after it. The short connect
// timeout is what a client of a floating address needs: a SYN sent to the old node just as the
// address left it is dropped there, and the kernel would send it again only after a second. It ends
// after
// --seconds, or on SIGTERM or SIGINT, and then prints how many requests were answered, how
// many acknowledged increments the counter lost (an answer not above the one before it: the
// checkpoint must make that 0), and how many unacknowledged ones it applied (an answer more than
// one above the one before: an increment was done and its answer lost).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_mark = 0;
void on_signal(int) { g_stop = 1; }
void on_mark(int) { g_mark = 1; }

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

std::optional<Target> parse(const std::string& address, int port) {
  Target t;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    t.len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    t.len = sizeof *v6;
  } else {
    return std::nullopt;
  }
  return t;
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int n = 0;
  while ((n = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return n == 1 && (p.revents & events) != 0;
}

// One INC; the counter's new value, or none when the service did not answer.
std::optional<long> ask(const Target& t, int answer_ms) {
  const int fd = ::socket(t.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return std::nullopt;
  std::optional<long> value;
  int error = 0;
  socklen_t error_len = sizeof error;
  const bool connected =
      (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.len) == 0 ||
       (errno == EINPROGRESS && wait_for(fd, POLLOUT, 5) &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) == 0 && error == 0));
  if (connected && ::send(fd, "INC\n", 4, MSG_NOSIGNAL) == 4 && wait_for(fd, POLLIN, answer_ms)) {
    char buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
      buf[n] = '\0';
      char* end = nullptr;
      const long v = std::strtol(buf, &end, 10);
      if (end != buf && (*end == '\n' || *end == '\0')) value = v;  // not "ERR not active"
    }
  }
  ::close(fd);
  return value;
}

double realtime_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"amf-demo-client: asks the demo counter back to back and prints each outage"};
  std::string address = "127.0.0.1";
  int port = 0;
  double seconds = 120;
  double gap_ms = 5;
  double interval_ms = 1;
  int answer_ms = 200;
  app.add_option("--address", address, "the service's address (IPv4 or IPv6)");
  app.add_option("--port", port, "the service's port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--seconds", seconds, "end after this long")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--gap-ms", gap_ms, "print gaps between answers longer than this")
      ->check(CLI::Range(0.1, 60000.0));
  app.add_option("--interval-ms", interval_ms, "between the start of two requests (0: none)")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--answer-ms", answer_ms, "give a request up after this long without an answer")
      ->check(CLI::Range(1, 60000));
  CLI11_PARSE(app, argc, argv);
  const auto target = parse(address, port);
  if (!target) {
    std::fprintf(stderr, "amf-demo-client: --address '%s' is not an IPv4 or IPv6 address\n",
                 address.c_str());
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGUSR1, on_mark);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::optional<Clock::time_point> last;  // the last answer
  double last_realtime = 0;
  long last_value = 0;
  long answered = 0;
  long unanswered = 0;
  long lost = 0;                // acknowledged increments the counter no longer counts
  long applied_unanswered = 0;  // increments done whose answer never came
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(interval_ms));
  auto next = Clock::now();
  while (g_stop == 0 && Clock::now() < end) {
    std::this_thread::sleep_until(next);
    next = std::max(next + interval, Clock::now());
    const bool after_mark = g_mark != 0;
    const auto value = ask(*target, answer_ms);
    if (!value) {
      ++unanswered;
      next = std::max(next, Clock::now() + 200us);
      continue;
    }
    const auto now = Clock::now();
    const double now_realtime = realtime_seconds();
    if (!last) {
      std::printf("first answer: counter %ld\n", *value);
    } else if (const double ms = std::chrono::duration<double, std::milli>(now - *last).count();
               ms > gap_ms || after_mark) {
      std::printf("%soutage %.2f ms from %.6f to %.6f (counter %ld -> %ld)\n",
                  after_mark ? "mark: " : "", ms, last_realtime, now_realtime, last_value, *value);
    }
    if (after_mark) g_mark = 0;
    if (last && *value <= last_value) lost += last_value - *value + 1;
    if (last && *value > last_value + 1) applied_unanswered += *value - last_value - 1;
    last = now;
    last_realtime = now_realtime;
    last_value = *value;
    ++answered;
  }
  std::printf("requests: %ld answered, %ld attempts unanswered; last counter %ld\n", answered,
              unanswered, last_value);
  std::printf("acknowledged increments lost: %ld; unanswered ones applied: %ld\n", lost,
              applied_unanswered);
  return 0;
}
