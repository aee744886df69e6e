// The simulated network: faults that the links hide, partitions whose hazard they do not, and
// clock drift.
#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

using namespace std::chrono_literals;
using model::HaState;

const NodeId kNode1("node-1");
const NodeId kNode2("node-2");

// A 2N SG over two nodes: su-1 (active) on node-1, su-2 (standby) on node-2.
std::unique_ptr<Simulation> two_nodes(const std::string& faults, std::uint64_t seed = 1,
                                      bool full_trace = false) {
  Options options;
  options.faults = *FaultSpec::parse(faults);
  options.keep_full_trace = full_trace;
  auto sim = Simulation::create(build({"net", 2, {SgSpec{}}}), seed, std::move(options));
  EXPECT_TRUE(sim) << sim.error().message();
  (*sim)->start();
  (*sim)->settle();
  EXPECT_FALSE((*sim)->violation()) << (*sim)->violation()->describe();
  return std::move(*sim);
}

std::optional<HaState> ha(const Simulation& sim, int su) {
  for (const auto& a : sim.director().assignments(SgId("app"))) {
    if (a.su == SuId("app/su-" + std::to_string(su))) return a.ha;
  }
  return std::nullopt;
}

// The hazard that membership with self-fencing (the cluster issue) will remove: node-1 is cut
// off from the director, the membership stops hearing it and declares it gone, the director
// promotes the standby on node-2; node-1 hears nothing of this and its component stays active.
TEST(SimNetworkTest, APartitionLongerThanDetectionEndsInTwoActivesUntilNodesFenceThemselves) {
  for (auto cut : {Simulation::Cut::kBoth, Simulation::Cut::kToDirector}) {
    auto sim = two_nodes("none");
    ASSERT_EQ(ha(*sim, 1), HaState::kActive);
    ASSERT_TRUE(sim->partition(kNode1, cut, 2s));
    sim->run_for(5s);
    ASSERT_TRUE(sim->violation().has_value()) << "the hazard is gone: fencing exists now?";
    EXPECT_EQ(sim->violation()->invariant, "safety");
    EXPECT_NE(sim->violation()->message.find("believe they are active"), std::string::npos)
        << sim->violation()->message;
    EXPECT_NE(sim->violation()->trace.find("membership: node-1 cannot be heard"),
              std::string::npos);
  }
}

// A cut of the director's messages to node-2 alone is not noticed by the membership (node-2 is
// still heard); the failover's commands to node-2 are lost while it lasts and resent by the
// link until they arrive, so the failover completes once it heals.
TEST(SimNetworkTest, CommandsLostInACutAreResentUntilTheyArrive) {
  auto sim = two_nodes("none");
  ASSERT_TRUE(sim->partition(kNode2, Simulation::Cut::kFromDirector, 2s));
  ASSERT_TRUE(sim->crash(CompId("app/su-1/server")));
  sim->run_for(1s);
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  EXPECT_NE(ha(*sim, 2), HaState::kActive) << "the promotion cannot have arrived yet";
  EXPECT_GT(sim->stats().envelopes_lost, 0u);
  sim->settle();
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  EXPECT_EQ(ha(*sim, 2), HaState::kActive);
  EXPECT_EQ(sim->stats().failovers, 1u);
}

// Loss, duplication, reordering and delay: every invariant holds, and the failover still
// happens; the run stays a function of its seed.
TEST(SimNetworkTest, AFaultyNetworkLosesNothingTheCoresNeedAndStaysReproducible) {
  const std::string faults = "loss=0.2,dup=0.1,reorder=0.2,delay=5,drift=500";
  auto run = [&](std::uint64_t seed) {
    auto sim = two_nodes(faults, seed, true);
    EXPECT_TRUE(sim->crash(CompId("app/su-1/server")));
    sim->run_for(60s);  // faults on (settle() turns them off)
    EXPECT_FALSE(sim->violation()) << sim->violation()->describe();
    sim->settle();
    EXPECT_FALSE(sim->violation()) << sim->violation()->describe();
    EXPECT_EQ(ha(*sim, 2), HaState::kActive);
    EXPECT_GT(sim->stats().envelopes_lost, 0u);
    return sim->trace().all();
  };
  const std::string first = run(7);
  EXPECT_EQ(run(7), first);
  EXPECT_NE(run(8), first);
  EXPECT_NE(first.find("net: lost"), std::string::npos);
}

TEST(SimNetworkTest, EachNodeClockDriftsWithinItsBound) {
  auto sim = two_nodes("drift=1000");
  sim->run_for(1000s);
  bool drifted = false;
  for (const NodeId& n : {kNode1, kNode2}) {
    const Duration off = sim->node_clock(n) - sim->now();
    const Duration bound = sim->now().time_since_epoch() / 1000 + Duration(1);  // 1000 ppm
    EXPECT_LE(std::chrono::abs(off), bound) << n.str();
    drifted |= off != Duration(0);
  }
  EXPECT_TRUE(drifted);
  ASSERT_FALSE(sim->violation());
}

}  // namespace
}  // namespace amf::sim
