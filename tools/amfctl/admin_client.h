#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "amf/core/result.h"
#include "amf/keys/cluster_key.h"
#include "amf/wire/messages.h"

namespace amf::tools {

// Which amfd to ask: the one of a runtime directory on this host (admin.sock), or, with
// `remote` (HOST:PORT, amfd --remote-admin), one on another host over CURVE with `key`, the
// cluster's key.
struct AdminTarget {
  AdminTarget(std::string dir) : runtime_dir(std::move(dir)) {}  // NOLINT: a local amfd
  AdminTarget(std::string dir, std::string remote_endpoint, std::optional<keys::ClusterKey> k)
      : runtime_dir(std::move(dir)), remote(std::move(remote_endpoint)), key(std::move(k)) {}
  std::string runtime_dir;
  std::string remote;
  std::optional<keys::ClusterKey> key;
  // How the errors name it: the socket file, or tcp://HOST:PORT.
  std::string name() const;
};

// The admin socket of a node's amfd: ipc://RUNTIME_DIR/admin.sock.
std::string admin_socket_path(const std::string& runtime_dir);

// Whether this process may talk to the admin socket, tried with a plain connect() (ZeroMQ's
// own connect is lazy and would only time out): no amfd there, or no permission to use it.
struct SocketAccess {
  enum class Kind { kReachable, kNoDaemon, kPermissionDenied };
  Kind kind;
  std::string message;  // what is wrong, for the user; empty when reachable
};
SocketAccess probe_admin_socket(const std::string& runtime_dir);

// Sends one request to amfd and waits (bounded) for its reply. The errors say plainly when no
// daemon is there (no socket file, nothing listening on the port, no answer in time) and when
// a remote amfd ended the handshake (another key).
Result<wire::AdminReply> admin_request(const AdminTarget& target, const wire::AdminRequest& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(3));

// Convenience wrappers that turn an AdminError reply into an Error.
Result<wire::ClusterStatus> fetch_status(const AdminTarget& target);
Result<wire::EventList> fetch_events(const AdminTarget& target, std::uint64_t after);
// Runs an admin operation and waits for amfd's answer (amfd gives up on an operation after
// 60 s, so this waits a little longer). An Error means amfd could not be asked at all; a
// refusal or failure comes back as a result with ok == false.
Result<wire::AdminOperationResult> run_operation(const AdminTarget& target,
                                                 const wire::AdminOperation& operation);

}  // namespace amf::tools
