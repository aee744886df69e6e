// Director election in a real etcd member with membership on real sockets: three amfd cluster
// adapters (daemon::Cluster over the cluster node core) in one process, one loop, without
// runtimes. The director's node "crashes" (its sockets and its etcd connection vanish) and a
// survivor takes the next epoch, takes over, and tells its director the old node is down.
// (cluster_test.cc and amf-cluster-bench --fault director do the same with whole amfds.)
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <boost/asio/executor_work_guard.hpp>
#include <iostream>

#include "amf/daemon/cluster.h"
#include "tests/integration/loop.h"
#include "tests/integration/slow_answers.h"
#include "tools/support/etcd_server.h"

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

struct Candidate {
  std::unique_ptr<Cluster> cluster;
  std::vector<std::string> events;
  bool has(const std::string& text) const { return amf::testing::has_line(events, text); }
};

class ClusterElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.started()) << "cannot start etcd";
    EtcdClient probe(io_, {etcd_.client()}, {1s, 1s});
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i) {
      std::optional<bool> answer;
      probe.get("/amf/test/ready", [&](auto r) { answer = r.has_value(); });
      run_until([&] { return answer.has_value(); });
      ready = answer.value_or(false);
      if (!ready) std::this_thread::sleep_for(25ms);
    }
    ASSERT_TRUE(ready) << "etcd never answered; see " << etcd_.log_path();
  }

  // `etcd`: the member's address as the nodes see it (by default etcd's own). The default
  // membership profile: three nodes in one process under AddressSanitizer, beside other tests,
  // were not scheduled for the fast profile's 20 ms lease now and then, and fenced themselves
  // (CI; the clean clone's sanitizer run). What these tests check does not depend on speed.
  void start(const std::vector<std::string>& names, std::optional<std::string> etcd = {}) {
    config_.name = "test";
    config_.membership_profile = "default";
    config_.etcd = {etcd.value_or(etcd_.client())};
    for (const auto& n : names) {
      model::NodeConfig node;
      node.id = NodeId(n);
      node.name = n;
      node.address = "127.0.0.1";
      node.controller = true;
      node.membership_port = amf::testing::free_loopback_port(SOCK_DGRAM);
      node.command_port = amf::testing::free_loopback_port();
      node.checkpoint_port = amf::testing::free_loopback_port();
      config_.nodes.push_back(node);
    }
    for (const auto& n : names) {
      Candidate& c = candidates_[n];
      auto cluster = Cluster::start(
          io_, config_, Cluster::Settings{NodeId(n), 1, std::nullopt},
          Cluster::Callbacks{
              .deliver = [](const protocol::Envelope&) {},
              .won =
                  [&c](std::uint64_t epoch, std::vector<director::NodeUp> up,
                       const director::AdminStates&) {
                    c.events.push_back("won epoch " + std::to_string(epoch) + " with " +
                                       std::to_string(up.size()) + " node(s)");
                  },
              .lost = [&c](const std::string& cause) { c.events.push_back("lost: " + cause); },
              .to_director =
                  [&c](const director::Event& e) {
                    if (const auto* up = std::get_if<director::NodeUp>(&e)) {
                      c.events.push_back("node up: " + up->node.str());
                    } else if (const auto* down = std::get_if<director::NodeDown>(&e)) {
                      c.events.push_back("node down: " + down->node.str());
                    }
                  },
              .end_life = [&c](const std::string& cause) { c.events.push_back("ended: " + cause); },
              .record = [&c](const model::Notification& n) { c.events.push_back(n.cause); },
              .now = [] { return Clock::now(); }},
          std::make_shared<spdlog::logger>(n, log_));
      ASSERT_TRUE(cluster) << cluster.error().message();
      c.cluster = std::move(*cluster);
    }
  }

  // On a failure, what the adapters logged and what each candidate saw: the test runs on
  // shared machines, and a failure there must say why.
  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& line : log_->last_formatted()) std::cerr << line;
    for (const auto& [n, c] : candidates_) {
      std::cerr << n << " saw:\n";
      for (const auto& e : c.events) std::cerr << "  " << e << "\n";
    }
  }

  bool run_until(const std::function<bool()>& done, Duration limit = 10s) {
    return amf::testing::run_until(io_, done, limit);
  }

  // The candidate that leads and has taken over.
  std::optional<std::string> director() const {
    for (const auto& [n, c] : candidates_) {
      if (c.cluster && c.cluster->leads() && c.has("won epoch")) return n;
    }
    return std::nullopt;
  }

  amf::testing::EtcdServer etcd_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_{
      io_.get_executor()};
  model::ClusterConfig config_;
  std::unique_ptr<amf::testing::SlowAnswers> slow_;  // gone after the candidates that use it
  std::map<std::string, Candidate> candidates_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(400);
};

TEST_F(ClusterElectionTest, OneDirectorTakesOverWithEveryNodeAndASurvivorTakesOverWhenItsNodeDies) {
  start({"n1", "n2", "n3"});
  ASSERT_TRUE(run_until([&] { return director().has_value(); })) << "no director took over";
  const std::string first = *director();
  int leading = 0;
  for (const auto& [n, c] : candidates_) leading += c.cluster->leads() ? 1 : 0;
  EXPECT_EQ(leading, 1);
  EXPECT_TRUE(candidates_[first].has("won epoch 1 with 3 node(s)"));
  for (const auto& [n, c] : candidates_) {
    EXPECT_TRUE(run_until([&] {
      return c.cluster->director() && c.cluster->director()->director == NodeId(first);
    })) << n;
  }

  // The director's node dies: everything of it goes at once.
  candidates_.erase(first);
  ASSERT_TRUE(run_until([&] {
    auto d = director();
    return d && candidates_[*d].has("node down: " + first);
  })) << "no survivor took over and declared "
      << first << " gone";
  const std::string second = *director();
  EXPECT_TRUE(candidates_[second].has("won epoch 2 with 3 node(s)"));
  for (const auto& [n, c] : candidates_) {
    EXPECT_TRUE(run_until([&] {
      return c.cluster->director() && c.cluster->director()->director == NodeId(second) &&
             c.cluster->director()->epoch == 2;
    })) << n;
    EXPECT_TRUE(c.cluster->membership().member().leased(Clock::now())) << n;
    EXPECT_FALSE(c.has("ended")) << n;
  }
}

// Found in CI, on a machine whose disk had just taken a build: every etcd write took longer than
// the etcd client's timeout (then 250 ms with the fast profile), so a write that landed was
// called failed and done again, the claim of the admin states for ever, and no director took
// over. An answer may now take half the election's grace. With the default profile the single
// limit was 1.5 s and the answer timeout is now 2.5 s: etcd's answers are held 2 s here.
TEST_F(ClusterElectionTest, ADirectorTakesOverWhenEveryAnswerOfEtcdTakes2S) {
  slow_ = std::make_unique<amf::testing::SlowAnswers>(io_, etcd_.client_port(), 2s);
  start({"n1", "n2", "n3"}, slow_->address());
  ASSERT_TRUE(run_until([&] { return director().has_value(); }, 60s)) << "no director took over";
  const std::string first = *director();
  for (const auto& [n, c] : candidates_) {
    EXPECT_TRUE(run_until([&] {
      return c.cluster->director() && c.cluster->director()->director == NodeId(first);
    })) << n;
  }
  // It keeps the role for longer than its grace (5 s): its reads are answered in time.
  io_.run_for(6s);
  for (const auto& [n, c] : candidates_) {
    EXPECT_FALSE(c.has("ended")) << n;
    EXPECT_FALSE(c.has("lost")) << n;
  }
  EXPECT_EQ(director(), first);
}

TEST_F(ClusterElectionTest, ARecordThatIsNotOursIsNeitherObeyedNorOverwritten) {
  // Someone else's value under our key: no candidate may take it as a director, nor replace
  // what it does not understand.
  EtcdClient writer(io_, {etcd_.client()}, {1s, 1s});
  std::optional<bool> written;
  writer.compare_and_put("/amf/test/director", 0, "not json",
                         [&](auto r) { written = r && r->succeeded; });
  ASSERT_TRUE(run_until([&] { return written.has_value(); }));
  ASSERT_TRUE(*written);
  start({"n1"});
  io_.run_for(300ms);
  EXPECT_FALSE(candidates_["n1"].cluster->leads());
  EXPECT_FALSE(candidates_["n1"].cluster->director());
  std::optional<std::string> kept;
  writer.get("/amf/test/director",
             [&](auto r) { kept = r && *r ? (**r).value : std::string("(gone)"); });
  ASSERT_TRUE(run_until([&] { return kept.has_value(); }));
  EXPECT_EQ(*kept, "not json");
}

TEST_F(ClusterElectionTest, ANodeOffLoopbackWithoutTheClusterKeyIsRefusedNamingItAndTheFix) {
  config_.name = "test";
  config_.etcd = {etcd_.client()};
  for (const auto& [name, address] : {std::pair{"n1", "127.0.0.1"}, {"n2", "10.20.30.40"}}) {
    model::NodeConfig node;
    node.id = NodeId(name);
    node.name = name;
    node.address = address;
    node.controller = true;
    config_.nodes.push_back(node);
  }
  auto cluster = Cluster::start(io_, config_, Cluster::Settings{NodeId("n1"), 1, std::nullopt},
                                Cluster::Callbacks{}, std::make_shared<spdlog::logger>("n1", log_));
  ASSERT_FALSE(cluster);
  EXPECT_EQ(cluster.error().message(),
            "node 'n2' has address 10.20.30.40, which is not on loopback: traffic between nodes "
            "off loopback is authenticated with the cluster's key (and the command links "
            "encrypted); make one with "
            "'amfctl keygen FILE', copy it to every node and give it to amfd with --cluster-key "
            "FILE");
}

}  // namespace
}  // namespace amf::daemon
