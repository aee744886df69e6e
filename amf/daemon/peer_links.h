#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/daemon/curve_guard.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/keys/cluster_key.h"

namespace amf::daemon {

// A node's ZeroMQ links to every other node, carrying opaque messages: what the command links
// (CommandTransport) and the checkpoint links (CheckpointLinks) have in common. The codecs
// above them decode and check what arrives.
//
// The node binds one ROUTER on its own endpoint and connects one DEALER to each peer's, whose
// routing id is this node's name, so that a receiver knows which configured peer a message
// came in on, and refuses a connection that names no configured peer. A message is sent at
// once or not at all (ZMQ_IMMEDIATE: nothing is queued for a peer that is not connected, or one
// whose queue is full): the protocols above resend what a link loses, and a message queued for
// an old connection of a peer would only arrive late, for a life that is over. A peer that
// restarts takes its routing id over from its old connection (ZMQ_ROUTER_HANDOVER). Messages
// to one peer arrive in the order they were sent, or not at all.
//
// With the cluster key (Settings::key), every link is ZeroMQ CURVE with the key pair derived
// from it: a connection is encrypted, and accepted only from a holder of the key (CurveGuard,
// on a ZeroMQ context of the links' own). A connection that fails its handshake (no CURVE,
// another cluster's key) or the key check is refused and reported with the reason. Without the
// key (amfd: loopback only) the links are plain TCP.
class PeerLinks {
 public:
  struct Settings {
    NodeId self;
    std::string what;                     // "command socket": for errors and refusals
    std::string endpoint;                 // to bind: tcp://127.0.0.1:7302
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    std::optional<keys::ClusterKey> key;  // CURVE on every link; none: plain TCP
    // Larger frames are refused by the receiving socket. ZeroMQ applies it per frame: a
    // message of many frames is held whole before it is refused (after the handshake, with
    // CURVE: from a key holder only).
    std::int64_t max_message_bytes = 16 << 20;
  };
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;             // not sent: no connection to the peer, or its queue full
    std::uint64_t received = 0;            // handed on (and, above, decoded)
    std::uint64_t refused = 0;             // malformed, or not from the peer it came in from
    std::uint64_t handshakes_refused = 0;  // connections without CURVE or the cluster's key
  };
  // A message from configured peer `from`; the callee decodes it, and returns why it refuses
  // it (counted and reported), or nothing.
  using Deliver = std::function<std::optional<std::string>(const NodeId& from, std::string_view)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds and connects; an error says which endpoint and why. `deliver` runs on the loop's
  // thread; it may send.
  static Result<std::unique_ptr<PeerLinks>> start(boost::asio::io_context& io, Settings settings,
                                                  Deliver deliver, Refused on_refused);
  ~PeerLinks();
  PeerLinks(const PeerLinks&) = delete;
  PeerLinks& operator=(const PeerLinks&) = delete;

  // False when it was dropped (no such peer, not connected, its queue full).
  bool send(const NodeId& to, std::string_view bytes);
  Counters counters() const {
    Counters c = counters_;
    c.handshakes_refused = guard_ ? guard_->refused() : 0;
    return c;
  }
  const Settings& settings() const { return settings_; }

 private:
  PeerLinks(boost::asio::io_context& io, Settings settings, Deliver deliver, Refused on_refused);
  Result<void> open();
  void on_frames(std::vector<zmq::message_t>& frames);
  void refuse(const std::string& reason);

  boost::asio::io_context& io_;
  Settings settings_;
  Deliver deliver_;
  Refused on_refused_;
  // Its own: a context has one ZAP handler, and this one speaks for these links only.
  zmq::context_t zmq_;
  zmq::socket_t router_;
  std::unique_ptr<CurveGuard> guard_;
  std::map<NodeId, zmq::socket_t> dealers_;
  std::unique_ptr<ZmqWatch> watch_;
  Counters counters_;
};

}  // namespace amf::daemon
