// What the decision logic costs, without any I/O: the director and node director cores wired
// in memory (tests/unit/support/local_cluster.h), pretend processes that register and answer
// at once. Run: build/bin/core_bench (--benchmark_filter=StartUp for the start-up curve)
#include <benchmark/benchmark.h>

#include <algorithm>

#include "amf/core/assert.h"
#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

// One complete 2N failover cycle in the cores: the active's process dies, the standby is
// promoted, the failed SU is repaired, re-instantiated and made standby again. One cycle every
// 10 simulated minutes (the advance is timed too: one tick of each core): failovers any faster
// are a loop that the node's escalation (su_failover_max, 10 per 20 min by default) and the
// recovery ceilings (amf/model/recovery_ceiling.h) end by leaving the SUs disabled. Without the
// pause this benchmark ran into the node failover at its 11th iteration and found no active.
void BM_TwoNFailoverCycle(benchmark::State& state) {
  test::LocalCluster cluster(
      test::make_cluster({.sus = 2, .sis = static_cast<int>(state.range(0))}));
  cluster.start();
  for (auto _ : state) {
    const auto table = cluster.director().assignments(SgId("app"));
    if (table.empty() || table.front().ha != model::HaState::kActive) {
      state.SkipWithError("no active: the failovers were ended as a loop");
      break;
    }
    cluster.kill(CompId(table.front().su.str() + "/server"));
    cluster.advance(std::chrono::minutes(10));
  }
  state.SetLabel(std::to_string(state.range(0)) + " SIs");
}
BENCHMARK(BM_TwoNFailoverCycle)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

// The director alone: one SU fault report to the promotion commands for every SI.
void BM_DirectorFailoverDecision(benchmark::State& state) {
  const int sis = static_cast<int>(state.range(0));
  auto config = test::make_cluster({.sus = 2, .sis = sis});
  using model::HaState;
  using model::OperState;
  using model::PresenceState;
  for (auto _ : state) {
    state.PauseTiming();
    auto director = std::move(*director::Director::create(config));
    const TimePoint t{};
    director.handle(director::NodeUp{NodeId("node-1")}, t);
    test::CommandIds ids;
    director.handle(
        protocol::SuStateReport{test::su(1), PresenceState::kInstantiated, OperState::kEnabled, ""},
        t);
    ids.record(director.take_effects());
    for (int i = 1; i <= sis; ++i)
      director.handle(ids.done(test::su(1), test::si(i), HaState::kActive), t);
    director.handle(
        protocol::SuStateReport{test::su(2), PresenceState::kInstantiated, OperState::kEnabled, ""},
        t);
    ids.record(director.take_effects());
    for (int i = 1; i <= sis; ++i)
      director.handle(ids.done(test::su(2), test::si(i), HaState::kStandby), t);
    director.take_effects();
    AMF_ASSERT(!director.busy(SgId("app")));
    state.ResumeTiming();
    director.handle(protocol::SuStateReport{test::su(1), PresenceState::kUninstantiated,
                                            OperState::kDisabled, "died"},
                    t);
    benchmark::DoNotOptimize(director.take_effects());
  }
  state.SetLabel(std::to_string(sis) + " SIs");
}
BENCHMARK(BM_DirectorFailoverDecision)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

// `sgs` 2N SGs of `sis_per_sg` SIs each, su-1 of every SG on node-1 and su-2 on node-2 (or
// on node-1 too when there is one node).
std::shared_ptr<const model::ClusterConfig> two_n_cluster(int nodes, int sgs, int sis_per_sg) {
  auto config = std::make_shared<model::ClusterConfig>();
  config->name = "bench";
  for (int n = 1; n <= nodes; ++n) {
    const std::string name = "node-" + std::to_string(n);
    config->nodes.push_back({NodeId(name), name, "127.0.0.1", true});
  }
  model::ApplicationConfig app{AppId("app"), "app", {}};
  for (int g = 0; g < sgs; ++g) {
    model::SgConfig sg;
    sg.name = "sg" + std::to_string(g);
    sg.id = SgId(sg.name);
    sg.app = app.id;
    for (int u = 1; u <= 2; ++u) {
      model::SuConfig su{SuId(sg.name + "/su-" + std::to_string(u)),
                         "su-" + std::to_string(u),
                         NodeId("node-" + std::to_string(std::min(u, nodes))),
                         u,
                         {}};
      model::ComponentConfig comp;
      comp.id = CompId(su.id.str() + "/server");
      comp.name = "server";
      comp.command = "server";
      comp.cs_types = {"svc"};
      su.components.push_back(comp);
      sg.sus.push_back(su);
    }
    for (int i = 1; i <= sis_per_sg; ++i) {
      model::SiConfig si;
      si.name = "si-" + std::to_string(i);
      si.id = SiId(sg.name + "/" + si.name);
      si.csis.push_back({CsiId(si.id.str() + "/csi"), "csi", "svc", {}});
      sg.sis.push_back(si);
    }
    app.service_groups.push_back(sg);
  }
  config->applications.push_back(app);
  return config;
}

// Losing a node that hosts 100 SUs (the active of 100 2N SGs, 500 SIs): the time from the
// membership's NodeDown to the last promotion command, in the director alone.
void BM_DirectorNodeLoss(benchmark::State& state) {
  const int sgs = static_cast<int>(state.range(0));
  auto config = two_n_cluster(2, sgs, 5);
  using model::HaState;
  using model::OperState;
  using model::PresenceState;
  std::size_t commands = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto director = std::move(*director::Director::create(config));
    const TimePoint t{};
    director.handle(director::NodeUp{NodeId("node-1")}, t);
    director.handle(director::NodeUp{NodeId("node-2")}, t);
    for (const auto* sg : config->service_groups()) {
      const auto& s1 = sg->sus[0].id;
      const auto& s2 = sg->sus[1].id;
      test::CommandIds ids;
      director.handle(
          protocol::SuStateReport{s1, PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
      ids.record(director.take_effects());
      for (const auto& si : sg->sis) director.handle(ids.done(s1, si.id, HaState::kActive), t);
      director.handle(
          protocol::SuStateReport{s2, PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
      ids.record(director.take_effects());
      for (const auto& si : sg->sis) director.handle(ids.done(s2, si.id, HaState::kStandby), t);
      director.take_effects();
      AMF_ASSERT(!director.busy(sg->id));
    }
    state.ResumeTiming();
    director.handle(director::NodeDown{NodeId("node-1"), "node-1 left the cluster"}, t);
    auto effects = director.take_effects();
    commands = 0;
    for (const auto& e : effects) commands += std::holds_alternative<director::ToNode>(e);
    benchmark::DoNotOptimize(effects);
  }
  state.SetLabel(std::to_string(sgs) + " SUs lost, " + std::to_string(commands) +
                 " promotions ordered");
}
BENCHMARK(BM_DirectorNodeLoss)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

// Start-up against the number of SGs, on one node, through the node runtime amfd hosts its
// cores in (tests/unit/support/local_cluster.h, whose pretend components start, register and
// answer every callback at once): Director::create and the node director's construction,
// NodeUp, and every SU instantiated and assigned (one active and one standby per SI). amfd's
// event loop does this much before it answers anything else (tools/bench/startup.sh measures
// amfd itself on the same shape).
void BM_StartUp(benchmark::State& state) {
  const int sgs = static_cast<int>(state.range(0));
  auto config = two_n_cluster(1, sgs, 1);
  std::size_t notifications = 0;
  for (auto _ : state) {
    test::LocalCluster cluster(config);
    cluster.start();
    state.PauseTiming();
    // Every SI active on one SU and standby on the other; anything less is a broken benchmark.
    std::size_t actives = 0;
    std::size_t standbys = 0;
    for (const auto* sg : config->service_groups()) {
      for (const auto& a : cluster.director().assignments(sg->id)) {
        actives += a.ha == model::HaState::kActive;
        standbys += a.ha == model::HaState::kStandby;
      }
    }
    notifications = cluster.notifications().size();
    if (actives != static_cast<std::size_t>(sgs) || standbys != static_cast<std::size_t>(sgs)) {
      state.SkipWithError("not every SI is active and standby after start-up");
      break;
    }
    state.ResumeTiming();
  }
  state.SetComplexityN(sgs);
  state.SetLabel(std::to_string(sgs) + " SGs, " + std::to_string(2 * sgs) + " processes, " +
                 std::to_string(notifications) + " notifications");
}
BENCHMARK(BM_StartUp)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->Complexity();

// What amfctl status reads from the cores once 5000 SGs are up: every SU, every SG's
// assignments, every component of the node.
void BM_StatusViews(benchmark::State& state) {
  const int sgs = static_cast<int>(state.range(0));
  auto config = two_n_cluster(1, sgs, 1);
  test::LocalCluster cluster(config);
  cluster.start();
  for (auto _ : state) {
    benchmark::DoNotOptimize(cluster.director().service_units());
    for (const auto* sg : config->service_groups()) {
      benchmark::DoNotOptimize(cluster.director().assignments(sg->id));
      benchmark::DoNotOptimize(cluster.director().busy(sg->id));
    }
    benchmark::DoNotOptimize(cluster.node("node-1").components());
  }
  state.SetComplexityN(sgs);
}
BENCHMARK(BM_StatusViews)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMillisecond)
    ->Complexity();

}  // namespace
}  // namespace amf

BENCHMARK_MAIN();
