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
#include "amf/keys/cluster_key.h"
#include "amf/membership/membership.h"

namespace amf::daemon {

// One node's membership on the network: a membership::Node on the Asio loop, with a UDP socket
// of its own (heartbeats never wait behind commands). Each message is one datagram holding one
// amf.v1.MembershipEnvelope. UDP and not ZeroMQ over TCP: a heartbeat must never wait for an
// earlier one to be retransmitted (TCP's minimum retransmission timeout on Linux is 200 ms,
// and its back-off after a cut grows to seconds, while the fast profile's timeout is 30 ms;
// tests/cluster/membership_partition.sh showed it), and loss is what the membership core
// already expects: heartbeats repeat and views are resent until acknowledged. A datagram that
// cannot be sent at once is dropped.
//
// Every effect other than a send goes to the observer, which acts on Fence, NodeLeft and the
// rest (and must not destroy the service from within the call); a malformed datagram goes to
// `on_refused` with the reason, and is counted (the core itself ignores messages from nodes that
// are not in the cluster).
//
// With the cluster's key (Settings::key) every datagram carries a tag made with it, and one
// whose tag is wrong is refused; replays of a life's old heartbeats are ignored by the core.
// Without a key, use it on loopback and in network namespaces only. Datagrams are not
// encrypted: they carry no secrets.
class MembershipService {
 public:
  struct Settings {
    membership::Incarnate self;
    std::string endpoint;                 // to bind: udp://127.0.0.1:7301 or udp://[::1]:7301
    std::map<NodeId, std::string> peers;  // every other node's endpoint, the same way
    std::set<NodeId> voters;
    membership::Profile profile;
    // The cluster's key: every datagram is sealed with it, and one without a valid tag is
    // refused. Without it (loopback and namespaces only) datagrams are not authenticated.
    std::optional<keys::ClusterKey> key;
  };
  using Observer = std::function<void(const membership::Effect&, TimePoint)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds; an error says which endpoint and why. Starts heartbeating at once.
  static Result<std::unique_ptr<MembershipService>> start(boost::asio::io_context& io,
                                                          Settings settings, Observer observer,
                                                          Refused on_refused);
  ~MembershipService();
  MembershipService(const MembershipService&) = delete;
  MembershipService& operator=(const MembershipService&) = delete;

  // etcd made this node the director for `epoch`: keep the views from its own.
  void lead(std::uint64_t epoch);
  void stop_leading();
  const membership::Node& node() const { return node_; }
  std::uint64_t refused() const { return refused_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  MembershipService(boost::asio::io_context& io, Settings settings, Observer observer,
                    Refused on_refused);
  Result<void> open();
  void receive();
  Result<membership::Message> unseal(std::string_view datagram) const;
  void carry_out();
  void arm_timer();

  Settings settings_;
  Observer observer_;
  Refused on_refused_;
  membership::Node node_;
  boost::asio::ip::udp::socket socket_;
  std::map<NodeId, boost::asio::ip::udp::endpoint> peers_;
  std::array<char, 65536> datagram_;
  boost::asio::ip::udp::endpoint sender_;
  DeadlineTimer timer_;
  std::uint64_t refused_ = 0;
  std::uint64_t dropped_ = 0;
  // Set false when this object goes: a receive completing later finds nobody to tell.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "udp://127.0.0.1:7301" or "udp://[::1]:7301" to an endpoint; the error says what is wrong.
Result<boost::asio::ip::udp::endpoint> parse_udp_endpoint(const std::string& text);

}  // namespace amf::daemon
