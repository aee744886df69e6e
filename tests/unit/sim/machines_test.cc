// The simulated machines under a controller that is not amf: a kubelet-like supervisor
// (restart on exit, a liveness probe that kills a process that stops answering) that knows
// nothing of the runtimes, the director or the AMF component protocol. It shows that the host
// protocol stands on its own, as the Kubernetes reconciler model needs.
#include "sim/machines.h"

#include <gtest/gtest.h>

#include <queue>
#include <random>

#include "sim/cluster_spec.h"

namespace amf::sim {
namespace {

using namespace std::chrono_literals;

// A queue and a clock of its own, in place of the Simulation's.
class World : public Surroundings {
 public:
  TimePoint now() const override { return now_; }
  Duration draw(const LatencyRange& r) override {
    const auto lo = std::chrono::duration_cast<std::chrono::milliseconds>(r.min).count();
    const auto hi = std::chrono::duration_cast<std::chrono::milliseconds>(r.max).count();
    return std::chrono::milliseconds(lo + static_cast<std::int64_t>(uniform(hi - lo + 1)));
  }
  std::uint64_t uniform(std::uint64_t n) override { return n <= 1 ? 0 : rng_() % n; }
  void schedule(Duration after, MachineEvent e) override {
    queue_.push({now_ + after, seq_++, std::move(e)});
  }
  void line(std::string text) override { trace += text + "\n"; }
  std::string header() const override {
    return "[" + std::to_string(now_.time_since_epoch().count()) + "] ";
  }
  void disturbed() override {}
  void violate(std::string invariant, std::string message) override {
    violations.push_back(invariant + ": " + message);
  }

  // Runs the machines' events up to `end`; then the clock stands at `end`.
  void run_until(Machines& m, TimePoint end) {
    while (!queue_.empty() && queue_.top().time <= end) {
      Entry e = queue_.top();
      queue_.pop();
      now_ = e.time;
      m.handle(e.event);
    }
    now_ = end;
  }

  std::string trace;
  std::vector<std::string> violations;

 private:
  struct Entry {
    TimePoint time;
    std::uint64_t seq;
    MachineEvent event;
    bool operator>(const Entry& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::mt19937_64 rng_{7};
  TimePoint now_{};
};

// restartPolicy: Always, and a liveness probe: a process that exits is started again; one whose
// probe fails is killed (and then started again).
class Supervisor : public Controller {
 public:
  void host_report(const NodeId& node, HostReport report) override {
    if (const auto* exited = std::get_if<node::ProcessExited>(&report)) {
      ++exits;
      if (machines != nullptr) machines->start(node, {exited->comp, "server", {}, {}});
    } else if (std::holds_alternative<node::ProcessStarted>(report)) {
      ++starts;
    } else if (const auto* probe = std::get_if<node::ProbeDone>(&report)) {
      if (probe->ok) {
        ++probes_ok;
      } else {
        ++probes_failed;
        machines->signal({probe->comp, node::Signal::kKill});
      }
    }
  }
  void component_message(const NodeId&, ComponentMessage message) override {
    // Speaks no AMF: a component that registers is never answered.
    if (std::holds_alternative<node::ComponentRegister>(message)) ++registrations;
  }

  Machines* machines = nullptr;
  int starts = 0, exits = 0, probes_ok = 0, probes_failed = 0, registrations = 0;
};

class MachinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sg = parse_sg_spec({"no-redundancy", "sus=1", "sis=1", "kind=started", "probe=on"});
    ASSERT_TRUE(sg) << sg.error().message();
    config_ = build({"host", 1, {*sg}});
    machines_ = std::make_unique<Machines>(*config_, latencies_, 10, world_, supervisor_);
    supervisor_.machines = machines_.get();
    comp_ = config_->service_groups().front()->sus.front().components.front().id;
    node_ = config_->service_groups().front()->sus.front().node;
  }
  void probe(node::Invocation invocation) {
    machines_->run_probe(node_, {invocation, comp_});
    world_.run_until(*machines_, world_.now() + 10s);
  }

  Latencies latencies_;
  World world_;
  Supervisor supervisor_;
  std::shared_ptr<const model::ClusterConfig> config_;
  std::unique_ptr<Machines> machines_;
  CompId comp_;
  NodeId node_;
};

TEST_F(MachinesTest, AControllerThatIsNotAmfStartsRestartsAndProbesTheSameProcesses) {
  machines_->start(node_, {comp_, "server", {}, {}});
  world_.run_until(*machines_, TimePoint{} + 1s);
  EXPECT_EQ(supervisor_.starts, 1);
  ASSERT_EQ(machines_->processes().size(), 1u);
  const std::uint64_t first = machines_->processes().front().pid;
  EXPECT_TRUE(machines_->processes().front().registered);  // kind=started: it runs, that is all
  probe(1);
  EXPECT_EQ(supervisor_.probes_ok, 1);

  // It crashes: the supervisor hears the exit and starts a new process.
  ASSERT_TRUE(machines_->crash(comp_));
  world_.run_until(*machines_, world_.now() + 1s);
  EXPECT_EQ(supervisor_.exits, 1);
  EXPECT_EQ(supervisor_.starts, 2);
  ASSERT_EQ(machines_->processes().size(), 1u);
  EXPECT_NE(machines_->processes().front().pid, first);

  // It hangs: the probe runs out of time, the supervisor kills it and starts another.
  ASSERT_TRUE(machines_->hang(comp_));
  probe(2);
  EXPECT_EQ(supervisor_.probes_failed, 1);
  EXPECT_EQ(supervisor_.exits, 2);
  EXPECT_EQ(supervisor_.starts, 3);
  ASSERT_EQ(machines_->processes().size(), 1u);
  EXPECT_FALSE(machines_->processes().front().hung);
  probe(3);
  EXPECT_EQ(supervisor_.probes_ok, 2);

  EXPECT_EQ(supervisor_.registrations, 0);
  EXPECT_TRUE(world_.violations.empty());
  EXPECT_NE(world_.trace.find("probe of " + comp_.str() + " fails"), std::string::npos);
}

TEST_F(MachinesTest, StartingAComponentThatStillRunsIsAViolationOfItsController) {
  machines_->start(node_, {comp_, "server", {}, {}});
  world_.run_until(*machines_, TimePoint{} + 1s);
  machines_->start(node_, {comp_, "server", {}, {}});
  ASSERT_EQ(world_.violations.size(), 1u);
  EXPECT_NE(world_.violations.front().find("still runs"), std::string::npos);
}

TEST_F(MachinesTest, ANodeThatEndsTakesItsProcessesWithoutTellingTheController) {
  machines_->start(node_, {comp_, "server", {}, {}});
  world_.run_until(*machines_, TimePoint{} + 1s);
  EXPECT_EQ(machines_->end_node(node_), 1u);
  world_.run_until(*machines_, world_.now() + 1s);
  EXPECT_TRUE(machines_->processes().empty());
  EXPECT_EQ(supervisor_.exits, 0);
}

}  // namespace
}  // namespace amf::sim
