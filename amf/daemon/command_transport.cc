#include "amf/daemon/command_transport.h"

#include <cstdio>
#include <cstring>

#include "amf/core/utf8.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";  // fixed by ZeroMQ (RFC 27)
constexpr const char* kMonitorEndpoint = "inproc://amf-command-handshakes";
constexpr const char* kZapDomain = "amf-commands";

std::string_view bytes(const std::array<unsigned char, 32>& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// Why the router's handshake with a connecting peer failed, in an operator's words.
std::string handshake_failure(std::uint32_t code) {
  switch (code) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "the peer and this node disagree on CURVE (one of them has no cluster key)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      return "the peer's handshake does not open with this cluster's key (another key)";
    default: {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08x", code);
      return std::string("ZeroMQ protocol error ") + hex;
    }
  }
}

}  // namespace

CommandTransport::CommandTransport(boost::asio::io_context& io, Settings settings, Deliver deliver,
                                   Refused on_refused)
    : io_(io),
      settings_(std::move(settings)),
      deliver_(std::move(deliver)),
      on_refused_(std::move(on_refused)),
      zmq_(1),
      router_(zmq_, zmq::socket_type::router) {}

CommandTransport::~CommandTransport() {
  // The watches first (they hold the sockets' fds), then the monitor before its socket.
  watch_.reset();
  zap_watch_.reset();
  monitor_watch_.reset();
  if (monitor_) zmq_socket_monitor(router_.handle(), nullptr, 0);
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

Result<void> CommandTransport::secure() {
  // Handshakes that fail the protocol, with or without CURVE: a peer of the other kind, or of
  // another key, is worth a word. One that hangs up halfway (a port scan) is not.
  if (zmq_socket_monitor(router_.handle(), kMonitorEndpoint, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) !=
      0) {
    return fail(std::string("command socket: cannot monitor its handshakes: ") +
                zmq_strerror(zmq_errno()));
  }
  monitor_ = zmq::socket_t(zmq_, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(kMonitorEndpoint);
  monitor_watch_ = std::make_unique<ZmqWatch>(
      io_, monitor_, [this](std::vector<zmq::message_t>& frames) { on_monitor_event(frames); });
  if (!settings_.key) return {};

  if (!zmq_has("curve")) return fail("command socket: this libzmq is built without CURVE");
  // The handler is bound before the router and lives as long as it: libzmq accepts any CURVE
  // client when no handler is bound (ZMQ_ZAP_ENFORCE_DOMAIN, which would refuse then, is a
  // draft option that Debian's libzmq leaves out).
  zap_ = zmq::socket_t(zmq_, zmq::socket_type::rep);
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind(kZapEndpoint);
  zap_watch_ = std::make_unique<ZmqWatch>(
      io_, zap_, [this](std::vector<zmq::message_t>& frames) { on_zap_request(frames); });
  const keys::CurveKeys keys = settings_.key->curve_keys();
  router_.set(zmq::sockopt::curve_server, true);
  router_.set(zmq::sockopt::curve_publickey, bytes(keys.public_key));
  router_.set(zmq::sockopt::curve_secretkey, bytes(keys.secret_key));
  router_.set(zmq::sockopt::zap_domain, kZapDomain);
  return {};
}

Result<void> CommandTransport::open() {
  try {
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::router_handover, true);
    router_.set(zmq::sockopt::maxmsgsize, settings_.max_message_bytes);
    if (auto secured = secure(); !secured) return secured;
    router_.bind(settings_.endpoint);
  } catch (const zmq::error_t& e) {
    return fail("command socket: cannot bind " + settings_.endpoint + ": " + e.what());
  }
  std::optional<keys::CurveKeys> keys;
  if (settings_.key) keys = settings_.key->curve_keys();
  for (const auto& [peer, endpoint] : settings_.peers) {
    zmq::socket_t dealer(zmq_, zmq::socket_type::dealer);
    try {
      dealer.set(zmq::sockopt::linger, 0);
      dealer.set(zmq::sockopt::immediate, true);
      dealer.set(zmq::sockopt::routing_id, settings_.self.str());
      if (keys) {
        // Every node holds the one pair: the server's key is its own public key.
        dealer.set(zmq::sockopt::curve_serverkey, bytes(keys->public_key));
        dealer.set(zmq::sockopt::curve_publickey, bytes(keys->public_key));
        dealer.set(zmq::sockopt::curve_secretkey, bytes(keys->secret_key));
      }
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

void CommandTransport::refuse_handshake(const std::string& kind, const std::string& reason) {
  ++counters_.handshakes_refused;
  auto report = handshake_reports_.admit(kind, "command socket: refused a connection: " + reason,
                                         Clock::now());
  if (report && on_refused_) on_refused_(*report);
}

void CommandTransport::on_zap_request(std::vector<zmq::message_t>& frames) {
  // RFC 27: version, request id, domain, address, routing id, mechanism, credentials.
  const bool well_formed = frames.size() >= 6 && frames[0].to_string_view() == "1.0";
  const std::string request_id = frames.size() >= 2 ? frames[1].to_string() : "";
  const std::string address = frames.size() >= 4 ? valid_utf8(frames[3].to_string()) : "?";
  const keys::CurveKeys keys = settings_.key->curve_keys();
  const bool accepted = well_formed && frames[2].to_string_view() == kZapDomain &&
                        frames[5].to_string_view() == "CURVE" && frames.size() == 7 &&
                        frames[6].to_string_view() == bytes(keys.public_key);
  if (!accepted) {
    refuse_handshake("zap " + address, "from " + address +
                                           ": its CURVE key is not this cluster's (the node was "
                                           "given another key)");
  }
  std::array<std::string, 6> reply{
      "1.0", request_id, accepted ? "200" : "400", accepted ? "OK" : "not this cluster's key",
      "",    ""};
  try {
    for (std::size_t i = 0; i < reply.size(); ++i) {
      zap_.send(zmq::buffer(reply[i]),
                i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  } catch (const zmq::error_t&) {
    // The router times the handshake out; nothing else waits for this answer.
  }
  zap_watch_->kick();
}

void CommandTransport::on_monitor_event(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2 || frames[0].size() != 6) return;
  std::uint16_t event = 0;
  std::uint32_t value = 0;
  std::memcpy(&event, frames[0].data(), sizeof event);
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + sizeof event, sizeof value);
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    refuse_handshake("protocol " + std::to_string(value),
                     "on " + settings_.endpoint + ": " + handshake_failure(value));
  }
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
