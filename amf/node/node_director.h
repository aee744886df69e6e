#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"
#include "amf/model/config.h"
#include "amf/model/notification.h"
#include "amf/model/recovery_ceiling.h"
#include "amf/protocol/messages.h"

namespace amf::node {

// The adapter's handle for one connection from a component (a ZeroMQ routing id, say).
using PeerId = std::uint64_t;
// Identifies one callback to a component; the component echoes it in its response.
using Invocation = std::uint64_t;

// ---- events from the launcher ----
struct ProcessStarted {
  CompId comp;
};
struct ProcessStartFailed {
  CompId comp;
  std::string reason;
};
struct ProcessExited {
  CompId comp;
  std::string status;  // "killed by signal 9", "exited with code 1"
};

// ---- events from components (decoded by the adapter) ----
struct ComponentRegister {
  PeerId peer;
  std::string name;  // what the component claims to be
};
struct ComponentResponse {
  PeerId peer;
  Invocation invocation;
  bool ok;
};
// The component reports its own failure; `recommended_recovery` is a recovery name as in the
// configuration, or empty for the component's configured recovery.
struct ComponentErrorReport {
  PeerId peer;
  std::string recommended_recovery;
  std::string reason;
};
// A component-invoked health check confirmation.
struct ComponentHealthcheckConfirm {
  PeerId peer;
  std::string key;
};
// saAmfProtectionGroupTrack and ...TrackStop (see wire::ProtectionGroupTrack): answered with a
// SendProtectionGroup of the same `request`.
struct ComponentTrackProtectionGroup {
  PeerId peer;
  std::uint64_t request = 0;
  std::string csi;  // an id (SG/SI/CSI) or a DN (safCsi=CSI,safSi=SI,safApp=APP)
  bool current = false;
  bool current_callback = false;
  bool changes = false;
  bool changes_only = false;
};
struct ComponentStopTrackingProtectionGroup {
  PeerId peer;
  std::uint64_t request = 0;
  std::string csi;
};

// What a component that does not link our library said on its NOTIFY_SOCKET (sd_notify).
// amfd has checked that the sender is the component's process or one of its group.
struct ComponentNotify {
  CompId comp;
  bool ready = false;                 // READY=1
  bool watchdog = false;              // WATCHDOG=1
  bool watchdog_trigger = false;      // WATCHDOG=trigger: it asks to be treated as failed
  bool stopping = false;              // STOPPING=1
  std::optional<std::string> status;  // STATUS=
};

// An HA-state hook ended (RunHook): exit 0 is ok; `detail` says how it ended otherwise.
struct HookDone {
  CompId comp;
  Invocation invocation;
  bool ok;
  std::string detail;
};

// A probe ended: ok, or why not ("connection refused", "HTTP 503", "exited with code 1",
// "no answer within 1000 ms").
struct ProbeDone {
  CompId comp;
  Invocation invocation;
  bool ok;
  std::string detail;
};

// The host could not bring up the service address of `si` (SetServiceAddress, up): a component
// of this node holding one of the SI's CSIs active cannot serve it here, so its SU is failed
// over (component-failover, whatever its configured recovery: a restart on this node would not
// bring the address up either), and the SI goes to another SU, as Pacemaker moves a resource
// group whose IPaddr2 fails to start. A failure for an SI this node no longer holds is late and
// changes nothing.
struct ServiceAddressFailed {
  SiId si;
  std::string reason;
};

// amfd is stopping: ask the director to move every assignment of this node's SUs to other
// nodes (protocol::NodeLeaving); the components keep running meanwhile, and the host ends
// them (Shutdown) once evacuated() says the node holds nothing, or after leave_bound().
struct Leave {
  std::string cause;
};
// How long a leaving node waits for the director to move its assignments away: every component
// of the SGs it has SUs in (the standby that takes over is elsewhere) has its CSI callback
// timeouts to answer in (one that does not is a failure, handled as any other), twice over,
// and a second of margin.
Duration leave_bound(const model::ClusterConfig& config, const NodeId& node);

// Terminate every component of the node (amfd is stopping).
struct Shutdown {};

using Event =
    std::variant<protocol::InstantiateSu, protocol::TerminateSu, protocol::RepairSu,
                 protocol::RestartSu, protocol::AssignHa, protocol::RemoveHa,
                 protocol::SnapshotRequest, ProcessStarted, ProcessStartFailed, ProcessExited,
                 ComponentRegister, ComponentResponse, ComponentErrorReport,
                 ComponentHealthcheckConfirm, ComponentTrackProtectionGroup,
                 ComponentStopTrackingProtectionGroup, ComponentNotify, HookDone, ProbeDone,
                 ServiceAddressFailed, Leave, Shutdown>;

Event to_event(const protocol::NodeCommand& command);

// ---- effects ----
struct StartProcess {
  CompId comp;
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // the component's own; the adapter adds the socket
};
enum class Signal { kTerminate, kKill };
// Signal the component's process (its whole process group).
struct SignalProcess {
  CompId comp;
  Signal signal;
};
struct SendRegisterReply {
  PeerId peer;
  bool ok;
  std::string message;
};
struct SendCsiSet {
  PeerId peer;
  Invocation invocation;
  CompId comp;
  CsiId csi;
  model::HaState ha;
  model::TransitionReason reason;
  model::CsiAttributes attributes;  // as the component's SU has them (CsiConfig::attributes_for)
  std::optional<model::ActiveDescriptor> active;  // standby: who holds the CSI active
};
struct SendCsiRemove {
  PeerId peer;
  Invocation invocation;
  CompId comp;
  CsiId csi;
};
// An AMF-invoked health check; the component answers with a ComponentResponse.
struct SendHealthcheck {
  PeerId peer;
  Invocation invocation;
  CompId comp;
  std::string key;
};
// Ask a registered SA-aware component to terminate (its terminate callback): it answers with a
// ComponentResponse and exits. An error answer has it cleaned up at once; the terminate timeout
// bounds the rest, as for SIGTERM.
struct SendTerminate {
  PeerId peer;
  Invocation invocation;
  CompId comp;
};
// A CSI's protection group to a component: the answer to its request (`request` non-zero;
// refused when `refusal` is not kNone), or a tracked group (request 0).
struct SendProtectionGroup {
  PeerId peer;
  std::uint64_t request = 0;
  std::string csi;  // as the component named it
  std::vector<model::ProtectionGroupMember> members;
  model::ProtectionGroupRefusal refusal = model::ProtectionGroupRefusal::kNone;
  std::string error;
  std::size_t size = 0;  // how many members the group has now (`members` may list fewer)
};
struct ToDirector {
  protocol::NodeReport message;
};

// Run an HA-state hook of a non-SA-aware component (`command` with /bin/sh -c, `env` added to
// the component's environment); its end comes back as HookDone with the same invocation. The
// node director times it out itself (the CSI timeout); `timeout` is for the adapter, which
// kills a hook still running then.
struct RunHook {
  Invocation invocation;
  CompId comp;
  std::string command;
  std::map<std::string, std::string> env;
  Duration timeout;
};

// Run the component's liveness probe once (its configuration says how); the result comes back
// as ProbeDone with the same invocation, within the probe's timeout.
struct RunProbe {
  Invocation invocation;
  CompId comp;
};

// Bring an SI's floating service address up on this node (`up`) or take it down
// (model::ServiceAddress). The node holds it up exactly while one of its components holds one
// of the SI's CSIs active or quiescing, as the node director has it (told or being told).
struct SetServiceAddress {
  SiId si;
  model::ServiceAddress address;
  bool up = false;
};

using Effect = std::variant<StartProcess, SignalProcess, SendRegisterReply, SendCsiSet,
                            SendCsiRemove, SendHealthcheck, SendTerminate, SendProtectionGroup,
                            RunHook, RunProbe, ToDirector, SetServiceAddress, model::Notification>;

// The node director core: the life cycle of this node's components (instantiate, register,
// terminate, cleanup, each with its timeout), their CSI callbacks, error detection and the
// local recovery with escalation (component restart -> SU restart -> SU failover -> node
// failover, each level counted in its probation window; a failover hands the SU to the
// director). Whatever the escalation settings, an SU restarted in place more than
// kSuRestartCeiling times without a quiet period in between is failed over instead
// (amf/model/recovery_ceiling.h).
//
// Ordering rules of the effect batch: a CSI callback is emitted before any process start of
// the same batch (a promotion is never delayed by spawning a repaired SU), and an SU is
// reported out of its instantiated presence only once none of its processes runs. The
// SetServiceAddress effects of an event lead its batch: an address comes up before the CSI
// set that makes its SI active here goes out (the component may bind it), so before the
// active is reported; it goes down before the CSI set that quiesces the SI, its removal, a
// cleanup's signal or the report that the SU failed, so that a node the director gives up on
// no longer answers on it.
//
// Single-threaded, sans-I/O, deterministic. Not thread-safe.
class NodeDirector {
 public:
  struct ComponentView {
    CompId id;
    SuId su;
    model::PresenceState presence;
    bool registered;
    std::vector<std::pair<CsiId, model::HaState>> csis;
  };

  NodeDirector(std::shared_ptr<const model::ClusterConfig> config, NodeId self);

  void handle(const Event& event, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  std::vector<Effect> take_effects();

  std::vector<ComponentView> components() const;
  // Everything a director needs to rebuild its tables (what a SnapshotRequest is answered
  // with).
  protocol::NodeSnapshot snapshot(protocol::CommandId request = 0) const;
  // True once Shutdown was handled and no component process runs any more.
  bool stopped() const;
  // True once Leave was handled and no SU of this node holds an assignment or is being given
  // or relieved of one (the director moved them all elsewhere, or there were none).
  bool evacuated() const;
  // The component registered on `peer`, if any.
  std::optional<CompId> component_of(PeerId peer) const;
  // The newest director command that gave the component's SU an SI of which the component
  // holds a CSI active or quiescing now; nullopt: it holds none. Command ids grow across
  // directors (the epoch is in their upper half), so this orders the writers of a checkpoint
  // (amf/checkpoint/service.h).
  std::optional<protocol::CommandId> active_since(const CompId& comp) const;

 private:
  enum class CallbackKind { kCsiSet, kCsiRemove, kHealthcheck };
  struct Callback {
    CallbackKind kind;
    CsiId csi;                         // CSI callbacks only
    SiId si;                           // CSI callbacks only
    std::optional<model::HaState> ha;  // CSI set only
    TimePoint deadline;
    std::string hook;     // a hook's name ("on_active") when a hook carries the callback out
    TimePoint started{};  // when the hook started, for its duration in the event log
  };
  enum class AfterExit { kNothing, kRetryInstantiate, kRestart };
  // A probation window for recovery escalation: counts recoveries, and says when one more
  // exceeds the maximum before the window (started by the first of them) has passed.
  struct Window {
    int count = 0;
    TimePoint end{};
    bool exceeded(TimePoint now, int max, Duration probation) {
      if (count == 0 || now >= end) {
        count = 0;
        end = now + probation;
      }
      return ++count > max;
    }
  };
  struct CompState {
    const model::ComponentConfig* config = nullptr;
    SuId su;
    model::PresenceState presence = model::PresenceState::kUninstantiated;
    // A process exists that has not been reaped, or its start was asked for and the launcher
    // has not reported it yet (an asynchronous launcher reports ProcessStarted or
    // ProcessStartFailed later): either way one may run, and no second one is started.
    bool running = false;
    bool start_reported = false;  // ProcessStarted seen: the launcher can signal the process
    bool killed = false;          // cleanup (SIGKILL) asked for the running process
    // A signal asked for before the start was reported; sent when it is (SIGKILL wins).
    std::optional<Signal> pending_signal;
    std::optional<PeerId> peer;
    int attempts = 0;  // instantiation attempts in the current instantiation
    std::optional<TimePoint> deadline;
    AfterExit after_exit = AfterExit::kNothing;
    std::map<CsiId, std::pair<SiId, model::HaState>> csis;  // assigned (acked or not)
    // What it was assigned and then told to give up by a termination or a failover, kept until
    // its next start: a process that survives its cleanup may still act on it (the snapshot
    // says so).
    std::map<CsiId, std::pair<SiId, model::HaState>> held_when_terminated;
    std::map<Invocation, Callback> callbacks;  // outstanding
    // Health check: AMF-invoked, when to ask next; component-invoked, when the next
    // confirmation is due. Set while the component is registered.
    std::optional<TimePoint> healthcheck;
    std::optional<TimePoint> retry_at;  // a delayed instantiation attempt is due then
    // The next probe: the liveness probe while instantiated; the startup probe while a
    // component instantiated_when: probed is being instantiated.
    std::optional<TimePoint> probe_at;
    std::optional<Invocation> probe_running;  // a probe asked for and not yet done
    int probe_failures = 0;                   // in a row
    std::string startup_probe_detail;         // why the last startup probe failed
    std::optional<TimePoint> indexed;         // its entry in deadlines_, if it has one
  };
  struct SuState {
    const model::SuConfig* config = nullptr;
    model::OperState oper = model::OperState::kEnabled;
    model::PresenceState reported_presence = model::PresenceState::kUninstantiated;
    model::OperState reported_oper = model::OperState::kEnabled;
    // Director requests in progress: the HA state asked for (nullopt: removal) and the
    // command's id, which the answer carries back.
    struct Awaiting {
      std::optional<model::HaState> ha;
      protocol::CommandId command = 0;
    };
    std::map<SiId, Awaiting> awaiting;
    // Its standby SIs' active SU, as the director last said (AssignHa::active).
    std::map<SiId, SuId> active_of;
    // The command that gave it each SI it holds, in any HA state (active_since()).
    std::map<SiId, protocol::CommandId> assigned_by;
    std::string cause;                // why the SU last changed, for the next report
    bool auto_repairable = true;      // false once a node failover disabled it
    bool repair_pending = false;      // a repair waits for the SU's processes to end
    bool repair_instantiates = true;  // the pending repair starts the SU (not locked-inst.)
    bool admin_restart = false;       // a restart admin operation is in progress
    // Disabled by a node switchover, still running: its assignments are being switched over,
    // then it is terminated.
    bool switching_over = false;
    bool force_report = false;  // report the SU even if nothing changed (restart done)
    Window comp_restarts;
    Window su_restarts;
    // Restarts in place since the last quiet period or SU failover, towards kSuRestartCeiling.
    model::RecoveryStreak restarts;
    const model::SgConfig* sg = nullptr;
  };

  void on(const protocol::InstantiateSu& e, TimePoint now);
  void on(const protocol::TerminateSu& e, TimePoint now);
  void on(const protocol::RepairSu& e, TimePoint now);
  void on(const protocol::RestartSu& e, TimePoint now);
  void on(const protocol::AssignHa& e, TimePoint now);
  void on(const protocol::RemoveHa& e, TimePoint now);
  void on(const protocol::SnapshotRequest& e, TimePoint now);
  void on(const ProcessStarted& e, TimePoint now);
  void on(const ProcessStartFailed& e, TimePoint now);
  void on(const ProcessExited& e, TimePoint now);
  void on(const ComponentRegister& e, TimePoint now);
  void on(const ComponentResponse& e, TimePoint now);
  void on(const ComponentErrorReport& e, TimePoint now);
  void on(const ComponentHealthcheckConfirm& e, TimePoint now);
  void on(const ComponentTrackProtectionGroup& e, TimePoint now);
  void on(const ComponentStopTrackingProtectionGroup& e, TimePoint now);
  // The CSI a component names (id or DN); an error says why there is none.
  Result<CsiId> resolve_csi(const std::string& name) const;
  // The components of this node the CSI is assigned to, in CompId order.
  std::vector<model::ProtectionGroupMember> protection_group(const CsiId& csi) const;
  // Tells each tracker whose group changed since it was last told (from flush()).
  void report_protection_groups();
  void on(const ComponentNotify& e, TimePoint now);
  void on(const HookDone& e, TimePoint now);
  void on(const ProbeDone& e, TimePoint now);
  // A callback of `comp` was answered (a component's response, or a hook's end).
  void answered(CompState& comp, Invocation invocation, bool ok, const std::string& detail,
                TimePoint now);
  // Runs the hook for `csi` going to `ha` (nullopt: removed), if the component has one.
  void run_hook(CompState& comp, const CsiId& csi, const SiId& si, std::optional<model::HaState> ha,
                TimePoint now);
  // Registered (SA-aware), notified READY=1, or started (non-SA-aware): instantiated now.
  void became_instantiated(CompState& comp, const std::string& cause, TimePoint now);
  // Instantiated and able to take its CSIs: registered when SA-aware, else instantiated.
  static bool ready(const CompState& comp);
  void on(const ServiceAddressFailed& e, TimePoint now);
  void on(const Leave& e, TimePoint now);
  void on(const Shutdown& e, TimePoint now);

  void instantiate(CompState& comp, TimePoint now);
  void instantiation_attempt_failed(CompState& comp, const std::string& reason, TimePoint now);
  void component_failed(CompState& comp, const std::string& cause, TimePoint now,
                        std::optional<model::Recovery> recommended = std::nullopt);
  // The recovery to carry out for a failure of `comp`: `recovery` (its configured one, or the
  // one it recommended), escalated when the probation windows say so, and why.
  struct Escalation {
    model::Recovery recovery;
    std::string why;  // empty unless the recovery was escalated or changed
  };
  Escalation escalate(CompState& comp, SuState& su, model::Recovery recovery, TimePoint now);
  // Forget the component's connection: outstanding callbacks and health checks go with it.
  // Drops the component's outstanding callbacks; a hook among them ends with an event
  // ("abandoned", `cause`).
  void abandon_callbacks(CompState& comp, const std::string& cause, TimePoint now);
  void disconnect(CompState& comp, const std::string& cause, TimePoint now);
  void check_health(CompState& comp, TimePoint now);
  void restart_component(CompState& comp, const std::string& cause, TimePoint now);
  void restart_su(SuState& su, const CompState& faulty, const std::string& cause, TimePoint now);
  // A running, healthy component is terminated gracefully (SIGTERM, cleanup after the
  // terminate timeout) and instantiated again once it has exited; its CSIs stay with it.
  void terminate_for_restart(CompState& comp, const std::string& cause, TimePoint now);
  void fail_over_su(SuState& su, const std::string& cause, TimePoint now);
  // "recovery ceiling: more than 100 restarts of app/su-1 without 10 min between two"
  static std::string restart_ceiling_text(const SuState& su);
  void fail_over_node(const std::string& cause, TimePoint now);
  void switch_over_node(SuState& faulty, const std::string& cause, TimePoint now);
  void finish_switchover(SuState& su, TimePoint now);
  void complete_repair(SuState& su, TimePoint now);
  // Tells the director the SU's presence and operational state, and remembers them as told.
  void report_su(SuState& su, model::PresenceState presence, TimePoint now);
  // The restart admin operation is over once every component of the SU is instantiated,
  // registered and has answered for its CSIs again.
  bool restart_done(const SuState& su) const;
  void run_probe(CompState& comp, Duration period, TimePoint now);
  void kill(CompState& comp, TimePoint now);
  // Signals the component's process, or once its start is reported (the launcher knows no
  // process to signal before).
  void send_signal(CompState& comp, Signal signal);
  // Drops its CSIs, keeping them in held_when_terminated.
  void forget_csis(CompState& comp);
  // Graceful termination: the terminate callback or SIGTERM, then cleanup when the terminate
  // timeout runs out.
  void terminate(CompState& comp, const std::string& cause, TimePoint now);
  // The terminate request itself: the terminate callback for a registered SA-aware component
  // without a terminate_command, SIGTERM (or the command) for any other.
  void ask_to_terminate(CompState& comp);
  // What a standby of `csi` in `comp` is told of the CSI's active; nullopt for an active, or
  // when the director named none.
  std::optional<model::ActiveDescriptor> active_descriptor(const CompState& comp,
                                                           const CsiId& csi) const;
  void send_csi_set(CompState& comp, const CsiId& csi, model::TransitionReason reason,
                    TimePoint now);
  void set_presence(CompState& comp, model::PresenceState presence, const std::string& cause,
                    TimePoint now);
  void set_oper(SuState& su, model::OperState oper, const std::string& cause, TimePoint now);
  // Reports every director request of `su` that is complete (only the one for `*only`, if
  // given).
  void complete_awaiting(SuState& su, const SiId* only = nullptr);
  // Reports each touched SU (dirty_) whose presence or state changed; an SU nothing touched
  // has nothing new to report.
  void report_sus(TimePoint now);
  model::PresenceState su_presence(const SuState& su) const;
  CompState* find_by_peer(PeerId peer);
  // Start-up and every event cost what they touch, not what the node hosts (5,000 SGs once
  // took amfd 20 s to start): handle() and tick() mark the SUs an event or a deadline concerns
  // (touch), and flush() then reports those and re-indexes their components' deadlines. An
  // event concerns one SU (the command's, or that of the component it is about), except a node
  // failover, a node switchover and Shutdown, which touch every SU.
  void touch(const Event& event);
  void touch(const SuId& su) {
    if (sus_.count(su)) dirty_.insert(su);  // a command may name an SU hosted elsewhere
  }
  void touch_all();
  void flush(TimePoint now);
  // From flush(): brings the service addresses of the touched SUs' SGs up or down, to match
  // what this node holds active, at the head of the batch (batch_start_).
  void float_addresses();
  // Whether a component in this HA state for one of an SI's CSIs holds its address up here:
  // active, or quiescing (it finishes its work in progress).
  static bool holds_address(model::HaState ha) {
    return ha == model::HaState::kActive || ha == model::HaState::kQuiescing;
  }
  // The earliest of the component's deadlines (its timeout, health check, delayed retry,
  // probe and callbacks), or nothing.
  static std::optional<TimePoint> earliest_deadline(const CompState& comp);
  void reindex(const CompId& id, CompState& comp);
  void notify(TimePoint now, model::NotificationKind kind, std::string entity, std::string related,
              std::string from, std::string to, std::string cause);
  void emit(Effect effect);

  std::shared_ptr<const model::ClusterConfig> config_;
  NodeId self_;
  std::map<SuId, SuState> sus_;
  std::map<CompId, CompState> comps_;
  // Lookups that would otherwise scan the node or the configuration on every event.
  std::map<PeerId, CompId> peers_;  // registered components by connection
  // Terminate callbacks not yet answered, by the connection they went to (which a restart's
  // disconnect has already forgotten in peers_): the component and the invocation.
  std::map<PeerId, std::pair<CompId, Invocation>> terminate_calls_;
  // Protection groups that components track (saAmfProtectionGroupTrack with changes), by
  // component and CSI: the name it used, whether it wants changed members only, and the group
  // as it was last told. Dropped when the component disconnects.
  struct Tracker {
    std::string name;
    bool changes_only = false;
    std::vector<model::ProtectionGroupMember> told;
  };
  std::map<CompId, std::map<CsiId, Tracker>> trackers_;
  std::map<SiId, const model::SiConfig*> sis_;
  // Every component's earliest deadline (CompState::indexed), for next_deadline() and tick().
  std::set<std::pair<TimePoint, CompId>> deadlines_;
  std::set<SuId> dirty_;  // touched since the last flush(), in SuId order (report order)
  const model::NodeConfig* node_config_ = nullptr;
  Window su_failovers_;
  Invocation next_invocation_ = 1;
  bool shutting_down_ = false;
  bool leaving_ = false;  // Leave was handled
  // The SGs with an SU here and an SI with a service address, and the SIs whose address this
  // node holds up.
  std::set<const model::SgConfig*> addressed_sgs_;
  std::set<SiId> raised_;
  std::size_t batch_start_ = 0;  // effects_ before the event or tick being handled
  std::vector<Effect> effects_;
  std::vector<Effect> starts_;  // StartProcess effects, appended after the rest of the batch
};

}  // namespace amf::node
