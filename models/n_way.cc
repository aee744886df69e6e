#include "models/n_way.h"

#include <map>

namespace amf::models {

namespace {

using model::HaState;

// One pass of the policy on `live` (see until_settled).
AssignmentTable place(const model::SgConfig& sg, const std::vector<const model::SiConfig*>& sis,
                      const std::vector<SuId>& ranked, const AssignmentTable& live) {
  const std::vector<SuId> assigned = assigned_sus(sg.preferred_assigned_sus, ranked, live);
  SlotRules active_rules;
  active_rules.ha = HaState::kActive;
  active_rules.capacity_per_su = sg.max_active_sis_per_su;
  active_rules.wanted = [](const model::SiConfig&) { return 1; };
  active_rules.hot = [&](const model::SiConfig& si) {
    return holders(live, si.id, HaState::kStandby, assigned);
  };
  const AssignmentTable actives = fill_slots(sis, assigned, live, active_rules);

  std::map<SiId, SuId> active_of;
  std::map<SuId, int> actives_per_su;
  for (const auto& a : actives) {
    active_of[a.si] = a.su;
    ++actives_per_su[a.su];
  }
  SlotRules standby_rules;
  standby_rules.ha = HaState::kStandby;
  standby_rules.capacity_per_su = sg.max_standby_sis_per_su;
  standby_rules.wanted = [&](const model::SiConfig& si) {
    return active_of.count(si.id) ? si.preferred_standby_assignments : 0;
  };
  standby_rules.allowed = [&](const model::SiConfig& si, const SuId& su) {
    return active_of.at(si.id) != su;
  };
  standby_rules.base_load = actives_per_su;

  AssignmentTable all = actives;
  for (const auto& a : fill_slots(sis, assigned, live, standby_rules)) all.push_back(a);
  return in_output_order(sis, ranked, all);
}

}  // namespace

AssignmentTable NWay::target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                             const AssignmentTable& current) const {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  const auto sis = sis_by_rank(sg);
  return until_settled(live_assignments(current, ranked),
                       [&](const AssignmentTable& live) { return place(sg, sis, ranked, live); });
}

}  // namespace amf::models
