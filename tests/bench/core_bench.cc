// What the decision logic costs, without any I/O: the director and node director cores wired
// in memory (tests/unit/support/local_cluster.h), pretend processes that register and answer
// at once. Run: build/bin/core_bench
#include <benchmark/benchmark.h>

#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

// One complete 2N failover cycle in the cores: the active's process dies, the standby is
// promoted, the failed SU is repaired, re-instantiated and made standby again.
void BM_TwoNFailoverCycle(benchmark::State& state) {
  test::LocalCluster cluster(test::make_cluster({.sus = 2, .sis = static_cast<int>(state.range(0))}));
  cluster.start();
  for (auto _ : state) {
    const SuId active = cluster.director().assignments(SgId("app")).at(0).su;
    cluster.kill(CompId(active.str() + "/server"));
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
    director.handle(director::SuStateReport{test::su(1), PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
    for (int i = 1; i <= sis; ++i) director.handle(director::AssignmentDone{test::su(1), test::si(i), HaState::kActive}, t);
    director.handle(director::SuStateReport{test::su(2), PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
    for (int i = 1; i <= sis; ++i) director.handle(director::AssignmentDone{test::su(2), test::si(i), HaState::kStandby}, t);
    director.take_effects();
    state.ResumeTiming();
    director.handle(director::SuStateReport{test::su(1), PresenceState::kUninstantiated, OperState::kDisabled, "died"}, t);
    benchmark::DoNotOptimize(director.take_effects());
  }
  state.SetLabel(std::to_string(sis) + " SIs");
}
BENCHMARK(BM_DirectorFailoverDecision)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace amf

BENCHMARK_MAIN();
