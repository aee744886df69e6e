#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/report_limiter.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/keys/cluster_key.h"

namespace amf::daemon {

// What guards a ZeroMQ ROUTER that takes connections over TCP, with or without the cluster
// key:
// - with the key, the socket is a CURVE server with the key pair derived from it
//   (ClusterKey::curve_keys), and a ZAP handler (a ROUTER on inproc://zeromq.zap.01 of the
//   socket's context, served on the loop) accepts a client only when its public key is the
//   cluster's: one that learnt the server's public key but holds another pair is refused, and
//   its address reported;
// - a socket monitor reports the handshakes that fail the protocol: a peer of another key (its
//   HELLO does not open) or none (the mechanisms differ). One that hangs up halfway (a port
//   scan) is not reported.
// Each refusal is counted and reported, once a second at most per kind (ReportLimiter: a
// refused ZeroMQ peer tries again every 100 ms).
//
// A context has one ZAP handler: give each guarded socket a context of its own. The handler
// is made before the socket binds and lives as long as the guard: Debian's libzmq lacks
// ZMQ_ZAP_ENFORCE_DOMAIN (a draft option), and without a handler libzmq accepts any CURVE
// client. Keep the guard until the socket is closed. Not thread-safe; the loop's thread.
class CurveGuard {
 public:
  using Refused = std::function<void(const std::string& reason)>;

  // Before `router` binds to `endpoint` (named in reports, as is `what`, e.g. "command
  // socket"). An error says what could not be set up.
  static Result<std::unique_ptr<CurveGuard>> guard(boost::asio::io_context& io, zmq::context_t& zmq,
                                                   zmq::socket_t& router,
                                                   const std::optional<keys::ClusterKey>& key,
                                                   std::string what, std::string endpoint,
                                                   Refused on_refused);
  // A peer's address as ZeroMQ gives it, for people: an IPv4 peer of a socket that takes IPv6
  // too shows as ::ffff:A.B.C.D, written A.B.C.D here.
  static std::string readable_address(std::string address);
  ~CurveGuard();
  CurveGuard(const CurveGuard&) = delete;
  CurveGuard& operator=(const CurveGuard&) = delete;

  std::uint64_t refused() const { return refused_; }

 private:
  CurveGuard(boost::asio::io_context& io, zmq::context_t& zmq, zmq::socket_t& router,
             const std::optional<keys::ClusterKey>& key, std::string what, std::string endpoint,
             Refused on_refused);
  Result<void> start();
  void on_zap_request(std::vector<zmq::message_t>& frames);
  void on_monitor_event(std::vector<zmq::message_t>& frames);
  void refuse(const std::string& kind, const std::string& reason);

  boost::asio::io_context& io_;
  zmq::context_t& zmq_;
  zmq::socket_t& router_;
  std::optional<keys::CurveKeys> keys_;
  std::string what_;
  std::string endpoint_;
  Refused on_refused_;
  zmq::socket_t zap_;
  zmq::socket_t monitor_;
  std::unique_ptr<ZmqWatch> zap_watch_;
  std::unique_ptr<ZmqWatch> monitor_watch_;
  ReportLimiter reports_;
  std::uint64_t refused_ = 0;
};

}  // namespace amf::daemon
