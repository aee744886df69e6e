#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"
#include "amf/director/admin.h"
#include "amf/model/config.h"
#include "amf/model/notification.h"
#include "amf/model/recovery_ceiling.h"
#include "amf/protocol/messages.h"
#include "models/policy.h"

namespace amf::director {

// A node's amfd is up and its node director takes commands.
struct NodeUp {
  NodeId node;
  // The node's life (a new one each time its amfd starts): the runtime opens its link to this
  // life of the node.
  std::uint64_t incarnation = 0;
};

// A node has left the cluster (it crashed, its amfd died, or the membership lost it): nothing
// on it runs any more as far as the cluster is concerned, so every assignment of its SUs is
// gone and their SIs fail over at once. Membership guarantees that (a node cut off from the
// cluster fences itself). When it comes back it says NodeUp and its SUs are instantiated
// afresh. A NodeUp for a node that is up means it restarted unnoticed: it is taken as a
// NodeDown first.
struct NodeDown {
  NodeId node;
  std::string cause;
};

// protocol::NodeLeaving: the node's amfd is stopping. Its SUs go out of service as if the node
// were locked (their actives are quiesced and switched over, their standbys removed) and
// nothing is instantiated on it, but its admin state stays: no AdminStateChanged, and the next
// life of the node (NodeUp), or its NodeDown, ends it.
using Event = std::variant<NodeUp, NodeDown, protocol::SuStateReport, protocol::AssignmentDone,
                           protocol::RemovalDone, protocol::NodeLeaving, AdminRequest>;

// Send `command` to the node director of `node`.
struct ToNode {
  NodeId node;
  protocol::NodeCommand command;
};

// An entity's admin state changed. A host keeps every admin state where a director that takes
// over reads it (etcd, in a cluster of several nodes: admin states outlive the director's node).
// `entity` as in an AdminRequest; empty for the cluster.
struct AdminStateChanged {
  EntityKind kind = EntityKind::kSu;
  std::string entity;
  model::AdminState state = model::AdminState::kUnlocked;
};

// The admin states that differ from the configured ones, by entity (kind and name, as
// AdminStateChanged names them): what a director that takes over starts from.
using AdminStates = std::map<std::pair<EntityKind, std::string>, model::AdminState>;

// What a newly elected director starts from: its epoch, the admin states the directors before
// it left in the store, and a snapshot of each node that is up (the membership's view); a node
// without a snapshot is down.
struct Takeover {
  std::uint64_t epoch = 1;
  AdminStates admin;
  std::vector<protocol::NodeSnapshot> nodes;
};

using Effect = std::variant<ToNode, AdminResult, model::Notification, AdminStateChanged>;

// The cluster-level core: owns admin state and SI assignments, asks each SG's redundancy
// policy for the target assignment table and sequences the HA transitions towards it.
//
// Sequencing rule: an SG has at most one batch of commands outstanding. When every command of
// the batch is acknowledged, the SG is re-evaluated and the next batch issued, in the order
//   1. release: an active that must go is quiesced (quiescing when its SU is shutting down),
//      a standby that must go is removed — nothing is promoted while an old active may act;
//   2. promotions to active (switchover when the old active was quiesced, failover when it
//      was lost);
//   3. quiesced assignments become standby or are removed;
//   4. new standby assignments.
// A lost SU (fault) skips the quiesce: its assignments are gone when it is reported.
// Effects are emitted in the order they must be carried out. A disabled SU is auto-repaired
// only once its SG has nothing outstanding, so a repair never delays a failover; and at most
// kSuAutoRepairCeiling times without a quiet period in between, whatever the configuration:
// past that it stays disabled until an operator repairs it (amf/model/recovery_ceiling.h).
//
// Single-threaded, sans-I/O, deterministic. Not thread-safe.
class Director {
 public:
  struct SuView {
    SuId id;
    SgId sg;
    NodeId node;
    // Its admin state as its node, SG and application make it (what decides its readiness).
    model::AdminState admin;
    model::OperState oper;
    model::PresenceState presence;
    model::ReadinessState readiness;
    bool node_up = false;
    // Its own admin state (saAmfSUAdminState): what an operation on the SU itself set.
    model::AdminState own_admin = model::AdminState::kUnlocked;
  };

  // Fails when a service group uses a redundancy model this build does not implement.
  static Result<Director> create(std::shared_ptr<const model::ClusterConfig> config);

  void handle(const Event& event, TimePoint now);
  void tick(TimePoint now);

  // A new director takes over from one that is gone (its node died, or it lost its role), on a
  // director that has handled nothing yet. Its tables are rebuilt from the snapshots: each
  // SU's presence and operational state and the assignments its node holds. An assignment the
  // node was still carrying out is asked for again under this epoch (the node answers the
  // newest command); an SI left without an active fails over. Then every SG is evaluated as
  // after any event: the SUs of nodes without a snapshot are down, and their SIs move.
  // What is lost: admin operations in progress (their requests are never answered; the admin
  // states they set are kept), and the SUs' auto-repair counts. Command ids are unique across
  // epochs, so an answer to an earlier director's command completes nothing here.
  void take_over(const Takeover& takeover, TimePoint now);
  // A director that starts afresh (every node's processes are gone, as when a one-node amfd
  // restarts) from the admin states a predecessor left in the store, applied over the
  // configured ones, on a director that has handled nothing yet. An entity the configuration
  // does not have is skipped with an error notification, as in take_over(). `epoch` numbers
  // this start (the upper half of its command ids, as in take_over()): a checkpoint's active
  // replica takes its generation from a command id, and a file store keeps generations across
  // restarts, so they must only grow.
  void restore_admin(const AdminStates& admin, std::uint64_t epoch, TimePoint now);
  // Every admin state that is not the one the configuration gives (the store's contents, as
  // AdminStateChanged keeps them: a host stores each change, unlocked included).
  AdminStates admin_states() const;
  std::optional<TimePoint> next_deadline() const;
  std::vector<Effect> take_effects();

  // Every SU, SG by SG in configuration order, each SG's SUs in configuration order.
  std::vector<SuView> service_units() const;
  // The SUs of one SG, in configuration order (none for an unknown SG).
  std::vector<SuView> service_units(const SgId& sg) const;
  // Acknowledged assignments of an SG's SIs, in SI order.
  models::AssignmentTable assignments(const SgId& sg) const;
  // True while an SG has commands outstanding.
  bool busy(const SgId& sg) const;
  // An SI's own admin state (lock, unlock, shutdown on the SI): unlocked, shutting-down or
  // locked. A locked SI is assigned nowhere.
  model::AdminState si_admin(const SiId& si) const;
  // The own admin state of an SG, a node, an application, the cluster (unlocked for an
  // unknown entity).
  model::AdminState sg_admin(const SgId& sg) const;
  model::AdminState node_admin(const NodeId& node) const;
  model::AdminState app_admin(const AppId& app) const;
  model::AdminState cluster_admin() const { return cluster_admin_; }
  // The node is up and its amfd stopping (protocol::NodeLeaving).
  bool node_leaving(const NodeId& node) const { return nodes_leaving_.count(node) > 0; }

 private:
  struct SuState {
    const model::SuConfig* config = nullptr;
    SgId sg;
    model::AdminState admin = model::AdminState::kUnlocked;
    model::OperState oper = model::OperState::kEnabled;
    model::PresenceState presence = model::PresenceState::kUninstantiated;
    bool node_up = false;
    model::ReadinessState readiness = model::ReadinessState::kOutOfService;
    std::uint64_t reports = 0;   // SuStateReports received
    bool repair_wanted = false;  // auto-repair once the SG has nothing outstanding
    std::string repair_cause;
    model::RecoveryStreak auto_repairs;  // towards kSuAutoRepairCeiling
    bool instantiate_sent = false;       // InstantiateSu sent and not yet reported on
    // A surplus SU told to terminate (it goes back to being a spare): given nothing new, even
    // while it still reports itself instantiated.
    bool leaving = false;
  };
  struct PendingOp {
    SuId su;
    SiId si;
    std::optional<model::HaState> ha;  // nullopt: removal
    protocol::CommandId id = 0;        // the command's, once issued
    // From a takeover: what an SU whose processes were being ended held. No command is sent;
    // the SU's next report settles it (on(SuStateReport)).
    bool held = false;
    // The admin operation in progress on the SG when the command was issued ("lock su
    // app/su-1"): the cause the HA change is recorded with. Empty for none.
    std::string cause;
  };
  // What an admin operation acts on: the admin state it changes, the SUs that feel it and
  // their SGs.
  struct AdminTarget {
    model::AdminState* admin = nullptr;
    std::vector<SuId> sus;
    std::set<SgId> sgs;
  };
  struct AdminInProgress {
    AdminRequest request;
    std::set<SgId> sgs;
    std::vector<SuId> sus;
    TimePoint deadline;
    // Repair and unlock-instantiation: the SUs told to instantiate, with their report count
    // then; an SU is judged only on a report that came after.
    std::map<SuId, std::uint64_t> waiting;
    // What a successful result adds: for unlock-instantiation, the SUs it could not start
    // and why.
    std::string remark;
  };
  struct SgState {
    const model::SgConfig* config = nullptr;
    std::unique_ptr<models::RedundancyPolicy> policy;
    models::AssignmentTable current;  // acknowledged
    std::vector<PendingOp> pending;
    std::set<SiId> lost_active;  // SIs whose active was lost by a fault: next active fails over
    std::optional<SiId> swap;    // an SI swap asked for and not yet started
    bool adjust = false;         // an SG adjust asked for and not yet started
    std::optional<TimePoint> auto_adjust_at;  // auto-adjust due then (once the SG is idle)
    // Dependent SIs whose sponsor lost its active: when their actives must go.
    std::map<SiId, TimePoint> dependency_deadline;
    // What each standby assignment was last told of its SI's active (AssignHa::active; nullopt:
    // that there was none; a takeover learns it from the snapshots).
    std::map<std::pair<SuId, SiId>, std::optional<SuId>> told_active;
    model::AdminState admin = model::AdminState::kUnlocked;
    std::optional<TimePoint> timer;  // its entry in timers_, if it has one
  };

  explicit Director(std::shared_ptr<const model::ClusterConfig> config);

  void on(const NodeUp& e, TimePoint now);
  void on(const NodeDown& e, TimePoint now);
  void on(const protocol::SuStateReport& e, TimePoint now);
  void on(const protocol::AssignmentDone& e, TimePoint now);
  void on(const protocol::RemovalDone& e, TimePoint now);
  void on(const protocol::NodeLeaving& e, TimePoint now);
  void on(const AdminRequest& e, TimePoint now);

  // Admin operations (admin.cc).
  Result<AdminTarget> resolve(const AdminRequest& e);
  std::optional<std::string> refuse(const AdminRequest& e, const AdminTarget& target) const;
  void start(const AdminRequest& e, const AdminTarget& target, TimePoint now);
  std::optional<std::string> start_si_swap(const AdminRequest& e, TimePoint now);
  void set_admin(const AdminRequest& e, model::AdminState* admin, model::AdminState to,
                 const std::string& cause, TimePoint now);
  std::optional<Result<void>> admin_op_complete(const AdminInProgress& op, TimePoint now);
  void check_admin_ops(TimePoint now);
  models::AssignmentTable policy_input(const SgState& sg) const;
  // The most restrictive of the SU's own admin state and those of its node, SG, application
  // and the cluster: what the SU's readiness is derived from. A leaving node counts as locked.
  model::AdminState effective_admin(const SuState& su) const;
  // Whether the SU may run: not locked for instantiation, by itself or anything above it, and
  // its node not leaving.
  bool may_instantiate(const SuState& su) const {
    return effective_admin(su) != model::AdminState::kLockedInstantiation &&
           nodes_leaving_.count(su.config->node) == 0;
  }
  // What keeps the SU locked for instantiation from above ("node node-1"), or nothing.
  std::optional<std::string> instantiation_locked_by(const SuState& su) const;
  bool holds_assignments(const SuId& su) const;
  bool si_assigned(const SiId& si) const;
  // The admin operation in progress on `sg` ("lock su app/su-1"), as the cause of the HA
  // changes it brings about; nullopt when there is none.
  std::optional<std::string> admin_cause(const SgId& sg) const;

  // Some SU of the node is up with it (a node that hosts no SU is never up here).
  bool node_up(const NodeId& node) const;
  void update_readiness(SuState& su, const std::string& cause, TimePoint now);
  void drop_assignments(SgState& sg, const SuId& su, const std::string& cause, TimePoint now);
  void reevaluate(SgState& sg, TimePoint now);
  void issue_next_batch(SgState& sg, TimePoint now);
  // SI dependencies: drops from `target` the actives a dependent SI may not have now.
  void apply_dependencies(SgState& sg, models::AssignmentTable& target, TimePoint now);
  bool has_active(const SiId& si) const;
  // The SU holding `si` active in `table` (the first, N-way-active), if any.
  static std::optional<SuId> active_su(const models::AssignmentTable& table, const SiId& si);
  // Re-evaluates the SGs with SIs that depend on an SI of `sponsor_sg`.
  void reevaluate_dependents(const SgId& sponsor_sg, TimePoint now);
  void repair_sus(SgState& sg, TimePoint now);
  // Preferred in-service SUs (saAmfSGNumPrefInserviceSUs) below the SG's SU count: keeps that
  // many SUs instantiated and able to serve, by rank; spares stay uninstantiated until one is
  // lost or locked, and a surplus SU that holds nothing is terminated again.
  bool has_spares(const SgState& sg) const;
  void keep_preferred_in_service(SgState& sg, TimePoint now);
  // Completes the outstanding command `id`, which must be for `su`, `si` and `ha`; false when
  // no such command is outstanding (a late or duplicated answer, or a node that lies).
  std::optional<PendingOp> erase_pending(SgState& sg, protocol::CommandId id, const SuId& su,
                                         const SiId& si, std::optional<model::HaState> ha);
  // An SG's timer for next_deadline(): its auto-adjust, unless an admin operation holds the SG,
  // and its dependency tolerances; neither while commands are outstanding (the SG asks again
  // when it settles). What it depends on changes only where the SG is re-evaluated, an SU of
  // it changes readiness, or an admin operation of it ends: those mark it (touched_), and
  // retime() re-indexes the marked SGs at the end of handle() and tick(), so that amfd, which
  // asks for the next deadline after every event, does not look at every SG each time.
  std::optional<TimePoint> sg_timer(const SgId& id, const SgState& sg) const;
  void retime();
  // The store's admin states over the current ones (take_over(), restore_admin()).
  void apply_admin(const AdminStates& admin, TimePoint now);
  void notify(TimePoint now, model::NotificationKind kind, std::string entity, std::string related,
              std::string from, std::string to, std::string cause);

  std::shared_ptr<const model::ClusterConfig> config_;
  std::map<SuId, SuState> sus_;
  std::map<SgId, SgState> sgs_;
  std::vector<AdminInProgress> admin_ops_;  // at most one per SG
  std::map<NodeId, model::AdminState> node_admin_;
  std::set<NodeId> nodes_leaving_;  // up, and said NodeLeaving in this life
  std::map<AppId, model::AdminState> app_admin_;
  std::map<SiId, model::AdminState> si_admin_;
  std::map<SiId, SgId> sg_of_si_;
  std::map<SgId, std::set<SgId>> dependent_sgs_;  // sponsor's SG -> SGs of its dependents
  model::AdminState cluster_admin_ = model::AdminState::kUnlocked;
  std::vector<Effect> effects_;
  protocol::CommandId next_command_ = 1;
  std::set<std::pair<TimePoint, SgId>> timers_;  // every SG's timer (SgState::timer)
  std::set<SgId> touched_;                       // to re-index at the end of handle()/tick()
};

}  // namespace amf::director
