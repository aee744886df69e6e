#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/model/config.h"
#include "amf/model/states.h"

namespace amf::models {

// An SU as a redundancy model sees it.
struct SuCandidate {
  SuId id;
  int rank = 0;  // from SuConfig; 0 sorts after every ranked SU
  bool in_service = false;
};

struct Assignment {
  SiId si;
  SuId su;
  model::HaState ha;

  friend bool operator==(const Assignment&, const Assignment&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Assignment& a) {
    return os << a.si << " on " << a.su << " " << model::to_string(a.ha);
  }
};

using AssignmentTable = std::vector<Assignment>;

// A redundancy model as a pure policy: from the SG's configuration, its SUs (with readiness and
// rank, in configuration order) and the assignments now in force, it returns the assignment
// table the SG should have. It never sequences anything; the director diffs and sequences.
// Implementations are stateless and deterministic; thread-compatible.
//
// Contract shared by every model (no-redundancy, 2N, N+M, N-way, N-way-active):
//  - only in-service SUs appear in a target, and only as active or standby;
//  - a quiescing or quiesced entry of `current` belongs to an SU being switched away from: the
//    policy treats that SU as no longer holding the SI;
//  - sticky: an in-service SU keeps what it holds while the model allows it, even when a
//    better-ranked SU comes back (no automatic failback);
//  - idempotent: given its own output as `current` and the same readiness, a policy returns the
//    same table, so the director, which re-asks after every acknowledged batch, converges;
//  - output order: by SI, most important first; within an SI the active(s), then the standbys,
//    each group most preferred SU first.
class RedundancyPolicy {
 public:
  virtual ~RedundancyPolicy() = default;
  virtual AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                                 const AssignmentTable& current) const = 0;
};

// The policy for a redundancy model, or an error naming a model this build does not implement.
Result<std::unique_ptr<RedundancyPolicy>> make_policy(model::RedundancyModel model);

// Helpers shared by the policies.
// In-service SUs, most preferred first: ranked SUs by ascending rank, then unranked ones, ties
// in configuration order.
std::vector<SuId> in_service_by_rank(const std::vector<SuCandidate>& sus);
// SIs, most important first (same ordering rule as SUs).
std::vector<const model::SiConfig*> sis_by_rank(const model::SgConfig& sg);

// The entries of `current` that still hold their SI: active or standby, on an SU of
// `in_service`. Quiescing and quiesced entries are leaving and are left out.
AssignmentTable live_assignments(const AssignmentTable& current,
                                 const std::vector<SuId>& in_service);

// The HA state `su` holds for `si` in `table`, if any.
std::optional<model::HaState> ha_of(const AssignmentTable& table, const SuId& su, const SiId& si);

// The SUs of `order` that hold `si` in state `ha` in `table`, in the order of `order`.
std::vector<SuId> holders(const AssignmentTable& table, const SiId& si, model::HaState ha,
                          const std::vector<SuId>& order);

// N-way and N-way-active: the SUs that take assignments, most preferred first. `preferred`
// of `ranked` (0: all of them), choosing SUs that hold a live assignment before the others so
// that a returning SU does not push out one that is serving.
std::vector<SuId> assigned_sus(int preferred, const std::vector<SuId>& ranked,
                               const AssignmentTable& live);

// How fill_slots spreads one HA state over an SG's SIs.
struct SlotRules {
  model::HaState ha = model::HaState::kActive;
  int capacity_per_su = 0;                            // slots of `ha` per SU; 0: no limit
  std::function<int(const model::SiConfig&)> wanted;  // slots each SI should get
  // May `su` take a slot of `si`? Empty: any SU of the candidate list may.
  std::function<bool(const model::SiConfig&, const SuId&)> allowed;
  // SUs tried first, in this order, for a new slot of `si` (a hot standby). May be empty.
  std::function<std::vector<SuId>(const model::SiConfig&)> hot;
  std::map<SuId, int> base_load;  // added to an SU's slot count when comparing loads
};

// Gives every SI of `sis` (most important first) up to `rules.wanted` slots of `rules.ha` on
// distinct SUs of `sus` (most preferred first) and returns them, unordered. One pass, in steps:
//  1. Keep: in SI order, an SI keeps the SUs holding it in `rules.ha` in `live` while they are
//     candidates, allowed and under capacity (so when capacity shrank, important SIs keep).
//  2. Add, in rounds: round r gives each SI that has fewer than min(r, wanted) slots one more,
//     so every SI gets its first slot before any SI gets its second. In a round the SIs with a
//     `hot` SU with room are served first (a promoted standby SU takes the SIs it backed), then
//     the others, in SI order, each on the allowed SU with room and the lowest load
//     (base_load + slots held), ties to the more preferred SU.
//  3. Evict: in SI order, an SI still without a slot takes one from another SI, the cheapest
//     first: a surplus slot (of an SI holding two or more) placed in this pass, then a surplus
//     slot `live` holds, then the only slot of a strictly less important SI (the least
//     important such SI). An SI left without a slot this way gets its turn later in the step.
//     So capacity serves the most important SIs first, and a healthy placement is only dropped
//     for an SI that would otherwise be unserved.
// Callers run it inside until_settled, which makes evictions of `live` slots stable.
AssignmentTable fill_slots(const std::vector<const model::SiConfig*>& sis,
                           const std::vector<SuId>& sus, const AssignmentTable& live,
                           const SlotRules& rules);

// A model's target computed from its live assignments (see live_assignments).
using TargetFromLive = std::function<AssignmentTable(const AssignmentTable& live)>;

// Runs `compute` on the entries of `live` that its own result retains (kept as they are, or a
// standby promoted to active): starting from all of `live`, it runs again on what the last
// result retained until that no longer changes, and returns that result. The director's first
// batch removes (or quiesces) exactly the entries the target does not retain and then
// re-asks: this way the re-ask sees the same entries and returns the same target. Without it
// a choice made while a doomed entry still counted (an SU picked as "holding an assignment",
// a slot evicted for a more important SI after the rounds) would be made differently once
// the entry is gone. Stops at a repeated set or after 2 * |live| + 3 passes, returning the
// last result (never seen in the randomized tests; the director would then still converge,
// with some churn).
AssignmentTable until_settled(const AssignmentTable& live, const TargetFromLive& compute);

// `table` in output order: by SI in `sis` order, actives then standbys, each group in
// `ranked` order. Entries for SIs not in `sis` or SUs not in `ranked` are dropped.
AssignmentTable in_output_order(const std::vector<const model::SiConfig*>& sis,
                                const std::vector<SuId>& ranked, const AssignmentTable& table);

}  // namespace amf::models
