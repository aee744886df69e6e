#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/curve_guard.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/director/director.h"
#include "amf/model/notification.h"
#include "amf/node/node_director.h"
#include "amf/wire/messages.h"

namespace amf::daemon {

// Binds a ROUTER socket at ipc://`path` for local clients: created with no access for others
// (no window in which the umask decides), then opened to the group (mode 0660); a stale file
// there is replaced (the caller holds the runtime directory's lock); messages longer than
// `max_message_bytes` close their connection instead of being held. Returns the endpoint.
Result<std::string> bind_local_router(zmq::socket_t& socket, const std::string& path,
                                      std::int64_t max_message_bytes);

// components.sock: the node director's side of the component protocol (amf/wire). Turns what
// components send into node events and carries the node director's messages to them.
//
// Connections are known only once registered: a message from any other connection is dropped,
// so the tables hold at most one connection per component (plus the one being registered),
// whatever connects and leaves. Only the process amfd started for a component, or one of its
// descendants, may register as it (the kernel's SO_PEERCRED, through `belongs`).
//
// Runs on the io_context's thread; not thread-safe.
class ComponentChannel {
 public:
  struct Callbacks {
    std::function<bool(const CompId&)> known;           // a component of this node
    std::function<bool(const CompId&, pid_t)> belongs;  // ProcessHost::belongs
    std::function<void(node::Event)> post;              // to the node director
    std::function<void(const model::Notification&)> record;
    std::function<TimePoint()> now;
    // A registered component's checkpoint request (CheckpointHost).
    std::function<void(node::PeerId, const wire::CheckpointRequest&)> checkpoint;
  };

  ComponentChannel(boost::asio::io_context& io, zmq::context_t& zmq, Callbacks callbacks,
                   std::shared_ptr<spdlog::logger> log);
  ~ComponentChannel();  // closes the socket and removes its file
  ComponentChannel(const ComponentChannel&) = delete;
  ComponentChannel& operator=(const ComponentChannel&) = delete;

  Result<void> bind(const std::string& path);
  const std::string& endpoint() const { return endpoint_; }

  void send(node::PeerId peer, const wire::ComponentMessage& message);
  // The node director answered a registration: an accepted connection is the component's from
  // now on; a refused one that holds no other registration is forgotten.
  void registration_answered(node::PeerId peer, bool ok);
  // The component's process is gone: its connection is of no further use.
  void forget(const CompId& comp);
  // The connection the component registered on, if any.
  std::optional<node::PeerId> peer_of(const CompId& comp) const;

 private:
  void on_frames(std::vector<zmq::message_t>& frames);
  void send_to(const std::string& routing_id, const wire::ComponentMessage& message);
  void drop_peer(node::PeerId peer);

  boost::asio::io_context& io_;
  zmq::socket_t socket_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<ZmqWatch> watch_;
  std::string endpoint_;
  std::map<std::string, node::PeerId> peer_by_routing_id_;
  std::map<node::PeerId, std::string> routing_id_by_peer_;
  std::map<std::string, node::PeerId> peer_by_component_;  // accepted registrations, by name
  std::map<node::PeerId, std::string> registering_;  // registrations the core has not answered
  node::PeerId next_peer_ = 1;
};

// admin.sock, and the remote admin socket (bind_remote: TCP, CURVE with the cluster key, for
// amfctl --connect from another host): events are answered at once; an admin operation is handed to
// the director and answered when the director reports its result. At most kMaxOperations wait at a
// time; more are refused with "try again", never queued. A status is answered at once, or, where
// `forward_status` takes it (a node of several: the director gathers it), once status_answer()
// gives it (perhaps before forward_status returns); at most kMaxOperations of those wait too,
// and more are answered at once.
//
// Runs on the io_context's thread; not thread-safe.
class AdminChannel {
 public:
  static constexpr std::size_t kMaxOperations = 64;
  struct Callbacks {
    std::function<wire::ClusterStatus()> status;
    // Asks the director for its status; true: status_answer(id, ...) follows (or came already).
    std::function<bool(std::uint64_t id)> forward_status;
    std::function<std::vector<wire::EventRecord>(std::uint64_t after, std::size_t max)> events;
    std::function<void(const director::AdminRequest&)> start;  // to the director
    // A connection to the remote admin socket refused at its handshake (CurveGuard).
    std::function<void(const std::string& reason)> refused;
    std::function<wire::AdminReply(const std::string& name)> checkpoints;  // amfctl ckpt
  };

  AdminChannel(boost::asio::io_context& io, zmq::context_t& zmq, Callbacks callbacks,
               std::shared_ptr<spdlog::logger> log);
  ~AdminChannel();  // closes the socket and removes its file
  AdminChannel(const AdminChannel&) = delete;
  AdminChannel& operator=(const AdminChannel&) = delete;

  Result<void> bind(const std::string& path);
  // The remote admin socket on `endpoint` (tcp://ADDRESS:PORT), where only holders of `key`
  // get through; an error says what could not be bound.
  Result<void> bind_remote(const std::string& endpoint, const keys::ClusterKey& key);
  const std::string& endpoint() const { return endpoint_; }
  void answer(const director::AdminResult& result);
  void status_answer(std::uint64_t id, const wire::ClusterStatus& status);
  // Fails every operation still waiting (the director that had them no longer acts).
  void fail_all(const std::string& message);

 private:
  // Who asked: a connection of the local socket or of the remote one.
  struct Client {
    bool remote = false;
    std::string routing_id;
    std::string address;  // the remote peer's, for the log
  };
  void on_frames(std::vector<zmq::message_t>& frames, bool remote);
  void start_operation(const Client& client, const wire::AdminOperation& op);
  void start_status(const Client& client);
  void reply(const Client& client, const wire::AdminReply& reply);

  boost::asio::io_context& io_;
  zmq::socket_t socket_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<ZmqWatch> watch_;
  std::string endpoint_;
  // The remote socket, on a context of its own (its ZAP handler is the guard's).
  std::unique_ptr<zmq::context_t> remote_zmq_;
  zmq::socket_t remote_;
  std::unique_ptr<CurveGuard> guard_;
  std::unique_ptr<ZmqWatch> remote_watch_;
  std::map<std::uint64_t, Client> waiting_;   // operation id -> who asked
  std::map<std::uint64_t, Client> statuses_;  // status request id -> who asked
  std::uint64_t next_id_ = 1;
};

}  // namespace amf::daemon
