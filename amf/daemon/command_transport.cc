#include "amf/daemon/command_transport.h"

#include "amf/core/utf8.h"
#include "amf/keys/curve_client.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

CommandTransport::CommandTransport(boost::asio::io_context& io, Settings settings, Deliver deliver,
                                   Refused on_refused)
    : io_(io),
      settings_(std::move(settings)),
      deliver_(std::move(deliver)),
      on_refused_(std::move(on_refused)),
      zmq_(1),
      router_(zmq_, zmq::socket_type::router) {}

CommandTransport::~CommandTransport() {
  watch_.reset();
  router_.close();  // before its guard: no connection is ever taken unchecked
  guard_.reset();
}

Result<std::unique_ptr<CommandTransport>> CommandTransport::start(boost::asio::io_context& io,
                                                                  Settings settings,
                                                                  Deliver deliver,
                                                                  Refused on_refused) {
  std::unique_ptr<CommandTransport> t(
      new CommandTransport(io, std::move(settings), std::move(deliver), std::move(on_refused)));
  if (auto opened = t->open(); !opened) return tl::unexpected(opened.error());
  return t;
}

Result<void> CommandTransport::open() {
  try {
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::ipv6, true);
    router_.set(zmq::sockopt::router_handover, true);
    router_.set(zmq::sockopt::maxmsgsize, settings_.max_message_bytes);
    auto guard = CurveGuard::guard(io_, zmq_, router_, settings_.key, "command socket",
                                   settings_.endpoint, [this](const std::string& reason) {
                                     if (on_refused_) on_refused_(reason);
                                   });
    if (!guard) return tl::unexpected(guard.error());
    guard_ = std::move(*guard);
    router_.bind(settings_.endpoint);
  } catch (const zmq::error_t& e) {
    return fail("command socket: cannot bind " + settings_.endpoint + ": " + e.what());
  }
  for (const auto& [peer, endpoint] : settings_.peers) {
    zmq::socket_t dealer(zmq_, zmq::socket_type::dealer);
    try {
      dealer.set(zmq::sockopt::linger, 0);
      dealer.set(zmq::sockopt::ipv6, true);
      dealer.set(zmq::sockopt::immediate, true);
      dealer.set(zmq::sockopt::routing_id, settings_.self.str());
      if (settings_.key) keys::make_curve_client(dealer, *settings_.key);
      dealer.connect(endpoint);
    } catch (const zmq::error_t& e) {
      return fail("command socket: cannot connect to " + peer.str() + " at " + endpoint + ": " +
                  e.what());
    }
    dealers_.emplace(peer, std::move(dealer));
  }
  watch_ = std::make_unique<ZmqWatch>(
      io_, router_, [this](std::vector<zmq::message_t>& frames) { on_frames(frames); });
  return {};
}

void CommandTransport::send(const protocol::Envelope& envelope) {
  auto it = dealers_.find(envelope.to.node);
  if (it == dealers_.end()) {
    ++counters_.dropped;  // a node of no configured address (the runtime follows epochs)
    return;
  }
  const std::string bytes = wire::encode(envelope);
  try {
    if (it->second.send(zmq::buffer(bytes), zmq::send_flags::dontwait)) {
      ++counters_.sent;
    } else {
      ++counters_.dropped;
    }
  } catch (const zmq::error_t&) {
    ++counters_.dropped;
  }
}

void CommandTransport::refuse(const std::string& reason) {
  ++counters_.refused;
  if (on_refused_) on_refused_(reason);
}

void CommandTransport::on_frames(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) {
    refuse("command socket: a message of " + std::to_string(frames.size()) +
           " frames (one envelope each)");
    return;
  }
  const NodeId peer(frames[0].to_string());
  if (!settings_.peers.count(peer)) {
    // Any bytes (a DEALER without a routing id gets a generated binary one): kept readable.
    refuse("command socket: a connection that names no configured peer ('" +
           valid_utf8(peer.str()) + "')");
    return;
  }
  auto envelope = wire::decode_node_envelope(frames[1].to_string_view());
  if (!envelope) {
    refuse("command socket: from " + peer.str() + ": " + envelope.error().message());
    return;
  }
  if (envelope->from.node != peer) {
    refuse("command socket: an envelope that names " + envelope->from.node.str() +
           " as its sender came from " + peer.str());
    return;
  }
  ++counters_.received;
  deliver_(*envelope);
}

}  // namespace amf::daemon
