#include "amf/daemon/peer_links.h"

#include "amf/core/utf8.h"
#include "amf/keys/curve_client.h"

namespace amf::daemon {

PeerLinks::PeerLinks(boost::asio::io_context& io, Settings settings, Deliver deliver,
                     Refused on_refused)
    : io_(io),
      settings_(std::move(settings)),
      deliver_(std::move(deliver)),
      on_refused_(std::move(on_refused)),
      zmq_(1),
      router_(zmq_, zmq::socket_type::router) {}

PeerLinks::~PeerLinks() {
  watch_.reset();
  router_.close();  // before its guard: no connection is ever taken unchecked
  guard_.reset();
}

Result<std::unique_ptr<PeerLinks>> PeerLinks::start(boost::asio::io_context& io, Settings settings,
                                                    Deliver deliver, Refused on_refused) {
  std::unique_ptr<PeerLinks> links(
      new PeerLinks(io, std::move(settings), std::move(deliver), std::move(on_refused)));
  if (auto opened = links->open(); !opened) return tl::unexpected(opened.error());
  return links;
}

Result<void> PeerLinks::open() {
  const std::string& what = settings_.what;
  try {
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::ipv6, true);
    router_.set(zmq::sockopt::router_handover, true);
    router_.set(zmq::sockopt::maxmsgsize, settings_.max_message_bytes);
    auto guard = CurveGuard::guard(io_, zmq_, router_, settings_.key, what, settings_.endpoint,
                                   [this](const std::string& reason) {
                                     if (on_refused_) on_refused_(reason);
                                   });
    if (!guard) return tl::unexpected(guard.error());
    guard_ = std::move(*guard);
    router_.bind(settings_.endpoint);
  } catch (const zmq::error_t& e) {
    return fail(what + ": cannot bind " + settings_.endpoint + ": " + e.what());
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
      return fail(what + ": cannot connect to " + peer.str() + " at " + endpoint + ": " + e.what());
    }
    dealers_.emplace(peer, std::move(dealer));
  }
  watch_ = std::make_unique<ZmqWatch>(
      io_, router_, [this](std::vector<zmq::message_t>& frames) { on_frames(frames); });
  return {};
}

bool PeerLinks::send(const NodeId& to, std::string_view bytes) {
  auto it = dealers_.find(to);
  if (it == dealers_.end()) {
    ++counters_.dropped;  // a node of no configured address
    return false;
  }
  try {
    if (it->second.send(zmq::buffer(bytes.data(), bytes.size()), zmq::send_flags::dontwait)) {
      ++counters_.sent;
      return true;
    }
  } catch (const zmq::error_t&) {
  }
  ++counters_.dropped;
  return false;
}

void PeerLinks::refuse(const std::string& reason) {
  ++counters_.refused;
  if (on_refused_) on_refused_(reason);
}

void PeerLinks::on_frames(std::vector<zmq::message_t>& frames) {
  const std::string& what = settings_.what;
  if (frames.size() != 2) {
    refuse(what + ": a message of " + std::to_string(frames.size()) + " frames (one each)");
    return;
  }
  const NodeId peer(frames[0].to_string());
  if (!settings_.peers.count(peer)) {
    // Any bytes (a DEALER without a routing id gets a generated binary one): kept readable.
    refuse(what + ": a connection that names no configured peer ('" + valid_utf8(peer.str()) +
           "')");
    return;
  }
  if (auto refusal = deliver_(peer, frames[1].to_string_view())) {
    refuse(what + ": from " + peer.str() + ": " + *refusal);
    return;
  }
  ++counters_.received;
}

}  // namespace amf::daemon
