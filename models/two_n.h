#pragma once

#include "models/policy.h"

namespace amf::models {

// 2N: one SU is active for every SI of the SG, one other SU is standby for every SI; further
// in-service SUs are spares. The policy is sticky: an in-service active stays active, and when
// it is lost the standby (whose state is hot) is promoted before any spare is considered.
class TwoN final : public RedundancyPolicy {
 public:
  AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                         const AssignmentTable& current) const override;
};

}  // namespace amf::models
