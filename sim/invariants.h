#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/time.h"
#include "amf/director/director.h"
#include "amf/model/config.h"
#include "models/policy.h"

// The simulator's invariants as pure functions of a snapshot, so that a test can feed each one
// a deliberately broken state and see it fire (an invariant that cannot fail checks nothing).
// Each returns nothing when it holds, else what is wrong in one readable paragraph.
namespace amf::sim {

// A simulated process that has not exited, as the simulator knows it.
struct ProcessView {
  std::uint64_t pid = 0;
  CompId comp;
  bool current = true;      // the component's newest process (false: an older one left running)
  bool hung = false;        // answers nothing, ignores SIGTERM
  bool stuck = false;       // ignored SIGKILL: runs on, keeps what it believed, answers nothing
  bool registered = false;  // its registration was accepted
  std::map<CsiId, model::HaState> beliefs;  // the HA state of each CSI as it last processed it
  // For each CSI it believes standby: the active component it was told with it (absent: none).
  std::map<CsiId, std::string> told_active = {};
  std::uint64_t peer = 0;  // its connection to the node director (0: none, an SA-unaware one)
  NodeId node = {};
};

// 1. Safety: no two live processes believe they are active (or still quiescing, i.e. serving)
// for one CSI; in N-way-active at most the SI's preferred_active_assignments may. Counts every
// process that has not exited, hung and stuck ones included: they may still act.
std::optional<std::string> check_safety(const model::ClusterConfig& config,
                                        const std::vector<ProcessView>& processes);

// 1b. Safety of floating service addresses: no SI's address is up on two nodes at once
// (`raised`: the nodes that have each SI's address up; a crashed node has none).
std::optional<std::string> check_service_addresses(const std::map<SiId, std::set<NodeId>>& raised);

// 1c. Checkpoints (Options::checkpoints): a component that becomes active reads, in its SI's
// checkpoint, every synchronous write acknowledged before. The counter it reads (`read`) is at
// least the newest acknowledged increment (`acked`), unless every replica that held it is gone
// (`holders`: the nodes up, in the reader's view, whose replica holds `acked` or more) or the
// reader's recovery went on without the ones that still hold it (`silent`: they did not answer
// in time). Those two are losses the simulator counts, not violations: replicas in memory die
// with their nodes, and a recovery waits for an answer only so long. With stored replicas
// (`durable`; `holders` then counts the disks of the nodes that are down) every acknowledged
// write is on a disk, so a read that misses one that no replica holds is a violation too.
struct CheckpointRead {
  std::string checkpoint;
  NodeId reader;
  std::uint64_t generation = 0;
  std::uint64_t read = 0;
  std::uint64_t acked = 0;
  std::set<NodeId> holders;
  std::set<NodeId> silent;
  bool durable = false;
  // The reader's replica was in service when it became active: it held every acknowledged
  // write, so a read without one is a violation whatever the holders.
  bool in_service = false;
};
enum class CheckpointReadVerdict { kHolds, kLostWithReplicas, kLostSilent, kViolated };
CheckpointReadVerdict judge_checkpoint_read(const CheckpointRead& r);
// Nothing when the read is judged kHolds or a counted loss; else what is wrong.
std::optional<std::string> check_checkpoint_read(const CheckpointRead& r);
// 1d. A write acknowledged to a writer whose generation is older than a new active's that read
// the checkpoint already must be in what that one read (README of amf/checkpoint, claim 4).
// `reads`: each generation's least value read by a new active.
std::optional<std::string> check_checkpoint_ack(
    const std::string& checkpoint, std::uint64_t generation, std::uint64_t value,
    const std::map<std::uint64_t, std::uint64_t>& reads);

// 2. A settled SG (nothing outstanding, no admin operation of it in progress): every
// assignment is on an in-service SU, nothing is left quiescing or quiesced, no SU holds an SI
// twice, no SI has a standby without an active, and the counts per SI, per SU and of SUs are
// within what the SG's redundancy model allows. Except for frozen SIs: an SI held by an SU
// whose cleanup failed (termination-failed) stays as it is until the SU is repaired (spec
// 3.12.1.3), wherever its assignments are. A blocked SI (a sponsor has no active) may keep a
// standby without an active.
std::optional<std::string> check_settled_sg(const model::SgConfig& sg,
                                            const models::AssignmentTable& table,
                                            const std::vector<director::Director::SuView>& sus,
                                            const std::set<SiId>& blocked = {});

// 3. Every admin request gets exactly one result, within `limit` of being asked.
class AdminLedger {
 public:
  explicit AdminLedger(Duration limit) : limit_(limit) {}

  // `sgs`: the SGs the operation concerns (none when the entity does not exist).
  void asked(std::uint64_t id, std::set<SgId> sgs, const std::string& what, TimePoint now);
  // A result arrived: nothing, or what is wrong with it (never asked, or answered twice).
  std::optional<std::string> answered(std::uint64_t id);
  // The oldest request unanswered for longer than the limit, if any.
  std::optional<std::string> overdue(TimePoint now) const;
  bool outstanding(const SgId& sg) const;
  std::size_t outstanding() const { return open_.size(); }

 private:
  struct Open {
    std::set<SgId> sgs;
    std::string what;
    TimePoint asked;
  };
  Duration limit_;
  std::map<std::uint64_t, Open> open_;
  std::map<std::uint64_t, int> answers_;  // every id ever asked -> results seen
};

// 4. Liveness, checked once the cluster has been quiet (no fault, no admin operation) for the
// quiet period. For one SG: nothing is outstanding; as many SIs are served as the model can
// serve with the SUs in service (every SI while capacity allows; frozen SIs aside); every
// live process of the SG believes exactly what the director's table says (so a served SI's
// components run, are registered and believe it active), and a standby was told the
// component that holds its CSI active, if one does; and no process runs whose
// component the node director considers not running (an orphan). An SI whose sponsor (SI
// dependency) has no active must have none either, and needs no serving.
struct LivenessInput {
  const model::SgConfig* sg = nullptr;
  bool busy = false;
  bool admin_outstanding = false;
  models::AssignmentTable table;
  std::vector<director::Director::SuView> sus;      // of this SG
  std::vector<ProcessView> processes;               // live processes of this SG
  std::map<CompId, model::PresenceState> presence;  // node directors' view of each component
  std::set<SiId> served_anywhere;                   // SIs with an active, cluster-wide
  std::set<SiId> locked;                            // SIs an operator locked or shuts down
};
std::optional<std::string> check_liveness(const LivenessInput& in);

// The SG's SIs with a sponsor (SI dependency) that is not in `served`.
std::set<SiId> blocked_sis(const model::SgConfig& sg, const std::set<SiId>& served);

// SIs held by an SU whose cleanup failed: frozen until it is repaired.
std::set<SiId> frozen_sis(const models::AssignmentTable& table,
                          const std::vector<director::Director::SuView>& sus);

// How many SIs the SG's model can serve (give an active) with `in_service` SUs in service.
int serving_capacity(const model::SgConfig& sg, int in_service);

}  // namespace amf::sim
