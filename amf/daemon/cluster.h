#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/command_transport.h"
#include "amf/daemon/director_election.h"
#include "amf/daemon/etcd_client.h"
#include "amf/daemon/membership_service.h"
#include "amf/director/director.h"
#include "amf/model/config.h"

namespace amf::daemon {

// amfd's part in a cluster of several nodes: the adapters that connect this node's runtime to
// the others, and what amfd does with what they say.
//
// - Membership (MembershipService, UDP): heartbeats, leases, and, on the director's node, the
//   views. A node the views take in becomes the director's NodeUp; one declared gone (its lease
//   is over) its NodeDown. Fence and Excluded end this node's life (Callbacks::end_life).
// - The command links (CommandTransport, ZeroMQ over TCP): the runtime's envelopes.
// - The director election (DirectorElection over EtcdClient): a controller that wins an epoch
//   leads the views, reads the admin states the earlier directors left in etcd, and hands its
//   runtime a director to take over with (Callbacks::won); one that loses the role hands it
//   back (Callbacks::lost).
// - The admin states, in etcd under /amf/CLUSTER/admin-states, in the format of the one-node
//   store (admin_store.h): the director writes every change through, by a compare-and-swap
//   against the revision it last wrote or read, so a deposed director's write fails rather than
//   overwrite its successor's (and it stops acting).
//
// The director record lives under /amf/CLUSTER/director. All work happens on the loop's thread;
// the callbacks are called from it and must not destroy this object.
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
  };
  struct Settings {
    NodeId self;
    std::uint64_t incarnation = 0;
    std::optional<keys::ClusterKey> key;  // seals membership datagrams
  };

  // Binds the membership and command sockets and starts heartbeating and the election; an
  // error says which socket or setting and why.
  static Result<std::unique_ptr<Cluster>> start(boost::asio::io_context& io, zmq::context_t& zmq,
                                                const model::ClusterConfig& config,
                                                Settings settings, Callbacks callbacks,
                                                std::shared_ptr<spdlog::logger> log);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  runtime::Transport& transport() { return *commands_; }
  // The director changed an admin state: written through to etcd.
  void admin_state(const director::AdminStateChanged& change);
  // The newest director known (this node's, if it leads) and its epoch.
  std::optional<membership::DirectorIs> director() const { return director_; }
  bool leads() const { return leading_; }
  // Give up the director's role (the runtime cannot take it up).
  void resign(const std::string& cause);
  const membership::Node& membership() const { return membership_->node(); }

 private:
  Cluster(boost::asio::io_context& io, const model::ClusterConfig& config, Settings settings,
          Callbacks callbacks, std::shared_ptr<spdlog::logger> log);
  void on_membership(const membership::Effect& effect, TimePoint at);
  void on_election(const membership::ElectionEffect& effect, TimePoint at);
  void tell_election();
  // Won: read the admin states, then hand the runtime its director.
  void take_office(std::uint64_t epoch);
  void read_admin(std::uint64_t term, std::uint64_t epoch, std::set<membership::Incarnate> start);
  void claim_admin(std::uint64_t term, std::uint64_t epoch, std::set<membership::Incarnate> start,
                   director::AdminStates admin, bool existed);
  void enter_office();
  void leave_office(const std::string& cause);
  // A view's NodeJoined and NodeLeft, for the director (each life told once).
  void membership_event(const membership::Effect& effect);
  void write_admin();
  void report(model::NotificationKind kind, const std::string& entity, const std::string& cause);

  boost::asio::io_context& io_;
  const model::ClusterConfig& config_;
  Settings settings_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  std::string director_key_;
  std::string admin_key_;

  std::unique_ptr<EtcdClient> etcd_;
  std::unique_ptr<MembershipService> membership_;
  std::unique_ptr<CommandTransport> commands_;
  std::unique_ptr<DirectorElection> election_;

  std::optional<membership::DirectorIs> director_;
  bool leading_ = false;
  // Between Won and the runtime taking the director (the admin states are being read): the
  // view's events wait here.
  bool taking_office_ = false;
  std::uint64_t office_ = 0;  // counts terms, so that a read for an earlier one is ignored
  std::vector<membership::Effect> held_;
  // Won and the admin states read; waiting for this node's lease.
  struct Pending {
    std::uint64_t epoch = 0;
    std::set<membership::Incarnate> start;
    director::AdminStates admin;
  };
  std::optional<Pending> pending_;
  bool unfenced_ = false;  // this node holds its lease (the membership said Unfence)
  bool ended_ = false;     // this life is over (fenced or taken out)
  // This term: when the keeper said its own life joined (a majority installed its first view).
  std::optional<TimePoint> installed_at_;
  std::set<membership::Incarnate> told_;  // the lives the director has as up
  // The admin states as this director last wrote or read them, and their revision in etcd.
  director::AdminStates admin_;
  std::int64_t admin_revision_ = 0;
  bool admin_writing_ = false;
  bool admin_dirty_ = false;
  boost::asio::steady_timer admin_retry_;
  boost::asio::steady_timer election_start_;
  boost::asio::steady_timer office_wait_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amf::daemon
