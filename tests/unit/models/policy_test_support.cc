#include "tests/unit/models/policy_test_support.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "tests/unit/support/test_config.h"

namespace amf::models::policy_test {
namespace {

using model::HaState;
using model::RedundancyModel;

std::string str(const Assignment& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

std::string describe(const AssignmentTable& table) {
  std::ostringstream os;
  os << "[";
  for (const auto& a : table) os << " {" << a << "}";
  os << " ]";
  return os.str();
}

std::string describe(const std::vector<SuCandidate>& sus) {
  std::ostringstream os;
  for (const auto& su : sus)
    os << " " << su.id << "(rank " << su.rank << (su.in_service ? ", up)" : ", down)");
  return os.str();
}

std::string describe(const model::SgConfig& sg) {
  std::ostringstream os;
  os << "N=" << sg.preferred_active_sus << " M=" << sg.preferred_standby_sus
     << " assigned=" << sg.preferred_assigned_sus << " max_active=" << sg.max_active_sis_per_su
     << " max_standby=" << sg.max_standby_sis_per_su << " sis:";
  for (const auto& si : sg.sis) {
    os << " " << si.id << "(rank " << si.rank << ", act " << si.preferred_active_assignments
       << ", stby " << si.preferred_standby_assignments << ")";
  }
  return os.str();
}

int index_of(const std::vector<SuId>& sus, const SuId& su) {
  return static_cast<int>(std::find(sus.begin(), sus.end(), su) - sus.begin());
}

// Per-SU and per-SI counts of a target, and the first structural problem found.
struct Census {
  std::map<SuId, int> active_per_su, standby_per_su;
  std::map<SiId, int> active_per_si, standby_per_si;
  std::string problem;
};

Census take_census(const std::vector<SuId>& ranked, const AssignmentTable& target) {
  Census c;
  std::set<std::pair<SiId, SuId>> seen;
  for (const auto& a : target) {
    std::ostringstream why;
    if (index_of(ranked, a.su) == static_cast<int>(ranked.size())) {
      why << a.su << " is not in service but holds " << a.si;
    } else if (a.ha != HaState::kActive && a.ha != HaState::kStandby) {
      why << "target holds {" << a << "}";
    } else if (!seen.insert({a.si, a.su}).second) {
      why << a.su << " holds " << a.si << " twice";
    }
    if (!why.str().empty() && c.problem.empty()) c.problem = why.str();
    auto& per_su = a.ha == HaState::kActive ? c.active_per_su : c.standby_per_su;
    auto& per_si = a.ha == HaState::kActive ? c.active_per_si : c.standby_per_si;
    ++per_su[a.su];
    ++per_si[a.si];
  }
  return c;
}

std::string order_violation(const model::SgConfig& sg, const std::vector<SuId>& ranked,
                            const AssignmentTable& target) {
  const auto sis = sis_by_rank(sg);
  auto key = [&](const Assignment& a) {
    const auto si = std::find_if(sis.begin(), sis.end(),
                                 [&](const model::SiConfig* s) { return s->id == a.si; });
    return std::tuple(si - sis.begin(), a.ha == HaState::kActive ? 0 : 1, index_of(ranked, a.su));
  };
  for (std::size_t i = 1; i < target.size(); ++i) {
    if (!(key(target[i - 1]) < key(target[i]))) return "out of order at entry " + std::to_string(i);
  }
  return "";
}

std::string capacity_violation(const model::SgConfig& sg, const Census& c) {
  std::ostringstream why;
  for (const auto& [su, n] : c.active_per_su) {
    if (sg.max_active_sis_per_su > 0 && n > sg.max_active_sis_per_su)
      why << su << " has " << n << " actives";
  }
  for (const auto& [su, n] : c.standby_per_su) {
    if (sg.max_standby_sis_per_su > 0 && n > sg.max_standby_sis_per_su)
      why << su << " has " << n << " standbys";
  }
  return why.str();
}

int count(const std::map<SiId, int>& m, const SiId& si) {
  auto it = m.find(si);
  return it == m.end() ? 0 : it->second;
}

std::string n_plus_m_violation(const model::SgConfig& sg, const std::vector<SuId>& ranked,
                               const Census& c) {
  std::ostringstream why;
  for (const auto& [su, n] : c.active_per_su) {
    if (c.standby_per_su.count(su)) why << su << " is both active and standby; ";
  }
  if (static_cast<int>(c.active_per_su.size()) > sg.preferred_active_sus)
    why << "more than N active SUs; ";
  if (static_cast<int>(c.standby_per_su.size()) > sg.preferred_standby_sus)
    why << "more than M standby SUs; ";
  const bool spare_left = c.active_per_su.size() < ranked.size();
  for (const auto& si : sg.sis) {
    const int act = count(c.active_per_si, si.id), stby = count(c.standby_per_si, si.id);
    if (act > 1 || stby > 1)
      why << si.id << " has " << act << " actives, " << stby << " standbys; ";
    if (stby > 0 && act == 0) why << si.id << " has a standby but no active; ";
    // With no limits, every SI is served, and covered when a standby SU can exist.
    const bool unlimited = sg.max_active_sis_per_su == 0 && sg.max_standby_sis_per_su == 0;
    if (unlimited && !ranked.empty() && act == 0) why << si.id << " is unserved; ";
    if (unlimited && sg.preferred_standby_sus > 0 && spare_left && stby == 0)
      why << si.id << " has no standby; ";
  }
  return why.str();
}

std::size_t assigned_limit(const model::SgConfig& sg, const std::vector<SuId>& ranked) {
  const std::size_t n = static_cast<std::size_t>(sg.preferred_assigned_sus);
  return n == 0 ? ranked.size() : std::min(n, ranked.size());
}

std::string n_way_violation(const model::SgConfig& sg, const std::vector<SuId>& ranked,
                            const Census& c) {
  std::ostringstream why;
  std::set<SuId> used;
  for (const auto& [su, n] : c.active_per_su) used.insert(su);
  for (const auto& [su, n] : c.standby_per_su) used.insert(su);
  const std::size_t assigned = assigned_limit(sg, ranked);
  if (used.size() > assigned) why << used.size() << " SUs assigned; ";
  for (const auto& si : sg.sis) {
    const int act = count(c.active_per_si, si.id), stby = count(c.standby_per_si, si.id);
    if (act > 1) why << si.id << " has " << act << " actives; ";
    if (stby > si.preferred_standby_assignments) why << si.id << " has " << stby << " standbys; ";
    if (stby > 0 && act == 0) why << si.id << " has a standby but no active; ";
    const int reachable =
        std::min(si.preferred_standby_assignments, static_cast<int>(assigned) - 1);
    if (sg.max_active_sis_per_su == 0 && assigned > 0 && act == 0) why << si.id << " is unserved; ";
    if (sg.max_active_sis_per_su == 0 && sg.max_standby_sis_per_su == 0 && stby < reachable) {
      why << si.id << " has only " << stby << " standbys; ";
    }
  }
  return why.str();
}

std::string n_way_active_violation(const model::SgConfig& sg, const std::vector<SuId>& ranked,
                                   const Census& c) {
  std::ostringstream why;
  const std::size_t assigned = assigned_limit(sg, ranked);
  if (c.active_per_su.size() > assigned) why << c.active_per_su.size() << " SUs assigned; ";
  if (!c.standby_per_su.empty()) why << "a standby in n-way-active; ";
  for (const auto& si : sg.sis) {
    const int act = count(c.active_per_si, si.id);
    if (act > si.preferred_active_assignments) why << si.id << " has " << act << " actives; ";
    const int reachable = std::min(si.preferred_active_assignments, static_cast<int>(assigned));
    if (sg.max_active_sis_per_su == 0 && act < reachable)
      why << si.id << " has only " << act << " actives; ";
  }
  return why.str();
}

// Sets (su, si) to `ha` in `table`, adding the entry when there is none.
void set_ha(AssignmentTable& table, const Assignment& a) {
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const Assignment& c) { return c.su == a.su && c.si == a.si; });
  if (it != table.end()) {
    it->ha = a.ha;
  } else {
    table.push_back(a);
  }
}

// The new actives (promotions included) of `target`, applied; false when there are none.
bool apply_new(AssignmentTable& current, const AssignmentTable& target, HaState phase) {
  bool any = false;
  for (const auto& a : target) {
    if (a.ha != phase || ha_of(current, a.su, a.si) == phase) continue;
    if (phase == HaState::kStandby && ha_of(current, a.su, a.si)) continue;
    set_ha(current, a);
    any = true;
  }
  return any;
}

// Releases for kRemoveFirst: everything the target does not want, except standbys it
// promotes, is removed.
bool apply_removals(AssignmentTable& current, const AssignmentTable& target) {
  AssignmentTable kept;
  for (const auto& a : current) {
    const auto wanted = ha_of(target, a.su, a.si);
    const bool promotion = a.ha == HaState::kStandby && wanted == HaState::kActive;
    if (wanted == a.ha || promotion) kept.push_back(a);
  }
  const bool any = kept.size() != current.size();
  current = kept;
  return any;
}

// Releases for kQuiesceFirst: actives that must go are quiesced, standbys that must go (and
// are not promoted) removed.
bool apply_quiesce(AssignmentTable& current, const AssignmentTable& target) {
  AssignmentTable next;
  bool any = false;
  for (Assignment a : current) {
    const auto wanted = ha_of(target, a.su, a.si);
    if (a.ha == HaState::kActive && wanted != HaState::kActive) {
      a.ha = HaState::kQuiesced;
      any = true;
    } else if (a.ha == HaState::kStandby && wanted != HaState::kStandby &&
               wanted != HaState::kActive) {
      any = true;
      continue;
    }
    next.push_back(a);
  }
  current = next;
  return any;
}

// kQuiesceFirst, after promotions: quiesced entries become standby or are removed.
bool apply_settle(AssignmentTable& current, const AssignmentTable& target) {
  AssignmentTable next;
  bool any = false;
  for (Assignment a : current) {
    if (a.ha != HaState::kQuiesced) {
      next.push_back(a);
      continue;
    }
    any = true;
    if (ha_of(target, a.su, a.si) == HaState::kStandby) {
      a.ha = HaState::kStandby;
      next.push_back(a);
    }
  }
  current = next;
  return any;
}

// One batch of the director towards `target`, applied as if acknowledged. False when there is
// nothing left to do.
bool apply_next_batch(AssignmentTable& current, const AssignmentTable& target,
                      Sequencing sequencing) {
  if (sequencing == Sequencing::kRemoveFirst) {
    return apply_removals(current, target) || apply_new(current, target, HaState::kActive) ||
           apply_new(current, target, HaState::kStandby);
  }
  return apply_quiesce(current, target) || apply_new(current, target, HaState::kActive) ||
         apply_settle(current, target) || apply_new(current, target, HaState::kStandby);
}

}  // namespace

model::SgConfig make_sg(model::RedundancyModel model, int sus, int sis) {
  return test::make_cluster({.redundancy = model, .sus = sus, .sis = sis})
      ->applications[0]
      .service_groups[0];
}

namespace {

// A random SG of `model` within the limits the configuration loader accepts: 1-8 SUs,
// 1-10 SIs, SI ranks 0-4 (0: unranked), counts and per-SU limits 0-3 (0: none).
template <class Uniform>
model::SgConfig random_sg(model::RedundancyModel model, Uniform& uniform) {
  const int n_sus = uniform(1, 8), n_sis = uniform(1, 10);
  model::SgConfig sg = make_sg(model, n_sus, n_sis);
  sg.preferred_active_sus = uniform(1, n_sus);
  sg.preferred_standby_sus = uniform(0, n_sus - sg.preferred_active_sus);
  sg.preferred_assigned_sus = uniform(0, n_sus);
  sg.max_active_sis_per_su = uniform(0, 3);
  sg.max_standby_sis_per_su = uniform(0, 3);
  for (auto& si : sg.sis) {
    si.rank = uniform(0, 4);
    si.preferred_active_assignments = uniform(1, n_sus);
    si.preferred_standby_assignments = uniform(0, n_sus - 1);
  }
  return sg;
}

}  // namespace

std::vector<SuCandidate> candidates(std::initializer_list<bool> in_service) {
  std::vector<SuCandidate> out;
  int i = 1;
  for (bool up : in_service) {
    out.push_back({test::su(i), i, up});
    ++i;
  }
  return out;
}

AssignmentTable with_ha(AssignmentTable table, const SuId& su, model::HaState ha) {
  for (auto& a : table) {
    if (a.su == su) a.ha = ha;
  }
  return table;
}

std::vector<SuId> sus_of(const AssignmentTable& table, const SiId& si, model::HaState ha) {
  std::vector<SuId> out;
  for (const auto& a : table) {
    if (a.si == si && a.ha == ha) out.push_back(a.su);
  }
  return out;
}

std::string invariant_violation(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                                const AssignmentTable& target) {
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  const Census c = take_census(ranked, target);
  if (!c.problem.empty()) return c.problem;
  if (auto why = order_violation(sg, ranked, target); !why.empty()) return why;
  if (auto why = capacity_violation(sg, c); !why.empty()) return why;
  switch (sg.redundancy) {
    case RedundancyModel::kNPlusM:
      return n_plus_m_violation(sg, ranked, c);
    case RedundancyModel::kNWay:
      return n_way_violation(sg, ranked, c);
    case RedundancyModel::kNWayActive:
      return n_way_active_violation(sg, ranked, c);
    case RedundancyModel::kTwoN:
    case RedundancyModel::kNoRedundancy:
      return "";
  }
  return "unknown model";
}

std::string director_instability(const RedundancyPolicy& policy, const model::SgConfig& sg,
                                 const std::vector<SuCandidate>& sus,
                                 const AssignmentTable& current, Sequencing sequencing) {
  const std::string name =
      sequencing == Sequencing::kRemoveFirst ? "remove-first: " : "quiesce-first: ";
  const std::vector<SuId> ranked = in_service_by_rank(sus);
  AssignmentTable now;
  for (Assignment a : current) {  // a quiescing entry is quiesced once acknowledged
    if (a.ha == HaState::kQuiescing) a.ha = HaState::kQuiesced;
    if (std::find(ranked.begin(), ranked.end(), a.su) != ranked.end()) now.push_back(a);
  }
  const AssignmentTable first = policy.target(sg, sus, now);
  if (first != policy.target(sg, sus, current)) {
    return name + "dropping SUs out of service or settling quiescing entries changed the target";
  }
  AssignmentTable target = first;
  AssignmentTable placed;  // actives and standbys the run has set; none may be undone
  for (int batch = 1; batch <= 12; ++batch) {
    const AssignmentTable before = now;
    if (!apply_next_batch(now, target, sequencing)) return "";
    for (const auto& a : placed) {
      const bool strict = sequencing == Sequencing::kRemoveFirst || a.ha == HaState::kActive;
      if (strict && std::find(now.begin(), now.end(), a) == now.end()) {
        return name + "batch " + std::to_string(batch) + " undid {" + str(a) + "}, placed earlier";
      }
    }
    for (const auto& a : now) {  // quiesced entries are there to be settled
      const bool holds = a.ha == HaState::kActive || a.ha == HaState::kStandby;
      if (holds && std::find(before.begin(), before.end(), a) == before.end()) placed.push_back(a);
    }
    target = policy.target(sg, sus, now);
    // With removals first the target must not move at all. With quiesce first, settling a
    // quiesced SU into a standby before the other new standbys exist may move those: the
    // greedy least-loaded choice sees a different order. No placed entry may move (above).
    if (sequencing == Sequencing::kRemoveFirst && target != first) {
      return name + "after batch " + std::to_string(batch) + " current " + describe(now) +
             " the target became " + describe(target) + " instead of " + describe(first);
    }
  }
  return name + "target " + describe(target) + " not reached after 12 batches";
}

std::vector<std::string> random_failures(model::RedundancyModel model, unsigned seed,
                                         int iterations) {
  if (const char* env = std::getenv("AMF_SEED")) seed = static_cast<unsigned>(std::atol(env));
  auto policy = make_policy(model);
  if (!policy) return {policy.error().message()};
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<std::string> failures;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    const model::SgConfig sg = random_sg(model, uniform);
    std::vector<SuCandidate> sus;
    for (const auto& su : sg.sus) sus.push_back({su.id, uniform(0, 4), false});

    AssignmentTable current;  // each step starts from the previous step's target
    for (int step = 0; step < 5; ++step) {
      for (auto& su : sus) su.in_service = uniform(0, 9) < 7;
      for (auto& a : current) {
        if (uniform(0, 9) == 0) a.ha = uniform(0, 1) ? HaState::kQuiesced : HaState::kQuiescing;
      }
      const AssignmentTable target = (*policy)->target(sg, sus, current);
      std::string why = invariant_violation(sg, sus, target);
      if (why.empty() && (*policy)->target(sg, sus, target) != target) why = "not idempotent";
      for (const auto sequencing : {Sequencing::kRemoveFirst, Sequencing::kQuiesceFirst}) {
        if (why.empty()) why = director_instability(**policy, sg, sus, current, sequencing);
      }
      if (!why.empty()) {
        failures.push_back("seed " + std::to_string(seed) + " iteration " +
                           std::to_string(iteration) + " step " + std::to_string(step) + ": " +
                           why + "\n  sg: " + describe(sg) + "\n  sus:" + describe(sus) +
                           "\n  current: " + describe(current) + "\n  target: " + describe(target));
      }
      current = target;
    }
  }
  return failures;
}

}  // namespace amf::models::policy_test
