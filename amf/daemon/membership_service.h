#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/membership/membership.h"

namespace amf::daemon {

// One node's membership on the network: a membership::Node on the Asio loop, with sockets of
// its own so that heartbeats never wait behind commands. It binds a PULL socket on the node's
// membership endpoint and sends to each peer through a PUSH socket of its own. A message that
// cannot be sent at once (the peer is not connected, or its queue is full) is dropped: the
// membership core expects loss (heartbeats repeat; views are resent until acknowledged), and a
// queue would only deliver stale heartbeats late.
//
// Every effect other than a send goes to the observer, which acts on Fence, NodeLeft and the
// rest; a malformed message goes to `on_refused` with the reason, and is counted (the core
// itself ignores messages from nodes that are not in the cluster).
class MembershipService {
 public:
  struct Settings {
    membership::Incarnate self;
    std::string endpoint;                 // to bind, e.g. tcp://127.0.0.1:7101
    std::map<NodeId, std::string> peers;  // every other node's membership endpoint
    std::set<NodeId> voters;
    membership::Profile profile;
  };
  using Observer = std::function<void(const membership::Effect&, TimePoint)>;
  using Refused = std::function<void(const std::string& reason)>;

  // Binds and connects; an error says which endpoint and why. Starts heartbeating at once.
  static Result<std::unique_ptr<MembershipService>> start(boost::asio::io_context& io,
                                                          zmq::context_t& zmq, Settings settings,
                                                          Observer observer, Refused on_refused);
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
  MembershipService(boost::asio::io_context& io, zmq::context_t& zmq, Settings settings,
                    Observer observer, Refused on_refused);
  Result<void> open();
  void received(std::vector<zmq::message_t>& frames);
  void carry_out();
  void arm_timer();

  boost::asio::io_context& io_;
  zmq::context_t& zmq_;
  Settings settings_;
  Observer observer_;
  Refused on_refused_;
  membership::Node node_;
  zmq::socket_t in_;
  std::map<NodeId, zmq::socket_t> out_;
  std::unique_ptr<ZmqWatch> watch_;
  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_;  // when the timer is set to expire
  std::uint64_t refused_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace amf::daemon
