// Several real amfds on loopback, one per node, with a real etcd member that the test starts:
// the director elected through etcd, a node's SUs failed over when its amfd and components are
// SIGKILLed, the director's own node lost, a node back as its next life, admin states kept in
// etcd across directors, and admin operations made on any node carried out by the director.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/asio/executor_work_guard.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "amf/daemon/etcd_client.h"
#include "tests/integration/amfd_fixture.h"
#include "tests/integration/loop.h"
#include "tools/support/etcd_server.h"
#include "tools/support/proc_stats.h"

namespace amf::itest {
namespace {

const std::vector<std::string> kNodes{"n1", "n2", "n3"};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.started()) << "etcd did not start (tools/run setup installs etcd-server)";
    // With the key, the links between the nodes are CURVE and the datagrams sealed, as off
    // loopback.
    key_ = dir_.path() + "/cluster.key";
    ASSERT_EQ(run({bin("amfctl"), "keygen", key_}).exit_code, 0);
    port_ = free_port();
    std::string nodes;
    for (const std::string& n : kNodes) {
      const std::string address = address_of(n);
      nodes += "  - {name: " + n + (address.empty() ? "" : ", address: " + address) +
               ", controller: true, membership_port: " +
               std::to_string(amf::testing::free_loopback_port(SOCK_DGRAM)) +
               ", command_port: " + std::to_string(amf::testing::free_loopback_port()) +
               ", checkpoint_port: " + std::to_string(amf::testing::free_loopback_port()) + "}\n";
    }
    // The default profile (100 ms / 500 ms): a test machine shared with other builds pauses
    // processes for tens of milliseconds, which the fast profile would take for a failure.
    config_ =
        dir_.file("cluster.yaml",
                  "cluster:\n  name: itest\n  membership_profile: default\n  etcd: " + etcd_yaml() +
                      "\nnodes:\n" + nodes +
                      "applications:\n  - name: counter\n    service_groups:\n"
                      "      - name: counter\n        redundancy: 2n\n"
                      "        su_template:\n          nodes: [n1, n2]\n"
                      "          components:\n            - name: server\n"
                      "              command: amf-demo-counter\n"
                      "              cs_types: [counter]\n"
                      "              recovery: component-failover\n"
                      "              timeouts: {instantiate_ms: 3000, csi_set_ms: 2000}\n"
                      "        service_instances:\n          - name: si-1\n            csis:\n"
                      "              - name: endpoint\n                cs_type: counter\n"
                      "                attributes: {port: \"" +
                      std::to_string(port_) + "\"}\n");
  }

  void TearDown() override {
    for (const std::string& n : kNodes) stop(n);
    if (HasFailure()) {
      for (const auto& [n, lives] : lives_) {
        for (int life = 1; life <= lives; ++life) {
          const std::string log = n + "." + std::to_string(life) + ".err";
          std::cerr << "---- amfd " << log << " ----\n" << slurp(dir_.path() + "/" + log) << "\n";
        }
      }
    }
  }

  // Where etcd is: the test's one member, by default; EtcdOnEachNodeTest puts one on each node.
  virtual std::string etcd_yaml() { return "[\"" + etcd_.client() + "\"]"; }
  virtual std::string address_of(const std::string& /*node*/) { return ""; }  // "": loopback

  std::string runtime(const std::string& node) const { return dir_.path() + "/" + node; }

  // checkpoint_store: file in the configuration (before the nodes start).
  // `recovery_wait_ms`: the cluster's checkpoint_recovery_wait_ms (the default without).
  void use_file_store(std::optional<int> recovery_wait_ms = std::nullopt) {
    std::string yaml = slurp(config_);
    std::string keys = "  name: itest\n  checkpoint_store: file\n";
    if (recovery_wait_ms) {
      keys += "  checkpoint_recovery_wait_ms: " + std::to_string(*recovery_wait_ms) + "\n";
    }
    yaml.replace(yaml.find("  name: itest\n"), 14, keys);
    config_ = dir_.file("cluster.yaml", yaml);
  }

  // `key`: the cluster key's file, the test's by default.
  void start(const std::string& node, const std::string& key = "") {
    // A log per life of the node.
    const std::string log = dir_.path() + "/" + node + "." + std::to_string(++lives_[node]);
    amfd_[node] =
        spawn({bin("amfd"), "--config", config_, "--node", node, "--runtime-dir", runtime(node),
               "--cluster-key", key.empty() ? key_ : key, "--log-level", "debug"},
              {}, log + ".out", log + ".err");
    ASSERT_GT(amfd_[node], 0);
  }

  // SIGTERM and wait; the exit code (-1: killed after the wait).
  int stop(const std::string& node) {
    const pid_t pid = amfd_[node];
    if (pid <= 0) return 0;
    amfd_[node] = -1;
    ::kill(pid, SIGTERM);
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                    std::chrono::seconds(20))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The whole node dies at once: its amfd and the components it ran, by their PIDs (from its
  // own status, which shows every node's components).
  void crash(const std::string& node) {
    std::vector<int> pids;
    if (auto s = status(node)) {
      for (const auto& sg : s->service_groups) {
        for (const auto& su : sg.service_units) {
          for (const auto& c : su.components) {
            if (c.pid > 0 && su.node == node) pids.push_back(c.pid);
          }
        }
      }
    }
    const pid_t pid = amfd_[node];
    if (pid <= 0) return;  // not running (kill(-1) would signal every process there is)
    amfd_[node] = -1;
    ::kill(pid, SIGKILL);
    for (int p : pids) ::kill(p, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }

  std::optional<wire::ClusterStatus> status(const std::string& node) {
    Output o = run({bin("amfctl"), "--runtime-dir", runtime(node), "status", "-o", "json"});
    if (o.exit_code != 0) return std::nullopt;
    auto parsed = wire::status_from_json(o.out);
    return parsed ? std::optional(*parsed) : std::nullopt;
  }

  // The director as the running nodes agree on it, with its status, once its table is whole:
  // si-1 has exactly one active and, when `standby`, a standby too.
  struct Settled {
    std::string director;
    std::uint64_t epoch = 0;
    std::string active;
    std::string standby;
    wire::ClusterStatus status;
  };
  // The start of the two recovery tests below: the standby's node dies, the active acknowledges
  // increments 11 to 15 on its own, its SU is locked, and every node dies. `out`: the SUs and
  // nodes as they were, and the epoch the active went on alone in.
  struct Behind {
    Settled first;
    std::uint64_t alone_epoch = 0;
    std::string active_node, standby_node, third;
  };
  void crash_with_the_standby_behind(Behind& out) {
    for (const std::string& n : kNodes) start(n);
    auto first = settled(true);
    ASSERT_TRUE(first) << "no director with an active and a standby";
    out.first = *first;
    out.active_node = node_of(first->status, first->active);
    out.standby_node = node_of(first->status, first->standby);
    for (const std::string& n : kNodes) {
      if (n != out.active_node && n != out.standby_node) out.third = n;
    }
    for (int i = 1; i <= 10; ++i) ASSERT_EQ(ask(port_, "INC"), std::to_string(i) + "\n");
    crash(out.standby_node);
    auto alone = settled(false, 0, [&](const Settled& s) { return s.active == first->active; });
    ASSERT_TRUE(alone) << "the active did not stay active when its standby's node crashed";
    out.alone_epoch = alone->epoch;
    for (int i = 11; i <= 15; ++i) {
      std::string reply;
      EXPECT_TRUE(eventually([&] { return (reply = ask(port_, "INC")) != ""; })) << i;
      ASSERT_EQ(reply, std::to_string(i) + "\n") << "increment " << i << " with one replica";
    }
    Output lock =
        run({bin("amfctl"), "--runtime-dir", runtime(out.third), "lock", "su", first->active});
    ASSERT_EQ(lock.exit_code, 0) << lock.err << lock.out;
    std::this_thread::sleep_for(std::chrono::seconds(1));  // a restarted voter (see above)
    crash(out.active_node);
    crash(out.third);
  }

  // `until`: what else must hold (the change a fault should bring).
  std::optional<Settled> settled(
      bool standby, std::uint64_t after_epoch = 0,
      const std::function<bool(const Settled&)>& until = [](const Settled&) { return true; }) {
    std::optional<Settled> out;
    eventually(
        [&] {
          out.reset();
          std::set<std::string> directors;
          for (const auto& [node, pid] : amfd_) {
            if (pid <= 0) continue;
            auto s = status(node);
            if (!s || s->director.empty()) return false;
            directors.insert(s->director + "@" + std::to_string(s->epoch));
          }
          if (directors.size() != 1) return false;
          const std::string director = directors.begin()->substr(0, directors.begin()->find('@'));
          auto s = status(director);
          if (!s || s->director != director || s->epoch <= after_epoch) return false;
          Settled r{director, s->epoch, "", "", *s};
          int actives = 0;
          for (const auto& sg : s->service_groups) {
            // (A director not yet acting shows its own node only, without SIs.)
            if (sg.busy || sg.service_instances.empty()) return false;
            for (const auto& a : sg.service_instances.front().assignments) {
              if (a.ha_state == "active") ++actives, r.active = a.service_unit;
              if (a.ha_state == "standby") r.standby = a.service_unit;
            }
          }
          if (actives != 1 || (standby && r.standby.empty()) || !until(r)) return false;
          out = r;
          return true;
        },
        std::chrono::seconds(30));
    return out;
  }

  static std::string node_of(const wire::ClusterStatus& s, const std::string& su) {
    for (const auto& sg : s.service_groups) {
      for (const auto& u : sg.service_units) {
        if (u.name == su) return u.node;
      }
    }
    return "";
  }

  // The test's own etcd calls (amfd's client, on a loop of the test's), answered or failed
  // within 10 s.
  template <class T>
  Result<T> etcd_call(
      const std::function<void(daemon::EtcdClient&, daemon::EtcdClient::Callback<T>)>& call) {
    boost::asio::io_context io;
    auto busy = boost::asio::make_work_guard(io);
    daemon::EtcdClient client(io, {etcd_.client()},
                              {std::chrono::seconds(1), std::chrono::seconds(1)});
    std::optional<Result<T>> out;
    call(client, [&](Result<T> r) { out = std::move(r); });
    if (!amf::testing::run_until(io, [&] { return out.has_value(); })) return fail("no answer");
    return *out;
  }
  Result<std::optional<daemon::EtcdClient::KeyValue>> etcd_get(const std::string& key) {
    using T = std::optional<daemon::EtcdClient::KeyValue>;
    // (The member may still be starting: asked again for up to 5 s.)
    Result<T> got = fail("not asked");
    eventually(
        [&] {
          got = etcd_call<T>([&](auto& c, auto done) { c.get(key, std::move(done)); });
          return got.has_value();
        },
        std::chrono::seconds(5));
    return got;
  }
  Result<daemon::EtcdClient::Swap> etcd_put(const std::string& key, std::int64_t expected,
                                            const std::string& value) {
    return etcd_call<daemon::EtcdClient::Swap>(
        [&](auto& c, auto done) { c.compare_and_put(key, expected, value, std::move(done)); });
  }
  bool logged(const std::string& text) {
    for (const auto& [n, lives] : lives_) {
      for (int life = 1; life <= lives; ++life) {
        if (slurp(dir_.path() + "/" + n + "." + std::to_string(life) + ".err").find(text) !=
            std::string::npos) {
          return true;
        }
      }
    }
    return false;
  }

  amf::testing::EtcdServer etcd_;
  TempDir dir_;
  std::string config_;
  int port_ = 0;
  std::string key_;
  std::map<std::string, pid_t> amfd_;
  std::map<std::string, int> lives_;
};

TEST_F(ClusterTest, TheServiceOutlivesTheActivesNodeAndTheDirectorsNode) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first) << "no director with an active and a standby";
  EXPECT_EQ(first->epoch, 1u);
  EXPECT_EQ(ask(port_, "INC"), "1\n");

  // The node of the active dies whole (its amfd and its component): its standby takes over,
  // under whichever director the crash leaves.
  const std::string active_node = node_of(first->status, first->active);
  crash(active_node);
  auto after_crash =
      settled(false, 0, [&](const Settled& s) { return s.active == first->standby; });
  ASSERT_TRUE(after_crash) << "no active after node " << active_node << " crashed";
  EXPECT_EQ(after_crash->active, first->standby);
  EXPECT_NE(after_crash->director, active_node);
  EXPECT_TRUE(eventually([&] { return ask(port_, "GET").size() > 0; }))
      << "the promoted standby does not serve";

  // Back as its next life: its SU is instantiated again and becomes the standby.
  start(active_node);
  auto rejoined = settled(true, after_crash->epoch - 1,
                          [&](const Settled& s) { return s.standby == first->active; });
  ASSERT_TRUE(rejoined) << "node " << active_node << " did not come back as a standby";
  EXPECT_EQ(rejoined->standby, first->active);
  auto back = status(active_node);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->incarnation, 2u);

  // A restarted voter acknowledges nothing for as long as its earlier life's acknowledgements
  // could keep a lease alive (about 450 ms with the default profile; amf/membership/README.md,
  // rule 2). Losing another voter within that time leaves no majority, and every node fences
  // itself, by design; so the next crash waits it out.
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // The director's node dies whole: another controller wins the next epoch and takes over,
  // and the SI keeps (or regains) exactly one active.
  const std::string director = rejoined->director;
  crash(director);
  auto new_director = settled(false, rejoined->epoch);
  ASSERT_TRUE(new_director) << "no new director after node " << director << " crashed";
  EXPECT_NE(new_director->director, director);
  EXPECT_GT(new_director->epoch, rejoined->epoch);
  EXPECT_TRUE(eventually([&] { return ask(port_, "GET").size() > 0; }))
      << "nothing serves after the director's node crashed";

  // Stopped in turn, every node ends its components.
  for (const std::string& n : kNodes) EXPECT_EQ(stop(n), 0) << n;
  Output left = run({"pgrep", "-f", "amf-demo-counter.*" + std::to_string(port_)});
  EXPECT_TRUE(left.out.empty()) << left.out;
}

// The counter keeps its value in a synchronous checkpoint whose replicas are on the two nodes
// of its SUs: every increment it acknowledged is there after the node of the active dies whole,
// and again after the node of the new active dies once the first came back as the standby (its
// replica cold-synced from the active's).
TEST_F(ClusterTest, EveryAcknowledgedIncrementOutlivesTheActivesNode) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first) << "no director with an active and a standby";
  int acknowledged = 0;
  for (int i = 1; i <= 50; ++i) {
    ASSERT_EQ(ask(port_, "INC"), std::to_string(i) + "\n");
    acknowledged = i;
  }

  const std::string active_node = node_of(first->status, first->active);
  crash(active_node);
  auto after_crash =
      settled(false, 0, [&](const Settled& s) { return s.active == first->standby; });
  ASSERT_TRUE(after_crash) << "no active after node " << active_node << " crashed";
  std::string value;
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, std::to_string(acknowledged) + "\n") << "the standby's replica lost writes";
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(ask(port_, "INC"), std::to_string(++acknowledged) + "\n");
  }

  // Back as its next life and the standby: its replica is cold-synced before it counts.
  start(active_node);
  auto rejoined = settled(true, after_crash->epoch - 1,
                          [&](const Settled& s) { return s.standby == first->active; });
  ASSERT_TRUE(rejoined) << "node " << active_node << " did not come back as a standby";
  // The active's node shows the rejoined replica in service (amfctl ckpt show, there) once it
  // holds every acknowledged write.
  const std::string name = "counter-" + std::to_string(port_);
  Output show;
  EXPECT_TRUE(eventually([&] {
    show = run({bin("amfctl"), "--runtime-dir",
                runtime(node_of(rejoined->status, rejoined->active)), "ckpt", "show", name});
    // The rejoined node's row of the replicas' table: "n1  1.3:61  yes".
    const auto row = show.out.find("\n" + active_node + "  ");
    return row != std::string::npos &&
           show.out.substr(row + 1, show.out.find('\n', row + 1) - row - 1).ends_with("  yes");
  })) << "the rejoined standby's replica never came into service:\n"
      << show.out << show.err;
  EXPECT_NE(show.out.find("replica active"), std::string::npos) << show.out;
  ASSERT_EQ(ask(port_, "INC"), std::to_string(++acknowledged) + "\n");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a restarted voter (see above)

  const std::string second_node = node_of(rejoined->status, rejoined->active);
  crash(second_node);
  auto again = settled(false, 0, [&](const Settled& s) { return s.active == first->active; });
  ASSERT_TRUE(again) << "no active after node " << second_node << " crashed";
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, std::to_string(acknowledged) + "\n") << "the cold-synced replica lost writes";
  EXPECT_EQ(ask(port_, "INC"), std::to_string(acknowledged + 1) + "\n");
}

// checkpoint_store: file: every node keeps its replicas in files, and the counter's value outlives
// the crash of every node at once (a power cut), which replicas in memory do not. The node that
// becomes active first recovers: it asks the other replica where it stands and takes the newer
// content before it takes a write.
TEST_F(ClusterTest, WithAFileStoreTheCounterOutlivesACrashOfTheWholeCluster) {
  use_file_store();
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first) << "no director with an active and a standby";
  int acknowledged = 0;
  for (int i = 1; i <= 20; ++i) {
    ASSERT_EQ(ask(port_, "INC"), std::to_string(i) + "\n");
    acknowledged = i;
  }
  for (const std::string& n : kNodes) crash(n);
  EXPECT_EQ(ask(port_, "GET"), "") << "nothing serves once every node is gone";

  for (const std::string& n : kNodes) start(n);
  auto again = settled(true, first->epoch);
  ASSERT_TRUE(again) << "no director with an active and a standby after the restart";
  std::string value;
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, std::to_string(acknowledged) + "\n") << "the stored replicas lost writes";
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(ask(port_, "INC"), std::to_string(++acknowledged) + "\n");
  }
  EXPECT_TRUE(logged("restored from the store at "));

  // And the standby's replica holds them too: its node dies, the standby takes over.
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a restarted voter (see above)
  const std::string active_node = node_of(again->status, again->active);
  crash(active_node);
  auto after = settled(false, 0, [&](const Settled& s) { return s.active == again->standby; });
  ASSERT_TRUE(after) << "no active after node " << active_node << " crashed";
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, std::to_string(acknowledged) + "\n") << "the standby's replica lost writes";
}

// The recovery that pulls: the standby's node dies, the active acknowledges more increments on
// its own, its SU is locked, and every node dies. After the restart the lock (kept in etcd)
// makes the other SU active, whose stored replica is behind: before it takes a write it asks
// the other replica where it stands and takes its newer content.
TEST_F(ClusterTest, AReplicaMadeActiveBehindTakesTheNewerContentOfItsPeerAfterAWholeClusterCrash) {
  use_file_store();
  Behind b;
  ASSERT_NO_FATAL_FAILURE(crash_with_the_standby_behind(b));
  const auto& [first, alone_epoch, active_node, standby_node, third] = b;

  for (const std::string& n : kNodes) start(n);
  auto again =
      settled(false, alone_epoch, [&](const Settled& s) { return s.active == first.standby; });
  ASSERT_TRUE(again) << "the SU on " << standby_node << " did not become active after the restart";
  std::string value;
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, "15\n") << "the replica on " << standby_node
                           << " did not take the newer content of the one on " << active_node;
  EXPECT_EQ(ask(port_, "INC"), "16\n");
  EXPECT_TRUE(logged("with the content of the replica on " + active_node));
}

// The same, but the node with the newest content starts 3 s after the others: past the default
// recovery wait (1 s), within the 20 s this cluster sets (checkpoint_recovery_wait_ms). The new
// active replica waits for it and takes its content.
TEST_F(ClusterTest, ARecoveryWaitsForAPeerThatStartsLateWithinTheConfiguredWait) {
  use_file_store(20'000);
  Behind b;
  ASSERT_NO_FATAL_FAILURE(crash_with_the_standby_behind(b));
  const auto& [first, alone_epoch, active_node, standby_node, third] = b;

  start(standby_node);
  start(third);
  // The counter reads its checkpoint before it answers its CSI set: the assignment is done only
  // once the recovery is over, so the test waits for the recovery to begin, not for the SU.
  const std::string log = dir_.path() + "/" + standby_node + ".2.err";
  ASSERT_TRUE(eventually(
      [&] {
        return slurp(log).find("this replica was not in service when it became active") !=
               std::string::npos;
      },
      std::chrono::seconds(30)))
      << "the replica on " << standby_node << " did not become active";
  std::this_thread::sleep_for(std::chrono::seconds(3));
  start(active_node);
  auto again =
      settled(false, alone_epoch, [&](const Settled& s) { return s.active == first.standby; });
  ASSERT_TRUE(again) << "the SU on " << standby_node << " did not become active after the restart";
  std::string value;
  EXPECT_TRUE(eventually([&] { return !(value = ask(port_, "GET")).empty(); }));
  EXPECT_EQ(value, "15\n") << "the replica on " << standby_node
                           << " did not wait for the newer content of the one on " << active_node;
  EXPECT_TRUE(logged("with the content of the replica on " + active_node));
}

// amfctl status on any node: the director's SGs, SUs and SIs (asked of the director) with
// every node's components (the director gathers them), every node's membership as this node sees
// it, with its life, the view, and etcd's health from this node's own requests. A node that dies is
// down once the view has taken it out; etcd that stops answering is unreachable, with the reason,
// and reachable again once it answers.
TEST_F(ClusterTest, StatusOnAnyNodeShowsEachNodesMembershipAndEtcdsHealth) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first);
  std::optional<wire::ClusterStatus> seen;
  const auto row = [&](const std::string& node) -> const wire::NodeStatus* {
    for (const auto& r : seen->nodes) {
      if (r.name == node) return &r;
    }
    return nullptr;
  };
  const auto shown = [&] { return seen ? wire::to_json(*seen) : std::string("no status"); };
  for (const std::string& n : kNodes) {
    EXPECT_TRUE(eventually([&] {
      seen = status(n);
      if (!seen || seen->nodes.size() != kNodes.size()) return false;
      for (const std::string& m : kNodes) {
        if (row(m)->membership != "member" || row(m)->incarnation != 1) return false;
      }
      return seen->store.state == "reachable" && seen->store.last_answer_ms >= 0 &&
             seen->view_epoch == first->epoch && seen->view_number > 0;
    })) << n
        << ": " << shown();
  }
  std::string other;
  for (const std::string& n : kNodes) {
    if (n != first->director) other = n;
  }
  Output text = run({bin("amfctl"), "--runtime-dir", runtime(other), "status"});
  EXPECT_NE(text.out.find("MEMBERSHIP"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("etcd reachable"), std::string::npos) << text.out;

  // The SGs as the director has them, from a node that does not hold it.
  seen = status(other);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->node, other);
  EXPECT_EQ(seen->director, first->director);
  EXPECT_EQ(seen->partial, "");
  ASSERT_EQ(seen->service_groups.size(), 1u);
  const auto& sg = seen->service_groups[0];
  EXPECT_EQ(sg.admin_state, "unlocked");
  ASSERT_EQ(sg.service_instances.size(), 1u);
  std::map<std::string, std::string> ha;
  for (const auto& a : sg.service_instances[0].assignments) ha[a.service_unit] = a.ha_state;
  EXPECT_EQ(ha, (std::map<std::string, std::string>{{first->active, "active"},
                                                    {first->standby, "standby"}}))
      << shown();
  EXPECT_TRUE(seen->components_missing.empty()) << shown();
  for (const auto& su : sg.service_units) {
    EXPECT_EQ(su.presence_state, "instantiated") << su.name;
    EXPECT_EQ(su.readiness_state, "in-service") << su.name;
  }
  // Components: every node's, whichever node is asked, with the PIDs that their own node shows.
  std::map<std::string, int> pid_of;  // by SU, as its own node shows it
  for (const std::string& n : kNodes) {
    auto s = status(n);
    ASSERT_TRUE(s) << n;
    for (const auto& su : s->service_groups[0].service_units) {
      if (su.node == n && su.components.size() == 1) pid_of[su.name] = su.components[0].pid;
    }
  }
  ASSERT_EQ(pid_of.size(), 2u);
  for (const std::string& n : kNodes) {
    seen = status(n);
    ASSERT_TRUE(seen) << n;
    EXPECT_TRUE(seen->components_missing.empty()) << n << ": " << shown();
    for (const auto& su : seen->service_groups[0].service_units) {
      ASSERT_EQ(su.components.size(), 1u) << n << " shows " << su.name << ": " << shown();
      EXPECT_GT(su.components[0].pid, 0) << n << " shows " << su.name;
      EXPECT_EQ(su.components[0].pid, pid_of[su.name]) << n << " shows " << su.name;
      EXPECT_FALSE(su.components[0].csis.empty()) << n << " shows " << su.name;
    }
  }

  crash(other);
  for (const std::string& n : kNodes) {
    if (n == other) continue;
    EXPECT_TRUE(eventually([&] {
      seen = status(n);
      return seen && row(other) != nullptr && row(other)->membership == "down";
    })) << n
        << ": " << shown();
  }

  ASSERT_TRUE(amf::testing::stop_process(etcd_.pid()));
  const bool unreachable = eventually(
      [&] {
        seen = status(first->director);
        return seen && seen->store.state == "unreachable" && seen->store.failing_ms > 0 &&
               !seen->store.error.empty();
      },
      std::chrono::seconds(15));
  text = run({bin("amfctl"), "--runtime-dir", runtime(first->director), "status"});
  ::kill(etcd_.pid(), SIGCONT);
  EXPECT_TRUE(unreachable) << shown();
  EXPECT_NE(text.out.find("etcd unreachable for"), std::string::npos) << text.out;
  EXPECT_TRUE(eventually(
      [&] {
        seen = status(first->director);
        return seen && seen->store.state == "reachable";
      },
      std::chrono::seconds(15)))
      << shown();
}

TEST_F(ClusterTest, ANodeGivenAnotherKeyIsKeptOutAndEachRefusalIsLogged) {
  start("n1");
  start("n2");
  auto first = settled(true);
  ASSERT_TRUE(first);
  const std::string other = dir_.path() + "/other.key";
  ASSERT_EQ(run({bin("amfctl"), "keygen", other}).exit_code, 0);
  start("n3", other);
  const std::string log = dir_.path() + "/" + first->director + ".1.err";
  EXPECT_TRUE(eventually(
      [&] {
        const std::string text = slurp(log);
        return text.find("membership datagram not signed with this cluster's key") !=
                   std::string::npos &&
               text.find("command socket: refused a connection: on tcp://127.0.0.1:") !=
                   std::string::npos;
      },
      std::chrono::seconds(15)))
      << slurp(log);
  // n3 never joins; the service stays where it was.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto s = status(first->director);
  ASSERT_TRUE(s);
  for (const auto& r : s->nodes) {
    if (r.name == "n3") {
      EXPECT_NE(r.membership, "member") << wire::to_json(*s);
    }
  }
  EXPECT_EQ(s->director, first->director);
  EXPECT_EQ(s->epoch, first->epoch);
  ASSERT_EQ(s->service_groups.size(), 1u);
  ASSERT_EQ(s->service_groups[0].service_instances.size(), 1u);
  std::map<std::string, std::string> ha;
  for (const auto& a : s->service_groups[0].service_instances[0].assignments) {
    ha[a.service_unit] = a.ha_state;
  }
  EXPECT_EQ(ha, (std::map<std::string, std::string>{{first->active, "active"},
                                                    {first->standby, "standby"}}))
      << wire::to_json(*s);
}

TEST_F(ClusterTest, AdminStatesLiveInEtcdAndOutliveTheDirectorsNode) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first);

  // amfctl on a node without the director: its amfd forwards the operation to the director
  // and passes the director's answer on, a refusal as well.
  std::string other;
  for (const std::string& n : kNodes) {
    if (n != first->director) other = n;
  }
  Output refused =
      run({bin("amfctl"), "--runtime-dir", runtime(other), "lock", "su", "counter/su-9"});
  EXPECT_EQ(refused.exit_code, 1) << refused.err << refused.out;
  EXPECT_NE(refused.err.find("counter/su-9"), std::string::npos) << refused.err;

  // Lock-instantiation of an SU, from that node: the one on the director's node where it has
  // one (it is locked first, which switches its SI over if it is active), else the standby,
  // so that the active survives the director's crash below.
  std::string target = first->standby;
  for (const std::string& su : {first->active, first->standby}) {
    if (node_of(first->status, su) == first->director) target = su;
  }
  for (const std::string op : {"lock", "lock-instantiation"}) {
    Output o = run({bin("amfctl"), "--runtime-dir", runtime(other), op, "su", target});
    ASSERT_EQ(o.exit_code, 0) << op << ": " << o.err << o.out;
  }
  auto su_admin = [&](const wire::ClusterStatus& s) {
    for (const auto& sg : s.service_groups) {
      for (const auto& u : sg.service_units) {
        if (u.name == target) return u.admin_state;
      }
    }
    return std::string();
  };

  // The director's node dies; its successor reads the lock from etcd, and the SU stays down.
  crash(first->director);
  auto next = settled(false, first->epoch);
  ASSERT_TRUE(next);
  EXPECT_EQ(su_admin(next->status), "locked-instantiation");
  EXPECT_EQ(next->standby, "");
  EXPECT_NE(next->active, target);
  // What the new director changes is kept in etcd too: the SU comes back as the standby.
  for (const std::string op : {"unlock-instantiation", "unlock"}) {
    Output o = run({bin("amfctl"), "--runtime-dir", runtime(next->director), op, "su", target});
    EXPECT_EQ(o.exit_code, 0) << op << ": " << o.err << o.out;
  }
  if (node_of(first->status, target) == first->director) {
    start(first->director);  // its SU's node, back as its next life
  }
  auto whole =
      settled(true, next->epoch - 1, [&](const Settled& s) { return s.standby == target; });
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->standby, target);
  EXPECT_EQ(su_admin(whole->status), "unlocked");
}

// amfd stopped on a node that holds the active but not the director (a rolling upgrade, say):
// the node asks the director to move its assignments away, and ends its components only once
// it holds none, so the SI is switched over (quiesced first) rather than failed over after the
// node has gone. The node comes back as the operator left it, not locked.
TEST_F(ClusterTest, AStoppingNodeHasItsActiveSwitchedOverBeforeItEndsItsComponents) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first);
  if (node_of(first->status, first->active) == first->director) {
    // The active to a node that does not direct (counter's SUs are on n1 and n2; at most one
    // of them directs).
    Output o =
        run({bin("amfctl"), "--runtime-dir", runtime(first->director), "si-swap", "counter/si-1"});
    ASSERT_EQ(o.exit_code, 0) << o.err << o.out;
    first = settled(true, 0,
                    [&](const Settled& s) { return node_of(s.status, s.active) != s.director; });
    ASSERT_TRUE(first);
  }
  const std::string node = node_of(first->status, first->active);
  ASSERT_NE(node, first->director);

  EXPECT_EQ(stop(node), 0);
  const std::string log = slurp(dir_.path() + "/" + node + ".1.err");
  const auto leaving = log.find("moving the assignments of node " + node);
  const auto done = log.find("node " + node + " holds no assignment any more");
  const auto ended = log.find("terminating (node shutdown)");
  ASSERT_NE(leaving, std::string::npos) << log;
  ASSERT_NE(done, std::string::npos) << log;
  ASSERT_NE(ended, std::string::npos) << log;
  EXPECT_LT(leaving, done);
  EXPECT_LT(done, ended);
  EXPECT_EQ(log.find("still holds assignments after"), std::string::npos) << log;
  // The director quiesced the active and then promoted the standby, for the leaving node: a
  // switchover, not a failover once the node had gone.
  const std::string director_log = slurp(dir_.path() + "/" + first->director + ".1.err");
  const std::string why = " (node " + node + " leaving)";
  const auto quiesced =
      director_log.find("ha-state " + first->active + " counter/si-1 active -> quiesced" + why);
  const auto promoted =
      director_log.find("ha-state " + first->standby + " counter/si-1 standby -> active" + why);
  ASSERT_NE(quiesced, std::string::npos) << director_log;
  ASSERT_NE(promoted, std::string::npos) << director_log;
  EXPECT_LT(quiesced, promoted);
  EXPECT_FALSE(logged("ha-state " + first->standby + " counter/si-1 standby -> active (failover)"));
  auto after = settled(false, 0, [&](const Settled& s) { return s.active == first->standby; });
  ASSERT_TRUE(after);
  EXPECT_TRUE(eventually([&] { return ask(port_, "GET").size() > 0; }))
      << "the new active does not serve";

  // Back as its next life, unlocked: its SU is the standby again.
  start(node);
  auto back = settled(true, 0, [&](const Settled& s) { return s.standby == first->active; });
  ASSERT_TRUE(back) << "node " << node << " did not come back as a standby";
  for (const auto& n : back->status.nodes) {
    if (n.name == node) {
      EXPECT_EQ(n.admin_state, "unlocked");
    }
  }
}

// amfd stopped on a node whose director has just died: the node does not wait out its bound
// (5 s here) for a switchover nobody will make. etcd is paused, so that no new director can be
// elected to move the node's work meanwhile: the node ends its components once it no longer
// hears the director it follows (500 ms, the default profile's timeout), or at once if it hears
// none. The old code waited for the bound.
TEST_F(ClusterTest, AStoppingNodeWhoseDirectorIsGoneDoesNotWaitForIt) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first);
  std::string node;  // a node with an SU, not the director's
  for (const std::string& su : {first->active, first->standby}) {
    if (node_of(first->status, su) != first->director) node = node_of(first->status, su);
  }
  ASSERT_FALSE(node.empty());
  ASSERT_TRUE(amf::testing::stop_process(etcd_.pid()));
  crash(first->director);
  const int exit_code = stop(node);
  ::kill(etcd_.pid(), SIGCONT);
  EXPECT_EQ(exit_code, 0);
  const std::string log = slurp(dir_.path() + "/" + node + ".1.err");
  EXPECT_EQ(log.find("still holds assignments after"), std::string::npos) << log;
  EXPECT_TRUE(log.find("no longer hears the director it follows") != std::string::npos ||
              log.find("follows no director that it hears") != std::string::npos)
      << log;
}

// The director's node restarts at once: its next life wins the next epoch (etcd's record
// names its node) and starts its views from the lives it hears, so the others keep their
// leases (an early build fenced every node here: its first view held only itself).
TEST_F(ClusterTest, ADirectorsNodeThatRestartsAtOnceTakesOverWithoutFencingAnyone) {
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first);
  crash(first->director);
  start(first->director);
  auto next = settled(false, first->epoch);
  ASSERT_TRUE(next) << "no director after node " << first->director << " restarted";
  EXPECT_FALSE(logged("ends: fenced")) << "a node fenced itself";
  EXPECT_EQ(next->active == first->active,
            node_of(first->status, first->active) != first->director);
}

TEST_F(ClusterTest, AdminStatesInEtcdThatAreNotAStoreKeepTheDirectorIdleUntilMended) {
  const std::string key = "/amf/itest/admin-states";
  ASSERT_TRUE(etcd_get(key));
  auto put = etcd_put(key, 0,
                      "{\"amf_admin_states\": 1, \"states\": [{\"kind\": \"su\", "
                      "\"entity\": \"counter/su-2\", \"state\": \"frozen\"}]}");
  ASSERT_TRUE(put && put->succeeded);
  for (const std::string& n : kNodes) start(n);
  ASSERT_TRUE(eventually([&] {
    return logged(
        "does not act yet: etcd key /amf/itest/admin-states: states[0]: unknown admin "
        "state 'frozen'");
  })) << "no director said what is wrong with the admin states";
  // Nothing was assigned, and the key is as it was.
  for (const std::string& n : kNodes) {
    auto s = status(n);
    ASSERT_TRUE(s);
    for (const auto& sg : s->service_groups) {
      for (const auto& si : sg.service_instances) EXPECT_TRUE(si.assignments.empty()) << n;
    }
  }
  auto kept = etcd_get(key);
  ASSERT_TRUE(kept && *kept);
  EXPECT_NE((*kept)->value.find("frozen"), std::string::npos);

  // Mended: the director acts, with su-2 locked-instantiation as the store now says.
  auto mended = etcd_put(key, (*kept)->mod_revision,
                         "{\"amf_admin_states\": 1, \"states\": [{\"kind\": \"su\", \"entity\": "
                         "\"counter/su-2\", \"state\": \"locked-instantiation\"}]}");
  ASSERT_TRUE(mended && mended->succeeded);
  auto acting = settled(false, 0, [](const Settled& s) { return s.active == "counter/su-1"; });
  ASSERT_TRUE(acting) << "the director did not act once the admin states were mended";
  EXPECT_EQ(acting->standby, "");
}

TEST_F(ClusterTest, ANodesLifeNumberThatIsNotANumberIsRefusedAndLeftAsItWas) {
  fs::create_directories(runtime("n1"));
  const std::string life = dir_.file("n1/incarnation", "7x\n");
  Output o = run({bin("amfd"), "--config", config_, "--node", "n1", "--runtime-dir", runtime("n1")},
                 {}, std::chrono::seconds(10));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.err.find(life + " does not hold a node's life number ('7x'); write in it a number "
                              "above every earlier life of this node"),
            std::string::npos)
      << o.err;
  EXPECT_EQ(slurp(life), "7x\n");
}

// Each node with an etcd member of its own, on the node's own loopback address, as controllers
// are deployed: the director keeps etcd's leader off its node, so that losing the director's
// node does not cost an etcd election too (daemon::Cluster::keep_etcd_leader_away).
class EtcdOnEachNodeTest : public ClusterTest {
 protected:
  std::string etcd_yaml() override {
    std::string out = "[";
    for (std::size_t i = 0; i < members_.size(); ++i) {
      out += (i == 0 ? "\"" : ", \"") + members_[i]->client() + "\"";
    }
    return out + "]";
  }
  std::string address_of(const std::string& node) override {
    return "127.0.0." + std::to_string(10 + std::stoi(node.substr(1)));
  }
  // The test's call to member i alone.
  template <class T>
  Result<T> call(
      std::size_t i,
      const std::function<void(daemon::EtcdClient&, daemon::EtcdClient::Callback<T>)>& f) {
    boost::asio::io_context io;
    auto busy = boost::asio::make_work_guard(io);
    daemon::EtcdClient client(io, {members_[i]->client()},
                              {std::chrono::seconds(1), std::chrono::seconds(1)});
    std::optional<Result<T>> out;
    f(client, [&](Result<T> r) { out = std::move(r); });
    if (!amf::testing::run_until(io, [&] { return out.has_value(); })) return fail("no answer");
    return *out;
  }
  std::optional<daemon::EtcdClient::Status> status_of(std::size_t i) {
    auto s = call<daemon::EtcdClient::Status>(i, [](auto& c, auto done) { c.status(done); });
    return s ? std::optional(*s) : std::nullopt;
  }

  std::vector<std::unique_ptr<amf::testing::EtcdServer>> members_ =
      amf::testing::EtcdServer::cluster({"127.0.0.11", "127.0.0.12", "127.0.0.13"});
};

TEST_F(EtcdOnEachNodeTest, TheDirectorHandsEtcdsLeaderToAMemberOnAnotherNode) {
  for (const auto& m : members_) ASSERT_TRUE(m->started()) << "cannot start etcd";
  for (const std::string& n : kNodes) start(n);
  auto first = settled(true);
  ASSERT_TRUE(first) << "no director settled";
  const std::size_t director = static_cast<std::size_t>(std::stoi(first->director.substr(1)) - 1);
  const auto own = status_of(director);  // the director's member says who it is
  ASSERT_TRUE(own && own->member != 0);

  // etcd's leader put on the director's member by the test (by the leader, the only member
  // that takes a MoveLeader), up to five times: the director may move it away meanwhile.
  const std::string handed =
      "etcd's leader was this node's member e" + std::to_string(director + 1) + ": handed to";
  const auto director_log = [&] { return slurp(dir_.path() + "/" + first->director + ".1.err"); };
  std::size_t logged_before = 0;
  bool put_there = false;
  for (int attempt = 0; attempt < 5 && !put_there; ++attempt) {
    std::optional<daemon::EtcdClient::Status> now;
    ASSERT_TRUE(eventually(
        [&] {
          now = status_of((director + 1) % 3);
          return now && now->leader != 0;
        },
        std::chrono::seconds(10)));
    std::size_t leader = 3;
    for (std::size_t i = 0; i < 3; ++i) {
      if (auto s = status_of(i); s && s->member == now->leader) leader = i;
    }
    ASSERT_LT(leader, 3u);
    logged_before = 0;
    for (auto at = director_log().find(handed); at != std::string::npos;
         at = director_log().find(handed, at + 1)) {
      ++logged_before;
    }
    if (leader == director) {
      put_there = true;
      break;
    }
    put_there = call<void>(leader, [&](auto& c, auto done) {
                  c.move_leader(own->member, done);
                }).has_value();
  }
  ASSERT_TRUE(put_there) << "the test could not put etcd's leader on the director's member";

  // Within a check or two (every 500 ms), the director hands it on, and says so.
  EXPECT_TRUE(eventually(
      [&] {
        std::size_t logged = 0;
        for (auto at = director_log().find(handed); at != std::string::npos;
             at = director_log().find(handed, at + 1)) {
          ++logged;
        }
        auto s = status_of((director + 1) % 3);
        return logged > logged_before && s && s->leader != 0 && s->leader != own->member;
      },
      std::chrono::seconds(10)))
      << "etcd's leader stays on the director's node";
}

}  // namespace
}  // namespace amf::itest
