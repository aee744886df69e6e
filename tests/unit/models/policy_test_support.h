#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "amf/model/config.h"
#include "models/policy.h"

// Helpers for the redundancy model tests: small SGs built with the shared test cluster, an
// invariant checker, a stand-in for the director's sequencing, and a seeded random driver.
namespace amf::models::policy_test {

// The SG of test::make_cluster({model, sus, sis}): SUs su-1..su-N ranked 1..N, SIs si-1..si-M
// ranked 1..M. A copy, so tests can set counts and limits on it.
model::SgConfig make_sg(model::RedundancyModel model, int sus, int sis);

// su-1..su-N with ranks 1..N and the given readiness.
std::vector<SuCandidate> candidates(std::initializer_list<bool> in_service);

// `table` with every entry on `su` put in state `ha` (e.g. quiesced for a switchover).
AssignmentTable with_ha(AssignmentTable table, const SuId& su, model::HaState ha);

// The SUs holding `si` in state `ha` in `table`, in table order.
std::vector<SuId> sus_of(const AssignmentTable& table, const SiId& si, model::HaState ha);

// Empty when `target` keeps every invariant of the SG's model for these SUs; else what broke.
std::string invariant_violation(const model::SgConfig& sg, const std::vector<SuCandidate>& sus,
                                const AssignmentTable& target);

// How the director sequences transitions towards a target, one acknowledged batch at a time.
enum class Sequencing {
  // Removals and demotions, then promotions and new actives, then new standbys.
  kRemoveFirst,
  // Actives that must go are quiesced and standbys that must go removed, then promotions and
  // new actives, then quiesced entries become standby or are removed, then new standbys.
  kQuiesceFirst,
};

// Drives `current` towards the policy's target the way the director does, re-asking the
// policy after every batch. Assignments on SUs that are not in service are dropped first, as
// the director drops them when it learns of the fault. Empty when the director converges
// without undoing anything it placed on the way and, for kRemoveFirst, without the target ever
// changing; else what happened. (With kQuiesceFirst a quiesced SU settled into a standby
// before the other new standbys are placed may change where those go.)
std::string director_instability(const RedundancyPolicy& policy, const model::SgConfig& sg,
                                 const std::vector<SuCandidate>& sus,
                                 const AssignmentTable& current, Sequencing sequencing);

// Runs `iterations` random cases of `model` from `seed` (overridden by the AMF_SEED environment
// variable, to replay): a random SG (1-8 SUs, 1-10 SIs, random counts, limits and ranks, SU
// ranks too), then five steps of random readiness (and some quiesced entries), each starting
// from the previous step's target. At every step it checks invariant_violation, idempotence
// and director_instability under both sequencings. Returns one message per failure, each
// naming the seed, iteration and step with the inputs.
std::vector<std::string> random_failures(model::RedundancyModel model, unsigned seed,
                                         int iterations);

}  // namespace amf::models::policy_test
