// What the decision logic costs, without any I/O: the director and node director cores wired
// in memory (tests/unit/support/local_cluster.h), pretend processes that register and answer
// at once. Run: build/bin/core_bench (--benchmark_filter=StartUp for the start-up curve)
#include <benchmark/benchmark.h>

#include <deque>

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
    director.handle(
        director::SuStateReport{test::su(1), PresenceState::kInstantiated, OperState::kEnabled, ""},
        t);
    for (int i = 1; i <= sis; ++i)
      director.handle(director::AssignmentDone{test::su(1), test::si(i), HaState::kActive}, t);
    director.handle(
        director::SuStateReport{test::su(2), PresenceState::kInstantiated, OperState::kEnabled, ""},
        t);
    for (int i = 1; i <= sis; ++i)
      director.handle(director::AssignmentDone{test::su(2), test::si(i), HaState::kStandby}, t);
    director.take_effects();
    state.ResumeTiming();
    director.handle(director::SuStateReport{test::su(1), PresenceState::kUninstantiated,
                                            OperState::kDisabled, "died"},
                    t);
    benchmark::DoNotOptimize(director.take_effects());
  }
  state.SetLabel(std::to_string(sis) + " SIs");
}
BENCHMARK(BM_DirectorFailoverDecision)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond);

// `sgs` 2N SGs of `sis_per_sg` SIs each; every SG has su-1 on node-1 and su-2 on node-2.
std::shared_ptr<const model::ClusterConfig> two_node_cluster(int sgs, int sis_per_sg) {
  auto config = std::make_shared<model::ClusterConfig>();
  config->name = "bench";
  for (const char* n : {"node-1", "node-2"})
    config->nodes.push_back({NodeId(n), n, "127.0.0.1", true});
  model::ApplicationConfig app{AppId("app"), "app", {}};
  for (int g = 0; g < sgs; ++g) {
    model::SgConfig sg;
    sg.name = "sg" + std::to_string(g);
    sg.id = SgId(sg.name);
    sg.app = app.id;
    for (int u = 1; u <= 2; ++u) {
      model::SuConfig su{SuId(sg.name + "/su-" + std::to_string(u)),
                         "su-" + std::to_string(u),
                         NodeId("node-" + std::to_string(u)),
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
  auto config = two_node_cluster(sgs, 5);
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
      director.handle(
          director::SuStateReport{s1, PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
      for (const auto& si : sg->sis)
        director.handle(director::AssignmentDone{s1, si.id, HaState::kActive}, t);
      director.handle(
          director::SuStateReport{s2, PresenceState::kInstantiated, OperState::kEnabled, ""}, t);
      for (const auto& si : sg->sis)
        director.handle(director::AssignmentDone{s2, si.id, HaState::kStandby}, t);
    }
    director.take_effects();
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

// `sgs` 2N SGs of one SI each, both SUs of every SG on node-1: what amfd, which runs one node,
// starts with (tools/bench/startup.sh measures amfd itself on the same shape).
std::shared_ptr<const model::ClusterConfig> one_node_cluster(int sgs) {
  auto config = std::make_shared<model::ClusterConfig>();
  config->name = "startup";
  config->nodes.push_back({NodeId("node-1"), "node-1", "127.0.0.1", true});
  model::ApplicationConfig app{AppId("app"), "app", {}};
  for (int g = 0; g < sgs; ++g) {
    model::SgConfig sg;
    sg.name = "sg" + std::to_string(g);
    sg.id = SgId(sg.name);
    sg.app = app.id;
    for (int u = 1; u <= 2; ++u) {
      model::SuConfig su{SuId(sg.name + "/su-" + std::to_string(u)),
                         "su-" + std::to_string(u),
                         NodeId("node-1"),
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
    model::SiConfig si;
    si.name = "si";
    si.id = SiId(sg.name + "/si");
    si.csis.push_back({CsiId(si.id.str() + "/csi"), "csi", "svc", {}});
    sg.sis.push_back(si);
    app.service_groups.push_back(sg);
  }
  config->applications.push_back(app);
  return config;
}

// The cores of one node started as amfd starts them, with pretend processes answered
// synchronously as tests/unit/support/local_cluster.h answers them: every start succeeds and
// the component registers at once, every callback is answered OK at once. Effects are carried
// out in the runtime's order (the director's, then the node director's, then the next queued
// event), and after every event the next deadline is asked for, as amfd does to arm its timer.
class StartUp {
 public:
  explicit StartUp(std::shared_ptr<const model::ClusterConfig> config)
      : director_(std::move(*director::Director::create(config))),
        node_(config, NodeId("node-1")) {}

  // NodeUp, then everything it sets off until nothing is left; the events handled.
  std::size_t run() {
    director_.handle(director::NodeUp{NodeId("node-1")}, now_);
    std::size_t events = 0;
    while (true) {
      bool any = false;
      for (auto& effect : director_.take_effects()) {
        any = true;
        if (const auto* cmd = std::get_if<director::ToNode>(&effect)) {
          queue_.push_back(node::to_event(cmd->command));
        }
      }
      for (auto& effect : node_.take_effects()) {
        any = true;
        std::visit([&](auto& e) { on(e); }, effect);
      }
      if (any) continue;
      if (queue_.empty()) break;
      node_.handle(queue_.front(), now_);
      queue_.pop_front();
      ++events;
      benchmark::DoNotOptimize(node_.next_deadline());
      benchmark::DoNotOptimize(director_.next_deadline());
    }
    return events;
  }

  director::Director& director() { return director_; }
  node::NodeDirector& node() { return node_; }

 private:
  void on(const node::StartProcess& e) {
    queue_.push_back(node::ProcessStarted{e.comp});
    queue_.push_back(node::ComponentRegister{next_peer_++, e.comp.str()});
  }
  void on(const node::SignalProcess& e) {
    queue_.push_back(node::ProcessExited{e.comp, "exited with code 0"});
  }
  void on(const node::SendRegisterReply&) {}
  void on(const node::SendCsiSet& e) {
    queue_.push_back(node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on(const node::SendCsiRemove& e) {
    queue_.push_back(node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on(const node::SendHealthcheck& e) {
    queue_.push_back(node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on(const node::RunHook& e) {
    queue_.push_back(node::HookDone{e.comp, e.invocation, true, "exit 0"});
  }
  void on(const node::RunProbe& e) {
    queue_.push_back(node::ProbeDone{e.comp, e.invocation, true, "ok"});
  }
  void on(const node::ToDirector& e) {
    std::visit([&](const auto& m) { director_.handle(m, now_); }, e.message);
  }
  void on(const model::Notification&) {}

  TimePoint now_{};
  director::Director director_;
  node::NodeDirector node_;
  std::deque<node::Event> queue_;
  node::PeerId next_peer_ = 1;
};

// Start-up against the number of SGs: Director::create and the node director's construction,
// NodeUp, and every SU instantiated (its component started and registered) and assigned (one
// active and one standby per SI, each CSI set answered). amfd's event loop does this much
// before it answers anything else.
void BM_StartUp(benchmark::State& state) {
  const int sgs = static_cast<int>(state.range(0));
  auto config = one_node_cluster(sgs);
  std::size_t events = 0;
  for (auto _ : state) {
    StartUp startup(config);
    events = startup.run();
    state.PauseTiming();
    // Every SI active on one SU and standby on the other; anything less is a broken benchmark.
    std::size_t actives = 0;
    std::size_t standbys = 0;
    for (const auto* sg : config->service_groups()) {
      for (const auto& a : startup.director().assignments(sg->id)) {
        actives += a.ha == model::HaState::kActive;
        standbys += a.ha == model::HaState::kStandby;
      }
    }
    if (actives != static_cast<std::size_t>(sgs) || standbys != static_cast<std::size_t>(sgs)) {
      state.SkipWithError("not every SI is active and standby after start-up");
      break;
    }
    state.ResumeTiming();
  }
  state.SetComplexityN(sgs);
  state.SetLabel(std::to_string(sgs) + " SGs, " + std::to_string(2 * sgs) + " processes, " +
                 std::to_string(events) + " events");
}
BENCHMARK(BM_StartUp)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond)->Complexity();

// What amfctl status reads from the cores once 5000 SGs are up: every SU, every SG's
// assignments, every component of the node.
void BM_StatusViews(benchmark::State& state) {
  const int sgs = static_cast<int>(state.range(0));
  auto config = one_node_cluster(sgs);
  StartUp startup(config);
  startup.run();
  for (auto _ : state) {
    benchmark::DoNotOptimize(startup.director().service_units());
    for (const auto* sg : config->service_groups()) {
      benchmark::DoNotOptimize(startup.director().assignments(sg->id));
      benchmark::DoNotOptimize(startup.director().busy(sg->id));
    }
    benchmark::DoNotOptimize(startup.node().components());
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
