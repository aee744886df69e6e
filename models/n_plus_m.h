#pragma once

#include "models/policy.h"

namespace amf::models {

// N+M: up to N = preferred_active_sus SUs are active for their SIs and up to
// M = preferred_standby_sus other SUs are standby for theirs; no SU is both. Each SI gets one
// active on an active SU and, once it has one, one standby on a standby SU, at most
// max_active_sis_per_su / max_standby_sis_per_su per SU (0: no limit).
//
// Active SUs, up to N, in this order: SUs that hold an active assignment now (the most
// preferred ones when there are more than N); the SUs holding the standby of an SI that lost
// its active, in SI importance order (failover to the hot standby); SUs that hold nothing, by
// preference; last, other standby SUs, which then give up their standby role. An active SU
// that ends up with no SI goes back to the pool: an SU that holds nothing cannot be told apart
// from a spare on the next call, so keeping it "active" would make the policy unstable.
// Standby SUs, up to M, from the rest: SUs that hold a standby now, then spares by preference.
//
// Placement (see fill_slots), most important SI first: an SI keeps its active SU while that is
// still active and under its limit; else it goes to the active SU holding its standby (these
// hot placements go before the others, so a promoted standby SU takes the SIs it backed);
// else to the active SU with the fewest actives (ties: preference). Standbys likewise, without
// the hot step. When capacity is short the most important SIs are served first: an SI that
// would otherwise have no active takes the slot of the least important less important SI; an
// SI that cannot be placed is left unassigned and gets no standby either. The whole placement
// runs in until_settled, so the director's re-asks between batches return the same target.
class NPlusM final : public RedundancyPolicy {
 public:
  AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                         const AssignmentTable& current) const override;
};

}  // namespace amf::models
