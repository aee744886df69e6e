// amf-demo-counter: a small stateful service for the demo, an SA-aware component.
//
// While active for its CSI it listens on 127.0.0.1:<port> (CSI attribute "port") and serves a
// counter, one command per line:  INC -> the new value;  GET -> the value.  Every change is
// saved to <state_file> (CSI attribute, relative to amfd's runtime directory) before it is
// acknowledged, so the standby that takes over continues from the last acknowledged value:
// a stand-in for the checkpoint service until that exists. A standby does not own the
// service address; a connection still open to an instance that is no longer active is
// answered "ERR not active" for every command.
// Fault hooks for drills and tests: HANG stops the component's loop for good (only a health
// check can notice), FAIL makes it report an error to amfd recommending a failover.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amf/component/component.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

struct Counter {
  std::optional<amf::model::HaState> ha;
  std::string csi;
  std::string state_file;
  long value = 0;
  int listener = -1;
  bool hang_requested = false;  // stop serving and dispatching: only a health check sees it
  bool fail_requested = false;  // report an error to amfd (recommending a failover)
  std::map<int, std::string> clients;  // fd -> bytes read, not yet a full line

  void load() {
    std::ifstream in(state_file);
    long v = 0;
    if (in >> v) value = v;
  }

  bool save() {
    const std::string tmp = state_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << value << "\n";
      if (!out) return false;
    }
    return std::rename(tmp.c_str(), state_file.c_str()) == 0;
  }

  std::string listen_on(int port) {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 64) != 0) {
      const std::string why = std::strerror(errno);
      close_listener();
      return "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why;
    }
    return "";
  }

  void close_listener() {
    if (listener >= 0) ::close(listener);
    listener = -1;
  }

  std::string answer(const std::string& line) {
    if (ha != amf::model::HaState::kActive) return "ERR not active";
    if (line == "GET") return std::to_string(value);
    if (line == "HANG") hang_requested = true;  // fault injection for drills and tests
    if (line == "HANG") return "hanging";
    if (line == "FAIL") fail_requested = true;
    if (line == "FAIL") return "reporting an error";
    if (line == "INC") {
      ++value;
      if (!save()) return "ERR cannot save state";
      return std::to_string(value);
    }
    return "ERR unknown command (INC, GET, HANG or FAIL)";
  }

  void serve(int fd) {
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      ::close(fd);
      clients.erase(fd);
      return;
    }
    std::string& pending = clients[fd];
    pending.append(buf, static_cast<std::size_t>(n));
    if (pending.size() > 4096) pending.clear();  // no line is that long: drop the garbage
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string reply = answer(line) + "\n";
      (void)::write(fd, reply.data(), reply.size());
    }
  }
};

}  // namespace

int main() {
  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  std::signal(SIGPIPE, SIG_IGN);
  Counter counter;
  std::optional<amf::component::Handle> handle;

  amf::component::Callbacks callbacks;
  callbacks.csi_set = [&](amf::component::Invocation inv, const amf::component::CsiDescriptor& d) {
    std::cerr << "csi-set " << d.csi << " " << amf::model::to_string(d.ha) << " ("
              << amf::model::to_string(d.reason) << ")" << std::endl;
    counter.csi = d.csi;
    auto state = d.attributes.find("state_file");
    counter.state_file = state == d.attributes.end() ? "counter.state" : state->second;
    std::string error;
    if (d.ha == amf::model::HaState::kActive) {
      counter.load();
      auto port = d.attributes.find("port");
      if (port == d.attributes.end()) {
        error = "CSI " + d.csi + " has no 'port' attribute";
      } else if (counter.listener < 0) {
        error = counter.listen_on(std::atoi(port->second.c_str()));
      }
    } else {
      counter.close_listener();  // standby / quiesced: the address belongs to the active
    }
    counter.ha = error.empty() ? std::optional(d.ha) : std::nullopt;
    (void)handle->response(inv, error.empty(), error);
  };
  callbacks.csi_remove = [&](amf::component::Invocation inv, const std::string& csi) {
    std::cerr << "csi-remove " << csi << std::endl;
    counter.close_listener();
    counter.ha.reset();
    (void)handle->response(inv, true);
  };

  auto initialized = amf::component::Handle::initialize(callbacks);
  if (!initialized) {
    std::cerr << "amf-demo-counter: " << initialized.error().message() << "\n";
    return 1;
  }
  handle.emplace(std::move(*initialized));
  if (auto registered = handle->register_component(); !registered) {
    std::cerr << "amf-demo-counter: " << registered.error().message() << "\n";
    return 1;
  }
  std::cerr << "registered as " << handle->name() << std::endl;

  while (!g_stop) {
    std::vector<pollfd> fds{{handle->selection_fd(), POLLIN, 0}};
    if (counter.listener >= 0) fds.push_back({counter.listener, POLLIN, 0});
    for (const auto& [fd, buffered] : counter.clients) fds.push_back({fd, POLLIN, 0});
    const int ready = ::poll(fds.data(), fds.size(), handle->pending() ? 0 : 1000);
    if (ready < 0 && errno != EINTR) break;
    if (auto dispatched = handle->dispatch(); !dispatched) {
      std::cerr << "amf-demo-counter: " << dispatched.error().message() << "\n";
      return 1;
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (fds[i].fd == counter.listener) {
        const int client = ::accept4(counter.listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) counter.clients[client] = "";
      } else if (counter.clients.count(fds[i].fd)) {  // not a listener closed by dispatch()
        counter.serve(fds[i].fd);
      }
    }
    if (counter.fail_requested) {
      counter.fail_requested = false;
      (void)handle->error_report("component-failover", "asked to fail by a client");
    }
    while (counter.hang_requested && !g_stop) ::pause();  // hung: only a signal ends this
  }
  std::cerr << "terminating" << std::endl;
  return 0;
}
