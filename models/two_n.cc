#include "models/two_n.h"

#include <algorithm>
#include <optional>

namespace amf::models {
namespace {

// The in-service SU holding `ha` for any SI, if there is one.
std::optional<SuId> holder(const AssignmentTable& current, model::HaState ha,
                           const std::vector<SuId>& in_service) {
  for (const auto& a : current) {
    if (a.ha == ha && std::find(in_service.begin(), in_service.end(), a.su) != in_service.end()) {
      return a.su;
    }
  }
  return std::nullopt;
}

}  // namespace

AssignmentTable TwoN::target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                             const AssignmentTable& current) const {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  std::optional<SuId> active = holder(current, model::HaState::kActive, ranked);
  std::optional<SuId> standby = holder(current, model::HaState::kStandby, ranked);
  if (!active) {
    active = standby ? standby : (ranked.empty() ? std::nullopt : std::optional(ranked.front()));
    standby.reset();
  }
  if (standby == active) standby.reset();
  if (!standby) {
    for (const SuId& su : ranked) {
      if (su != active) {
        standby = su;
        break;
      }
    }
  }

  AssignmentTable out;
  for (const model::SiConfig* si : sis_by_rank(sg)) {
    if (active) out.push_back({si->id, *active, model::HaState::kActive});
    if (standby) out.push_back({si->id, *standby, model::HaState::kStandby});
  }
  return out;
}

}  // namespace amf::models
