#include "amf/daemon/notify_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace amf::daemon {

namespace {

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

template <class T>
std::optional<T> number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

Result<NotifyMessage> parse_notify(std::string_view datagram) {
  if (datagram.empty()) return fail("empty notification");
  if (datagram.find('\0') != std::string_view::npos) return fail("NUL byte in the notification");
  NotifyMessage m;
  std::size_t start = 0;
  int line = 0;
  while (start < datagram.size()) {
    ++line;
    const std::size_t end = std::min(datagram.find('\n', start), datagram.size());
    const std::string_view assignment = datagram.substr(start, end - start);
    start = end + 1;
    if (assignment.empty()) continue;
    const std::size_t eq = assignment.find('=');
    if (eq == std::string_view::npos) {
      return fail("line " + std::to_string(line) + " '" + std::string(assignment.substr(0, 40)) +
                  "' is not VARIABLE=VALUE");
    }
    const std::string_view name = assignment.substr(0, eq);
    const std::string_view value = assignment.substr(eq + 1);
    if (!valid_name(name)) {
      return fail("line " + std::to_string(line) + ": '" + std::string(name.substr(0, 40)) +
                  "' is not a variable name ([A-Z0-9_]+)");
    }
    auto flag = [&](bool& field, std::string_view also = {}) -> Result<void> {
      if (value == "1") {
        field = true;
        return {};
      }
      if (!also.empty() && value == also) return {};
      return fail(
          std::string(name) + "=" + std::string(value.substr(0, 20)) + ": only " +
          std::string(name) + "=1" +
          (also.empty() ? std::string() : " or " + std::string(name) + "=" + std::string(also)) +
          " means something");
    };
    if (name == "READY") {
      if (auto ok = flag(m.ready); !ok) return tl::unexpected(ok.error());
    } else if (name == "WATCHDOG") {
      if (auto ok = flag(m.watchdog, "trigger"); !ok) return tl::unexpected(ok.error());
      if (value == "trigger") m.watchdog_trigger = true;
    } else if (name == "STOPPING") {
      if (auto ok = flag(m.stopping); !ok) return tl::unexpected(ok.error());
    } else if (name == "RELOADING") {
      if (auto ok = flag(m.reloading); !ok) return tl::unexpected(ok.error());
    } else if (name == "STATUS") {
      m.status = std::string(value);
    } else if (name == "ERRNO") {
      m.errno_value = number<int>(value);
      if (!m.errno_value)
        return fail("ERRNO=" + std::string(value.substr(0, 20)) + " is not a number");
    } else if (name == "MAINPID") {
      m.mainpid = number<pid_t>(value);
      if (!m.mainpid) return fail("MAINPID=" + std::string(value.substr(0, 20)) + " is not a PID");
    } else {
      m.other.emplace_back(assignment);
    }
  }
  return m;
}

std::string describe(const NotifyMessage& m) {
  std::vector<std::string> parts;
  if (m.ready) parts.emplace_back("READY=1");
  if (m.watchdog) parts.emplace_back("WATCHDOG=1");
  if (m.watchdog_trigger) parts.emplace_back("WATCHDOG=trigger");
  if (m.stopping) parts.emplace_back("STOPPING=1");
  if (m.reloading) parts.emplace_back("RELOADING=1");
  if (m.status) parts.push_back("STATUS=" + *m.status);
  if (m.errno_value) parts.push_back("ERRNO=" + std::to_string(*m.errno_value));
  if (m.mainpid) parts.push_back("MAINPID=" + std::to_string(*m.mainpid));
  for (const auto& o : m.other) parts.push_back(o);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? "nothing" : out;
}

struct NotifySockets::Entry {
  explicit Entry(boost::asio::io_context& io) : socket(io) {}
  boost::asio::local::datagram_protocol::socket socket;
  std::string path;
};

NotifySockets::NotifySockets(boost::asio::io_context& io, std::string dir, Handler handler)
    : io_(io), dir_(std::move(dir)), handler_(std::move(handler)) {}

NotifySockets::~NotifySockets() {
  while (!sockets_.empty()) close(sockets_.begin()->first);
}

std::string NotifySockets::path_of(const CompId& comp) const {
  std::string name = comp.str();
  std::replace(name.begin(), name.end(), '/', '_');
  return dir_ + "/" + name + ".notify";
}

Result<std::string> NotifySockets::open(const CompId& comp) {
  close(comp);
  const std::string path = path_of(comp);
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail("notify socket path " + path + " is longer than " +
                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                " bytes; use a shorter runtime directory");
  }
  std::error_code fs_error;
  std::filesystem::create_directories(dir_, fs_error);
  if (fs_error) return fail("cannot create " + dir_ + ": " + fs_error.message());
  std::filesystem::remove(path, fs_error);
  auto entry = std::make_unique<Entry>(io_);
  boost::system::error_code ec;
  entry->socket.open(boost::asio::local::datagram_protocol(), ec);
  if (!ec) entry->socket.bind(boost::asio::local::datagram_protocol::endpoint(path), ec);
  if (ec) return fail("cannot create notify socket " + path + ": " + ec.message());
  const int on = 1;
  if (::setsockopt(entry->socket.native_handle(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    return fail("SO_PASSCRED on " + path + ": " + std::strerror(errno));
  }
  entry->socket.non_blocking(true, ec);
  entry->path = path;
  sockets_[comp] = std::move(entry);
  arm(comp);
  return path;
}

void NotifySockets::close(const CompId& comp) {
  auto it = sockets_.find(comp);
  if (it == sockets_.end()) return;
  boost::system::error_code ec;
  it->second->socket.close(ec);
  std::error_code fs_error;
  std::filesystem::remove(it->second->path, fs_error);
  sockets_.erase(it);
}

void NotifySockets::arm(const CompId& comp) {
  auto it = sockets_.find(comp);
  if (it == sockets_.end()) return;
  Entry* entry = it->second.get();
  entry->socket.async_wait(boost::asio::socket_base::wait_read,
                           [this, comp, entry](const boost::system::error_code& ec) {
                             if (ec) return;  // closed
                             auto found = sockets_.find(comp);
                             if (found == sockets_.end() || found->second.get() != entry) return;
                             drain(comp);
                             arm(comp);
                           });
}

// Reads every datagram waiting, each with the credentials the kernel attached.
void NotifySockets::drain(const CompId& comp) {
  for (int budget = 0; budget < 64; ++budget) {
    auto it = sockets_.find(comp);
    if (it == sockets_.end()) return;
    std::array<char, kMaxDatagram + 1> buffer;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(ucred))> control;
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(it->second->socket.native_handle(), &msg,
                                MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    if (n < 0) return;  // EAGAIN: drained
    pid_t sender = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      }
    }
    if (static_cast<std::size_t>(n) > kMaxDatagram || (msg.msg_flags & MSG_TRUNC) != 0) {
      handler_(comp, sender,
               fail("notification longer than " + std::to_string(kMaxDatagram) + " bytes"));
      continue;
    }
    handler_(comp, sender,
             parse_notify(std::string_view(buffer.data(), static_cast<std::size_t>(n))));
  }
}

}  // namespace amf::daemon
