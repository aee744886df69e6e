#pragma once

#include <memory>
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

}  // namespace amf::models
