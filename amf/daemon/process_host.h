#pragma once

#include <spdlog/logger.h>
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amf/core/result.h"
#include "amf/daemon/notify_socket.h"
#include "amf/model/config.h"
#include "amf/model/notification.h"
#include "amf/node/node_director.h"
#include "containers/cgroup.h"
#include "containers/oci_launcher.h"
#include "containers/process_launcher.h"

namespace amf::daemon {

// The node's processes, as the node director asks for them: components (plain processes,
// daemons left by an instantiate command, runc containers), each contained as one instance
// (a cgroup leaf, or the instance mark), and the helpers that run for a component (HA-state
// hooks, exec probes, CLC-CLI commands). Everything the processes do comes back as node
// events through `post`; the host keeps no decisions of its own.
//
// Runs on the io_context's thread; not thread-safe. Destroying it kills the helpers still
// running and sweeps the cgroup tree: nothing of a component outlives amfd.
class ProcessHost {
 public:
  struct Options {
    std::string runtime_dir;         // absolute or relative; holds work/ (working directories)
    std::string log_dir;             // <component>.log per component, helpers' output too
    std::string component_endpoint;  // AMF_COMPONENT_SOCKET for SA-aware components
    bool use_cgroups = true;
    std::uint64_t child_fd_limit = 0;  // soft RLIMIT_NOFILE of what it starts; 0: amfd's
  };
  struct Callbacks {
    std::function<void(node::Event)> post;                   // to the node director
    std::function<void(const model::Notification&)> record;  // to the event log
    std::function<void(const CompId&)> process_gone;         // its connection is useless
    std::function<TimePoint()> now;
  };

  ProcessHost(boost::asio::io_context& io, const model::ClusterConfig& config, Options options,
              Callbacks callbacks, std::shared_ptr<spdlog::logger> log);
  ~ProcessHost();
  ProcessHost(const ProcessHost&) = delete;
  ProcessHost& operator=(const ProcessHost&) = delete;

  // Ends every process that an earlier amfd on this runtime directory left running (its
  // cgroup tree, its recorded marks, its containers), saying what it ended; then gets ready to
  // start components. Call once, with the runtime directory's lock held, before anything
  // starts.
  Result<void> open();

  void start(const node::StartProcess& e);
  void signal(const CompId& comp, node::Signal signal);
  // SIGKILL to every process of the component's instance now, whatever its cleanup command:
  // the node's life is over (fenced) and nothing of it may serve on.
  void kill_now(const CompId& comp);
  void run_hook(const node::RunHook& e);
  void run_probe(const node::RunProbe& e);

  // Whether `pid` belongs to the component's current instance: in its cgroup, marked as it,
  // or a descendant of its process (or of its daemonizing instantiate command).
  bool belongs(const CompId& comp, pid_t pid) const;
  // amfd is stopping: the starts held back for a cleanup after a death (clean_up_after_death)
  // will not be made; each is answered as a start that failed.
  void drop_held_starts();
  // A cleanup after a death is still running (amfd waits for it before it exits: it is what
  // removes the dead process's leftovers).
  bool cleaning_up() const { return !cleaning_up_.empty(); }
  // Whether `comp` is a component of this node's configuration.
  bool hosts(const CompId& comp) const { return comp_config_.count(comp) > 0; }
  // The component's process (a container's init), 0 when it has none.
  pid_t pid_of(const CompId& comp) const;

 private:
  // A component instance: its cgroup leaf, or (without cgroups) the mark in its environment.
  struct Instance {
    std::string leaf;  // empty without cgroups
    std::string mark;  // "AMF_COMPONENT_INSTANCE=<random>", in the environment of all of it
  };
  struct Helper {  // a hook or an exec probe
    CompId comp;
    node::Invocation invocation;
    std::unique_ptr<boost::asio::steady_timer> deadline;  // SIGKILL then
  };
  struct Clc {  // a CLC-CLI command
    CompId comp;
    pid_t target;     // the component's process
    bool kill_after;  // cleanup: SIGKILL the component when the command ends
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };

  const model::ComponentConfig& config_of(const CompId& comp) const;
  Result<void> end_leftovers();
  Result<Instance> new_instance(const CompId& comp);
  // Ends every process of the component's current instance (the whole tree, not only the
  // process amfd watches) and forgets the instance.
  void end_instance(const CompId& comp);
  void kill_instance(const Instance& instance);
  void write_marks() const;
  void start_container(const node::StartProcess& e, const model::ComponentConfig& comp);
  // Sends `signal` to `pid` if it is still the process of `comp`, through the launcher that
  // started it (the OCI launcher for runtime oci).
  void signal_process(const CompId& comp, pid_t pid, int signal);
  // A helper process for `comp` (hook, exec probe, CLC-CLI command): `argv` run on the node
  // with the component's env, PATH and AMF_COMPONENT_NAME plus `extra`, in the component's
  // working directory, with its output in the component's log.
  containers::ProcessSpec helper_spec(const CompId& comp, std::vector<std::string> argv,
                                      const std::map<std::string, std::string>& extra = {}) const;
  // The component's working directory (ComponentConfig::working_dir), absolute.
  std::string working_dir_of(const CompId& comp) const;
  // Makes it, if need be, before the component starts.
  Result<std::string> prepare_working_dir(const CompId& comp) const;
  // NOTIFY_SOCKET (and WATCHDOG_USEC) for a component that is instantiated when notified;
  // nothing for others. Fails when the socket cannot be made.
  Result<void> prepare_notify(const CompId& comp, std::map<std::string, std::string>& env,
                              std::vector<containers::BindMount>* binds);
  void on_notify(const CompId& comp, pid_t sender, const Result<NotifyMessage>& message);
  void daemonized(const CompId& comp, containers::ExitStatus status);
  // A CLC-CLI command (terminate_command, cleanup_command) for the component running as
  // `pid`; with `kill_after`, its process group is killed when the command ends or after
  // `limit`. Returns the command's pid, if it started.
  std::optional<pid_t> run_clc(const CompId& comp, pid_t pid, const std::string& command,
                               bool kill_after, Duration limit,
                               const std::map<std::string, std::string>& env);
  // After a component's process died without amfd asking (a crash, a SIGKILL from elsewhere):
  // its cleanup command, as OpenSAF runs it after every failure, to remove what the process
  // left (pid files, shared memory). The next instance starts once it has ended.
  // cleanup_due() says whether it is due (and from then on holds back a start); then
  // clean_up_after_death() runs it.
  bool cleanup_due(const CompId& comp, pid_t pid);
  void clean_up_after_death(const CompId& comp, pid_t pid, const containers::ExitStatus& status);
  void on_exit(pid_t pid, containers::ExitStatus status);
  void reap_strays();  // and again at the next SIGCHLD
  void reap_strays_now();

  boost::asio::io_context& io_;
  Options options_;
  Callbacks callbacks_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<CompId, const model::ComponentConfig*> comp_config_;

  containers::ProcessLauncher launcher_;
  // Only when a component has runtime oci: then amfd is a child subreaper (main.cc) and reaps
  // the orphans that come to it on SIGCHLD.
  std::unique_ptr<containers::OciLauncher> oci_;
  boost::asio::signal_set sigchld_{io_};
  std::unique_ptr<NotifySockets> notify_;          // one NOTIFY_SOCKET per component that uses it
  std::optional<containers::CgroupTree> cgroups_;  // none: marks and process groups only

  std::map<CompId, Instance> instances_;
  std::vector<std::string> dying_leaves_;  // killed, removed once empty
  std::uint64_t next_instance_ = 1;
  std::map<CompId, pid_t> pid_by_comp_;
  std::map<pid_t, CompId> comp_by_pid_;
  std::map<pid_t, CompId> daemonizing_;  // instantiate commands with a pid_file, by pid
  std::map<CompId, std::string> starting_containers_;  // container starts not answered yet
  std::map<pid_t, Helper> hooks_;                      // HA-state hooks running, by pid
  std::map<pid_t, Helper> probes_;                     // exec probes running, by pid
  std::map<pid_t, Clc> clc_;                           // CLC-CLI commands running, by pid
  // Component processes amfd has signalled (terminate or cleanup) or ended: their exit was
  // asked for, so no cleanup follows it. Erased at the exit.
  std::set<pid_t> signalled_;
  // The cleanup command that runs after a component's process died on its own, by component;
  // and the start of its next instance, which waits for that cleanup to end.
  std::map<CompId, pid_t> cleaning_up_;
  std::map<CompId, node::StartProcess> start_after_cleanup_;
};

}  // namespace amf::daemon
