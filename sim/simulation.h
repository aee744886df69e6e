#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/checkpoint/service.h"
#include "amf/core/result.h"
#include "amf/core/time.h"
#include "amf/director/director.h"
#include "amf/model/config.h"
#include "amf/node/node_director.h"
#include "amf/runtime/cluster_node.h"
#include "amf/runtime/node_runtime.h"
#include "sim/faults.h"
#include "sim/invariants.h"
#include "sim/machines.h"
#include "sim/trace.h"

namespace amf::sim {

struct Options {
  FaultSpec faults;  // random faults while running (run_for/run_until), none while settling
  Latencies latencies;
  // Liveness is judged once no fault and no admin operation has happened for this long.
  Duration quiet_period = std::chrono::minutes(5);
  // An admin request must be answered within this (the director's own limit is 60 s).
  Duration admin_answer_limit = std::chrono::seconds(90);
  std::size_t trace_lines = 400;  // kept for the violation report
  bool keep_full_trace = false;   // keep every line (tests comparing whole traces)
  // Limits: steps at one simulated instant (a core that never lets time advance), scheduled
  // events, processes that ignored SIGKILL and run on. Exceeding one is a violation.
  std::uint64_t max_steps_per_instant = 100'000;
  std::size_t max_scheduled = 1'000'000;
  std::size_t max_stuck_processes = 1'000;
  // The invariants are checked after every step on what the step touched (the SGs and CSIs
  // its events, commands, reports and notifications concern), and on everything every
  // kFullCheckEvery steps and at the end of run_until() and settle(). True: on everything
  // after every step (tests comparing the two).
  bool check_everything_every_step = false;
  // The node the director runs on: its crash is the director's too, and every new director is
  // elected on the first node of the view. None: the director runs apart and dies only by a
  // director fault.
  std::optional<NodeId> director_node;
  // Every node runs the real membership and director election (runtime::ClusterNode, the core
  // amfd hosts) over the simulated network and a model of etcd (sim/membership.cc): nodes are
  // declared gone, fence themselves and elect the director as the cores decide, not after the
  // latencies node_detect and director_elect. The director runs on the node that won its
  // epoch; a director crash is its node's crash; a partition cuts a node off from every other
  // node and from etcd, the director's node included. director_node is then ignored.
  bool membership = false;
  // The checkpoint service (amf/checkpoint/service.h, the core amfd hosts) runs on every node
  // that is up, with replicas in memory, over the simulated network; in each SG (but N-way-
  // active ones) every SI has a synchronous checkpoint, and the component that becomes active
  // for the SI's first CSI is its writer: it reads the counter there and increments it while
  // it stays active (sim/checkpoints.cc). The invariant: what it reads holds every increment
  // acknowledged before (invariants.h, check_checkpoint_read).
  bool checkpoints = false;
  // With checkpoints: every node keeps its replicas on a disk of its own, as amfd's
  // `checkpoint_store: file` (Settings::durable: a synchronous write is acknowledged once every
  // replica in service has it on disk). The disk outlives the node's lives; a record reaches it
  // 0.1 to 2 ms after the replica applied it, in order, and a life that ends loses the records
  // still on their way. A node's next life restores its replicas from it.
  bool checkpoint_files = false;
  // checkpoint::Settings::recovery_wait (amfd takes it from checkpoint_recovery_wait_ms; the
  // simulator from here only).
  Duration checkpoint_recovery_wait = std::chrono::seconds(1);
  // A writer's next increment comes this long after the answer to its last.
  LatencyRange checkpoint_write_gap{std::chrono::milliseconds(50), std::chrono::milliseconds(500)};
  std::function<void(const std::string&)> trace_sink;  // every trace line, as it happens
  std::function<void(const model::Notification&)> on_notification;
  std::function<void(const director::AdminResult&)> on_admin_result;
};

struct Stats {
  std::uint64_t steps = 0;
  std::array<std::uint64_t, kFaultKinds> faults{};  // injected (armed or struck), by kind
  std::uint64_t failovers = 0;     // an SI's active assigned after its active was lost
  std::uint64_t switchovers = 0;   // an SI's active moved by an admin operation
  std::uint64_t restarts = 0;      // component-restart recoveries
  std::uint64_t su_failovers = 0;  // component-failover recoveries
  std::uint64_t repairs = 0;       // auto-repairs and repair operations
  std::uint64_t admin_requests = 0;
  std::uint64_t admin_ok = 0;
  std::uint64_t admin_failed = 0;  // refused, failed or timed out
  std::uint64_t process_starts = 0;
  std::uint64_t notifications = 0;
  std::uint64_t node_crashes = 0;
  std::uint64_t node_stops = 0;  // amfds stopped (stop_node) that left and exited
  std::uint64_t node_boots = 0;
  std::uint64_t envelopes_lost = 0;        // by network faults and partitions
  std::uint64_t envelopes_duplicated = 0;  // by network faults
  std::uint64_t partitions = 0;
  std::uint64_t director_crashes = 0;
  std::uint64_t fences = 0;     // (membership) node lives ended by their lease or the director
  std::uint64_t datagrams = 0;  // (membership) sent
  std::uint64_t deposed = 0;    // (membership) directors still acting when a newer took over
  // (checkpoints) Increments acknowledged; reads by a component that became active; reads that
  // missed acknowledged increments because every replica that held them was gone (in memory:
  // their nodes crashed or were fenced), or because the recovery went on without a replica that
  // did not answer; synchronous writes that failed (timed out, superseded, refused).
  std::uint64_t checkpoint_acks = 0;
  std::uint64_t checkpoint_reads = 0;
  std::uint64_t checkpoint_lost_with_replicas = 0;
  std::uint64_t checkpoint_lost_silent = 0;
  std::uint64_t checkpoint_write_failures = 0;
};

struct Violation {
  std::string invariant;  // safety, settled, admin, liveness, process, livelock, limit
  std::string message;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  TimePoint time;
  std::string trace;  // the last trace lines up to the violation

  // "VIOLATION of safety at step 12, t=62.013s (seed 42): ...", then the trace.
  std::string describe() const;
};

// The deterministic whole-cluster simulator: the real director and node director cores, hosted
// by the runtime amfd hosts them in (amf/runtime: one runtime per node that is up, the director
// in a seat of its own), with simulated time, simulated processes and components, injected
// faults, and the invariants of invariants.h checked after every step. The simulator is the
// runtimes' host and transport: it carries out the node effects with simulated processes and
// delivers between the runtimes at once, every node's events first in, first out.
//
// A step is one scheduled event (a process starting, registering, answering, exiting; a fault;
// an admin request) or one tick of the cores at their next deadline, plus everything it sets
// off at the same instant (the pump). Ticks run before events due at the same instant; events
// of one instant run in the order they were scheduled. Randomness comes only from a
// std::mt19937_64 seeded with `seed`: the same seed, configuration and options give a
// byte-identical trace. The first violation stops the run (violation() says which).
//
// Single-threaded; not thread-safe. Owns its cores; borrows nothing.
class Simulation : private runtime::Transport, private Surroundings, private Controller {
 public:
  // Fails when the configuration uses something the cores cannot run (supported.h).
  static Result<std::unique_ptr<Simulation>> create(
      std::shared_ptr<const model::ClusterConfig> config, std::uint64_t seed, Options options = {});

  // Every node comes up (NodeUp); instantiation begins. Runs the start-up instant.
  void start();
  void run_for(Duration d) { run_until(now_ + d); }
  void run_until(TimePoint end);
  // Random faults off (those the random injector armed are disarmed; faults asked for with
  // the calls below stay armed); runs until nothing is scheduled and no core has a
  // deadline, at most the quiet period, then checks liveness. Returns the simulated time taken.
  Duration settle();
  void set_faults(const FaultSpec& faults);

  // Faults on demand, at the current instant (scripts and tests). The first two return false
  // when the component has no process to strike.
  bool crash(const CompId& comp);
  bool hang(const CompId& comp);
  void fail_starts(const CompId& comp, int count);
  void slow_callbacks(const CompId& comp, int count);
  void fail_callbacks(const CompId& comp, int count);
  void fail_cleanup(const CompId& comp);
  // The component reports an error about itself (saAmfComponentErrorReport); false when it
  // has no registered process.
  bool report_error(const CompId& comp);
  // A misbehaving component takes an HA state nobody gave it (tests of the safety check).
  bool force_belief(const CompId& comp, const CsiId& csi, model::HaState ha);
  // The node crashes: every process on it ends at once (those that ignore SIGKILL too), its
  // node director is gone, and the director learns it (NodeDown) after the detection latency.
  // False when the node is down already. boot_node: it comes back with a fresh node director
  // and says NodeUp; false when it is up. A node crashed by a random fault boots by itself
  // after the boot latency.
  bool crash_node(const NodeId& node) { return crash_node(node, true); }
  bool boot_node(const NodeId& node);
  // The node's amfd is stopped (SIGTERM): it leaves (node::Leave; the director moves its
  // assignments to other nodes), ends its components once it holds none or at amfd's bound,
  // then exits: the node is down, as after a crash (a random stop boots it again after the boot
  // latency, as a random crash). False when it is down or stopping already.
  bool stop_node(const NodeId& node) { return stop_node(node, false); }
  // A network partition: the node is cut off from the director's seat for `length`, both ways,
  // or only its messages to the director (kToDirector) or only the director's to it
  // (kFromDirector), or the cut comes and goes every 20 to 200 ms (kFlapping). While the node
  // cannot be heard, the membership declares it gone after the detection latency (NodeDown);
  // nothing fences it yet (the cluster issue's membership will), so it keeps its components
  // and their assignments: the hazard that fencing removes. When the cut heals, the node is
  // heard again (NodeUp). False when the node is down.
  enum class Cut { kBoth, kToDirector, kFromDirector, kFlapping };
  bool partition(const NodeId& node, Cut cut, Duration length);
  bool node_up(const NodeId& node) const { return nodes_.count(node) > 0; }
  // The node is up in life `life` (its incarnation then): no crash, fence or exit since.
  bool life_up(const NodeId& node, std::uint64_t life) const {
    const auto it = incarnation_.find(node);
    return node_up(node) && it != incarnation_.end() && it->second == life;
  }
  // The director's process dies; every node runs on (headless: components keep running and are
  // restarted locally, reports to the director are lost). After the election latency a new
  // director, of the next epoch, takes over: it asks every node of the membership's view for
  // its snapshot and starts from them and the admin states its predecessors left in the store.
  // Admin requests it had not answered fail ("the director was lost"); requests made while
  // there is none are refused. False while there is no director.
  bool crash_director();
  // With Options::director_node, a node crash there is also the director's.
  bool director_up() const { return director_up_; }
  const std::optional<NodeId>& director_node() const { return director_node_; }
  std::uint64_t director_epoch() const { return director_epoch_; }
  // What the node's own clock shows now (the simulated time, fast or slow by its drift).
  TimePoint node_clock(const NodeId& node) const { return local_time(node); }

  // Sends an admin request now; its id. The result arrives as the operation ends.
  std::uint64_t admin(director::AdminOp op, director::EntityKind kind, const std::string& entity);
  std::optional<director::AdminResult> admin_result(std::uint64_t id) const;

  // Nothing scheduled but bookkeeping, and no core has a deadline.
  bool idle() const;
  const std::optional<Violation>& violation() const { return violation_; }
  const Trace& trace() const { return trace_; }
  Stats stats() const;
  TimePoint now() const override { return now_; }
  std::uint64_t seed() const { return seed_; }
  const model::ClusterConfig& config() const { return *config_; }
  const director::Director& director() const { return seat_->director(); }
  std::vector<node::NodeDirector::ComponentView> components() const;
  // Every process that has not exited.
  std::vector<ProcessView> processes() const;
  // Checks liveness now, as after a quiet period (nothing when it holds).
  std::optional<std::string> check_liveness_now() const;

 private:
  // Scheduled events.
  struct NextFault {
    std::uint64_t epoch;
  };
  struct QuietCheck {
    std::uint64_t epoch;
  };
  struct AdminAsk {
    director::AdminRequest request;
  };
  struct AdminCheck {};
  struct NodeLeaves {  // the director learns that a node crashed
    NodeId node;
    std::uint64_t incarnation;  // the node's, when it crashed; stale once it has booted again
  };
  struct NodeBoots {
    NodeId node;
    std::uint64_t incarnation;  // the node's, when it crashed; stale if it has booted already
  };
  struct DirectorElected {};  // a new director has won the next epoch
  struct StopAsk {            // the signal reaches the stopping node's amfd: it leaves
    NodeId node;
    std::uint64_t life;  // the node's incarnation when it was stopped
  };
  struct StopBound {  // a stopping node's amfd ends its components now, whatever it holds
    NodeId node;
    std::uint64_t life;          // the node's incarnation when it was stopped
    bool director_lost = false;  // it no longer hears the director (else: amfd's bound)
  };
  struct AmfdExits {  // a stopping node's components have all ended: its amfd exits
    NodeId node;
    std::uint64_t life;
  };
  // (membership) A datagram arrives at a node's membership; a store request arrives at etcd;
  // etcd's answer arrives at the node life that asked.
  struct Datagram {
    NodeId from;
    NodeId to;
    membership::Message message;
  };
  struct StoreAsk {
    NodeId node;
    std::uint64_t life;
    std::variant<runtime::store::Get, runtime::store::Put> request;
  };
  struct StoreReply {
    NodeId node;
    std::uint64_t life;
    std::uint64_t id;
    runtime::store::Answer answer;
  };
  struct Deliver {  // an envelope arrives at its runtime
    protocol::Envelope envelope;
  };
  struct CutChanges {  // a partition's next step: it heals, or (flapping) toggles
    NodeId node;
    std::uint64_t cut;  // stale when another cut of the node has begun since
  };
  // (checkpoints) A replica's message arrives at another node; a writer's next increment is due.
  struct CheckpointDeliver {
    NodeId from;
    NodeId to;
    std::uint64_t life;  // the receiver's, when it was sent: lost if its life ended since
    checkpoint::Message message;
  };
  struct CheckpointWrite {
    std::uint64_t pid;
    SiId si;
  };
  struct CheckpointStored {  // (checkpoint_files) a record reaches the node's disk
    NodeId node;
    std::uint64_t life;  // the writer's: lost if its life ended since
    checkpoint::CheckpointName name;
    checkpoint::Attributes attributes;
    checkpoint::Persist record;
  };
  struct CutDetected {  // the membership has not heard a cut-off node for the detection latency
    NodeId node;
    std::uint64_t cut;
    TimePoint since;  // when the node's messages began to be lost; stale if heard since
  };
  // Work (idle() waits for it): the machines' events but their periodic ones, and the first
  // kWorkKinds alternatives; the rest are bookkeeping or periodic and change nothing.
  using Scheduled = std::variant<MachineEvent, AdminAsk, NodeLeaves, NodeBoots, Deliver, CutChanges,
                                 CutDetected, DirectorElected, StopAsk, AmfdExits, StopBound,
                                 NextFault, QuietCheck, AdminCheck, Datagram, StoreAsk, StoreReply,
                                 CheckpointDeliver, CheckpointWrite, CheckpointStored>;
  // StopBound is bookkeeping: it is stale once the node has exited, and idle() waits for a
  // node that is stopping (stopping_) anyway.
  static constexpr std::size_t kWorkKinds = 10;
  static bool is_work(const Scheduled& what) {
    const auto* machine = std::get_if<MachineEvent>(&what);
    return machine != nullptr ? Machines::is_work(*machine) : what.index() < kWorkKinds;
  }
  struct Entry {
    TimePoint time;
    std::uint64_t seq;
    Scheduled what;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };

  // The hosts of the runtimes: the director's seat, and each node that is up.
  struct SeatHost : runtime::Host {
    explicit SeatHost(Simulation& s) : sim(s) {}
    void carry_out(const node::Effect&) override;  // a seat has no node director
    void admin_result(const director::AdminResult& r) override { sim.answered(r); }
    void notify(const model::Notification& n) override { sim.note(n); }
    // The store (etcd, in amfd): what the next director reads.
    void admin_state(const director::AdminStateChanged& e) override;
    void took_over() override;
    Simulation& sim;
  };
  struct NodeHost : runtime::Host {
    NodeHost(Simulation& s, NodeId n) : sim(s), node(std::move(n)) {}
    void carry_out(const node::Effect& effect) override { sim.carry_out(node, effect); }
    void admin_result(const director::AdminResult&) override;  // only the seat answers
    void notify(const model::Notification& n) override { sim.note(n); }
    Simulation& sim;
    NodeId node;
  };
  struct SimNode {
    SimNode(Simulation& s, const NodeId& id);
    NodeHost host;
    runtime::NodeRuntime runtime;
    // (checkpoints) The node's checkpoint service, and the lives it was last told are up.
    std::optional<checkpoint::Service> checkpoints;
    std::map<NodeId, std::uint64_t> checkpoint_members;
    // What the lives were last read from (the view's id with the membership, else
    // nodes_changes_), and the service's next deadline in simulated time as it last left it.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> checkpoint_view;
    std::optional<TimePoint> checkpoint_due;
  };

  Simulation(std::shared_ptr<const model::ClusterConfig> config, director::Director director,
             std::uint64_t seed, Options options);

  // runtime::Transport: a trace line for each message, then the network (delivered at once, in
  // the order sent, when no network fault is set).
  void send(const protocol::Envelope& envelope) override;
  void arrive(const protocol::Envelope& envelope);
  void to_the_director(const director::Event& event);
  void answered(const director::AdminResult& r);

  // ---- the loop (simulation.cc) ----
  bool step(TimePoint limit);
  std::optional<TimePoint> core_deadline() const;
  void pump();
  // A node's runtime was handed something: its effects are carried out in this pump, and its
  // deadline re-indexed after it.
  void stir(const NodeId& node);
  void refresh_deadlines();
  void deliver(const NodeId& node, node::Event event);
  void schedule(Duration after, Scheduled what);
  void schedule(Duration after, MachineEvent event) override {
    schedule(after, Scheduled(std::move(event)));
  }
  void handle(const Scheduled& what);
  void note(const model::Notification& n);
  static constexpr std::uint64_t kFullCheckEvery = 512;
  void check_invariants(bool everything = false);
  // What a step touched, for check_invariants(): an entity named in a notification, command,
  // report or admin request (an SU, component, SI, CSI, SG, application or node) marks its SGs
  // and the SGs whose SIs depend on theirs; an unknown name marks everything.
  void touch(const std::string& entity);
  void touch(const director::Event& event);
  void touch(const protocol::Message& message);
  void check_quiet(const std::string& when);
  void violate(std::string invariant, std::string message) override;
  void disturbed() override;
  void line(std::string text) override;
  std::string header() const override;
  std::set<SiId> served_anywhere() const;

  // ---- the controller of the machines (cluster.cc) ----
  // The node effects: the host protocol and the AMF component protocol, to the machines.
  void carry_out(const NodeId& node, const node::Effect& effect);
  // Controller: what the machines report goes to the node's runtime.
  void host_report(const NodeId& node, HostReport report) override;
  void component_message(const NodeId& node, ComponentMessage message) override;
  void on(const AdminAsk& e);
  void on(const NextFault& e);
  void on(const QuietCheck& e);
  void on(const AdminCheck& e);
  void on(const NodeLeaves& e);
  void on(const NodeBoots& e);
  void on(const DirectorElected& e);
  void on(const StopAsk& e);
  void on(const StopBound& e);
  void on(const AmfdExits& e);
  // The stopping nodes' next steps, from the pump: Shutdown once a node holds nothing, its
  // amfd's exit once its components have ended. True when it delivered something.
  bool advance_stops();
  void lose_director(const std::string& how);
  void on(const Deliver& e);
  void on(const CutChanges& e);
  void on(const CutDetected& e);
  // ---- the membership and etcd (membership.cc) ----
  void join_membership(const NodeId& node);
  void carry_out_membership(const NodeId& node);
  void tick_membership();
  std::optional<TimePoint> membership_deadline() const;
  // Every node that is up holds its lease under the director of the newest epoch, which has
  // taken over and has every such life in its view.
  bool membership_settled() const;
  void end_life(const NodeId& node, const std::string& cause);
  // A fault (counted), or (Options::membership) a life that ended; `how` says how (not a
  // fault; default: fenced).
  bool crash_node(const NodeId& node, bool fault, std::string_view how = {});
  bool stop_node(const NodeId& node, bool boots);
  std::optional<TimePoint> runtime_deadline() const;
  void take_office(const NodeId& node, const runtime::TakeOver& t);
  void on(const Datagram& e);
  void on(const StoreAsk& e);
  void reply(const StoreAsk& e, std::uint64_t id, runtime::store::Answer answer);
  void on(const StoreReply& e);
  // The node an envelope's end is on: the director's seat is on the director's node.
  NodeId where(const NodeId& end) const;
  // ---- the checkpoints (checkpoints.cc) ----
  // Writers come and go with the components' beliefs; the services hear the views.
  void init_checkpoints();
  void drive_checkpoints();
  void checkpoint_members(const NodeId& node, SimNode& n);
  std::optional<TimePoint> checkpoint_deadline() const;
  void tick_checkpoints();
  // Carries out the node's checkpoint effects: sends, answers to writers, reports.
  void carry_out_checkpoints(const NodeId& node);
  void on(const CheckpointDeliver& e);
  void on(const CheckpointWrite& e);
  void on(const CheckpointStored& e);
  void restore_checkpoints(const NodeId& node, checkpoint::Service& service);
  struct Writer;
  void open_checkpoint(Writer& w);
  // Records how the node's replica of `name` became active, if `act` made it so.
  template <class Act>
  void activating(const NodeId& node, const checkpoint::CheckpointName& name, Act act);
  void read_checkpoint(Writer& w);
  void answered_write(const NodeId& node, const checkpoint::Answer& answer);
  checkpoint::Service* checkpoint_service(const NodeId& node);
  // ---- the network (network.cc) ----
  // The envelope's fate on a faulty network: lost, or delivered (once or twice) after a delay.
  void transmit(const protocol::Envelope& e);
  bool cut_off(const protocol::Envelope& e) const;
  // What one node sends another directly (membership datagrams, replicas' messages) is lost:
  // the sender's messages or the receiver's are cut.
  bool cut_between(const NodeId& from, const NodeId& to) const;
  void random_partition();
  // A node's own clock (drift), and when the simulated clock reaches a time of the node's.
  TimePoint local_time(const NodeId& node) const;
  TimePoint global_time(const NodeId& node, TimePoint local) const;
  double chance();  // uniform in [0, 1)
  // The entity (a component or an SU) has faults armed by a script or a test still to come:
  // its failures are injected, not a loop of the cores.
  bool fault_pending(const std::string& entity) const { return machines_.fault_pending(entity); }
  bool spare_move_for_a_fault(const model::Notification& n) const;
  void inject_random_fault();
  // A fault kind's share of the fault rate: rate x components, nodes, or 1 (admin).
  double fault_weight(FaultKind kind) const;
  void random_admin();
  void remember_admin_state(const director::AdminRequest& request);
  // Before a repair the operator ends what survived a failed cleanup on the SUs it repairs.
  void clean_up_before_repair(director::EntityKind kind, const std::string& entity);
  std::set<SgId> affected_sgs(director::EntityKind kind, const std::string& entity) const;
  void schedule_next_fault();

  Duration draw(const LatencyRange& range) override;
  std::uint64_t uniform(std::uint64_t n) override;  // in [0, n)

  std::shared_ptr<const model::ClusterConfig> config_;
  SeatHost seat_host_{*this};
  std::unique_ptr<runtime::NodeRuntime> seat_;  // the director's (the last one's, while down)
  bool director_up_ = true;
  std::optional<NodeId> director_node_;  // Options::director_node; the current director's
  std::uint64_t director_epoch_ = 1;
  std::uint64_t director_life_ = 0;    // the seat's incarnation: a new one for every director
  bool took_over_ = true;              // the seat's takeover is over
  director::AdminStates admin_store_;  // what the directors left in the store
  std::map<NodeId, std::unique_ptr<SimNode>> nodes_;  // the nodes that are up
  std::uint64_t nodes_changes_ = 0;                   // grows whenever nodes_ changes
  std::map<NodeId, std::uint64_t> incarnation_;       // bumped by every crash
  struct Stopping {                                   // a node whose amfd was stopped (stop_node)
    std::uint64_t life = 0;
    bool boots = false;     // it boots again once its amfd has exited (a random fault)
    bool shutting = false;  // Shutdown delivered
    bool exiting = false;   // AmfdExits scheduled
  };
  std::map<NodeId, Stopping> stopping_;
  // (Options::membership) Each up node's cluster core, and etcd's keys.
  std::map<NodeId, std::unique_ptr<runtime::ClusterNode>> members_;
  struct EtcdKey {
    std::string value;
    std::int64_t mod_revision = 0;
  };
  std::map<std::string, EtcdKey> etcd_;
  std::int64_t etcd_revision_ = 0;
  std::uint64_t seed_;
  Options options_;
  std::mt19937_64 rng_;
  TimePoint now_{};
  std::uint64_t same_instant_steps_ = 0;

  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t next_seq_ = 0;
  std::size_t scheduled_work_ = 0;  // queued process events (not bookkeeping)
  // Whose queued event is next, over all nodes: this instant's events, first in, first out.
  std::deque<NodeId> delivered_;
  std::set<NodeId> pending_;  // stirred: effects to carry out in this round of the pump
  std::set<NodeId> stirred_;  // stirred since the deadlines were last re-indexed
  // Every node's next deadline, in simulated time (its own clock's converted), by time: so a
  // step looks at the due nodes, not at every node of a thousand.
  std::set<std::pair<TimePoint, NodeId>> node_deadlines_;
  std::map<NodeId, TimePoint> deadline_of_;

  Machines machines_;  // every process on every node
  std::map<CompId, SgId> sg_of_comp_;
  std::vector<CompId> all_comps_;
  std::vector<SuId> all_sus_;
  std::vector<SiId> all_sis_;
  Duration quiet_period_;
  // Touched since the last check: SGs (see touch()); the machines keep the CSIs.
  std::set<SgId> touched_sgs_;
  bool touched_all_ = false;
  std::uint64_t steps_since_full_check_ = 0;
  std::map<std::string, std::vector<SgId>> sgs_of_entity_;
  std::map<SgId, std::vector<SgId>> dependent_sgs_;  // an SG -> SGs with SIs depending on its SIs
  std::set<SgId> sgs_with_dependencies_;
  std::optional<model::Notification> last_error_;  // the last error or recovery notification

  FaultSpec faults_;
  bool faults_on_ = true;
  // The network: each node's clock drift (parts per million; drawn once, only when asked for)
  // and the partitions in force.
  std::map<NodeId, double> drift_ppm_;
  struct CutState {
    std::uint64_t id = 0;
    Cut kind = Cut::kBoth;
    bool to_director = false;    // the node's envelopes to the director are lost
    bool from_director = false;  // the director's envelopes to the node are lost
    TimePoint since;             // when to_director last became true
    TimePoint until;
  };
  std::map<NodeId, CutState> cuts_;
  std::set<NodeId> unheard_;  // declared gone by a partition (not crashed)
  std::uint64_t next_cut_ = 1;
  std::uint64_t fault_epoch_ = 0;
  std::uint64_t quiet_epoch_ = 0;

  AdminLedger ledger_;
  std::uint64_t next_admin_id_ = 1;
  std::map<std::uint64_t, director::AdminResult> results_;
  std::map<std::uint64_t, director::AdminRequest> asked_;  // unanswered requests
  // Entities the random injector (or the configuration: initial admin states) has left locked
  // (kind, entity) -> their admin state, so it can undo what it did: without that a cluster
  // soon stays locked for the rest of the run.
  // In the order of the kinds' names (the order the random injector draws from).
  struct ByKindName {
    bool operator()(const std::pair<director::EntityKind, std::string>& a,
                    const std::pair<director::EntityKind, std::string>& b) const {
      return std::pair(to_string(a.first), std::string_view(a.second)) <
             std::pair(to_string(b.first), std::string_view(b.second));
    }
  };
  std::map<std::pair<director::EntityKind, std::string>, model::AdminState, ByKindName>
      left_locked_;

  // (checkpoints) The SIs with a checkpoint, by the CSI whose active component writes it; each
  // SI's checkpoint name and the nodes of its SG's SUs.
  struct CheckpointedSi {
    SiId si;
    CsiId csi;
    checkpoint::CheckpointName name;
    std::set<NodeId> placement;
  };
  std::map<CsiId, CheckpointedSi> checkpointed_;
  std::set<CsiId> checkpointed_csis_;
  // A component's process that is active for a checkpointed SI: it opens the checkpoint, reads
  // the counter once its replica is active and has recovered, then increments it.
  struct Writer {
    std::uint64_t pid = 0;
    NodeId node;
    std::uint64_t life = 0;
    CompId comp;
    std::uint64_t peer = 0;
    const CheckpointedSi* si = nullptr;
    std::uint64_t generation = 0;  // its active replica's, once it has read
    // Opening (its node director has the assignment), waiting for its replica to be active and
    // recovered, writing, or refused (a newer active replica; it never writes).
    enum class State { kOpening, kRecovering, kWriting, kRefused } state = State::kOpening;
    std::uint64_t value = 0;   // the counter, as it read or wrote it last
    bool writing = false;      // an increment is in flight
    std::uint64_t serial = 0;  // tells the writers of one pid apart
  };
  std::map<std::pair<std::uint64_t, SiId>, Writer> writers_;
  std::uint64_t writers_seen_ = ~std::uint64_t{0};  // Machines::belief_changes() at the last scan
  // Per checkpoint: the newest increment acknowledged and the active replica's position once it
  // was (positions order histories: a replica at or past it holds it), and the least value
  // each generation's new actives read.
  struct CheckpointLedger {
    std::uint64_t acked = 0;
    checkpoint::Position acked_at;
    std::map<std::uint64_t, std::uint64_t> reads;
  };
  std::map<SiId, CheckpointLedger> checkpoint_ledger_;
  struct WriteAsked {
    std::uint64_t pid;
    SiId si;
    checkpoint::CheckpointName name;
    std::uint64_t value;
    std::uint64_t generation;
    std::uint64_t writer;  // Writer::serial: an answer for an earlier writer of the pid is not its
  };
  std::map<std::uint64_t, WriteAsked> writes_asked_;  // by request id
  std::uint64_t next_write_request_ = 1;
  // How each node's replica of a checkpoint last became the active one: whether it was in service
  // then (it holds every acknowledged write, no recovery), and the replicas its recovery went on
  // without. Set when a replica that was not active becomes active.
  struct Activation {
    bool in_service = false;
    std::vector<NodeId> silent;
  };
  std::map<std::pair<NodeId, checkpoint::CheckpointName>, Activation> activations_;
  std::uint64_t next_writer_ = 1;
  // When the last message on each link arrives: links deliver in order.
  std::map<std::pair<NodeId, NodeId>, TimePoint> link_free_;
  // (checkpoint_files) What each node's disk holds, by checkpoint, and when its last record
  // is written.
  struct Disk {
    std::optional<checkpoint::Sections> content;
    checkpoint::Position at;
  };
  std::map<NodeId, std::map<checkpoint::CheckpointName, Disk>> disks_;
  std::map<NodeId, TimePoint> disk_free_;

  Trace trace_;
  Stats stats_;
  std::optional<Violation> violation_;
};

}  // namespace amf::sim
