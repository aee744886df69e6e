#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "amf/checkpoint/service.h"
#include "amf/daemon/checkpoint_store.h"
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

  // `store`: the file store (`checkpoint_store: file`), whose replicas come back at once; its
  // completions go to stored(). nullptr: replicas in memory only.
  CheckpointHost(boost::asio::io_context& io, NodeId self, Callbacks callbacks,
                 std::shared_ptr<spdlog::logger> log, checkpoint::ServiceSettings settings = {},
                 std::unique_ptr<CheckpointStore> store = nullptr);

  void request(node::PeerId peer, const wire::CheckpointRequest& request);
  // A replica's message from another node (the transport checked the sender).
  void receive(const checkpoint::Message& message);
  // The component's process is gone: it closes what it had open.
  void client_gone(node::PeerId peer);
  // The nodes up, this one included (the membership's view).
  void members(const std::set<NodeId>& up);
  // This node's life is over: every replica's claims are void. With a store, the replicas come
  // back from it, not in service.
  void life_ended();
  // The store holds the checkpoint's records up to `record`.
  void stored(const checkpoint::CheckpointName& name, std::uint64_t record);
  // The store could not write the checkpoint's records (CheckpointStore::Broken): its whole
  // content is written again, at most once a second while it keeps failing.
  void store_broken(const checkpoint::CheckpointName& name);
  // amfctl ckpt: every checkpoint this node holds (`name` empty), or the one named, with its
  // sections; an AdminError for a name it does not hold.
  wire::AdminReply list(const std::string& name) const;

 private:
  void turn();  // carries out the service's effects and arms its timer
  void handle(node::PeerId peer, const wire::CheckpointRequest& request);
  void restore();  // the replicas the store holds
  // Writes the whole content once the log outgrows it, or when `rewrite_` asks for it.
  void compact(const checkpoint::CheckpointName& name);

  NodeId self_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  checkpoint::Service service_;
  std::unique_ptr<CheckpointStore> store_;
  std::map<checkpoint::CheckpointName, std::uint64_t> last_record_;  // the newest Store effect's
  // Checkpoints whose store broke: when their whole content may be written again, and the record
  // number of the one written last (stored once the store reports it).
  struct Rewrite {
    TimePoint next{};
    std::uint64_t record = 0;
  };
  std::map<checkpoint::CheckpointName, Rewrite> rewrite_;
  // Reads of a checkpoint whose replica here recovers (it may take another replica's content):
  // answered once it is over, at most kMaxDeferred of them.
  std::deque<std::pair<node::PeerId, wire::CheckpointRequest>> deferred_;
  DeadlineTimer timer_;
};

}  // namespace amf::daemon
