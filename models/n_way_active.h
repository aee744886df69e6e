#pragma once

#include "models/policy.h"

namespace amf::models {

// N-way-active: every assignment is active. The SUs that take assignments are chosen as in
// N-way (preferred_assigned_sus, 0: all in service; current holders first). Each SI gets up to
// its preferred_active_assignments actives on distinct SUs, at most max_active_sis_per_su per
// SU (0: no limit). Current in-service actives are kept; new ones go, round by round so every
// SI gets its first active before any gets its second, to the SU with the fewest actives and
// room (ties: preference). When capacity is short an SI with no active takes a slot from an SI
// holding two or more, or else from the least important less important SI (see fill_slots).
// The whole placement runs in until_settled.
class NWayActive final : public RedundancyPolicy {
 public:
  AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                         const AssignmentTable& current) const override;
};

}  // namespace amf::models
