// Director election in a real etcd member with membership on real sockets: three candidates
// in one process (one loop), as amfd will wire them. The director's node "crashes" (its
// sockets and its etcd connection vanish) and a survivor takes the next epoch and declares the
// old node gone. (amf-membership-bench director does the same with one process per node.)
#include "amf/daemon/director_election.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include "amf/daemon/membership_service.h"
#include "tests/integration/loop.h"
#include "tools/support/etcd_server.h"

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

struct Candidate {
  std::unique_ptr<EtcdClient> etcd;
  std::unique_ptr<MembershipService> membership;
  std::unique_ptr<DirectorElection> election;
  std::optional<NodeId> director;
  std::vector<std::string> events;
  bool has(const std::string& text) const { return amf::testing::has_line(events, text); }
};

class DirectorElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.started()) << "cannot start etcd";
    EtcdClient probe(io_, {etcd_.client()}, 1s);
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

  void start(const std::vector<std::string>& names) {
    std::map<std::string, std::string> endpoint;
    for (const auto& n : names) {
      endpoint[n] =
          "udp://127.0.0.1:" + std::to_string(amf::testing::free_loopback_port(SOCK_DGRAM));
    }
    for (const auto& n : names) {
      Candidate& c = candidates_[n];
      MembershipService::Settings s{
          {NodeId(n), 1}, endpoint[n], {}, {}, membership::fast_profile()};
      for (const auto& p : names) {
        s.voters.insert(NodeId(p));
        if (p != n) s.peers[NodeId(p)] = endpoint[p];
      }
      auto tell = [&c] {
        if (!c.membership || !c.election) return;
        const auto& m = c.membership->node().member();
        c.election->membership(m.leased(Clock::now()), c.director && m.suspects(*c.director));
      };
      auto service = MembershipService::start(
          io_, s,
          [&c, tell](const membership::Effect& e, TimePoint) {
            c.events.push_back(membership::describe(e));
            if (const auto* down = std::get_if<membership::StepDown>(&e); down && c.election) {
              c.election->resign(down->cause);
            }
            tell();
          },
          [&c](const std::string& why) { c.events.push_back("refused: " + why); });
      ASSERT_TRUE(service) << service.error().message();
      c.membership = std::move(*service);
      c.etcd = std::make_unique<EtcdClient>(io_, std::vector<std::string>{etcd_.client()}, 1s);
      c.election = std::make_unique<DirectorElection>(
          io_, *c.etcd, "/amf/test/director",
          membership::ElectionSettings{NodeId(n), true, 30ms, 90ms},
          [&c](const membership::ElectionEffect& e, TimePoint) {
            c.events.push_back(membership::describe(e));
            if (const auto* won = std::get_if<membership::Won>(&e)) c.membership->lead(won->epoch);
            if (std::holds_alternative<membership::Lost>(e)) c.membership->stop_leading();
            if (const auto* is = std::get_if<membership::DirectorIs>(&e)) c.director = is->director;
          });
    }
  }

  bool run_until(const std::function<bool()>& done, Duration limit = 10s) {
    return amf::testing::run_until(io_, done, limit);
  }

  std::optional<std::string> leader() const {
    for (const auto& [n, c] : candidates_) {
      if (c.election && c.election->core().leads()) return n;
    }
    return std::nullopt;
  }

  amf::testing::EtcdServer etcd_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_{
      io_.get_executor()};
  std::map<std::string, Candidate> candidates_;
};

TEST_F(DirectorElectionTest, OneDirectorIsElectedAndASurvivorTakesOverWhenItsNodeDies) {
  start({"n1", "n2", "n3"});
  ASSERT_TRUE(run_until([&] {
    auto l = leader();
    return l && candidates_[*l].has("node joined: n1#1") &&
           candidates_[*l].has("node joined: n2#1") && candidates_[*l].has("node joined: n3#1");
  })) << "no director took everyone in";
  const std::string first = *leader();
  int leading = 0;
  for (const auto& [n, c] : candidates_) leading += c.election->core().leads() ? 1 : 0;
  EXPECT_EQ(leading, 1);
  EXPECT_TRUE(candidates_[first].has("won the director's role, epoch 1"));

  // The director's node dies: everything of it goes at once.
  candidates_.erase(first);
  ASSERT_TRUE(run_until([&] {
    auto l = leader();
    return l && candidates_[*l].has("node left: " + first + "#1");
  })) << "no survivor took over and declared "
      << first << " gone";
  const std::string second = *leader();
  EXPECT_TRUE(candidates_[second].has("won the director's role, epoch 2"));
  for (const auto& [n, c] : candidates_) {
    EXPECT_TRUE(run_until([&] { return c.director == NodeId(second); })) << n;
    EXPECT_TRUE(c.membership->node().member().leased(Clock::now())) << n;
  }
}

TEST_F(DirectorElectionTest, ARecordThatIsNotOursIsNeitherObeyedNorOverwritten) {
  // Someone else's value under our key: no candidate may take it as a director, nor replace
  // what it does not understand.
  EtcdClient writer(io_, {etcd_.client()}, 1s);
  std::optional<bool> written;
  writer.compare_and_put("/amf/test/director", 0, "not json",
                         [&](auto r) { written = r && r->succeeded; });
  ASSERT_TRUE(run_until([&] { return written.has_value(); }));
  ASSERT_TRUE(*written);
  start({"n1"});
  io_.run_for(300ms);
  EXPECT_FALSE(leader());
  EXPECT_FALSE(candidates_["n1"].director);
}

}  // namespace
}  // namespace amf::daemon
