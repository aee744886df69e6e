// The invariants checked on what each step touched find what checking everything after every
// step finds, at the same step.
#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"
#include "sim/swarm.h"

namespace amf::sim {
namespace {

TEST(SimIncrementalChecksTest, SwarmCasesRunTheSameWithEitherWayOfChecking) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const SwarmCase c = make_swarm_case(seed * 7919);
    Options everything;
    everything.check_everything_every_step = true;
    const RunOutcome full = run_case(c, everything);
    const RunOutcome touched = run_case(c);
    ASSERT_EQ(full.violation.has_value(), touched.violation.has_value()) << c.describe();
    if (full.violation) {
      EXPECT_EQ(full.violation->step, touched.violation->step) << c.describe();
      EXPECT_EQ(full.violation->invariant, touched.violation->invariant);
    }
    EXPECT_EQ(full.stats.steps, touched.stats.steps) << c.describe();
    EXPECT_EQ(full.end, touched.end);
  }
}

// A component that takes an active state nobody gave it, at a random moment of a random case:
// both ways of checking stop at the same step with the same safety violation.
TEST(SimIncrementalChecksTest, ARogueActiveIsFoundAtTheStepItHappens) {
  int found = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const SwarmCase c = make_swarm_case(seed * 104729);
    std::optional<std::uint64_t> steps[2];
    for (bool everything : {true, false}) {
      Options o;
      o.faults = c.faults;
      o.check_everything_every_step = everything;
      auto sim = std::move(*Simulation::create(build(c.cluster), c.seed, o));
      sim->start();
      sim->run_for(std::chrono::seconds(30 + seed * 7));
      if (sim->violation()) break;
      // Some component of an SG with two SUs or more takes the CSI of another's assignment.
      bool struck = false;
      for (const model::SgConfig* sg : sim->config().service_groups()) {
        for (const auto& a : sim->director().assignments(sg->id)) {
          if (a.ha != model::HaState::kActive) continue;
          for (const auto& su : sg->sus) {
            if (su.id == a.su || struck) continue;
            const auto* si = sim->config().find_si(a.si);
            struck = sim->force_belief(su.components.front().id, si->csis.front().id,
                                       model::HaState::kActive);
          }
        }
      }
      if (!struck) break;
      sim->run_for(std::chrono::seconds(1));
      // (N-way-active may allow a second active, and a hung process takes nothing.)
      if (!sim->violation()) continue;
      EXPECT_EQ(sim->violation()->invariant, "safety");
      steps[everything ? 0 : 1] = sim->violation()->step;
    }
    EXPECT_EQ(steps[0], steps[1]) << c.describe();
    if (!steps[0]) continue;
    ++found;
  }
  EXPECT_GT(found, 20) << found;
}

}  // namespace
}  // namespace amf::sim
