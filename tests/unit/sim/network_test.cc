// The simulated network: faults that the links hide, partitions whose hazard they do not
// (unless the membership fences: Options::membership), and clock drift.
#include <gtest/gtest.h>

#include <set>

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

// The hazard that membership with self-fencing removes (the Options::membership tests below
// run the same cut): without it, node-1 is cut off from the director, the stand-in
// membership stops hearing it and declares it gone, the director promotes the standby on
// node-2; node-1 hears nothing of this and its component stays active.
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

// ---- Options::membership: the real cluster cores (runtime::ClusterNode) decide who directs,
// when a node is gone and when a node fences itself, over the simulated network and a model of
// etcd ----

// A 2N SG over three nodes (the three vote; su-1 on node-1, su-2 on node-2), the fast profile.
std::unique_ptr<Simulation> three_nodes(std::uint64_t seed = 1) {
  auto config = build({"net", 3, {SgSpec{}}});
  auto mutable_config = std::make_shared<model::ClusterConfig>(*config);
  mutable_config->membership_profile = "fast";
  for (auto& node : mutable_config->nodes) node.controller = true;  // the three vote
  Options options;
  options.membership = true;
  options.keep_full_trace = true;
  auto sim = Simulation::create(mutable_config, seed, std::move(options));
  EXPECT_TRUE(sim) << sim.error().message();
  (*sim)->start();
  (*sim)->settle();
  EXPECT_FALSE((*sim)->violation()) << (*sim)->violation()->describe();
  return std::move(*sim);
}

TEST(SimMembershipTest, TheNodesElectADirectorThatAssignsTheService) {
  auto sim = three_nodes();
  ASSERT_TRUE(sim->director_up());
  ASSERT_TRUE(sim->director_node());
  EXPECT_EQ(sim->director_epoch(), 1u);
  // One active and one standby, whichever SU the director chose first.
  ASSERT_TRUE(ha(*sim, 1) && ha(*sim, 2));
  EXPECT_EQ(std::set({*ha(*sim, 1), *ha(*sim, 2)}),
            std::set({HaState::kActive, HaState::kStandby}));
  EXPECT_EQ(sim->stats().fences, 0u);
}

// The hazard the simulator showed without the membership (above): the node with the active,
// cut off, kept it while the director promoted the standby. Now that node's life ends first.
// Over four seeds the active is on the director's node in some runs and elsewhere in others.
TEST(SimMembershipTest, ANodeCutOffWithTheActiveFencesItselfBeforeTheStandbyIsPromoted) {
  std::set<bool> on_the_directors_node;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (auto cut : {Simulation::Cut::kBoth, Simulation::Cut::kToDirector,
                     Simulation::Cut::kFromDirector, Simulation::Cut::kFlapping}) {
      auto sim = three_nodes(seed);
      const int active = ha(*sim, 1) == HaState::kActive ? 1 : 2;
      ASSERT_EQ(ha(*sim, active), HaState::kActive);
      const NodeId cut_off("node-" + std::to_string(active));
      on_the_directors_node.insert(cut_off == *sim->director_node());
      ASSERT_TRUE(sim->partition(cut_off, cut, 2s));
      sim->run_for(5s);
      ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
      sim->settle();
      ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
      EXPECT_NE(sim->trace().all().find(cut_off.str() + " life 1 ends"), std::string::npos)
          << "seed " << seed << ", cut " << static_cast<int>(cut);
      EXPECT_EQ(ha(*sim, 3 - active), HaState::kActive)
          << "seed " << seed << ", cut " << static_cast<int>(cut);
    }
  }
  EXPECT_EQ(on_the_directors_node, std::set({false, true}));
}

TEST(SimMembershipTest, TheDirectorsNodeCrashesAndAnotherTakesOverInTheNextEpoch) {
  auto sim = three_nodes();
  const NodeId first = *sim->director_node();
  ASSERT_TRUE(sim->crash_director());
  sim->run_for(2s);  // the crashed node boots 5 s later at the earliest
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  ASSERT_TRUE(sim->director_up());
  EXPECT_NE(*sim->director_node(), first);
  EXPECT_EQ(sim->director_epoch(), 2u);
  EXPECT_FALSE(sim->node_up(first));
  EXPECT_EQ(sim->stats().fences, 0u);  // the survivors kept their leases
  sim->settle();
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  EXPECT_TRUE(sim->node_up(first));  // booted again as its next life
  EXPECT_TRUE(ha(*sim, 1) == HaState::kActive || ha(*sim, 2) == HaState::kActive);
}

TEST(SimMembershipTest, TheDirectorsNodeCutOffFencesItselfAndAnotherDirects) {
  auto sim = three_nodes();
  const NodeId first = *sim->director_node();
  ASSERT_TRUE(sim->partition(first, Simulation::Cut::kBoth, 3s));
  sim->run_for(2s);
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  EXPECT_NE(sim->trace().all().find(first.str() + " life 1 ends"), std::string::npos);
  ASSERT_TRUE(sim->director_up());
  EXPECT_NE(*sim->director_node(), first);
  EXPECT_EQ(sim->director_epoch(), 2u);
  sim->settle();
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
}

}  // namespace
}  // namespace amf::sim
