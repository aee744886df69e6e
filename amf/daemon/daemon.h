#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/admin_store.h"
#include "amf/daemon/channels.h"
#include "amf/daemon/checkpoint_host.h"
#include "amf/daemon/cluster.h"
#include "amf/daemon/deadline_timer.h"
#include "amf/daemon/event_log.h"
#include "amf/daemon/process_host.h"
#include "amf/daemon/service_address.h"
#include "amf/director/director.h"
#include "amf/node/node_director.h"
#include "amf/runtime/node_runtime.h"

namespace amf::daemon {

struct Options {
  std::string config_path;
  std::string runtime_dir;  // sockets, lock file, work/ (components' working directories)
  std::string log_dir;      // components' stdout/stderr
  // The admin-state store (admin-states.json) lives here; empty: the runtime directory (which
  // outlives amfd's restarts but not the machine's; tools/systemd/amfd.service gives
  // /var/lib/amf, which outlives both).
  std::string state_dir;
  // Contain each component instance in a cgroup of its own (where the host has a writable
  // cgroup2 hierarchy); false: process groups and instance marks only (as on a host without
  // cgroup2, and for testing that fallback).
  bool use_cgroups = true;
  // The soft limit of open files that components get (amfd raises its own, main.cc); 0: amfd's.
  std::uint64_t child_fd_limit = 0;
  // The cluster's key: it seals membership datagrams and secures the command links (several
  // nodes: required unless every node is on loopback) and the remote admin socket.
  std::string cluster_key_file;
  // Where amfctl --connect from other hosts reaches this amfd (ADDRESS:PORT), with CURVE and
  // the cluster's key; empty: the local admin.sock only.
  std::string remote_admin;
  // The one clock of the daemon: every event and effect is stamped with it, and the cores'
  // deadlines are on it.
  std::function<TimePoint()> clock = [] { return Clock::now(); };
};

// amfd for one node: the node director and (on a controller) the director, hosted on the Asio
// loop, with three adapters at the edge: the process host (components and their helpers), the
// component channel (components.sock) and the admin channel (admin.sock). The daemon itself
// only routes: events from the adapters to the cores, the cores' effects to the adapters.
//
// All work happens on the thread that calls run(). Events from the outside are queued and
// handed to the cores one at a time; effects are carried out in the order the cores emit them.
class Daemon : private runtime::Host, private runtime::Transport {
 public:
  // Binds the sockets and prepares the cores; nothing is started yet.
  static Result<std::unique_ptr<Daemon>> create(const Options& options,
                                                std::shared_ptr<const model::ClusterConfig> config,
                                                NodeId self, std::shared_ptr<spdlog::logger> log);
  ~Daemon();

  // Runs until SIGTERM/SIGINT and every component has been terminated (0), or until this
  // node's life in a cluster ends (kExitLifeEnded: fenced, or taken out of the view; its
  // components are killed and amfd comes back, restarted, as a new life; 0 when amfd was
  // stopping then, as asked).
  int run();
  static constexpr int kExitLifeEnded = 3;

 private:
  Daemon(const Options& options, std::shared_ptr<const model::ClusterConfig> config, NodeId self,
         std::optional<director::Director> director, AdminStore store, std::uint64_t incarnation,
         std::uint64_t epoch, std::shared_ptr<spdlog::logger> log);

  Result<void> bind();
  Result<void> make_private_dirs();
  void start();
  void restore_admin_store();
  std::string no_director_here() const;
  // Stopping is in two steps: first the node leaves (node::Leave), so that the director moves
  // its assignments away while the components still run (actives quiesced, then switched over
  // to other nodes, or removed where there is none); then, once the node holds no assignment
  // or after a bound, every component is terminated. A second signal skips the wait.
  void begin_stop(int signo);
  // This node holds the director, or hears the node of the one it follows.
  bool director_heard() const;
  void watch_stop();
  void begin_shutdown();
  void stop_when_clean();

  // Routing between cores and adapters.
  void post(node::Event event);
  void pump();
  void arm_timer();
  // runtime::Host
  void carry_out(const node::Effect& effect) override;
  void admin_result(const director::AdminResult& result) override;
  void notify(const model::Notification& n) override;
  void admin_state(const director::AdminStateChanged& change) override;
  void deposed(std::uint64_t epoch) override;
  // runtime::Transport: the cluster's command links (none in a cluster of one node)
  void send(const protocol::Envelope& envelope) override;
  // Several nodes: this node's part in the cluster, and what it says.
  Result<void> join_cluster();
  // The service addresses this node may float: their interfaces exist, and what an earlier
  // amfd left up (it crashed holding them) is taken down, as this life holds none yet.
  Result<void> open_service_addresses();
  void float_address(const node::SetServiceAddress& e);
  void announce_addresses();
  void end_life(const std::string& cause);
  bool several_nodes() const { return config_->nodes.size() > 1; }
  void record(const model::Notification& n);
  wire::ClusterStatus status() const;
  wire::ClusterStatus local_status() const;
  wire::ClusterStatus merged_status(wire::ClusterStatus from_director) const;
  std::map<std::string, std::vector<wire::ComponentStatus>> local_components() const;
  // runtime::Host: status requests between nodes (amfctl status on any node of several: the
  // director's status with each node's components). A message between nodes may take 16 MiB
  // (CommandTransport); a status or a part this big (some 100,000 SUs) is refused with a
  // message that says where to ask.
  static constexpr std::size_t kMaxStatusBytes = 8 << 20;
  Result<std::string> director_status(const runtime::GatheredStatus& gathered) override;
  Result<std::string> status_part() override;
  void status_answer(std::uint64_t id, Result<std::string> bytes) override;
  // `status` encoded for another node; refused, saying where to ask, when it takes more than
  // kMaxStatusBytes (`what` begins the reason: "its status takes").
  Result<std::string> encode_for_another_node(const wire::ClusterStatus& status,
                                              const std::string& what) const;
  // The SI's service address, if it has one, and this node among those it is up on, if it is.
  void add_service_address(const model::SiConfig& si, wire::ServiceInstanceStatus& row) const;
  // Several nodes: the rows of the nodes (with `admin_of` a node's admin state) and what this
  // node sees of the membership and of the store.
  void add_nodes(wire::ClusterStatus& out,
                 const std::function<std::string(const NodeId&)>& admin_of) const;

  Options options_;
  std::shared_ptr<const model::ClusterConfig> config_;
  NodeId self_;
  std::shared_ptr<spdlog::logger> log_;

  boost::asio::io_context io_;
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer timer_{io_};
  zmq::context_t zmq_{1};

  runtime::NodeRuntime runtime_;  // this node's cores: the director and the node director
  bool resume_posted_ = false;    // a pump is posted for the events left over
  bool stopping_ = false;         // the node is leaving; termination follows
  bool evacuated_ = false;        // it holds no assignment any more (termination posted)
  TimePoint stop_by_{};           // while stopping: the components are ended by then at the latest
  bool shutting_down_ = false;
  boost::asio::steady_timer stop_timer_{io_};
  EventLog events_;
  AdminStore store_;  // what the director changed: the next amfd starts from it
  std::uint64_t incarnation_ = 0;
  int exit_code_ = 0;
  bool life_ended_ = false;  // end_life() ran (exit_code_ says how amfd exits)
  int lock_fd_ = -1;
  int state_lock_fd_ = -1;  // where the state directory is not the runtime directory

  // Adapters; declared last, so they go first (the process host kills what is left, the
  // channels remove their socket files) while the cores and the loop still exist.
  std::unique_ptr<ProcessHost> processes_;
  std::unique_ptr<ComponentChannel> components_;
  std::unique_ptr<CheckpointHost> checkpoints_;  // after components_, which it answers through
  std::unique_ptr<AdminChannel> admin_;
  std::unique_ptr<ServiceAddresses> addresses_;   // when this node may float one
  std::unique_ptr<DeadlineTimer> announcements_;  // with addresses_: their repeated announcements
  std::unique_ptr<Cluster> cluster_;              // several nodes only; goes first
};

// A node's life number for the runtime and membership: one more than the last one kept in
// `path` (1 when there is none), written back (fsync) before it is used, so that every start
// of amfd on a node is a newer life than any before it.
Result<std::uint64_t> next_incarnation(const std::string& path);
// Writes `life` as the node's last life number (fsync of the file and its directory).
Result<void> keep_incarnation(const std::string& path, std::uint64_t life);

}  // namespace amf::daemon
