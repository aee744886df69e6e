// The membership adapter on real ZeroMQ sockets over loopback TCP: nodes join, a node whose
// sockets vanish (as when its process dies) is declared gone, and bad input is refused with
// the reason. (tools/bench/membership_bench.cc does the same with one process per node.)
#include "amf/daemon/membership_service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

std::string free_endpoint() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

struct Seen {
  std::vector<std::string> events;
  std::vector<std::string> refused;
  bool has(const std::string& text) const {
    return std::any_of(events.begin(), events.end(),
                       [&](const std::string& e) { return e.find(text) != std::string::npos; });
  }
};

class MembershipServiceTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& names) {
    for (const auto& n : names) endpoints_[n] = free_endpoint();
    for (const auto& n : names) {
      MembershipService::Settings s{
          {NodeId(n), 1}, endpoints_[n], {}, {}, membership::fast_profile()};
      for (const auto& p : names) {
        s.voters.insert(NodeId(p));
        if (p != n) s.peers[NodeId(p)] = endpoints_[p];
      }
      Seen& seen = seen_[n];
      auto service = MembershipService::start(
          io_, zmq_, s,
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
    const TimePoint until = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= until) return false;
      io_.run_for(5ms);
    }
    return true;
  }

  boost::asio::io_context io_;
  zmq::context_t zmq_;
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
  zmq::socket_t rogue(zmq_, zmq::socket_type::push);
  rogue.set(zmq::sockopt::linger, 0);
  rogue.connect(endpoints_["n1"]);
  rogue.send(zmq::str_buffer("\xff\xff\xff"), zmq::send_flags::none);
  rogue.send(zmq::str_buffer("a"), zmq::send_flags::sndmore);
  rogue.send(zmq::str_buffer("b"), zmq::send_flags::none);
  ASSERT_TRUE(run_until([&] { return services_["n1"]->refused() == 2; }))
      << services_["n1"]->refused() << " refused";
  ASSERT_EQ(seen_["n1"].refused.size(), 2u);
  EXPECT_NE(seen_["n1"].refused[0].find("malformed membership message"), std::string::npos)
      << seen_["n1"].refused[0];
  EXPECT_NE(seen_["n1"].refused[1].find("in 2 frames"), std::string::npos)
      << seen_["n1"].refused[1];
  // The node carries on.
  EXPECT_TRUE(run_until([&] { return services_["n1"]->node().member().leased(Clock::now()); }));
}

TEST_F(MembershipServiceTest, AnEndpointThatCannotBeBoundIsAnErrorThatNamesIt) {
  start({"n1"});
  MembershipService::Settings s{
      {NodeId("n2"), 1}, endpoints_["n1"], {}, {NodeId("n2")}, membership::fast_profile()};
  auto second = MembershipService::start(
      io_, zmq_, s, [](const membership::Effect&, TimePoint) {}, [](const std::string&) {});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("cannot bind " + endpoints_["n1"]), std::string::npos)
      << second.error().message();
}

}  // namespace
}  // namespace amf::daemon
