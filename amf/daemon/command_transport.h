#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/curve_guard.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/keys/cluster_key.h"
#include "amf/protocol/envelope.h"
#include "amf/runtime/node_runtime.h"

namespace amf::daemon {

// The command links between nodes' runtimes on the network: the director's commands and the
// node directors' reports (amf/protocol), one amf.v1.NodeEnvelope per ZeroMQ message, over TCP.
// Heartbeats do not come here: they have a socket of their own (MembershipService).
//
// The node binds one ROUTER on its own endpoint and connects one DEALER to each peer's, whose
// routing id is this node's name, so that a receiver knows which configured peer a message
// came in on and refuses an envelope whose sender is another node, or a connection that names
// no configured peer. An envelope is sent at once or not at all (ZMQ_IMMEDIATE: nothing is
// queued for a peer that is not connected, or one whose queue is full): the runtime's links
// number, acknowledge and resend what a transport loses, and a message queued for an old
// connection of a peer would only arrive late, for a life that is over. A peer that restarts
// takes its routing id over from its old connection (ZMQ_ROUTER_HANDOVER).
//
// With the cluster key (Settings::key), every link is ZeroMQ CURVE with the key pair derived
// from it: a connection is encrypted, and accepted only from a holder of the key (CurveGuard,
// on a ZeroMQ context of the transport's own). A connection that fails its handshake (no
// CURVE, another cluster's key) or the key check is refused and reported with the reason.
// Without the key (amfd: loopback only) the links are plain TCP.
class CommandTransport : public runtime::Transport {
 public:
  struct Settings {
    NodeId self;
    std::string endpoint;                 // to bind: tcp://127.0.0.1:7302
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    std::optional<keys::ClusterKey> key;  // CURVE on every link; none: plain TCP
    // Larger frames are refused by the receiving socket (a snapshot of a node with thousands of
    // SUs is a few megabytes). ZeroMQ applies it per frame: a message of many frames is held
    // whole before it is refused (after the handshake, with CURVE: from a key holder only).
    std::int64_t max_message_bytes = 16 << 20;
  };
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;             // not sent: no connection to the peer, or its queue full
    std::uint64_t received = 0;            // decoded and handed on
    std::uint64_t refused = 0;             // malformed, or not from the peer it came in from
    std::uint64_t handshakes_refused = 0;  // connections without CURVE or the cluster's key
  };
  using Deliver = std::function<void(const protocol::Envelope&)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds and connects; an error says which endpoint and why. `deliver` gets every envelope
  // that decodes and comes from the peer it names, on the loop's thread; it may send.
  static Result<std::unique_ptr<CommandTransport>> start(boost::asio::io_context& io,
                                                         Settings settings, Deliver deliver,
                                                         Refused on_refused);
  ~CommandTransport() override;
  CommandTransport(const CommandTransport&) = delete;
  CommandTransport& operator=(const CommandTransport&) = delete;

  void send(const protocol::Envelope& envelope) override;
  Counters counters() const {
    Counters c = counters_;
    c.handshakes_refused = guard_ ? guard_->refused() : 0;
    return c;
  }

 private:
  CommandTransport(boost::asio::io_context& io, Settings settings, Deliver deliver,
                   Refused on_refused);
  Result<void> open();
  void on_frames(std::vector<zmq::message_t>& frames);
  void refuse(const std::string& reason);

  boost::asio::io_context& io_;
  Settings settings_;
  Deliver deliver_;
  Refused on_refused_;
  // Its own: a context has one ZAP handler, and this one speaks for the command links only.
  zmq::context_t zmq_;
  zmq::socket_t router_;
  std::unique_ptr<CurveGuard> guard_;
  std::map<NodeId, zmq::socket_t> dealers_;
  std::unique_ptr<ZmqWatch> watch_;
  Counters counters_;
};

}  // namespace amf::daemon
