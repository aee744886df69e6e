#include "models/no_redundancy.h"

#include <algorithm>
#include <set>

namespace amf::models {

AssignmentTable NoRedundancy::target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                                     const AssignmentTable& current) const {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  const std::set<SuId> in_service(ranked.begin(), ranked.end());
  std::set<SuId> used;
  std::vector<std::pair<const model::SiConfig*, SuId>> chosen;

  // First pass: SIs stay where they are while their SU is in service.
  const auto by_rank = sis_by_rank(sg);
  std::vector<const model::SiConfig*> unplaced;
  for (const model::SiConfig* si : by_rank) {
    auto it = std::find_if(current.begin(), current.end(), [&](const Assignment& a) {
      return a.si == si->id && a.ha == model::HaState::kActive && in_service.count(a.su) &&
             !used.count(a.su);
    });
    if (it != current.end()) {
      used.insert(it->su);
      chosen.emplace_back(si, it->su);
    } else {
      unplaced.push_back(si);
    }
  }
  // Second pass: the rest, most important SI first, onto the most preferred free SU.
  for (const model::SiConfig* si : unplaced) {
    for (const SuId& su : ranked) {
      if (!used.count(su)) {
        used.insert(su);
        chosen.emplace_back(si, su);
        break;
      }
    }
  }

  AssignmentTable out;
  for (const model::SiConfig* si : by_rank) {
    for (const auto& [placed, su] : chosen) {
      if (placed == si) out.push_back({si->id, su, model::HaState::kActive});
    }
  }
  return out;
}

}  // namespace amf::models
