// The etcd client against a real etcd member (Debian's etcd-server) that the test starts on
// loopback ports of its own and stops again.
#include "amf/daemon/etcd_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <map>

#include "tests/integration/loop.h"
#include "tests/integration/slow_answers.h"
#include "tools/support/etcd_server.h"
#include "tools/support/proc_stats.h"

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started()) << "cannot start etcd (is etcd-server installed?)";
    client_ = std::make_unique<EtcdClient>(io_, std::vector<std::string>{server_.client()},
                                           EtcdClient::Timeouts{1s, 1s});
    // Wait for the member to serve (bounded).
    for (int i = 0; i < 200; ++i) {
      auto answer = get("/amf/test/ready");
      if (answer) return;
      std::this_thread::sleep_for(25ms);
    }
    FAIL() << "etcd never answered; see " << server_.log_path();
  }

  template <class T>
  Result<T> wait(const std::function<void(EtcdClient::Callback<T>)>& call) {
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out = std::move(r); });
    if (!amf::testing::run_until(io_, [&] { return out.has_value(); })) {
      return fail("no answer within 10 s");
    }
    return *out;
  }
  Result<std::optional<EtcdClient::KeyValue>> get(const std::string& key) {
    return wait<std::optional<EtcdClient::KeyValue>>(
        [&](auto done) { client_->get(key, std::move(done)); });
  }
  Result<EtcdClient::Swap> cas(const std::string& key, std::int64_t expected,
                               const std::string& value, EtcdClient* client = nullptr) {
    return wait<EtcdClient::Swap>([&](auto done) {
      (client ? client : client_.get())->compare_and_put(key, expected, value, std::move(done));
    });
  }

  amf::testing::EtcdServer server_;
  boost::asio::io_context io_;
  // run_for() must not find the loop out of work (it would stop and run nothing after).
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_{
      io_.get_executor()};
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, CreateIfAbsentSucceedsOnceAndTheLoserLearnsTheWinner) {
  auto absent = get("/amf/c/director");
  ASSERT_TRUE(absent) << absent.error().message();
  EXPECT_FALSE(absent->has_value());

  auto first = cas("/amf/c/director", 0, "n1 epoch 1");
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->succeeded);
  auto second = cas("/amf/c/director", 0, "n2 epoch 1");
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(second->succeeded);
  ASSERT_TRUE(second->current);
  EXPECT_EQ(second->current->value, "n1 epoch 1");

  auto now = get("/amf/c/director");
  ASSERT_TRUE(now && now->has_value());
  EXPECT_EQ((*now)->value, "n1 epoch 1");
  EXPECT_EQ((*now)->mod_revision, first->revision);
}

TEST_F(EtcdClientTest, ASwapFromAStaleRevisionFailsAndOnlyOneOfTwoRacingCandidatesWins) {
  auto created = cas("/amf/c/director", 0, "n1 epoch 1");
  ASSERT_TRUE(created && created->succeeded);
  const std::int64_t rev = created->revision;

  // Two candidates saw the same revision; both ask at once, on connections of their own.
  EtcdClient other(io_, {server_.client()}, {1s, 1s});
  std::optional<Result<EtcdClient::Swap>> a, b;
  client_->compare_and_put("/amf/c/director", rev, "n2 epoch 2", [&](auto r) { a = r; });
  other.compare_and_put("/amf/c/director", rev, "n3 epoch 2", [&](auto r) { b = r; });
  amf::testing::run_until(io_, [&] { return a && b; });
  ASSERT_TRUE(a && *a) << (a ? a->error().message() : "no answer");
  ASSERT_TRUE(b && *b) << (b ? b->error().message() : "no answer");
  EXPECT_NE((*a)->succeeded, (*b)->succeeded) << "exactly one candidate wins";

  auto stale = cas("/amf/c/director", rev, "n1 epoch 3");
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->succeeded);
  ASSERT_TRUE(stale->current);
  EXPECT_EQ(stale->current->value, (*a)->succeeded ? "n2 epoch 2" : "n3 epoch 2");
}

TEST_F(EtcdClientTest, ValuesAreBytes) {
  const std::string bytes("\0\xff{\"x\": 1}\n", 12);
  ASSERT_TRUE(cas("/amf/c/bytes", 0, bytes));
  auto back = get("/amf/c/bytes");
  ASSERT_TRUE(back && back->has_value());
  EXPECT_EQ((*back)->value, bytes);
}

TEST_F(EtcdClientTest, ADeadMemberIsSkippedAndNoMemberAtAllIsAnErrorThatNamesThem) {
  const std::string dead = "127.0.0.1:" + std::to_string(amf::testing::free_loopback_port());
  EtcdClient two(io_, {dead, server_.client()}, {1s, 1s});
  auto through = wait<EtcdClient::Swap>(
      [&](auto done) { two.compare_and_put("/amf/c/k", 0, "v", std::move(done)); });
  ASSERT_TRUE(through) << through.error().message();
  EXPECT_TRUE(through->succeeded);

  server_.kill();
  auto none = get("/amf/c/k");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("etcd " + server_.client()), std::string::npos)
      << none.error().message();

  EtcdClient bad(io_, {"etcd.example:2379"}, {1s, 1s});
  auto refused =
      wait<std::optional<EtcdClient::KeyValue>>([&](auto done) { bad.get("/k", std::move(done)); });
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("'etcd.example' is not an IP address"),
            std::string::npos)
      << refused.error().message();
}

// A member whose answers are slow (its disk's fsync, say) is not taken for gone: the connect
// timeout is short, but an answer may take up to the answer timeout. Past that, the request
// fails and says so.
TEST_F(EtcdClientTest, AnAnswerMayTakeLongerThanAConnectionButNotLongerThanTheAnswerTimeout) {
  amf::testing::SlowAnswers slow(io_, server_.client_port(), 300ms);
  EtcdClient patient(io_, {slow.address()}, {100ms, 3s});
  auto swapped = wait<EtcdClient::Swap>(
      [&](auto done) { patient.compare_and_put("/amf/c/slow", 0, "v", std::move(done)); });
  ASSERT_TRUE(swapped) << swapped.error().message();
  EXPECT_TRUE(swapped->succeeded);

  EtcdClient hasty(io_, {slow.address()}, {3s, 100ms});
  auto late = wait<std::optional<EtcdClient::KeyValue>>(
      [&](auto done) { hasty.get("/amf/c/slow", std::move(done)); });
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message().find("no answer"), std::string::npos) << late.error().message();
}

// A member that never takes the connection (a listening socket whose backlog is full: the
// kernel drops further SYNs) is left after the connect timeout, however long an answer may
// take, and the next member is asked.
TEST_F(EtcdClientTest, AMemberThatDoesNotTakeTheConnectionIsLeftAfterTheConnectTimeout) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    (void)::connect(fillers.back(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  const std::string silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  // An answer may take a minute: were the connect timeout not used, nothing would come within
  // the test's ten seconds.
  EtcdClient client(io_, {silent, server_.client()}, {100ms, 60s});
  auto swapped = wait<EtcdClient::Swap>(
      [&](auto done) { client.compare_and_put("/amf/c/past-silent", 0, "v", std::move(done)); });
  ASSERT_TRUE(swapped) << swapped.error().message();
  EXPECT_TRUE(swapped->succeeded);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

// etcd's own cluster, three members on loopback addresses of their own: who they are, who leads,
// and the leader handing its role over (MoveLeader), which only the leader takes.
TEST(EtcdClusterTest, MembersStatusAndMoveLeaderOnThreeMembers) {
  auto members = amf::testing::EtcdServer::cluster({"127.0.0.11", "127.0.0.12", "127.0.0.13"});
  for (const auto& m : members) ASSERT_TRUE(m->started()) << "cannot start etcd";
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy{io.get_executor()};
  std::vector<std::unique_ptr<EtcdClient>> clients;  // one per member, that member alone
  for (const auto& m : members) {
    clients.push_back(std::make_unique<EtcdClient>(io, std::vector<std::string>{m->client()},
                                                   EtcdClient::Timeouts{1s, 1s}));
  }
  auto status = [&](std::size_t i) {
    std::optional<Result<EtcdClient::Status>> out;
    clients[i]->status([&](Result<EtcdClient::Status> r) { out = std::move(r); });
    amf::testing::run_until(io, [&] { return out.has_value(); });
    return out ? *out : fail("no answer");
  };
  // Until they have elected a leader (bounded).
  std::optional<EtcdClient::Status> first;
  for (int i = 0; i < 200 && !first; ++i) {
    if (auto s = status(0); s && s->leader != 0) first = *s;
    if (!first) std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(first) << "the three members elected no leader; see " << members[0]->log_path();

  // A member lists its client URLs once it has published them, a moment after the election;
  // the second member may not serve its clients yet when the first has a leader (asked again).
  std::optional<Result<std::vector<EtcdClient::Member>>> list;
  for (int i = 0; i < 200; ++i) {
    list.reset();
    clients[1]->members([&](auto r) { list = std::move(r); });
    ASSERT_TRUE(amf::testing::run_until(io, [&] { return list.has_value(); }));
    if (*list && std::all_of((*list)->begin(), (*list)->end(),
                             [](const auto& m) { return !m.client_urls.empty(); })) {
      break;
    }
    std::this_thread::sleep_for(25ms);
  }
  ASSERT_TRUE(*list) << list->error().message() << "; see " << members[1]->log_path();
  ASSERT_EQ((*list)->size(), 3u);
  for (const auto& m : **list) {
    ASSERT_FALSE(m.client_urls.empty()) << "member " << m.name << " never published its client URL";
  }
  std::map<std::uint64_t, std::size_t> index_of;  // member id -> index of its client
  for (const auto& m : **list) {
    ASSERT_EQ(m.client_urls.size(), 1u);
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (m.client_urls[0] == "http://" + members[i]->client()) index_of[m.id] = i;
    }
    EXPECT_EQ(m.name, "e" + std::to_string(index_of[m.id] + 1));
  }
  ASSERT_EQ(index_of.size(), 3u);
  auto own = status(index_of[first->leader]);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->member, first->leader) << "a member says who it is";

  auto move = [&](std::size_t via, std::uint64_t to) {
    std::optional<Result<void>> out;
    clients[via]->move_leader(to, [&](Result<void> r) { out = std::move(r); });
    amf::testing::run_until(io, [&] { return out.has_value(); });
    return out ? *out : fail("no answer");
  };
  auto id_of = [&](std::size_t i) {
    for (const auto& [id, at] : index_of) {
      if (at == i) return id;
    }
    return std::uint64_t{0};
  };
  // The leader read again before each try: on a loaded machine etcd may elect another meanwhile.
  bool refused_by_follower = false;
  bool handed = false;
  for (int attempt = 0; attempt < 5 && !handed; ++attempt) {
    auto now = status(0);
    ASSERT_TRUE(now && now->leader != 0 && index_of.count(now->leader));
    const std::size_t leader = index_of[now->leader];
    const std::size_t follower = (leader + 1) % 3;
    if (auto refused = move(follower, now->leader); !refused) {
      EXPECT_NE(refused.error().message().find("not leader"), std::string::npos)
          << refused.error().message();
      refused_by_follower = true;
    }
    handed = move(leader, id_of(follower)).has_value() && status(follower) &&
             status(follower)->leader == id_of(follower);
  }
  EXPECT_TRUE(refused_by_follower) << "a follower does not take a MoveLeader";
  EXPECT_TRUE(handed) << "the leader did not hand its role to the member asked";
}

// amfd lists its own node's member first: requests that went to another member while the
// first did not answer go back to the first a while after it answers again
// (Timeouts::back_to_first), so that they are not in flight to another node's member when that
// node dies. Without it they stay where they went.
TEST(EtcdClusterTest, RequestsGoBackToTheFirstMemberOnceItAnswersAgain) {
  auto members = amf::testing::EtcdServer::cluster({"127.0.0.21", "127.0.0.22", "127.0.0.23"});
  for (const auto& m : members) ASSERT_TRUE(m->started()) << "cannot start etcd";
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy{io.get_executor()};
  auto answered_by = [&](EtcdClient& c) -> std::uint64_t {
    std::optional<Result<EtcdClient::Status>> out;
    c.status([&](Result<EtcdClient::Status> r) { out = std::move(r); });
    amf::testing::run_until(io, [&] { return out.has_value(); });
    return out && *out ? (*out)->member : 0;
  };
  // Every member serving clients first: one serves only once it has published itself through
  // etcd's leader, and one that had not when the first stopped did not answer for seconds.
  std::vector<std::uint64_t> ids;
  for (const auto& m : members) {
    EtcdClient alone(io, {m->client()}, {1s, 1s});
    std::uint64_t id = 0;
    for (int i = 0; i < 200 && id == 0; ++i) {
      id = answered_by(alone);
      if (id == 0) std::this_thread::sleep_for(25ms);
    }
    ASSERT_NE(id, 0u) << m->client() << " never answered; see " << m->log_path();
    ids.push_back(id);
  }
  const std::uint64_t first = ids[0];

  std::vector<std::string> all;
  for (const auto& m : members) all.push_back(m->client());
  EtcdClient client(io, all, {1s, 1s, 1s});
  EXPECT_EQ(answered_by(client), first);
  // The first member stops answering (its process stopped: the connection is taken, no answer
  // comes): the requests go on to the next member. Waited until every thread of it stopped: one
  // still running on the other core answered once.
  ASSERT_TRUE(amf::testing::stop_process(members[0]->pid()));
  const std::uint64_t other = answered_by(client);
  ::kill(members[0]->pid(), SIGCONT);
  ASSERT_NE(other, 0u);
  ASSERT_EQ(other, ids[1]) << "the requests go on to the next member in the list";
  EXPECT_EQ(answered_by(client), other) << "a client stays with the member that answers";
  // A second after they left the first, the next request goes to the first again.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(answered_by(client), first);
  EXPECT_EQ(answered_by(client), first);
}

// A node asks its own member first (the one that dies with it), the others after, in their order.
TEST(OwnMemberFirst, TheMemberOnTheNodesAddressComesFirstAndTheOthersKeepTheirOrder) {
  const std::vector<std::string> members{"10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"};
  EXPECT_EQ(own_member_first(members, "10.0.0.2"),
            (std::vector<std::string>{"10.0.0.2:2379", "10.0.0.1:2379", "10.0.0.3:2379"}));
  EXPECT_EQ(own_member_first(members, "10.0.0.3"),
            (std::vector<std::string>{"10.0.0.3:2379", "10.0.0.1:2379", "10.0.0.2:2379"}));
  EXPECT_EQ(own_member_first({"[fd00::1]:2379", "[fd00::2]:2379"}, "fd00::2"),
            (std::vector<std::string>{"[fd00::2]:2379", "[fd00::1]:2379"}));
}

TEST(OwnMemberFirst, ANodeWithoutAMemberOrWithAHostNameKeepsTheOrder) {
  const std::vector<std::string> members{"10.0.0.1:2379", "10.0.0.2:2379"};
  EXPECT_EQ(own_member_first(members, "10.0.0.9"), members);
  EXPECT_EQ(own_member_first(members, "node-a.example"), members);
  // Every member on the node's address (one host, several ports): all first, order kept.
  EXPECT_EQ(own_member_first({"127.0.0.1:2379", "127.0.0.1:2479"}, "127.0.0.1"),
            (std::vector<std::string>{"127.0.0.1:2379", "127.0.0.1:2479"}));
}

}  // namespace
}  // namespace amf::daemon
