#pragma once

#include <chrono>
#include <string>

#include "amf/core/result.h"
#include "amf/wire/messages.h"

namespace amf::tools {

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
// daemon is there: no socket file, or no answer in time.
Result<wire::AdminReply> admin_request(const std::string& runtime_dir,
                                       const wire::AdminRequest& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(3));

// Convenience wrappers that turn an AdminError reply into an Error.
Result<wire::ClusterStatus> fetch_status(const std::string& runtime_dir);
Result<wire::EventList> fetch_events(const std::string& runtime_dir, std::uint64_t after);
// Runs an admin operation and waits for amfd's answer (amfd gives up on an operation after
// 60 s, so this waits a little longer). An Error means amfd could not be asked at all; a
// refusal or failure comes back as a result with ok == false.
Result<wire::AdminOperationResult> run_operation(const std::string& runtime_dir,
                                                 const wire::AdminOperation& operation);

}  // namespace amf::tools
