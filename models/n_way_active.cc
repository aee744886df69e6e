#include "models/n_way_active.h"

namespace amf::models {

AssignmentTable NWayActive::target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                                   const AssignmentTable& current) const {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  const auto sis = sis_by_rank(sg);
  SlotRules rules;
  rules.ha = model::HaState::kActive;
  rules.capacity_per_su = sg.max_active_sis_per_su;
  rules.wanted = [](const model::SiConfig& si) { return si.preferred_active_assignments; };
  return until_settled(live_assignments(current, ranked), [&](const AssignmentTable& live) {
    const std::vector<SuId> assigned = assigned_sus(sg.preferred_assigned_sus, ranked, live);
    return in_output_order(sis, ranked, fill_slots(sis, assigned, live, rules));
  });
}

}  // namespace amf::models
