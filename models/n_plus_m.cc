#include "models/n_plus_m.h"

#include <algorithm>
#include <set>

namespace amf::models {
namespace {

using model::HaState;

bool holds_any(const AssignmentTable& live, const SuId& su, HaState ha) {
  return std::any_of(live.begin(), live.end(),
                     [&](const Assignment& a) { return a.su == su && a.ha == ha; });
}

// An ordered set of SUs with a size limit.
class SuSet {
 public:
  explicit SuSet(int limit) : limit_(static_cast<std::size_t>(std::max(0, limit))) {}
  void add(const SuId& su) {
    if (members_.size() < limit_ && !has(su)) members_.push_back(su);
  }
  bool has(const SuId& su) const {
    return std::find(members_.begin(), members_.end(), su) != members_.end();
  }
  // Members in `ranked` order, the order that breaks load ties.
  std::vector<SuId> in_order(const std::vector<SuId>& ranked) const {
    std::vector<SuId> out;
    for (const SuId& su : ranked) {
      if (has(su)) out.push_back(su);
    }
    return out;
  }

 private:
  std::size_t limit_;
  std::vector<SuId> members_;
};

std::vector<SuId> choose_active_sus(const model::SgConfig& sg,
                                    const std::vector<const model::SiConfig*>& sis,
                                    const std::vector<SuId>& ranked, const AssignmentTable& live) {
  SuSet active(sg.preferred_active_sus);
  for (const SuId& su : ranked) {
    if (holds_any(live, su, HaState::kActive)) active.add(su);
  }
  // SIs whose active is gone (or on an SU beyond N) fail over to their hot standby's SU.
  for (const model::SiConfig* si : sis) {
    const auto actives = holders(live, si->id, HaState::kActive, ranked);
    const bool served =
        std::any_of(actives.begin(), actives.end(), [&](const SuId& su) { return active.has(su); });
    if (served) continue;
    for (const SuId& su : holders(live, si->id, HaState::kStandby, ranked)) active.add(su);
  }
  for (const SuId& su : ranked) {
    const bool spare =
        std::none_of(live.begin(), live.end(), [&](const Assignment& a) { return a.su == su; });
    if (spare) active.add(su);
  }
  for (const SuId& su : ranked) active.add(su);
  return active.in_order(ranked);
}

std::vector<SuId> choose_standby_sus(const model::SgConfig& sg, const std::vector<SuId>& free,
                                     const AssignmentTable& live) {
  SuSet standby(sg.preferred_standby_sus);
  for (const SuId& su : free) {
    if (holds_any(live, su, HaState::kStandby)) standby.add(su);
  }
  for (const SuId& su : free) standby.add(su);
  return standby.in_order(free);
}

// One pass of the policy on `live` (see until_settled).
AssignmentTable place(const model::SgConfig& sg, const std::vector<const model::SiConfig*>& sis,
                      const std::vector<SuId>& ranked, const AssignmentTable& live) {
  const std::vector<SuId> active_sus = choose_active_sus(sg, sis, ranked, live);
  SlotRules active_rules;
  active_rules.ha = HaState::kActive;
  active_rules.capacity_per_su = sg.max_active_sis_per_su;
  active_rules.wanted = [](const model::SiConfig&) { return 1; };
  active_rules.hot = [&](const model::SiConfig& si) {
    return holders(live, si.id, HaState::kStandby, active_sus);
  };
  const AssignmentTable actives = fill_slots(sis, active_sus, live, active_rules);

  // Active SUs that got no SI go back to the pool (see the header).
  std::set<SuId> used;
  std::set<SiId> served;
  for (const auto& a : actives) {
    used.insert(a.su);
    served.insert(a.si);
  }
  std::vector<SuId> free;
  for (const SuId& su : ranked) {
    if (!used.count(su)) free.push_back(su);
  }

  const std::vector<SuId> standby_sus = choose_standby_sus(sg, free, live);
  SlotRules standby_rules;
  standby_rules.ha = HaState::kStandby;
  standby_rules.capacity_per_su = sg.max_standby_sis_per_su;
  standby_rules.wanted = [&](const model::SiConfig& si) { return served.count(si.id) ? 1 : 0; };
  AssignmentTable all = actives;
  for (const auto& a : fill_slots(sis, standby_sus, live, standby_rules)) all.push_back(a);
  return in_output_order(sis, ranked, all);
}

}  // namespace

AssignmentTable NPlusM::target(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                               const AssignmentTable& current) const {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  const auto sis = sis_by_rank(sg);
  return until_settled(live_assignments(current, ranked),
                       [&](const AssignmentTable& live) { return place(sg, sis, ranked, live); });
}

}  // namespace amf::models
