// The simulator's checkpoints (Options::checkpoints): the checkpoint service on every node, a
// counter that each new active reads and increments, and the invariant on what it reads.
#include <gtest/gtest.h>

#include <iostream>

#include "sim/cluster_spec.h"
#include "sim/invariants.h"
#include "sim/simulation.h"

namespace amf::sim {
namespace {

using namespace std::chrono_literals;

const CsiId kCsi("app/si-1/csi");

// A 2N SG whose two SUs are on node-1 and node-2, with checkpoints and no random faults (and
// no node failover however often the SUs fail over).
std::unique_ptr<Simulation> two_nodes(std::uint64_t seed = 1, bool files = false,
                                      std::optional<NodeId> director = std::nullopt) {
  Options options;
  options.director_node = director;
  options.checkpoints = true;
  options.checkpoint_files = files;
  options.faults = *FaultSpec::parse("none");
  auto sim = Simulation::create(build({"sim", 2, {SgSpec{}}, 1'000}), seed, std::move(options));
  EXPECT_TRUE(sim) << (sim ? "" : sim.error().message());
  return std::move(*sim);
}

void expect_nothing_lost(const Stats& s) {
  EXPECT_EQ(s.checkpoint_lost_with_replicas, 0u);
  EXPECT_EQ(s.checkpoint_lost_silent, 0u);
}

// The live process that believes it is active for the SI's CSI (nullopt: none).
std::optional<ProcessView> active(const Simulation& sim) {
  for (const ProcessView& p : sim.processes()) {
    auto b = p.beliefs.find(kCsi);
    if (b != p.beliefs.end() && b->second == model::HaState::kActive) return p;
  }
  return std::nullopt;
}

TEST(SimCheckpointTest, EveryNewActiveReadsEveryIncrementAcknowledgedBeforeItsActiveWasKilled) {
  auto sim = two_nodes();
  sim->start();
  sim->run_for(5s);
  for (int i = 0; i < 40 && !sim->violation(); ++i) {
    auto p = active(*sim);
    ASSERT_TRUE(p) << "round " << i;
    ASSERT_TRUE(sim->crash(p->comp));
    sim->run_for(3s);
  }
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  const Stats s = sim->stats();
  EXPECT_GE(s.checkpoint_reads, 40u);
  EXPECT_GT(s.checkpoint_acks, 400u);
  expect_nothing_lost(s);
}

// 1,000 crashes of the node of the active (`director`: the director runs there, and every other
// time dies with it): each time the standby's replica, in service, becomes
// the active one and holds every increment acknowledged before; the node boots again, its new
// standby's replica is synced, and the next crash follows.
void crash_the_active_node(std::optional<NodeId> director) {
  auto sim = two_nodes(2, false, director);
  sim->start();
  sim->run_for(5s);
  for (int i = 0; i < 1'000 && !sim->violation(); ++i) {
    auto p = active(*sim);
    ASSERT_TRUE(p) << "round " << i;
    ASSERT_TRUE(sim->crash_node(p->node));
    sim->run_for(1s);  // the standby's replica, in service, becomes the active one
    ASSERT_TRUE(sim->boot_node(p->node));
    sim->run_for(5s);  // a new standby, whose replica is synced from the active one
  }
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  const Stats s = sim->stats();
  EXPECT_GE(s.checkpoint_reads, 1'000u);
  EXPECT_GT(s.checkpoint_acks, 10'000u);
  expect_nothing_lost(s);
  if (director) {
    EXPECT_GE(s.director_crashes, 400u);
  }
  std::cout << "1,000 node crashes" << (director ? " (the director's node among them)" : "") << ": "
            << s.checkpoint_acks << " increments acknowledged, " << s.checkpoint_write_failures
            << " failed, " << s.checkpoint_reads << " reads by new actives, none lost\n";
}

TEST(SimCheckpointTest, EveryNewActiveReadsEveryIncrementAcknowledgedBeforeItsNodeCrashed) {
  crash_the_active_node(std::nullopt);
}

TEST(SimCheckpointTest,
     EveryNewActiveReadsEveryIncrementAcknowledgedBeforeTheDirectorsNodeCrashed) {
  crash_the_active_node(NodeId("node-1"));
}

// Replicas in memory die with their nodes: when every node holding the checkpoint crashes, the
// next active reads less than was acknowledged, and the simulator counts that loss rather than
// calling it a violation.
TEST(SimCheckpointTest, ALossWithEveryReplicaIsCountedNotAViolation) {
  auto sim = two_nodes(3);
  sim->start();
  sim->run_for(5s);
  ASSERT_GT(sim->stats().checkpoint_acks, 0u);
  ASSERT_TRUE(sim->crash_node(NodeId("node-1")));
  ASSERT_TRUE(sim->crash_node(NodeId("node-2")));
  sim->run_for(1s);
  ASSERT_TRUE(sim->boot_node(NodeId("node-1")));
  ASSERT_TRUE(sim->boot_node(NodeId("node-2")));
  sim->run_for(30s);
  ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  EXPECT_EQ(sim->stats().checkpoint_lost_with_replicas, 1u);
  EXPECT_TRUE(active(*sim));
}

// With the replicas on disk, the same crash of every node loses nothing: the nodes' next lives
// restore their replicas, and the new active's recovers the newest content among them.
TEST(SimCheckpointTest, WithFilesACrashOfEveryNodeLosesNoAcknowledgedIncrement) {
  auto sim = two_nodes(3, true);
  sim->start();
  for (int i = 0; i < 5; ++i) {
    sim->run_for(5s);
    ASSERT_GT(sim->stats().checkpoint_acks, 0u);
    ASSERT_TRUE(sim->crash_node(NodeId("node-1")));
    ASSERT_TRUE(sim->crash_node(NodeId("node-2")));
    sim->run_for(1s);
    ASSERT_TRUE(sim->boot_node(NodeId(i % 2 == 0 ? "node-1" : "node-2")));
    ASSERT_TRUE(sim->boot_node(NodeId(i % 2 == 0 ? "node-2" : "node-1")));
    sim->run_for(30s);
    ASSERT_FALSE(sim->violation()) << sim->violation()->describe();
  }
  const Stats s = sim->stats();
  EXPECT_GE(s.checkpoint_reads, 6u);
  expect_nothing_lost(s);
  EXPECT_TRUE(active(*sim));
}

TEST(SimCheckpointTest, ARunWithCheckpointsIsAFunctionOfItsSeed) {
  auto run = [] {
    Options options;
    options.checkpoints = true;
    options.keep_full_trace = true;
    options.faults = *FaultSpec::parse("crash=0.02,node=0.002,loss=0.01");
    auto sim = *Simulation::create(build({"sim", 3, {SgSpec{}}}), 7, std::move(options));
    sim->start();
    sim->run_for(5min);
    sim->settle();
    EXPECT_FALSE(sim->violation()) << sim->violation()->describe();
    EXPECT_GT(sim->stats().checkpoint_reads, 1u);
    return sim->trace().all();
  };
  EXPECT_EQ(run(), run());
}

// ---- the invariant on broken input ----

CheckpointRead read_of(std::uint64_t read, std::uint64_t acked) {
  CheckpointRead r;
  r.checkpoint = "app.si-1";
  r.reader = NodeId("node-2");
  r.generation = 9;
  r.read = read;
  r.acked = acked;
  return r;
}

TEST(SimCheckpointInvariantTest, AReadOfEveryAcknowledgedIncrementHolds) {
  auto r = read_of(12, 12);
  r.holders = {NodeId("node-1")};
  EXPECT_EQ(judge_checkpoint_read(r), CheckpointReadVerdict::kHolds);
  EXPECT_FALSE(check_checkpoint_read(r));
}

TEST(SimCheckpointInvariantTest, AReadThatMissesWhatAnAnsweringReplicaHoldsIsAViolation) {
  auto r = read_of(10, 12);
  r.holders = {NodeId("node-1"), NodeId("node-3")};
  r.silent = {NodeId("node-3")};
  EXPECT_EQ(judge_checkpoint_read(r), CheckpointReadVerdict::kViolated);
  const auto why = check_checkpoint_read(r);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why,
            "checkpoint 'app.si-1': the new active on node-2 (generation 9) read 10, but increment "
            "12 was acknowledged and the replicas on node-1, up and answering, hold it: an "
            "acknowledged synchronous write is missing");
}

TEST(SimCheckpointInvariantTest, AReplicaInServiceThatMissesAnIncrementIsAViolationWithNoHolder) {
  auto r = read_of(10, 12);
  r.in_service = true;
  EXPECT_EQ(judge_checkpoint_read(r), CheckpointReadVerdict::kViolated);
  const auto why = check_checkpoint_read(r);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why,
            "checkpoint 'app.si-1': the new active on node-2 (generation 9) read 10, but increment "
            "12 was acknowledged and its replica was in service when it became active: a replica "
            "in service lacks an acknowledged synchronous write");
}

TEST(SimCheckpointInvariantTest, ALossWithEveryReplicaOrPastSilentOnesIsCounted) {
  auto gone = read_of(10, 12);
  EXPECT_EQ(judge_checkpoint_read(gone), CheckpointReadVerdict::kLostWithReplicas);
  EXPECT_FALSE(check_checkpoint_read(gone));
  auto silent = read_of(10, 12);
  silent.holders = {NodeId("node-1")};
  silent.silent = {NodeId("node-1")};
  EXPECT_EQ(judge_checkpoint_read(silent), CheckpointReadVerdict::kLostSilent);
  EXPECT_FALSE(check_checkpoint_read(silent));
}

TEST(SimCheckpointInvariantTest, WithFilesAReadThatMissesWhatNoReplicaHoldsIsAViolation) {
  auto r = read_of(10, 12);
  r.durable = true;
  EXPECT_EQ(judge_checkpoint_read(r), CheckpointReadVerdict::kViolated);
  const auto why = check_checkpoint_read(r);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why,
            "checkpoint 'app.si-1': the new active on node-2 (generation 9) read 10, but increment "
            "12 was acknowledged and no replica holds it, on disk either: an acknowledged "
            "synchronous write was never stored");
}

TEST(SimCheckpointInvariantTest, ADeposedWriterMayNotCompleteWhatTheNewActiveDidNotRead) {
  const std::map<std::uint64_t, std::uint64_t> reads{{6, 20}, {7, 21}};
  EXPECT_FALSE(check_checkpoint_ack("c", 5, 20, reads)) << "the new actives read it";
  EXPECT_FALSE(check_checkpoint_ack("c", 6, 21, reads)) << "generation 7 read it";
  EXPECT_FALSE(check_checkpoint_ack("c", 7, 25, reads)) << "no newer one read";
  // Generation 7's read has caught up with 21, generation 6's has not: 6's still counts.
  const auto why = check_checkpoint_ack("c", 5, 21, reads);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why,
            "checkpoint 'c': increment 21 of generation 5 was acknowledged after the active of "
            "generation 6 read 20: a deposed writer completed a write the new active lacks");
}

}  // namespace
}  // namespace amf::sim
