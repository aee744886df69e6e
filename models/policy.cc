#include "models/policy.h"

#include <algorithm>
#include <optional>
#include <string>

#include "models/n_plus_m.h"
#include "models/n_way.h"
#include "models/n_way_active.h"
#include "models/no_redundancy.h"
#include "models/two_n.h"

namespace amf::models {
namespace {

// Rank 0 means unranked and sorts last; std::stable_sort keeps configuration order for ties.
bool rank_before(int a, int b) {
  if (a == 0) return false;
  if (b == 0) return true;
  return a < b;
}

bool contains(const std::vector<SuId>& sus, const SuId& su) {
  return std::find(sus.begin(), sus.end(), su) != sus.end();
}

// The slots of one HA state being filled: which SUs each SI holds (by index in the SI order)
// and how many slots each SU holds. Bounded by SIs x SUs.
class Slots {
 public:
  Slots(const std::vector<const model::SiConfig*>& sis, const std::vector<SuId>& sus,
        const SlotRules& rules)
      : sis_(sis), sus_(sus), rules_(rules), held_(sis.size()), kept_(sis.size()) {
    for (const SuId& su : sus) count_[su] = 0;
  }

  std::size_t size() const { return sis_.size(); }
  const model::SiConfig& si(std::size_t i) const { return *sis_[i]; }
  int wanted(std::size_t i) const { return std::max(0, rules_.wanted(*sis_[i])); }
  int count(std::size_t i) const { return static_cast<int>(held_[i].size()); }

  bool room(const SuId& su) const {
    return rules_.capacity_per_su <= 0 || count_.at(su) < rules_.capacity_per_su;
  }
  // `su` is a candidate, allowed for SI `i` and not already holding it.
  bool may_take(std::size_t i, const SuId& su) const {
    return count_.count(su) && !contains(held_[i], su) &&
           (!rules_.allowed || rules_.allowed(*sis_[i], su));
  }
  int load(const SuId& su) const {
    auto it = rules_.base_load.find(su);
    return count_.at(su) + (it == rules_.base_load.end() ? 0 : it->second);
  }

  void add(std::size_t i, const SuId& su) {
    held_[i].push_back(su);
    ++count_[su];
  }
  void remove(std::size_t i, const SuId& su) {
    held_[i].erase(std::find(held_[i].begin(), held_[i].end(), su));
    --count_[su];
  }

  // Step 1: every SI keeps what it holds in `live`, most important SI first.
  void keep(const AssignmentTable& live) {
    for (std::size_t i = 0; i < size(); ++i) {
      for (const SuId& su : holders(live, si(i).id, rules_.ha, sus_)) {
        if (count(i) >= wanted(i)) break;
        if (may_take(i, su) && room(su)) {
          add(i, su);
          kept_[i].push_back(su);
        }
      }
    }
  }

  // A hot SU for a new slot of SI `i`, if one has room.
  std::optional<SuId> pick_hot(std::size_t i) const {
    if (!rules_.hot) return std::nullopt;
    for (const SuId& su : rules_.hot(si(i))) {
      if (may_take(i, su) && room(su)) return su;
    }
    return std::nullopt;
  }

  // A new slot for SI `i`: a hot SU with room, else the least loaded one with room.
  std::optional<SuId> pick(std::size_t i) const {
    if (auto su = pick_hot(i)) return su;
    std::optional<SuId> best;
    for (const SuId& su : sus_) {
      if (!may_take(i, su) || !room(su)) continue;
      if (!best || load(su) < load(*best)) best = su;  // strict: ties keep the preferred SU
    }
    return best;
  }

  // Takes a slot for SI `i` from another SI, the cheapest first: a slot of an SI holding two
  // or more that this pass placed (undoes nothing in force), then one `live` holds, then the
  // only slot of an SI strictly less important than `i`. Within a kind, the least important
  // victim and its least preferred slot. Does nothing when there is no such slot.
  void evict_for(std::size_t i) {
    enum class Cost { kNewSurplus, kKeptSurplus, kLessImportant, kNone };
    Cost best = Cost::kNone;
    std::pair<std::size_t, SuId> victim;
    for (std::size_t j = 0; j < size(); ++j) {
      const bool surplus = count(j) >= 2;
      if (j == i || (!surplus && !rank_before(si(i).rank, si(j).rank))) continue;
      for (const SuId& su : sus_) {
        if (!contains(held_[j], su) || !may_take(i, su)) continue;
        const Cost cost = !surplus                 ? Cost::kLessImportant
                          : contains(kept_[j], su) ? Cost::kKeptSurplus
                                                   : Cost::kNewSurplus;
        if (cost <= best) {  // later j and later SUs win ties: least important, least preferred
          best = cost;
          victim = {j, su};
        }
      }
    }
    if (best == Cost::kNone) return;
    remove(victim.first, victim.second);
    add(i, victim.second);
  }

  // Step 2: rounds of one more slot per SI, while some SU has room. Within a round the hot
  // placements go first, so a promoted standby SU is filled with the SIs it was standby for
  // before SIs without a hot SU spread onto it.
  void add_rounds() {
    int rounds = 0;
    for (std::size_t i = 0; i < size(); ++i) rounds = std::max(rounds, wanted(i));
    for (int round = 1; round <= rounds; ++round) {
      for (const bool hot_pass : {true, false}) {
        for (std::size_t i = 0; i < size(); ++i) {
          if (count(i) >= std::min(round, wanted(i))) continue;
          if (auto su = hot_pass ? pick_hot(i) : pick(i)) add(i, *su);
        }
      }
    }
  }

  // Step 3: every SI still without a slot, in SI order, takes one from a surplus or from a less
  // important SI. Runs after all rounds, so it sees every surplus.
  void evict_for_unserved() {
    for (std::size_t i = 0; i < size(); ++i) {
      if (count(i) > 0 || wanted(i) == 0) continue;
      if (auto su = pick(i)) {  // an SI evicted earlier in this step may find room elsewhere
        add(i, *su);
      } else {
        evict_for(i);
      }
    }
  }

  AssignmentTable table() const {
    AssignmentTable out;
    for (std::size_t i = 0; i < size(); ++i) {
      for (const SuId& su : held_[i]) out.push_back({si(i).id, su, rules_.ha});
    }
    return out;
  }

 private:
  const std::vector<const model::SiConfig*>& sis_;
  const std::vector<SuId>& sus_;
  const SlotRules& rules_;
  std::vector<std::vector<SuId>> held_;
  std::vector<std::vector<SuId>> kept_;  // the slots step 1 kept from `live`
  std::map<SuId, int> count_;
};

}  // namespace

Result<std::unique_ptr<RedundancyPolicy>> make_policy(model::RedundancyModel model) {
  switch (model) {
    case model::RedundancyModel::kTwoN:
      return std::make_unique<TwoN>();
    case model::RedundancyModel::kNoRedundancy:
      return std::make_unique<NoRedundancy>();
    case model::RedundancyModel::kNPlusM:
      return std::make_unique<NPlusM>();
    case model::RedundancyModel::kNWay:
      return std::make_unique<NWay>();
    case model::RedundancyModel::kNWayActive:
      return std::make_unique<NWayActive>();
  }
  return fail("unknown redundancy model " + std::to_string(static_cast<int>(model)));
}

std::vector<SuId> in_service_by_rank(const std::vector<SuCandidate>& sus) {
  std::vector<SuCandidate> ordered;
  for (const auto& su : sus) {
    if (su.in_service) ordered.push_back(su);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const SuCandidate& a, const SuCandidate& b) {
    return rank_before(a.rank, b.rank);
  });
  std::vector<SuId> out;
  for (const auto& su : ordered) out.push_back(su.id);
  return out;
}

std::vector<const model::SiConfig*> sis_by_rank(const model::SgConfig& sg) {
  std::vector<const model::SiConfig*> out;
  for (const auto& si : sg.sis) out.push_back(&si);
  std::stable_sort(out.begin(), out.end(), [](const model::SiConfig* a, const model::SiConfig* b) {
    return rank_before(a->rank, b->rank);
  });
  return out;
}

AssignmentTable live_assignments(const AssignmentTable& current,
                                 const std::vector<SuId>& in_service) {
  AssignmentTable out;
  for (const auto& a : current) {
    const bool holding = a.ha == model::HaState::kActive || a.ha == model::HaState::kStandby;
    if (holding && contains(in_service, a.su)) out.push_back(a);
  }
  return out;
}

std::optional<model::HaState> ha_of(const AssignmentTable& table, const SuId& su, const SiId& si) {
  for (const auto& a : table) {
    if (a.su == su && a.si == si) return a.ha;
  }
  return std::nullopt;
}

std::vector<SuId> holders(const AssignmentTable& table, const SiId& si, model::HaState ha,
                          const std::vector<SuId>& order) {
  std::vector<SuId> out;
  for (const SuId& su : order) {
    const bool holds = std::any_of(table.begin(), table.end(), [&](const Assignment& a) {
      return a.si == si && a.su == su && a.ha == ha;
    });
    if (holds) out.push_back(su);
  }
  return out;
}

std::vector<SuId> assigned_sus(int preferred, const std::vector<SuId>& ranked,
                               const AssignmentTable& live) {
  const std::size_t limit = preferred <= 0 ? ranked.size() : static_cast<std::size_t>(preferred);
  std::vector<SuId> chosen;
  for (const bool holding : {true, false}) {
    for (const SuId& su : ranked) {
      const bool holds =
          std::any_of(live.begin(), live.end(), [&](const Assignment& a) { return a.su == su; });
      if (holds == holding && chosen.size() < limit) chosen.push_back(su);
    }
  }
  std::vector<SuId> out;  // back to preference order, which breaks load ties
  for (const SuId& su : ranked) {
    if (contains(chosen, su)) out.push_back(su);
  }
  return out;
}

AssignmentTable fill_slots(const std::vector<const model::SiConfig*>& sis,
                           const std::vector<SuId>& sus, const AssignmentTable& live,
                           const SlotRules& rules) {
  Slots slots(sis, sus, rules);
  slots.keep(live);
  slots.add_rounds();
  slots.evict_for_unserved();
  return slots.table();
}

AssignmentTable until_settled(const AssignmentTable& live, const TargetFromLive& compute) {
  // The entries of `live` that `target` retains: as they are, or a standby promoted to active.
  const auto retained = [&](const AssignmentTable& target) {
    AssignmentTable out;
    for (const auto& a : live) {
      const bool kept = std::any_of(target.begin(), target.end(), [&](const Assignment& t) {
        const bool promoted = a.ha == model::HaState::kStandby && t.ha == model::HaState::kActive;
        return t.si == a.si && t.su == a.su && (t.ha == a.ha || promoted);
      });
      if (kept) out.push_back(a);
    }
    return out;
  };
  std::vector<AssignmentTable> tried;
  AssignmentTable kept = live;
  for (;;) {
    AssignmentTable target = compute(kept);
    AssignmentTable next = retained(target);
    // No fixed point reachable (a cycle, or the bound): keep this target. The director then
    // converges with some churn instead of none; the randomized tests have not found one.
    const bool cycle = std::find(tried.begin(), tried.end(), next) != tried.end();
    if (next == kept || cycle || tried.size() >= 2 * live.size() + 2) return target;
    tried.push_back(kept);
    kept = std::move(next);
  }
}

AssignmentTable in_output_order(const std::vector<const model::SiConfig*>& sis,
                                const std::vector<SuId>& ranked, const AssignmentTable& table) {
  AssignmentTable out;
  for (const model::SiConfig* si : sis) {
    for (const model::HaState ha : {model::HaState::kActive, model::HaState::kStandby}) {
      for (const SuId& su : holders(table, si->id, ha, ranked)) out.push_back({si->id, su, ha});
    }
  }
  return out;
}

}  // namespace amf::models
