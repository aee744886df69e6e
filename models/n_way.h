#pragma once

#include "models/policy.h"

namespace amf::models {

// N-way: an SU can be active for some SIs and standby for others. The SUs that take
// assignments are preferred_assigned_sus of the in-service SUs (0: all), those holding an
// assignment now first, then by preference. Each SI gets one active and, once it has one, up to
// its preferred_standby_assignments standbys, all on distinct SUs; at most
// max_active_sis_per_su actives and max_standby_sis_per_su standbys per SU (0: no limit).
//
// Active, most important SI first: keep the current in-service active; else promote the
// current standby on the most preferred SU with room (failover to the hot standby); else the
// SU with the fewest actives and room (ties: preference). Standbys: keep the current ones
// (never on the SI's active SU), then, round by round so every SI gets a first standby before
// any gets a second, the SU with the fewest assignments of either kind and room that does not
// hold the SI yet (ties: preference). When capacity is short the most important SIs are served
// first: an SI with no active takes the active slot of the least important less important SI,
// and an SI with no standby takes a standby from an SI holding two or more or, failing that,
// from a less important SI (see fill_slots). The whole placement runs in until_settled.
class NWay final : public RedundancyPolicy {
 public:
  AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                         const AssignmentTable& current) const override;
};

}  // namespace amf::models
