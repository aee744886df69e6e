#include "tools/amfctl/admin_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <zmq.hpp>

#include "amf/wire/codec.h"

namespace amf::tools {

namespace {

// A status of a large cluster is a few MB; this bounds what a wrong peer can make us hold.
constexpr std::int64_t kMaxReplyBytes = std::int64_t{256} << 20;

}  // namespace

std::string admin_socket_path(const std::string& runtime_dir) {
  return runtime_dir + "/admin.sock";
}

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

Result<wire::AdminReply> admin_request(const std::string& runtime_dir,
                                       const wire::AdminRequest& request,
                                       std::chrono::milliseconds timeout) {
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

Result<wire::ClusterStatus> fetch_status(const std::string& runtime_dir) {
  // A node without the director asks the director for its part (within 2 s).
  auto reply = admin_request(runtime_dir, wire::StatusRequest{}, std::chrono::seconds(5));
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* status = std::get_if<wire::ClusterStatus>(&*reply)) return *status;
  return fail("amfd answered a status request with something else");
}

Result<wire::EventList> fetch_events(const std::string& runtime_dir, std::uint64_t after) {
  auto reply = admin_request(runtime_dir, wire::EventsRequest{after, 0});
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* events = std::get_if<wire::EventList>(&*reply)) return *events;
  return fail("amfd answered an events request with something else");
}

Result<wire::AdminOperationResult> run_operation(const std::string& runtime_dir,
                                                 const wire::AdminOperation& operation) {
  auto reply = admin_request(runtime_dir, operation, std::chrono::seconds(75));
  if (!reply) return tl::unexpected(reply.error());
  if (auto* error = std::get_if<wire::AdminError>(&*reply)) return fail(error->message);
  if (auto* result = std::get_if<wire::AdminOperationResult>(&*reply)) return *result;
  return fail("amfd answered an admin operation with something else");
}

}  // namespace amf::tools
