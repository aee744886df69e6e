#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <zmq.hpp>

#include "amf/core/result.h"
#include "amf/daemon/event_log.h"
#include "amf/daemon/notify_socket.h"
#include "amf/daemon/zmq_watch.h"
#include "amf/director/director.h"
#include "amf/node/node_director.h"
#include "containers/cgroup.h"
#include "containers/oci_launcher.h"
#include "containers/process_launcher.h"

namespace amf::daemon {

struct Options {
  std::string config_path;
  std::string runtime_dir;  // sockets, lock file, components' working directory
  std::string log_dir;      // components' stdout/stderr
  // Contain each component instance in a cgroup of its own (where the host has a writable
  // cgroup2 hierarchy); false: process groups and instance marks only (as on a host without
  // cgroup2, and for testing that fallback).
  bool use_cgroups = true;
};

// amfd for one node: the node director and (on a controller) the director, wired to the Asio
// loop, the process launcher, the component socket and the admin socket.
//
// All work happens on the thread that calls run(). Events from the outside are queued and
// handed to the cores one at a time; effects are carried out in the order the cores emit them.
class Daemon {
 public:
  // Binds the sockets and prepares the cores; nothing is started yet.
  static Result<std::unique_ptr<Daemon>> create(const Options& options,
                                                std::shared_ptr<const model::ClusterConfig> config,
                                                NodeId self, std::shared_ptr<spdlog::logger> log);
  ~Daemon();

  // Runs until SIGTERM/SIGINT and every component has been terminated.
  void run();

 private:
  Daemon(const Options& options, std::shared_ptr<const model::ClusterConfig> config, NodeId self,
         director::Director director, std::shared_ptr<spdlog::logger> log);

  Result<void> bind();
  Result<void> make_private_dirs();
  // Ends every process that an earlier amfd on this runtime directory left running (its
  // cgroup tree, its recorded instance marks), saying what it ended; before anything starts.
  Result<void> end_leftovers();
  void start();
  void begin_shutdown();

  // Routing between cores and adapters.
  void post(node::Event event);
  void pump();
  void carry_out(const director::Effect& effect);
  void carry_out(const node::Effect& effect);
  void arm_timer();
  void record(const model::Notification& n);

  // Adapters.
  void on_component_frames(std::vector<zmq::message_t>& frames);
  void on_admin_frames(std::vector<zmq::message_t>& frames);
  void start_admin_operation(const std::string& routing_id, const wire::AdminOperation& op);
  void answer_admin(const director::AdminResult& result);
  void send_admin_reply(const std::string& routing_id, const wire::AdminReply& reply);
  void on_process_exit(pid_t pid, containers::ExitStatus status);
  // A component instance: its cgroup leaf, or (without cgroups) the mark in its environment.
  struct Instance {
    std::string leaf;  // empty without cgroups
    std::string mark;  // "AMF_COMPONENT_INSTANCE=<random>", in the environment of all of it
  };
  Result<Instance> new_instance(const CompId& comp);
  // Ends every process of the component's current instance (the whole tree, not only the
  // process amfd watches) and forgets the instance.
  void end_instance(const CompId& comp);
  void kill_instance(const Instance& instance);
  // Whether `pid` belongs to the component's current instance: in its cgroup, marked as it,
  // or a descendant of its process (or of its daemonizing instantiate command).
  bool belongs(const CompId& comp, pid_t pid) const;
  void write_marks() const;
  void start_process(const node::StartProcess& e);
  void start_container(const node::StartProcess& e, const model::ComponentConfig& comp);
  void signal_component(const CompId& comp, int signal);
  // Sends `signal` to `pid` if it is still the process of `comp`, through the launcher that
  // started it (the OCI launcher for runtime oci).
  void signal_process(const CompId& comp, pid_t pid, int signal);
  // A helper process for `comp` (hook, exec probe, CLC-CLI command): `argv` run on the node
  // with the component's env, PATH and AMF_COMPONENT_NAME plus `extra`, in the runtime
  // directory, with its output in the component's log.
  containers::ProcessSpec helper_spec(const CompId& comp, std::vector<std::string> argv,
                                      const std::map<std::string, std::string>& extra = {}) const;
  void reap_strays();
  // NOTIFY_SOCKET (and WATCHDOG_USEC) for a component that is instantiated when notified;
  // nothing for others. Fails when the socket cannot be made.
  Result<void> prepare_notify(const CompId& comp, std::map<std::string, std::string>& env,
                              std::vector<containers::BindMount>* binds);
  void on_notify(const CompId& comp, pid_t sender, const Result<NotifyMessage>& message);
  void run_hook(const node::RunHook& e);
  void run_probe(const node::RunProbe& e);
  void daemonized(const CompId& comp, containers::ExitStatus status);
  // A CLC-CLI command (terminate_command, cleanup_command) for the component running as
  // `pid`; with `kill_after`, its process group is killed when the command ends or after
  // `limit`.
  void run_clc(const CompId& comp, pid_t pid, const std::string& command, bool kill_after,
               Duration limit);
  void send_to_component(node::PeerId peer, const wire::ComponentMessage& message);
  void send_to_routing_id(const std::string& routing_id, const wire::ComponentMessage& message);
  void registration_answered(node::PeerId peer, bool ok);
  wire::ClusterStatus status() const;

  Options options_;
  std::shared_ptr<const model::ClusterConfig> config_;
  NodeId self_;
  std::shared_ptr<spdlog::logger> log_;

  boost::asio::io_context io_;
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer timer_{io_};
  zmq::context_t zmq_{1};
  zmq::socket_t component_socket_{zmq_, zmq::socket_type::router};
  zmq::socket_t admin_socket_{zmq_, zmq::socket_type::router};
  std::unique_ptr<ZmqWatch> component_watch_;
  std::unique_ptr<ZmqWatch> admin_watch_;
  containers::ProcessLauncher launcher_;
  // Only when a component has runtime oci: then amfd is a child subreaper (main.cc) and reaps
  // the orphans that come to it on SIGCHLD.
  std::unique_ptr<containers::OciLauncher> oci_;
  boost::asio::signal_set sigchld_{io_};
  std::map<CompId, const model::ComponentConfig*> comp_config_;
  std::unique_ptr<NotifySockets> notify_;  // one NOTIFY_SOCKET per component that uses it
  struct Hook {
    CompId comp;
    node::Invocation invocation;
    std::unique_ptr<boost::asio::steady_timer> deadline;  // SIGKILL then
  };
  std::map<pid_t, Hook> hooks_;   // HA-state hooks running, by pid
  std::map<pid_t, Hook> probes_;  // exec probes running, by pid
  struct Clc {
    CompId comp;
    pid_t target;     // the component's process
    bool kill_after;  // cleanup: SIGKILL the component when the command ends
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };
  std::map<pid_t, Clc> clc_;  // CLC-CLI commands running, by pid
  std::map<pid_t, CompId> daemonizing_;  // instantiate commands with a pid_file, by pid

  director::Director director_;
  node::NodeDirector node_;
  std::deque<node::Event> queue_;
  bool pumping_ = false;
  bool resume_posted_ = false;  // a pump is posted for the events left over
  bool shutting_down_ = false;
  EventLog events_;

  std::map<std::string, node::PeerId> peer_by_routing_id_;
  std::map<node::PeerId, std::string> routing_id_by_peer_;
  std::map<std::string, node::PeerId> peer_by_component_;  // accepted registrations, by name
  std::map<node::PeerId, std::string> registering_;  // registrations the core has not answered
  node::PeerId next_peer_ = 1;
  std::map<CompId, pid_t> pid_by_comp_;
  std::map<pid_t, CompId> comp_by_pid_;
  std::map<std::uint64_t, std::string> admin_waiting_;  // operation id -> client routing id
  std::uint64_t next_admin_id_ = 1;
  std::string component_endpoint_;
  std::string admin_endpoint_;
  int lock_fd_ = -1;

  std::optional<containers::CgroupTree> cgroups_;  // none: marks and process groups only
  std::map<CompId, Instance> instances_;
  std::vector<std::string> dying_leaves_;  // killed, removed once empty
  std::uint64_t next_instance_ = 1;
};

}  // namespace amf::daemon
