// The membership adapter on real UDP sockets over loopback: nodes join, a node whose
// sockets vanish (as when its process dies) is declared gone, and bad input is refused with
// the reason. (tools/bench/membership_bench.cc does the same with one process per node.)
#include "amf/daemon/membership_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "amf/wire/codec.h"
#include "tests/integration/loop.h"
#include "tools/support/ports.h"

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

std::string free_endpoint() {
  return "udp://127.0.0.1:" + std::to_string(amf::testing::free_loopback_port(SOCK_DGRAM));
}

struct Seen {
  std::vector<std::string> events;
  std::vector<std::string> refused;
  bool has(const std::string& text) const { return amf::testing::has_line(events, text); }
};

class MembershipServiceTest : public ::testing::Test {
 protected:
  // `keys`: the key file of each node that has one.
  void start(const std::vector<std::string>& names,
             const std::map<std::string, std::string>& keys = {}) {
    for (const auto& n : names) endpoints_[n] = free_endpoint();
    for (const auto& n : names) {
      MembershipService::Settings s{
          {NodeId(n), 1}, endpoints_[n], {}, {}, membership::fast_profile()};
      if (auto k = keys.find(n); k != keys.end()) {
        auto key = keys::ClusterKey::load(k->second);
        ASSERT_TRUE(key) << key.error().message();
        s.key = *key;
      }
      for (const auto& p : names) {
        s.voters.insert(NodeId(p));
        if (p != n) s.peers[NodeId(p)] = endpoints_[p];
      }
      Seen& seen = seen_[n];
      auto service = MembershipService::start(
          io_, s,
          [&seen](const membership::Effect& e, TimePoint) {
            seen.events.push_back(membership::describe(e));
          },
          [&seen](const std::string& reason) { seen.refused.push_back(reason); });
      ASSERT_TRUE(service) << service.error().message();
      services_[n] = std::move(*service);
    }
  }

  // Runs the loop until `done` or the limit (generous: the machines are shared).
  bool run_until(const std::function<bool()>& done, Duration limit = 10s) {
    return amf::testing::run_until(io_, done, limit);
  }

  boost::asio::io_context io_;
  std::map<std::string, std::string> endpoints_;
  std::map<std::string, Seen> seen_;
  std::map<std::string, std::unique_ptr<MembershipService>> services_;
};

TEST_F(MembershipServiceTest, NodesJoinAndANodeWhoseSocketsVanishIsDeclaredGone) {
  start({"n1", "n2", "n3"});
  services_["n1"]->lead(1);
  ASSERT_TRUE(run_until([&] {
    return seen_["n1"].has("node joined: n2#1") && seen_["n1"].has("node joined: n3#1") &&
           services_["n3"]->node().member().leased(Clock::now());
  })) << "the three nodes never joined";
  services_.erase("n3");  // its sockets close, as when its process dies
  ASSERT_TRUE(run_until([&] { return seen_["n1"].has("node left: n3#1"); }))
      << "n3 was never declared gone";
  EXPECT_TRUE(seen_["n2"].has("suspected n3#1"));
  EXPECT_TRUE(run_until([&] {
    return services_["n1"]->node().member().leased(Clock::now()) &&
           services_["n2"]->node().member().leased(Clock::now());
  })) << "two of three voters are a majority: their leases hold";
  EXPECT_TRUE(seen_["n1"].refused.empty());
}

TEST_F(MembershipServiceTest, MalformedInputIsRefusedWithTheReasonAndCounted) {
  start({"n1"});
  services_["n1"]->lead(1);
  boost::asio::ip::udp::socket rogue(io_, boost::asio::ip::udp::v4());
  const auto to = *parse_udp_endpoint(endpoints_["n1"]);
  rogue.send_to(boost::asio::buffer(std::string("\xff\xff\xff")), to);
  // A heartbeat whose view lists a node twice: well-formed protobuf, refused all the same.
  rogue.send_to(
      boost::asio::buffer(wire::encode(membership::Message{membership::ViewInstall{
          NodeId("n9"), membership::View{{9, 9}, {{NodeId("a"), 1}, {NodeId("a"), 2}}, {}}, ""}})),
      to);
  ASSERT_TRUE(run_until([&] { return services_["n1"]->refused() == 2; }))
      << services_["n1"]->refused() << " refused";
  ASSERT_EQ(seen_["n1"].refused.size(), 2u);
  EXPECT_NE(seen_["n1"].refused[0].find("malformed membership message"), std::string::npos)
      << seen_["n1"].refused[0];
  EXPECT_NE(seen_["n1"].refused[1].find("lists node 'a' out of order or twice"), std::string::npos)
      << seen_["n1"].refused[1];
  // The node carries on.
  EXPECT_TRUE(run_until([&] { return services_["n1"]->node().member().leased(Clock::now()); }));
}

TEST_F(MembershipServiceTest, ANodeWithoutTheClustersKeyIsRefusedAndNeverJoins) {
  char tmpl[] = "/tmp/amf-keys-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(keys::ClusterKey::generate(dir + "/cluster.key"));
  ASSERT_TRUE(keys::ClusterKey::generate(dir + "/other.key"));
  start({"n1", "n2", "n3"},
        {{"n1", dir + "/cluster.key"}, {"n2", dir + "/cluster.key"}, {"n3", dir + "/other.key"}});
  std::filesystem::remove_all(dir);
  services_["n1"]->lead(1);
  ASSERT_TRUE(run_until([&] { return seen_["n1"].has("node joined: n2#1"); }));
  ASSERT_TRUE(run_until([&] { return services_["n1"]->refused() > 0; }));
  io_.run_for(200ms);
  EXPECT_FALSE(seen_["n1"].has("n3#1 joins"));
  EXPECT_FALSE(seen_["n1"].has("heard n3"));
  ASSERT_FALSE(seen_["n1"].refused.empty());
  EXPECT_NE(seen_["n1"].refused[0].find("membership datagram not signed with this cluster's key"),
            std::string::npos)
      << seen_["n1"].refused[0];
  EXPECT_TRUE(services_["n1"]->node().member().leased(Clock::now()));  // n1 and n2: 2 of 3
  EXPECT_FALSE(services_["n3"]->node().member().leased(Clock::now()));
}

TEST_F(MembershipServiceTest, AnEndpointThatCannotBeBoundIsAnErrorThatNamesIt) {
  start({"n1"});
  MembershipService::Settings s{
      {NodeId("n2"), 1}, endpoints_["n1"], {}, {NodeId("n2")}, membership::fast_profile()};
  auto second = MembershipService::start(
      io_, s, [](const membership::Effect&, TimePoint) {}, [](const std::string&) {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("cannot bind " + endpoints_["n1"]), std::string::npos)
      << second.error().message();
}

}  // namespace
}  // namespace amf::daemon
