#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "amf/core/result.h"
#include "amf/daemon/deadline_timer.h"
#include "amf/daemon/report_limiter.h"
#include "amf/keys/cluster_key.h"
#include "amf/membership/membership.h"

namespace amf::daemon {

// Membership datagrams on the network: a UDP socket of its own (heartbeats never wait behind
// commands). Each message is one datagram holding one amf.v1.MembershipEnvelope. UDP and not
// ZeroMQ over TCP: a heartbeat must never wait for an earlier one to be retransmitted (TCP's
// minimum retransmission timeout on Linux is 200 ms, and its back-off after a cut grows to
// seconds, while the fast profile's timeout is 30 ms; tests/cluster/membership_partition.sh
// showed it), and loss is what the membership core already expects: heartbeats repeat and
// views are resent until acknowledged. A datagram that cannot be sent at once is dropped.
//
// A well-formed message goes to the receiver; a malformed datagram goes to `on_refused` with the
// reason (once a second at most for one reason and sender address: ReportLimiter), and is
// counted (the core itself ignores messages from nodes that are not in the
// cluster). With the cluster's key (Settings::key) every datagram carries a tag made with it,
// and one whose tag is wrong is refused; replays of a life's old heartbeats are ignored by the
// core. Without a key (amfd allows that on loopback only), datagrams are not authenticated.
// Datagrams are not encrypted: they carry no secrets.
class MembershipSocket {
 public:
  struct Settings {
    std::string endpoint;                 // to bind: udp://127.0.0.1:7301 or udp://[::1]:7301
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    // The cluster's key: every datagram is sealed with it, and one without a valid tag is
    // refused. Without it (amfd: loopback only) datagrams are not authenticated.
    std::optional<keys::ClusterKey> key;
  };
  using Receiver = std::function<void(const membership::Message&)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds; an error says which endpoint and why. Receives from then on.
  static Result<std::unique_ptr<MembershipSocket>> open(boost::asio::io_context& io,
                                                        Settings settings, Receiver receiver,
                                                        Refused on_refused);
  ~MembershipSocket();
  MembershipSocket(const MembershipSocket&) = delete;
  MembershipSocket& operator=(const MembershipSocket&) = delete;

  // Sends at once, or drops (and counts) what cannot be sent; a node without an endpoint is the
  // configuration's to check.
  void send(const membership::Send& send);
  const std::string& endpoint() const { return settings_.endpoint; }
  std::uint64_t refused() const { return refused_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  MembershipSocket(boost::asio::io_context& io, Settings settings, Receiver receiver,
                   Refused on_refused);
  Result<void> bind();
  void receive();
  Result<membership::Message> unseal(std::string_view datagram) const;

  Settings settings_;
  Receiver receiver_;
  Refused on_refused_;
  boost::asio::ip::udp::socket socket_;
  std::map<NodeId, boost::asio::ip::udp::endpoint> peers_;
  std::array<char, 65536> datagram_;
  boost::asio::ip::udp::endpoint sender_;
  std::uint64_t refused_ = 0;
  std::uint64_t dropped_ = 0;
  ReportLimiter reports_;
  // Set false when this object goes: a receive completing later finds nobody to tell.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// One node's membership alone on the network: a membership::Node on the Asio loop over a
// MembershipSocket (the membership tests and benchmark; amfd hosts its Node inside the cluster
// node core, daemon::Cluster). Every effect other than a send goes to the observer (which must
// not destroy the service from within the call).
class MembershipService {
 public:
  struct Settings {
    membership::Incarnate self;
    std::string endpoint;                 // as MembershipSocket's
    std::map<NodeId, std::string> peers;  // as MembershipSocket's
    std::set<NodeId> voters;
    membership::Profile profile;
    std::optional<keys::ClusterKey> key;  // as MembershipSocket's
  };
  using Observer = std::function<void(const membership::Effect&, TimePoint)>;
  using Refused = MembershipSocket::Refused;

  // Binds; an error says which endpoint and why. Starts heartbeating at once.
  static Result<std::unique_ptr<MembershipService>> start(boost::asio::io_context& io,
                                                          Settings settings, Observer observer,
                                                          Refused on_refused);
  MembershipService(const MembershipService&) = delete;
  MembershipService& operator=(const MembershipService&) = delete;

  // This node directs the views from now, in `epoch`: keep them from its own.
  void lead(std::uint64_t epoch);
  void stop_leading();
  const membership::Node& node() const { return node_; }
  std::uint64_t refused() const { return socket_->refused(); }
  std::uint64_t dropped() const { return socket_->dropped(); }

 private:
  MembershipService(boost::asio::io_context& io, Settings settings, Observer observer);
  void carry_out();
  void arm_timer();

  Settings settings_;
  Observer observer_;
  membership::Node node_;
  std::unique_ptr<MembershipSocket> socket_;
  DeadlineTimer timer_;
};

// "udp://127.0.0.1:7301" or "udp://[::1]:7301" to an endpoint; the error says what is wrong.
Result<boost::asio::ip::udp::endpoint> parse_udp_endpoint(const std::string& text);

}  // namespace amf::daemon
