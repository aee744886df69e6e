#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "amf/checkpoint/replica.h"
#include "amf/core/result.h"
#include "amf/daemon/command_transport.h"
#include "amf/daemon/deadline_timer.h"
#include "amf/daemon/etcd_client.h"
#include "amf/daemon/membership_service.h"
#include "amf/daemon/peer_links.h"
#include "amf/director/director.h"
#include "amf/model/config.h"
#include "amf/runtime/cluster_node.h"

namespace amf::daemon {

// amfd's part in a cluster of several nodes: the cluster node core (amf/runtime/cluster_node.h:
// membership, director election, and what the node does with what they say) carried out on the
// Asio loop.
//
// - Membership datagrams over UDP (MembershipSocket): heartbeats, leases, and, on the
//   director's node, the views.
// - The store requests against etcd (EtcdClient): the director record under
//   /amf/CLUSTER/director and the admin states under /amf/CLUSTER/admin-states, in the format
//   of the one-node store (cluster_store.h).
// - The command links (CommandTransport, ZeroMQ over TCP): the runtime's envelopes, taken only
//   while the node holds its lease.
// - The core's TakeOver, GiveUp, ToDirector and EndLife go to the callbacks: won, lost,
//   to_director, end_life.
// - While this node directs, etcd's leader is kept off it (keep_etcd_leader_away): an etcd
//   concern of this adapter, which the core and the simulator do not see.
//
// All work happens on the loop's thread; the callbacks are called from it and must not destroy
// this object (they may call resign()).
class Cluster {
 public:
  struct Callbacks {
    std::function<void(const protocol::Envelope&)> deliver;  // from another node's runtime
    // This node is the director for `epoch`: take over with the nodes `up` and `admin`.
    std::function<void(std::uint64_t epoch, std::vector<director::NodeUp> up,
                       director::AdminStates admin)>
        won;
    std::function<void(const std::string& cause)> lost;             // stop acting as the director
    std::function<void(const director::Event& event)> to_director;  // NodeUp, NodeDown
    // This node's life is over (its lease ran out, or the director took it out): its
    // components must stop now, and amfd with them; it comes back as a new life.
    std::function<void(const std::string& cause)> end_life;
    std::function<void(const model::Notification& n)> record;
    std::function<TimePoint()> now;
    // A checkpoint replica's message from another node (decoded, from the node it names).
    std::function<void(const checkpoint::Message& m)> checkpoint;
    // The nodes of the membership view this node installed, whenever they change.
    std::function<void(const std::set<NodeId>& up)> members;
  };
  struct Settings {
    NodeId self;
    std::uint64_t incarnation = 0;
    // Seals membership datagrams and secures the command links (CURVE). Required unless
    // every node's address is on loopback.
    std::optional<keys::ClusterKey> key;
  };

  // Binds the membership and command sockets and starts heartbeating (the election follows);
  // an error says which socket or setting and why, and names the node whose address is not
  // on loopback when there is no key.
  static Result<std::unique_ptr<Cluster>> start(boost::asio::io_context& io,
                                                const model::ClusterConfig& config,
                                                Settings settings, Callbacks callbacks,
                                                std::shared_ptr<spdlog::logger> log);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  runtime::Transport& transport() { return *commands_; }
  // A checkpoint replica's message for another node, on the checkpoint links (PeerLinks on each
  // node's checkpoint_port): dropped when that node is not connected; the replicas resend.
  void send_checkpoint(const NodeId& to, const checkpoint::Message& m);
  // The director changed an admin state: written through to etcd.
  void admin_state(const director::AdminStateChanged& change);
  // The newest director known (this node's, if it leads) and its epoch.
  std::optional<membership::DirectorIs> director() const { return core_.director(); }
  bool leads() const { return core_.leads(); }
  // Give up the director's role (the runtime cannot take it up).
  void resign(const std::string& cause);
  const membership::Node& membership() const { return core_.membership(); }
  const runtime::StoreHealth& store_health() const { return core_.store_health(); }

 private:
  Cluster(boost::asio::io_context& io, const model::ClusterConfig& config,
          runtime::ClusterNodeSettings core, Settings settings, Callbacks callbacks,
          std::shared_ptr<spdlog::logger> log);
  // Carries out the core's effects, and re-arms its timer.
  void carry_out();
  void report(model::NotificationKind kind, const std::string& entity, const std::string& cause);
  void keep_etcd_leader_away();
  void check_etcd_leader_later();
  // Whether etcd member `m` is on a node that this node's view holds (or on no node of the
  // cluster's: an etcd of its own): a hand-over to a member whose node is down would stall
  // etcd's writes until its election timeout.
  bool member_in_view(const EtcdClient::Member& m) const;

  Settings settings_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  runtime::ClusterNode core_;
  bool carrying_out_ = false;  // a callback called back in: the loop in progress takes the rest
  std::string address_;        // this node's
  std::vector<std::pair<NodeId, std::string>> node_addresses_;  // every node's, by id
  std::vector<std::string> etcd_members_;  // this node's own first (own_member_first)
  std::unique_ptr<EtcdClient> etcd_;
  std::unique_ptr<EtcdClient> etcd_own_;  // this node's own member alone, if it has one
  boost::asio::steady_timer etcd_leader_timer_;
  bool etcd_leader_checking_ = false;
  std::uint64_t etcd_leader_refused_ = 0;  // the member the last hand-over failed to
  std::unique_ptr<MembershipSocket> membership_;
  std::unique_ptr<CommandTransport> commands_;
  std::unique_ptr<PeerLinks> checkpoint_links_;
  std::map<NodeId, std::uint64_t> members_;  // the view's lives, as last told (Callbacks::members)
  DeadlineTimer timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::daemon
