#pragma once

#include "models/policy.h"

namespace amf::models {

// No-redundancy: every SI is active on one SU, an SU serves at most one SI, there is no standby.
// A lost SU's SI moves to a free in-service SU (a spare); SIs keep their SU while it is in
// service, and when SUs are short the higher-ranked SIs are served first.
class NoRedundancy final : public RedundancyPolicy {
 public:
  AssignmentTable target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                         const AssignmentTable& current) const override;
};

}  // namespace amf::models
