#include "tools/amfctl/admin_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <zmq.hpp>

#include "amf/keys/curve_client.h"
#include "amf/wire/codec.h"

namespace amf::tools {

namespace {

// A status of a large cluster is a few MB; this bounds what a wrong peer can make us hold.
constexpr std::int64_t kMaxReplyBytes = std::int64_t{256} << 20;
// A remote amfd's port must take the connection within this (or the request's timeout).
constexpr std::chrono::milliseconds kConnectWithin{3000};

}  // namespace

std::string admin_socket_path(const std::string& runtime_dir) {
  return runtime_dir + "/admin.sock";
}

std::string AdminTarget::name() const {
  return remote.empty() ? admin_socket_path(runtime_dir) : "tcp://" + remote;
}

namespace {

// Whether anything listens on HOST:PORT, tried with a plain connect() within `timeout`
// (ZeroMQ's own connect is lazy and would only time out); the error says what is wrong.
Result<void> probe_remote(const std::string& remote, std::chrono::milliseconds timeout) {
  const auto colon = remote.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == remote.size()) {
    return fail("--connect " + remote + ": give HOST:PORT (an IPv6 address in brackets)");
  }
  std::string host = remote.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = remote.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return fail("--connect " + remote + ": " + ::gai_strerror(rc));
  }
  int err = EADDRNOTAVAIL;  // (no address of the name)
  for (addrinfo* a = found; a != nullptr && err != 0; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    // Bounded: a host that drops the SYN would keep a blocking connect() for two minutes.
    err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      } else {
        err = ETIMEDOUT;
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (err == 0) return {};
  if (err == ETIMEDOUT) {
    return fail("no answer from tcp://" + remote + " within " + std::to_string(timeout.count()) +
                " ms (is the host up, and the port open to this host?)");
  }
  return fail("no amfd listens at tcp://" + remote + ": " + std::strerror(err) +
              " (start it with --remote-admin " + remote + ", or check the address)");
}

// A reply from a remote amfd: the dealer is a CURVE client of the cluster's key pair, and a
// handshake that the server ends (it holds another key) is an answer of its own, at once.
Result<wire::AdminReply> remote_request(const AdminTarget& target, const std::string& bytes,
                                        std::chrono::milliseconds timeout) {
  if (!target.key) {
    return fail(
        "--connect needs --cluster-key FILE: a remote amfd lets in holders of the "
        "cluster's key only");
  }
  if (auto reachable = probe_remote(target.remote, std::min(timeout, kConnectWithin)); !reachable) {
    return tl::unexpected(reachable.error());
  }
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::ipv6, true);
  socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
  keys::make_curve_client(socket, *target.key);
  if (zmq_socket_monitor(socket.handle(), "inproc://amfctl-handshake",
                         ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
    return fail(std::string("cannot watch the handshake: ") + zmq_strerror(zmq_errno()));
  }
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.connect("inproc://amfctl-handshake");
  socket.connect("tcp://" + target.remote);
  socket.send(zmq::buffer(bytes), zmq::send_flags::none);
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                             {monitor.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 2, timeout) == 0) {
    return fail("no answer from amfd at " + target.name() + " within " +
                std::to_string(timeout.count()) + " ms");
  }
  if ((items[0].revents & ZMQ_POLLIN) == 0) {
    zmq_socket_monitor(socket.handle(), nullptr, 0);
    return fail("amfd at " + target.name() +
                " ended the CURVE handshake: the key given with --cluster-key is not the one "
                "it was given (or that port is not an amfd's remote admin socket)");
  }
  zmq::message_t reply;
  (void)socket.recv(reply, zmq::recv_flags::none);
  zmq_socket_monitor(socket.handle(), nullptr, 0);
  return wire::decode_admin_reply(reply.to_string_view());
}

}  // namespace

SocketAccess probe_admin_socket(const std::string& runtime_dir) {
  const std::string path = admin_socket_path(runtime_dir);
  const auto no_amfd = [&](const std::string& why) {
    return SocketAccess{SocketAccess::Kind::kNoDaemon,
                        "no amfd is running: " + path + " " + why +
                            " (start amfd, or point --runtime-dir / AMF_RUNTIME_DIR at the "
                            "directory it was started with)"};
  };
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return no_amfd("is too long a socket path");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return no_amfd(std::string("cannot be tried: socket: ") + std::strerror(errno));
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  if (rc == 0) return {SocketAccess::Kind::kReachable, ""};
  if (err == EACCES || err == EPERM) {
    return {SocketAccess::Kind::kPermissionDenied,
            "permission denied: " + path +
                " is open to its owner and group only (run amfctl as root, or as a member of "
                "the socket's group)"};
  }
  if (err == ENOENT) return no_amfd("does not exist");
  if (err == ECONNREFUSED) return no_amfd("is stale: nothing accepts connections on it");
  return no_amfd(std::string("cannot be reached: ") + std::strerror(err));
}

Result<wire::AdminReply> admin_request(const AdminTarget& target, const wire::AdminRequest& request,
                                       std::chrono::milliseconds timeout) {
  if (!target.remote.empty()) {
    try {
      return remote_request(target, wire::encode(request), timeout);
    } catch (const zmq::error_t& e) {
      return fail("cannot talk to amfd at " + target.name() + ": " + e.what());
    }
  }
  const std::string& runtime_dir = target.runtime_dir;
  const std::string path = admin_socket_path(runtime_dir);
  // ZeroMQ connects lazily and would wait for a socket that never appears, or that it may
  // not use: try the socket ourselves first, so that each case gets its own answer.
  if (auto access = probe_admin_socket(runtime_dir);
      access.kind != SocketAccess::Kind::kReachable) {
    return fail(access.message);
  }
  try {
    zmq::context_t context(1);
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
    socket.connect("ipc://" + path);
    const std::string bytes = wire::encode(request);
    socket.send(zmq::buffer(bytes), zmq::send_flags::none);
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) {
      return fail("no answer from amfd at " + path + " within " + std::to_string(timeout.count()) +
                  " ms (is it running, or is the socket stale?)");
    }
    zmq::message_t reply;
    (void)socket.recv(reply, zmq::recv_flags::none);
    return wire::decode_admin_reply(reply.to_string_view());
  } catch (const zmq::error_t& e) {
    return fail("cannot talk to amfd at " + path + ": " + e.what());
  }
}

Result<wire::ClusterStatus> fetch_status(const AdminTarget& target) {
  // A node without the director asks the director for its part (within 2 s).
  auto reply = admin_request(target, wire::StatusRequest{}, std::chrono::seconds(5));
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* status = std::get_if<wire::ClusterStatus>(&*reply)) return *status;
  return fail("amfd answered a status request with something else");
}

Result<wire::EventList> fetch_events(const AdminTarget& target, std::uint64_t after) {
  auto reply = admin_request(target, wire::EventsRequest{after, 0});
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* events = std::get_if<wire::EventList>(&*reply)) return *events;
  return fail("amfd answered an events request with something else");
}

Result<wire::AdminOperationResult> run_operation(const AdminTarget& target,
                                                 const wire::AdminOperation& operation) {
  auto reply = admin_request(target, operation, std::chrono::seconds(75));
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* result = std::get_if<wire::AdminOperationResult>(&*reply)) return *result;
  return fail("amfd answered an admin operation with something else");
}

}  // namespace amf::tools
