#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/peer_links.h"
#include "amf/keys/cluster_key.h"
#include "amf/protocol/envelope.h"
#include "amf/runtime/node_runtime.h"

namespace amf::daemon {

// The command links between nodes' runtimes on the network: the director's commands and the
// node directors' reports (amf/protocol), one amf.v1.NodeEnvelope per ZeroMQ message, over TCP
// (PeerLinks: a ROUTER bound here, a DEALER to each peer, CURVE with the cluster key). Heartbeats
// do not come here: they have a socket of their own (MembershipService). The runtime's links
// number, acknowledge and resend what these lose. An envelope whose sender is another node than
// the connection it came on is refused.
class CommandTransport : public runtime::Transport {
 public:
  struct Settings {
    NodeId self;
    std::string endpoint;                 // to bind: tcp://127.0.0.1:7302
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    std::optional<keys::ClusterKey> key;  // CURVE on every link; none: plain TCP
    // Larger frames are refused by the receiving socket (a snapshot of a node with thousands of
    // SUs is a few megabytes).
    std::int64_t max_message_bytes = 16 << 20;
  };
  using Counters = PeerLinks::Counters;
  using Deliver = std::function<void(const protocol::Envelope&)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds and connects; an error says which endpoint and why. `deliver` gets every envelope
  // that decodes and comes from the peer it names, on the loop's thread; it may send.
  static Result<std::unique_ptr<CommandTransport>> start(boost::asio::io_context& io,
                                                         Settings settings, Deliver deliver,
                                                         Refused on_refused);
  CommandTransport(const CommandTransport&) = delete;
  CommandTransport& operator=(const CommandTransport&) = delete;

  void send(const protocol::Envelope& envelope) override;
  Counters counters() const { return links_->counters(); }

 private:
  explicit CommandTransport(Deliver deliver) : deliver_(std::move(deliver)) {}

  Deliver deliver_;
  std::unique_ptr<PeerLinks> links_;
};

}  // namespace amf::daemon
