#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/zmq_watch.h"
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
// Not encrypted nor authenticated yet (ZeroMQ CURVE is to come): loopback and network
// namespaces only.
class CommandTransport : public runtime::Transport {
 public:
  struct Settings {
    NodeId self;
    std::string endpoint;                 // to bind: tcp://127.0.0.1:7302
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    // Larger frames are refused by the receiving socket (a snapshot of a node with thousands of
    // SUs is a few megabytes). ZeroMQ applies it per frame: a message of many frames is held
    // whole before it is refused, one more reason why the socket is for loopback and
    // namespaces until CURVE authenticates peers.
    std::int64_t max_message_bytes = 16 << 20;
  };
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;   // not sent: no connection to the peer, or its queue full
    std::uint64_t received = 0;  // decoded and handed on
    std::uint64_t refused = 0;   // malformed, or not from the peer it came in from
  };
  using Deliver = std::function<void(const protocol::Envelope&)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds and connects; an error says which endpoint and why. `deliver` gets every envelope
  // that decodes and comes from the peer it names, on the loop's thread; it may send.
  static Result<std::unique_ptr<CommandTransport>> start(boost::asio::io_context& io,
                                                         zmq::context_t& zmq, Settings settings,
                                                         Deliver deliver, Refused on_refused);
  ~CommandTransport() override;
  CommandTransport(const CommandTransport&) = delete;
  CommandTransport& operator=(const CommandTransport&) = delete;

  void send(const protocol::Envelope& envelope) override;
  const Counters& counters() const { return counters_; }

 private:
  CommandTransport(boost::asio::io_context& io, zmq::context_t& zmq, Settings settings,
                   Deliver deliver, Refused on_refused);
  Result<void> open();
  void on_frames(std::vector<zmq::message_t>& frames);
  void refuse(const std::string& reason);

  boost::asio::io_context& io_;
  zmq::context_t& zmq_;
  Settings settings_;
  Deliver deliver_;
  Refused on_refused_;
  zmq::socket_t router_;
  std::map<NodeId, zmq::socket_t> dealers_;
  std::unique_ptr<ZmqWatch> watch_;
  Counters counters_;
};

}  // namespace amf::daemon
