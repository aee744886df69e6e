#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "amf/checkpoint/service.h"
#include "amf/daemon/deadline_timer.h"
#include "amf/node/node_director.h"
#include "amf/wire/messages.h"

namespace amf::daemon {

// amfd's checkpoint service (amf/checkpoint/service.h) on the loop: the components' requests
// from the component socket, the replicas' messages to and from other nodes, the service's
// deadlines on a timer of its own, and its reports in the log. Single-threaded, on the loop.
class CheckpointHost {
 public:
  struct Callbacks {
    std::function<TimePoint()> now;
    // The answer to a component (ComponentChannel::send).
    std::function<void(node::PeerId, const wire::ComponentMessage&)> reply;
    // The generation a component's write brings: its newest active assignment's command
    // (NodeDirector::active_since); nullopt: it holds none.
    std::function<std::optional<std::uint64_t>(node::PeerId)> generation;
    // The nodes that hold the replicas of a checkpoint the component opens: those hosting an
    // SU of its SG. Empty: the connection is no registered component.
    std::function<std::set<NodeId>(node::PeerId)> replicas;
    // A replica's message for another node; empty with one node.
    std::function<void(const NodeId& to, const checkpoint::Message&)> send;
  };

  CheckpointHost(boost::asio::io_context& io, NodeId self, Callbacks callbacks,
                 std::shared_ptr<spdlog::logger> log, checkpoint::ServiceSettings settings = {});

  void request(node::PeerId peer, const wire::CheckpointRequest& request);
  // A replica's message from another node (the transport checked the sender).
  void receive(const checkpoint::Message& message);
  // The component's process is gone: it closes what it had open.
  void client_gone(node::PeerId peer);
  // The nodes up, this one included (the membership's view).
  void members(const std::set<NodeId>& up);
  // This node's life is over: every replica's claims are void.
  void life_ended();
  // amfctl ckpt: every checkpoint this node holds (`name` empty), or the one named, with its
  // sections; an AdminError for a name it does not hold.
  wire::AdminReply list(const std::string& name) const;

 private:
  void turn();  // carries out the service's effects and arms its timer

  NodeId self_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  checkpoint::Service service_;
  DeadlineTimer timer_;
};

}  // namespace amf::daemon
