#include "amf/daemon/curve_guard.h"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <span>

#include "amf/core/utf8.h"

namespace amf::daemon {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";  // fixed by ZeroMQ (RFC 27)
constexpr const char* kMonitorEndpoint = "inproc://amf-handshakes";
constexpr const char* kZapDomain = "amf";

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

CurveGuard::CurveGuard(boost::asio::io_context& io, zmq::context_t& zmq, zmq::socket_t& router,
                       const std::optional<keys::ClusterKey>& key, std::string what,
                       std::string endpoint, Refused on_refused)
    : io_(io),
      zmq_(zmq),
      router_(router),
      what_(std::move(what)),
      endpoint_(std::move(endpoint)),
      on_refused_(std::move(on_refused)) {
  if (key) keys_ = key->curve_keys();
}

CurveGuard::~CurveGuard() {
  zap_watch_.reset();
  monitor_watch_.reset();
  if (monitor_ && router_) zmq_socket_monitor(router_.handle(), nullptr, 0);
}

Result<std::unique_ptr<CurveGuard>> CurveGuard::guard(boost::asio::io_context& io,
                                                      zmq::context_t& zmq, zmq::socket_t& router,
                                                      const std::optional<keys::ClusterKey>& key,
                                                      std::string what, std::string endpoint,
                                                      Refused on_refused) {
  std::unique_ptr<CurveGuard> g(new CurveGuard(io, zmq, router, key, std::move(what),
                                               std::move(endpoint), std::move(on_refused)));
  try {
    if (auto started = g->start(); !started) return tl::unexpected(started.error());
  } catch (const zmq::error_t& e) {
    return fail(g->what_ + ": cannot guard it with CURVE: " + e.what());
  }
  return g;
}

std::string CurveGuard::readable_address(std::string address) {
  constexpr std::string_view kMapped = "::ffff:";
  if (address.rfind(kMapped, 0) == 0 && address.find('.') != std::string::npos) {
    address.erase(0, kMapped.size());
  }
  return address;
}

Result<void> CurveGuard::start() {
  if (zmq_socket_monitor(router_.handle(), kMonitorEndpoint, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) !=
      0) {
    return fail(what_ + ": cannot monitor its handshakes: " + zmq_strerror(zmq_errno()));
  }
  monitor_ = zmq::socket_t(zmq_, zmq::socket_type::pair);
  monitor_.set(zmq::sockopt::linger, 0);
  monitor_.connect(kMonitorEndpoint);
  monitor_watch_ = std::make_unique<ZmqWatch>(
      io_, monitor_, [this](std::vector<zmq::message_t>& frames) { on_monitor_event(frames); });
  if (!keys_) return {};

  if (!zmq_has("curve")) return fail(what_ + ": this libzmq is built without CURVE");
  // A ROUTER, not the usual REP: a reply that cannot be sent leaves no socket state behind.
  zap_ = zmq::socket_t(zmq_, zmq::socket_type::router);
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind(kZapEndpoint);
  zap_watch_ = std::make_unique<ZmqWatch>(
      io_, zap_, [this](std::vector<zmq::message_t>& frames) { on_zap_request(frames); });
  router_.set(zmq::sockopt::curve_server, true);
  router_.set(zmq::sockopt::curve_publickey, bytes(keys_->public_key));
  router_.set(zmq::sockopt::curve_secretkey, bytes(keys_->secret_key));
  router_.set(zmq::sockopt::zap_domain, kZapDomain);
  sodium_memzero(keys_->secret_key.data(), keys_->secret_key.size());  // the socket has it
  return {};
}

void CurveGuard::refuse(const std::string& kind, const std::string& reason) {
  ++refused_;
  auto report = reports_.admit(kind, what_ + ": refused a connection: " + reason, Clock::now());
  if (report && on_refused_) on_refused_(*report);
}

void CurveGuard::on_zap_request(std::vector<zmq::message_t>& frames) {
  // The ROUTER's routing id and the empty delimiter, then RFC 27's request: version, request
  // id, domain, address, routing id, mechanism, credentials.
  if (frames.size() < 3 || frames[1].size() != 0) return;  // not libzmq's: nobody to answer
  const std::span<zmq::message_t> request(frames.data() + 2, frames.size() - 2);
  const bool well_formed = request.size() >= 6 && request[0].to_string_view() == "1.0";
  const std::string request_id = request.size() >= 2 ? request[1].to_string() : "";
  const std::string address =
      request.size() >= 4 ? readable_address(valid_utf8(request[3].to_string())) : "?";
  const bool accepted = well_formed && request[2].to_string_view() == kZapDomain &&
                        request[5].to_string_view() == "CURVE" && request.size() == 7 &&
                        request[6].to_string_view() == bytes(keys_->public_key);
  if (!accepted) {
    // A peer of another cluster key fails before this (its HELLO does not open): this one
    // knows the cluster's public key and holds a key pair of its own.
    refuse("zap " + address, "from " + address +
                                 ": it knows this cluster's public key but holds another key "
                                 "pair");
  }
  const std::array<std::string, 8> reply{frames[0].to_string(),
                                         "",
                                         "1.0",
                                         request_id,
                                         accepted ? "200" : "400",
                                         accepted ? "OK" : "not this cluster's key",
                                         "",
                                         ""};
  try {
    for (std::size_t i = 0; i < reply.size(); ++i) {
      zap_.send(zmq::buffer(reply[i]), i + 1 < reply.size()
                                           ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                           : zmq::send_flags::dontwait);
    }
  } catch (const zmq::error_t&) {
    // The handshake that waits for it fails; the next request finds the socket as before.
  }
  zap_watch_->kick();
}

void CurveGuard::on_monitor_event(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2 || frames[0].size() != 6) return;
  std::uint16_t event = 0;
  std::uint32_t value = 0;
  std::memcpy(&event, frames[0].data(), sizeof event);
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + sizeof event, sizeof value);
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
    refuse("protocol " + std::to_string(value),
           "on " + endpoint_ + ": " + handshake_failure(value));
  }
}

}  // namespace amf::daemon
