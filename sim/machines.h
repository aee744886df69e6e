#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "amf/core/time.h"
#include "amf/model/config.h"
#include "amf/node/node_director.h"
#include "sim/invariants.h"

namespace amf::sim {

// How long simulated things take; each draw is uniform in [min, max] from the run's generator.
struct LatencyRange {
  Duration min;
  Duration max;
};

struct Latencies {
  // Spawn -> ProcessStarted. {0, 0} (the default) delivers it at once, in the same pump, as
  // amfd does after its synchronous posix_spawn; more models an asynchronous launcher (OCI).
  LatencyRange start{Duration(0), Duration(0)};
  LatencyRange registration{std::chrono::milliseconds(10), std::chrono::milliseconds(100)};
  LatencyRange callback{std::chrono::milliseconds(1), std::chrono::milliseconds(20)};
  LatencyRange kill{std::chrono::milliseconds(1), std::chrono::milliseconds(5)};
  LatencyRange terminate{std::chrono::milliseconds(10), std::chrono::milliseconds(300)};
  LatencyRange early_exit{std::chrono::milliseconds(1), std::chrono::milliseconds(30)};
  // A node crashes -> the director is told (NodeDown): the membership's failure detection.
  LatencyRange node_detect{std::chrono::milliseconds(10), std::chrono::milliseconds(30)};
  // A node crashed by a random fault -> it boots again (NodeUp with a fresh node director).
  LatencyRange node_boot{std::chrono::seconds(5), std::chrono::seconds(30)};
  // The director dies -> a new one is elected (failure detection, then one compare-and-swap
  // in etcd) and asks the nodes for their snapshots.
  LatencyRange director_elect{std::chrono::milliseconds(20), std::chrono::milliseconds(40)};
};

// What the machines schedule for themselves on the simulation's queue.
namespace machine {
struct Starts {  // the launcher reports the start (asynchronous launchers)
  std::uint64_t pid;
};
struct Registers {  // an SA-aware component registers; a notified one says READY=1
  std::uint64_t pid;
};
struct Exits {
  std::uint64_t pid;
  std::string status;
};
struct Applies {  // a slow component takes the state long before it answers
  std::uint64_t pid;
  CsiId csi;
  std::optional<model::HaState> ha;
  std::string active = {};  // a standby's: the active component it is told of (empty: none)
};
struct Answers {
  std::uint64_t pid;
  node::Invocation invocation;
  bool ok;
  CsiId csi;
  std::optional<model::HaState> ha;  // nullopt: the CSI is removed
  bool apply;                        // take the state now (unless it errs)
  std::string active = {};           // a standby's: the active component it is told of
};
struct Reports {  // the component reports an error about itself
  std::uint64_t pid;
};
struct Confirms {  // a component-invoked health check confirmation or a watchdog ping, periodic
  std::uint64_t pid;
};
struct HookEnds {  // an HA-state hook exits
  NodeId node;
  CompId comp;
  std::uint64_t pid;  // the process it told (0: none); a later one of the component was not
  node::Invocation invocation;
  bool ok;
  CsiId csi;
  std::optional<model::HaState> ha;  // nullopt: the CSI is removed
  std::string active = {};           // a standby's: AMF_ACTIVE_COMPONENT
};
struct ProbeEnds {  // a liveness probe exits (or runs out of time)
  NodeId node;
  CompId comp;
  node::Invocation invocation;
};
}  // namespace machine

using MachineEvent = std::variant<machine::Starts, machine::Registers, machine::Exits,
                                  machine::Applies, machine::Answers, machine::Reports,
                                  machine::Confirms, machine::HookEnds, machine::ProbeEnds>;

// The host protocol as a controller hears it: a process started (or could not be), exited; a
// hook or a probe ended; a process said something through sd_notify. What a controller asks
// of the host is Machines' start(), signal(), run_hook() and run_probe().
using HostReport = std::variant<node::ProcessStarted, node::ProcessStartFailed, node::ProcessExited,
                                node::HookDone, node::ProbeDone, node::ComponentNotify>;
// The AMF component protocol as a controller hears it from an SA-aware component (one that
// links the component library). What a controller sends is Machines' register_reply(),
// csi_set(), csi_remove() and healthcheck().
using ComponentMessage =
    std::variant<node::ComponentRegister, node::ComponentResponse, node::ComponentErrorReport,
                 node::ComponentHealthcheckConfirm>;

// The controller of the machines: amf's runtimes in the simulator, a Kubernetes-style
// reconciler in another. Reports and messages are for the node the process runs on.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual void host_report(const NodeId& node, HostReport report) = 0;
  virtual void component_message(const NodeId& node, ComponentMessage message) = 0;
};

// What the machines need from the simulation around them: time, randomness, its queue, its
// trace, and being told that a fault struck.
class Surroundings {
 public:
  virtual ~Surroundings() = default;
  virtual TimePoint now() const = 0;
  virtual Duration draw(const LatencyRange& range) = 0;
  virtual std::uint64_t uniform(std::uint64_t n) = 0;  // in [0, n)
  virtual void schedule(Duration after, MachineEvent event) = 0;
  virtual void line(std::string text) = 0;
  virtual std::string header() const = 0;  // "[#step time] " for a line that starts a step
  virtual void disturbed() = 0;            // a fault struck: liveness waits from now
  virtual void violate(std::string invariant, std::string message) = 0;
};

// The simulated machines: every process on every node, what it does when its controller
// starts, signals, hooks or probes it (the host protocol), how an SA-aware one talks the AMF
// component protocol (register, CSI set and remove, health check), what a process believes
// about its CSIs (what the safety invariant judges), and the faults that make processes
// misbehave. Controller-neutral: nothing here knows the runtimes or the director, so another
// controller (the Kubernetes reconciler model) runs on the same processes.
//
// Deterministic: every draw and every scheduled event goes through the Surroundings.
class Machines {
 public:
  Machines(const model::ClusterConfig& config, const Latencies& latencies,
           std::size_t max_stuck_processes, Surroundings& around, Controller& controller);

  // ---- the host protocol, from the controller ----
  void start(const NodeId& node, const node::StartProcess& e);
  void signal(const node::SignalProcess& e);  // the component's current process, if any
  // An HA-state hook (AMF_CSI_NAME, AMF_HA_STATE in its environment) and a liveness probe run
  // on the node, against the component's process.
  void run_hook(const NodeId& node, const node::RunHook& e);
  void run_probe(const NodeId& node, const node::RunProbe& e);
  // A floating service address comes up on the node or goes down (the node's addresses go with
  // it when it crashes).
  void service_address(const NodeId& node, const node::SetServiceAddress& e);

  // ---- the AMF component protocol, from the controller ----
  void register_reply(node::PeerId peer, bool ok);
  void csi_set(const node::SendCsiSet& e) {
    callback(e.peer, e.invocation, e.csi, e.ha, e.active ? e.active->component : "");
  }
  void csi_remove(const node::SendCsiRemove& e) {
    callback(e.peer, e.invocation, e.csi, std::nullopt);
  }
  void healthcheck(const node::SendHealthcheck& e) {
    callback(e.peer, e.invocation, CsiId(), std::nullopt);
  }
  // The terminate callback: the component answers and exits, as on SIGTERM (a hung one does
  // neither, and is cleaned up at the terminate timeout). Armed faults are left to the CSI
  // callbacks they were meant for; an error answer is node_director_test's.
  void terminate(const node::SendTerminate& e);

  // ---- the machines' own events, from the simulation's queue ----
  void handle(const MachineEvent& event);
  // False for periodic events that change nothing (a simulation waits for the others).
  static bool is_work(const MachineEvent& event) {
    return !std::holds_alternative<machine::Confirms>(event);
  }

  // ---- faults (each writes its trace line; false: no process to strike) ----
  bool crash(const CompId& comp);
  bool hang(const CompId& comp);
  void fail_starts(const CompId& comp, int count);
  void slow_callbacks(const CompId& comp, int count);
  void fail_callbacks(const CompId& comp, int count);
  void fail_cleanup(const CompId& comp);
  bool report_error(const CompId& comp);
  bool force_belief(const CompId& comp, const CsiId& csi, model::HaState ha);
  // The node crashes: every process on it ends at once, those that ignore SIGKILL too; the
  // controller is told nothing (it crashed with them). The number of processes ended.
  std::size_t end_node(const NodeId& node);
  // The operator ends the processes that survived their cleanup in the SUs `reached` picks
  // (before a repair); the controller hears that the current ones exited.
  void end_stuck(const std::function<bool(const model::SuConfig&)>& reached);
  // Faults armed from now on count as random ones (settle() drops those: drop_random()).
  void arming_random(bool on) { random_ = on; }
  void drop_random() { random_armed_.clear(); }
  // The entity (a component or an SU) has faults asked for (not random) still to come.
  bool fault_pending(const std::string& entity) const;

  // ---- views ----
  std::vector<ProcessView> processes() const;
  std::optional<ProcessView> process(std::uint64_t pid) const;  // nullopt: it has exited
  // The processes that believe something about one of `csis`.
  std::vector<ProcessView> believers(const std::set<CsiId>& csis) const;
  // Since the last call: whether any belief changed, and the CSIs some process came to
  // believe active or quiescing for.
  bool take_beliefs_changed() { return std::exchange(beliefs_changed_, false); }
  // Grows whenever a process's belief changes or a process ends.
  std::uint64_t belief_changes() const { return belief_changes_; }
  std::set<CsiId> take_touched_csis() { return std::exchange(touched_csis_, {}); }
  std::uint64_t starts() const { return starts_; }
  // The nodes that have each SI's service address up (SIs with none are absent).
  const std::map<SiId, std::set<NodeId>>& service_addresses() const { return addresses_; }

 private:
  struct Process {
    std::uint64_t pid = 0;
    CompId comp;
    NodeId node;
    bool started_reported = false;
    bool exiting = false;  // a graceful exit is scheduled
    bool hung = false;
    bool ignores_kill = false;
    bool stuck = false;
    bool fail_before_register = false;
    bool sa_aware = true;  // registers; else takes its CSIs through HA-state hooks
    std::optional<node::PeerId> peer;
    bool registered = false;
    // A component handles its callbacks one at a time, in the order they arrive (one
    // connection, one dispatch thread): the next answer comes no earlier than this.
    TimePoint answered_until{};
    std::map<CsiId, model::HaState> beliefs;
    std::map<CsiId, std::string> told_active;  // ProcessView::told_active
  };
  // Faults waiting for their moment: the next starts, callbacks or process of a component.
  struct Armed {
    int fail_starts = 0;
    int slow = 0;
    int errors = 0;
    int cleanup = 0;
  };

  // A CSI set/remove (csi non-empty) or health check callback reaches a component.
  void callback(node::PeerId peer, node::Invocation invocation, const CsiId& csi,
                std::optional<model::HaState> ha, const std::string& active = "");
  void started(Process& p);
  // The delay until `p` answers a callback that takes `work` to handle, after those before it.
  Duration in_turn(Process& p, Duration work);
  void on(const machine::Starts& e);
  void on(const machine::Registers& e);
  void on(const machine::Exits& e);
  void on(const machine::Applies& e);
  void on(const machine::Answers& e);
  void on(const machine::Reports& e);
  void on(const machine::Confirms& e);
  void on(const machine::HookEnds& e);
  void on(const machine::ProbeEnds& e);
  void set_belief(Process& p, const CsiId& csi, std::optional<model::HaState> ha,
                  const std::string& active = "");
  // Consumes one armed fault of `field` for `comp`, if any (asked-for ones first).
  bool take_armed(const CompId& comp, int Armed::*field);
  Armed& arms(const CompId& comp) { return random_ ? random_armed_[comp] : armed_[comp]; }
  Process* current(const CompId& comp);
  ProcessView view(const Process& p) const;
  // Erases a process that has ended: its peer, its place as current; the next one.
  std::map<std::uint64_t, Process>::iterator forget(std::map<std::uint64_t, Process>::iterator it);
  const model::ComponentConfig& config_of(const CompId& comp) const {
    return *comp_config_.at(comp);
  }
  void report(const NodeId& node, HostReport r) { controller_.host_report(node, std::move(r)); }
  void tell(const NodeId& node, ComponentMessage m) {
    controller_.component_message(node, std::move(m));
  }

  const model::ClusterConfig& config_;
  const Latencies& latencies_;
  std::size_t max_stuck_;
  Surroundings& around_;
  Controller& controller_;
  std::map<CompId, const model::ComponentConfig*> comp_config_;
  std::map<CompId, SuId> su_of_comp_;

  std::map<std::uint64_t, Process> processes_;  // by pid; exited ones are erased
  std::map<CompId, std::uint64_t> current_pid_;
  std::map<node::PeerId, std::uint64_t> pid_by_peer_;
  std::map<CompId, Armed> armed_;         // asked for (scripts, tests)
  std::map<CompId, Armed> random_armed_;  // armed by the random injector
  bool random_ = false;
  std::uint64_t next_pid_ = 1;
  node::PeerId next_peer_ = 1;
  std::size_t stuck_ = 0;
  std::uint64_t starts_ = 0;
  std::map<SiId, std::set<NodeId>> addresses_;
  bool beliefs_changed_ = false;
  std::uint64_t belief_changes_ = 0;
  std::set<CsiId> touched_csis_;
};

}  // namespace amf::sim
