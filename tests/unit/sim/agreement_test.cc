// The simulator and the tests' local cluster host the same runtime (amf/runtime): one scenario
// run through both makes the same decisions, in the same order. The simulator's components
// answer after no delay here, as the local cluster's pretend components do; what differs is
// only how each host carries out effects (scheduled events against immediate answers). So the
// order is compared per SI (its HA states) and for everything else as one sequence
// (recoveries, admin state changes, admin results): two SIs whose assignments complete on
// different nodes at the same instant may complete in either order, as on a real network.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim/cluster_spec.h"
#include "sim/simulation.h"
#include "tests/unit/support/local_cluster.h"

namespace amf::sim {
namespace {

// A decision: an HA state given or taken, a recovery chosen, an admin operation's end.
bool is_decision(const model::Notification& n) {
  return n.kind == model::NotificationKind::kHaState ||
         n.kind == model::NotificationKind::kRecovery || n.kind == model::NotificationKind::kAdmin;
}

std::string text(const model::Notification& n) {
  return std::string(model::to_string(n.kind)) + " " + n.entity +
         (n.related.empty() ? "" : " " + n.related) + " " + n.from + " -> " + n.to + " (" +
         n.cause + ")";
}

std::string text(const director::AdminResult& r) {
  return std::string("result ") + (r.ok ? "ok" : "failed") + ": " + r.message;
}

// Two nodes; a 2N SG with two SIs and an N-way-active SG, SUs spread over the nodes.
std::shared_ptr<const model::ClusterConfig> cluster() {
  SgSpec two_n;
  two_n.sis = 2;
  SgSpec active;
  active.name = "web";
  active.model = model::RedundancyModel::kNWayActive;
  active.sus = 3;
  active.sis = 2;
  return build({"agree", 2, {two_n, active}});
}

// What the scenario does, whichever host runs it.
struct Driver {
  virtual ~Driver() = default;
  virtual void start() = 0;
  virtual void crash(const CompId& comp) = 0;
  virtual void admin(director::AdminOp op, director::EntityKind kind, const std::string& e) = 0;
  std::vector<std::string> decisions;
};

void scenario(Driver& d) {
  d.start();
  d.crash(CompId("app/su-1/server"));  // the 2N active: fail over to su-2, repair su-1
  d.crash(CompId("web/su-2/server"));  // one of three actives
  d.admin(director::AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  d.admin(director::AdminOp::kLock, director::EntityKind::kSu, "web/su-1");
  d.admin(director::AdminOp::kShutdown, director::EntityKind::kSu, "app/su-1");
  d.admin(director::AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1");
  d.admin(director::AdminOp::kUnlock, director::EntityKind::kSu, "web/su-1");
  d.admin(director::AdminOp::kLock, director::EntityKind::kSu, "no/such-su");  // refused by both
}

struct SimDriver : Driver {
  std::unique_ptr<Simulation> sim;
  SimDriver() {
    Options o;
    const LatencyRange none{Duration(0), Duration(0)};
    o.latencies.registration = o.latencies.callback = o.latencies.kill = none;
    o.latencies.terminate = o.latencies.early_exit = none;
    o.on_notification = [this](const model::Notification& n) {
      if (is_decision(n)) decisions.push_back(text(n));
    };
    o.on_admin_result = [this](const director::AdminResult& r) { decisions.push_back(text(r)); };
    sim = std::move(*Simulation::create(cluster(), 1, std::move(o)));
  }
  void start() override {
    sim->start();
    sim->settle();
  }
  void crash(const CompId& comp) override {
    ASSERT_TRUE(sim->crash(comp));
    sim->settle();
  }
  void admin(director::AdminOp op, director::EntityKind kind, const std::string& e) override {
    sim->admin(op, kind, e);
    sim->settle();
  }
};

struct LocalDriver : Driver {
  test::LocalCluster local{cluster()};
  void start() override {
    local.start();
    collect();
  }
  void crash(const CompId& comp) override {
    local.kill(comp, "killed by signal 11");
    collect();
  }
  void admin(director::AdminOp op, director::EntityKind kind, const std::string& e) override {
    local.admin(op, kind, e);
    collect();
  }
  // The local cluster keeps every notification and result; take the new ones, in order.
  void collect() {
    const auto& notes = local.notifications();
    for (; seen_notes < notes.size(); ++seen_notes) {
      if (is_decision(notes[seen_notes])) decisions.push_back(text(notes[seen_notes]));
    }
    const auto& results = local.results();
    for (; seen_results < results.size(); ++seen_results) {
      decisions.push_back(text(results[seen_results]));
    }
  }
  std::size_t seen_notes = 0;
  std::size_t seen_results = 0;
};

TEST(RuntimeAgreementTest, TheSimulatorAndTheLocalClusterMakeTheSameDecisions) {
  SimDriver sim;
  LocalDriver local;
  scenario(sim);
  scenario(local);
  ASSERT_FALSE(sim.sim->violation()) << sim.sim->violation()->describe();
  EXPECT_GT(sim.decisions.size(), 20u);
  EXPECT_EQ(sim.decisions.size(), local.decisions.size());
  auto by_thread = [](const std::vector<std::string>& decisions) {
    std::map<std::string, std::string> out;  // "si <id>" or "cluster" -> its decisions in order
    for (const auto& d : decisions) {
      std::string key = "cluster";
      if (d.starts_with("ha-state ")) {
        const auto si = d.find(' ', d.find(' ', 9) + 1);  // the third word: the SI
        key = "si " + d.substr(d.find(' ', 9) + 1, si - d.find(' ', 9) - 1);
      }
      out[key] += d + "\n";
    }
    return out;
  };
  const auto a = by_thread(sim.decisions);
  const auto b = by_thread(local.decisions);
  EXPECT_EQ(a.size(), 5u);  // app/si-1, app/si-2, web/si-1, web/si-2, cluster
  for (const auto& [key, seq] : a) {
    EXPECT_EQ(seq, b.count(key) ? b.at(key) : "") << key;
  }
}

}  // namespace
}  // namespace amf::sim
