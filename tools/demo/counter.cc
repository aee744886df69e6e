// amf-demo-counter: a small stateful service for the demo, an SA-aware component.
//
// Each CSI assigned to it is one counter service. While active for a CSI it listens on
// <listen>:<port> (CSI attributes "listen", an IPv4 address, default 127.0.0.1, and "port";
// "listen" is the SI's floating service address where it has one) and serves the counter, one
// command per line: INC -> the new value; GET -> the value. The value lives in a synchronous
// checkpoint (CSI attribute "checkpoint", default "counter-<port>"; amf/checkpoint/README.md),
// which the component opens on every CSI assignment, active or standby: an increment is
// acknowledged only once every replica in service holds it, so the standby that takes over reads
// the last acknowledged value from its own node's replica. An increment whose write fails is not
// acknowledged ("ERR cannot save state"); it may still have reached the replicas, so the value
// is read back from the checkpoint before the next command. A standby does not own the service
// address; a connection still open to an instance that is no longer active is answered "ERR not
// active". With the CSI attribute shared: "true" (N-way-active) several actives listen on the
// same port (SO_REUSEPORT), the kernel spreads connections over them, and each reads the value
// from the checkpoint before every increment (two increments on two actives at the same moment
// may then count once: the demo's tests increment one at a time; a real service would give each
// active a section of its own); without it a second active for the same port
// fails to bind, which is the safety net that makes a double active visible. "write_timeout_ms"
// bounds a write's wait for amfd (default 5000).
// Fault hooks for drills and tests: HANG stops the component's loop for good (only a health
// check can notice), FAIL makes it report an error to amfd recommending a failover.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "amf/component/component.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

using amf::component::Handle;

constexpr const char* kSection = "value";

// The checkpoint each counter keeps its value in: synchronous, one small section.
amf::checkpoint::Attributes counter_attributes() {
  amf::checkpoint::Attributes a;
  a.mode = amf::checkpoint::UpdateMode::kSynchronous;
  a.max_sections = 1;
  a.max_section_size = 32;
  return a;
}

// One CSI: one counter on one port.
struct Service {
  amf::model::HaState ha = amf::model::HaState::kStandby;
  int port = 0;
  std::string address = "127.0.0.1";
  bool shared = false;
  std::string checkpoint;
  std::chrono::milliseconds write_timeout{5000};
  long value = 0;
  bool stale = true;    // the value is to be read from the checkpoint before it is used
  bool stored = false;  // the checkpoint has the section (as last read or written)
  int listener = -1;

  // The value from this node's replica; a checkpoint without the section holds 0.
  std::string load(Handle& handle) {
    auto sections = handle.checkpoint_sections(checkpoint);
    if (!sections) return sections.error().message();
    value = 0;
    stored = false;
    for (const auto& section : *sections) {
      if (section.id.str() != kSection) continue;
      stored = true;
      auto data = handle.checkpoint_read(checkpoint, kSection);
      if (!data) return data.error().message();
      value = std::atol(data->c_str());
    }
    stale = false;
    return "";
  }

  // Stored once the checkpoint says so (synchronous: every replica in service holds it).
  bool save(Handle& handle, bool exists) {
    const std::string text = std::to_string(value);
    const amf::checkpoint::SectionId id(kSection);
    auto written = exists
                       ? handle.checkpoint_write(
                             checkpoint, amf::checkpoint::OverwriteSection{id, text}, write_timeout)
                       : handle.checkpoint_write(
                             checkpoint, amf::checkpoint::CreateSection{id, text}, write_timeout);
    if (!written) std::cerr << "checkpoint write: " << written.error().message() << std::endl;
    return written.has_value();
  }

  std::string listen() {
    if (listener >= 0) return "";
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (shared) ::setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
      close_listener();
      return "'listen' is '" + address + "', not an IPv4 address";
    }
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener, 64) != 0) {
      const std::string why = std::strerror(errno);
      close_listener();
      return "cannot listen on " + address + ":" + std::to_string(port) + ": " + why;
    }
    return "";
  }

  void close_listener() {
    if (listener >= 0) ::close(listener);
    listener = -1;
  }
};

struct Counter {
  std::map<std::string, Service> services;                     // by CSI name
  std::map<int, std::pair<std::string, std::string>> clients;  // fd -> (CSI, unread bytes)
  bool hang_requested = false;
  bool fail_requested = false;
  Handle* handle = nullptr;

  std::string answer(const std::string& csi, const std::string& line) {
    if (line == "HANG") {
      hang_requested = true;
      return "hanging";
    }
    if (line == "FAIL") {
      fail_requested = true;
      return "reporting an error";
    }
    auto it = services.find(csi);
    if (it == services.end() || it->second.ha != amf::model::HaState::kActive) {
      return "ERR not active";
    }
    Service& s = it->second;
    if (s.stale || (s.shared && line == "INC")) {  // several actives share the checkpoint
      if (const std::string error = s.load(*handle); !error.empty()) {
        std::cerr << "checkpoint read: " << error << std::endl;
        return "ERR cannot read state";
      }
    }
    if (line == "GET") return std::to_string(s.value);
    if (line == "INC") {
      ++s.value;
      if (!s.save(*handle, s.stored)) {
        // Not acknowledged, so not counted; it may have reached the replicas all the same.
        --s.value;
        s.stale = true;
        return "ERR cannot save state";
      }
      s.stored = true;
      return std::to_string(s.value);
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
    auto& [csi, pending] = clients[fd];
    pending.append(buf, static_cast<std::size_t>(n));
    if (pending.size() > 4096) pending.clear();  // no line is that long: drop the garbage
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string reply = answer(csi, line) + "\n";
      (void)::write(fd, reply.data(), reply.size());
    }
  }

  // Sets CSI `d` to its HA state; an error text when the component cannot take it.
  std::string assign(const amf::component::CsiDescriptor& d) {
    auto port = d.attributes.find("port");
    if (port == d.attributes.end()) return "CSI " + d.csi + " has no 'port' attribute";
    Service& s = services[d.csi];
    s.port = std::atoi(port->second.c_str());
    auto shared = d.attributes.find("shared");
    s.shared = shared != d.attributes.end() && shared->second == "true";
    auto listen = d.attributes.find("listen");
    s.address = listen == d.attributes.end() ? "127.0.0.1" : listen->second;
    auto checkpoint = d.attributes.find("checkpoint");
    s.checkpoint =
        checkpoint == d.attributes.end() ? "counter-" + port->second : checkpoint->second;
    if (auto t = d.attributes.find("write_timeout_ms"); t != d.attributes.end()) {
      s.write_timeout = std::chrono::milliseconds(std::atol(t->second.c_str()));
    }
    // Every assignment opens it (again: amfd takes that), so that this node holds a replica.
    if (auto opened = handle->checkpoint_open(s.checkpoint, counter_attributes(), true); !opened) {
      return opened.error().message();
    }
    s.ha = d.ha;
    s.stale = true;
    if (d.ha != amf::model::HaState::kActive) {
      s.close_listener();  // standby / quiesced: the address belongs to the active
      return "";
    }
    if (const std::string error = s.load(*handle); !error.empty()) return error;
    return s.listen();
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
              << amf::model::to_string(d.reason) << ")"
              << (d.active ? " of " + d.active->component + " on " + d.active->node : "")
              << std::endl;
    const std::string error = counter.assign(d);
    if (!error.empty()) {
      std::cerr << error << std::endl;
      counter.services.erase(d.csi);
    }
    (void)handle->response(inv, error.empty(), error);
  };
  callbacks.csi_remove = [&](amf::component::Invocation inv, const std::string& csi) {
    std::cerr << "csi-remove " << csi << std::endl;
    if (auto it = counter.services.find(csi); it != counter.services.end()) {
      it->second.close_listener();
      counter.services.erase(it);
    }
    (void)handle->response(inv, true);
  };

  auto initialized = amf::component::Handle::initialize(callbacks);
  if (!initialized) {
    std::cerr << "amf-demo-counter: " << initialized.error().message() << "\n";
    return 1;
  }
  handle.emplace(std::move(*initialized));
  counter.handle = &*handle;
  if (auto registered = handle->register_component(); !registered) {
    std::cerr << "amf-demo-counter: " << registered.error().message() << "\n";
    return 1;
  }
  std::cerr << "registered as " << handle->name() << std::endl;

  while (!g_stop) {
    std::vector<pollfd> fds{{handle->selection_fd(), POLLIN, 0}};
    std::vector<std::string> listener_csi{""};  // parallel to fds: the CSI of a listener
    for (const auto& [csi, s] : counter.services) {
      if (s.listener < 0) continue;
      fds.push_back({s.listener, POLLIN, 0});
      listener_csi.push_back(csi);
    }
    for (const auto& [fd, client] : counter.clients) {
      fds.push_back({fd, POLLIN, 0});
      listener_csi.push_back("");
    }
    const int ready = ::poll(fds.data(), fds.size(), handle->pending() ? 0 : 1000);
    if (ready < 0 && errno != EINTR) break;
    if (auto dispatched = handle->dispatch(); !dispatched) {
      std::cerr << "amf-demo-counter: " << dispatched.error().message() << "\n";
      return 1;
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (!listener_csi[i].empty()) {
        // The listener may have been closed by dispatch(): only accept on one still open.
        auto it = counter.services.find(listener_csi[i]);
        if (it == counter.services.end() || it->second.listener != fds[i].fd) continue;
        const int client = ::accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client >= 0) counter.clients[client] = {listener_csi[i], ""};
      } else if (counter.clients.count(fds[i].fd)) {
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
