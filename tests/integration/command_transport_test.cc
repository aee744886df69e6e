// The command links between nodes on real ZeroMQ sockets over loopback TCP: a director on one
// runtime and a node director on another reach a 2N assignment through them, what a peer
// must not send is refused with the reason, and with the cluster key the links are CURVE and
// a peer without that key is refused at its handshake.
#include "amf/daemon/command_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>

#include "amf/wire/codec.h"
#include "tests/integration/loop.h"
#include "tests/unit/support/test_config.h"
#include "tools/support/ports.h"

namespace amf::daemon {
namespace {

// An envelope from node-2 to node-1 in `epoch`, with nothing in it: what the tests send.
protocol::Envelope node_2_to_node_1(std::uint64_t epoch = 1) {
  return {protocol::kEnvelopeVersion,
          {NodeId("node-2"), 0},
          {NodeId("node-1"), 0},
          epoch,
          0,
          0,
          std::nullopt};
}

using namespace std::chrono_literals;

std::string free_endpoint() {
  return "tcp://127.0.0.1:" + std::to_string(amf::testing::free_loopback_port(SOCK_STREAM));
}

// Pretend components that start, register and answer every callback at once.
struct AnsweringHost : runtime::Host {
  runtime::NodeRuntime* runtime = nullptr;
  node::PeerId next_peer = 1;
  void carry_out(const node::Effect& effect) override {
    if (const auto* start = std::get_if<node::StartProcess>(&effect)) {
      runtime->post(node::ProcessStarted{start->comp});
      runtime->post(node::ComponentRegister{next_peer++, start->comp.str()});
    } else if (const auto* set = std::get_if<node::SendCsiSet>(&effect)) {
      runtime->post(node::ComponentResponse{set->peer, set->invocation, true});
    }
  }
  void admin_result(const director::AdminResult&) override {}
  void notify(const model::Notification&) override {}
};

class CommandTransportTest : public ::testing::Test {
 protected:
  CommandTransport::Settings settings(const std::string& self,
                                      std::optional<keys::ClusterKey> key = std::nullopt) {
    CommandTransport::Settings s{NodeId(self), endpoints_.at(self), {}, std::move(key)};
    for (const auto& [node, endpoint] : endpoints_) {
      if (node != self) s.peers[NodeId(node)] = endpoint;
    }
    return s;
  }
  std::unique_ptr<CommandTransport> start(const std::string& self,
                                          CommandTransport::Deliver deliver,
                                          std::optional<keys::ClusterKey> key = std::nullopt) {
    auto t = CommandTransport::start(io_, settings(self, std::move(key)), std::move(deliver),
                                     [this](const std::string& r) { refused_.push_back(r); });
    EXPECT_TRUE(t) << t.error().message();
    return t ? std::move(*t) : nullptr;
  }
  bool run_until(const std::function<bool()>& done) { return amf::testing::run_until(io_, done); }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  zmq::context_t zmq_;
  std::map<std::string, std::string> endpoints_{{"node-1", free_endpoint()},
                                                {"node-2", free_endpoint()}};
  std::vector<std::string> refused_;
};

TEST_F(CommandTransportTest, ADirectorAndANodeDirectorOnTwoRuntimesAssignActiveAndStandby) {
  const auto config = test::make_cluster({.nodes = {"node-1", "node-2"}});
  runtime::NodeRuntime* r1 = nullptr;
  runtime::NodeRuntime* r2 = nullptr;
  auto pump = [](runtime::NodeRuntime* r) {
    while (r->pump()) {
    }
  };
  auto t1 = start("node-1", [&](const protocol::Envelope& e) {
    r1->receive(e);
    pump(r1);
  });
  auto t2 = start("node-2", [&](const protocol::Envelope& e) {
    r2->receive(e);
    pump(r2);
  });
  ASSERT_TRUE(t1 && t2);
  AnsweringHost h1, h2;
  runtime::NodeRuntime n1(config, NodeId("node-1"), *director::Director::create(config), h1, *t1,
                          [] { return Clock::now(); });
  runtime::NodeRuntime n2(config, NodeId("node-2"), std::nullopt, h2, *t2,
                          [] { return Clock::now(); });
  r1 = h1.runtime = &n1;
  r2 = h2.runtime = &n2;
  // Resends what the sockets dropped while connecting (ZMQ_IMMEDIATE), as amfd's timers will.
  boost::asio::steady_timer timer(io_);
  std::function<void()> tick = [&] {
    for (auto* r : {r1, r2}) {
      r->tick();
      pump(r);
    }
    timer.expires_after(10ms);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  n1.to_director(director::NodeUp{NodeId("node-1")});
  n1.to_director(director::NodeUp{NodeId("node-2")});
  pump(r1);
  auto ha_of = [&](const SuId& su) -> std::optional<model::HaState> {
    for (const auto& a : n1.director().assignments(SgId("app"))) {
      if (a.su == su) return a.ha;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(run_until([&] {
    return ha_of(SuId("app/su-1")) == model::HaState::kActive &&
           ha_of(SuId("app/su-2")) == model::HaState::kStandby;
  })) << "the standby on node-2 was never acknowledged over the sockets";
  timer.cancel();
  EXPECT_GT(t1->counters().sent, 0u);
  EXPECT_GT(t2->counters().received, 0u);
  EXPECT_GT(t1->counters().received, 0u);
  EXPECT_TRUE(refused_.empty()) << refused_.front();
}

TEST_F(CommandTransportTest, WhatAPeerMustNotSendIsRefusedWithTheReason) {
  std::vector<protocol::Envelope> delivered;
  auto t1 = start("node-1", [&](const protocol::Envelope& e) { delivered.push_back(e); });
  ASSERT_TRUE(t1);
  auto send_as = [&](const std::string& name, const std::string& bytes) {
    zmq::socket_t dealer(zmq_, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 1000);
    dealer.set(zmq::sockopt::routing_id, name);
    dealer.connect(endpoints_.at("node-1"));
    dealer.send(zmq::buffer(bytes), zmq::send_flags::none);
    const std::size_t before = refused_.size() + delivered.size();
    EXPECT_TRUE(run_until([&] { return refused_.size() + delivered.size() > before; }));
  };
  const protocol::Envelope ack = node_2_to_node_1();
  send_as("node-9", wire::encode(ack));
  send_as("node-2", "not an envelope");
  protocol::Envelope other = ack;
  other.from.node = NodeId("node-3");
  send_as("node-2", wire::encode(other));
  send_as("node-2", wire::encode(ack));
  ASSERT_EQ(refused_.size(), 3u);
  EXPECT_EQ(refused_[0], "command socket: a connection that names no configured peer ('node-9')");
  EXPECT_NE(refused_[1].find("command socket: from node-2: malformed node envelope"),
            std::string::npos)
      << refused_[1];
  EXPECT_EQ(refused_[2],
            "command socket: from node-2: an envelope that names node-3 as its sender");
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(delivered[0] == ack);
  EXPECT_EQ(t1->counters().refused, 3u);
  EXPECT_EQ(t1->counters().received, 1u);
}

TEST_F(CommandTransportTest, AnEnvelopeForAPeerNotConnectedIsDroppedNotQueued) {
  auto t1 = start("node-1", [](const protocol::Envelope&) {});
  ASSERT_TRUE(t1);
  // Nobody listens on node-2's endpoint.
  t1->send({protocol::kEnvelopeVersion,
            {NodeId("node-1"), 0},
            {NodeId("node-2"), 0},
            1,
            0,
            0,
            std::nullopt});
  t1->send({protocol::kEnvelopeVersion,
            {NodeId("node-1"), 0},
            {NodeId("node-9"), 0},
            1,
            0,
            0,
            std::nullopt});
  EXPECT_EQ(t1->counters().dropped, 2u);
  EXPECT_EQ(t1->counters().sent, 0u);
}

TEST_F(CommandTransportTest, AnEndpointThatCannotBeBoundIsAnErrorThatNamesIt) {
  auto first = start("node-1", [](const protocol::Envelope&) {});
  ASSERT_TRUE(first);
  auto second = CommandTransport::start(
      io_, settings("node-1"), [](const protocol::Envelope&) {}, nullptr);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("cannot bind " + endpoints_.at("node-1")),
            std::string::npos)
      << second.error().message();
}

// A plain TCP connection to a node's command endpoint (-1 when it cannot connect).
int connect_to(const std::string& endpoint) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval wait{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The ZMTP 3.0 greeting of a client that offers the NULL mechanism (no security).
constexpr unsigned char kNullGreeting[64] = {0xFF, 0,    0, 0, 0,   0,   0,   0,
                                             1,    0x7F, 3, 0, 'N', 'U', 'L', 'L'};

// What a node says first on a connection: the ZMTP 3.0 greeting, whose bytes 12 to 31 name
// the security mechanism. Read by a plain TCP client that sends only the start of its own
// greeting (the signature and major version), so that the node has nothing to refuse yet.
std::string greeting_mechanism(const std::string& endpoint) {
  const int fd = connect_to(endpoint);
  if (fd < 0) return "";
  std::string mechanism;
  (void)!::write(fd, kNullGreeting, 11);
  unsigned char theirs[64];
  std::size_t got = 0;
  while (got < sizeof theirs) {
    const ssize_t n = ::read(fd, theirs + got, sizeof theirs - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got == sizeof theirs) {
    mechanism.assign(reinterpret_cast<const char*>(theirs + 12), 20);
    mechanism.resize(mechanism.find('\0') == std::string::npos ? 20 : mechanism.find('\0'));
  }
  ::close(fd);
  return mechanism;
}

class SecuredCommandTransportTest : public CommandTransportTest {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }
  keys::ClusterKey key(const std::string& name) {
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(keys::ClusterKey::generate(path));
    auto k = keys::ClusterKey::load(path);
    EXPECT_TRUE(k) << k.error().message();
    return *k;
  }
  // node-2 sends to node-1 until node-1 takes one (the sockets drop while they connect).
  bool reaches_node_1(CommandTransport& from, const std::vector<protocol::Envelope>& delivered,
                      Duration limit) {
    const protocol::Envelope ack = node_2_to_node_1();
    return amf::testing::run_until(
        io_,
        [&] {
          from.send(ack);
          return !delivered.empty();
        },
        limit);
  }
  bool refused_with(const std::string& text) {
    return run_until([&] { return amf::testing::has_line(refused_, text); });
  }
  std::string dir_ = [] {
    char tmpl[] = "/tmp/amf-keys-XXXXXX";
    return std::string(::mkdtemp(tmpl));
  }();
};

TEST_F(SecuredCommandTransportTest, WithTheClusterKeyTheLinksSpeakCurveAndCarryEnvelopes) {
  const keys::ClusterKey cluster = key("cluster.key");
  std::vector<protocol::Envelope> delivered;
  auto t1 = start(
      "node-1", [&](const protocol::Envelope& e) { delivered.push_back(e); }, cluster);
  auto t2 = start(
      "node-2", [](const protocol::Envelope&) {}, cluster);
  ASSERT_TRUE(t1 && t2);
  ASSERT_TRUE(reaches_node_1(*t2, delivered, 10s)) << "nothing came over the CURVE link";
  EXPECT_TRUE(refused_.empty()) << refused_.front();
  EXPECT_EQ(t1->counters().handshakes_refused, 0u);

  EXPECT_EQ(greeting_mechanism(endpoints_.at("node-1")), "CURVE");
  // A node without the key offers plain ZMTP: refused, and said so. (Written whole at once:
  // a ZeroMQ client that reads the CURVE greeting first may hang up before it says NULL.)
  const int fd = connect_to(endpoints_.at("node-1"));
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, kNullGreeting, sizeof kNullGreeting), 64);
  EXPECT_TRUE(refused_with("on " + endpoints_.at("node-1") +
                           ": the peer and this node disagree on CURVE (one of them has no "
                           "cluster key)"))
      << ::testing::PrintToString(refused_);
  ::close(fd);
  // And what a plain ZeroMQ client sends never arrives; it is told apart from what node-2 sent
  // (and may still arrive) by its epoch.
  zmq::socket_t plain(zmq_, zmq::socket_type::dealer);
  plain.set(zmq::sockopt::linger, 0);
  plain.set(zmq::sockopt::routing_id, "node-2");
  plain.connect(endpoints_.at("node-1"));
  const protocol::Envelope ack = node_2_to_node_1(7);
  plain.send(zmq::buffer(wire::encode(ack)), zmq::send_flags::dontwait);
  io_.run_for(300ms);
  for (const auto& e : delivered) EXPECT_EQ(e.epoch, 1u);

  // Without the key the same node speaks plain ZMTP: the check above can tell them apart.
  t1.reset();
  t1 = start("node-1", [](const protocol::Envelope&) {});
  ASSERT_TRUE(t1);
  EXPECT_EQ(greeting_mechanism(endpoints_.at("node-1")), "NULL");
}

TEST_F(SecuredCommandTransportTest, APeerWithAnotherKeyIsRefusedAtItsHandshakeAndNothingPasses) {
  std::vector<protocol::Envelope> delivered;
  auto t1 = start(
      "node-1", [&](const protocol::Envelope& e) { delivered.push_back(e); }, key("cluster.key"));
  auto t2 = start(
      "node-2", [](const protocol::Envelope&) {}, key("other.key"));
  ASSERT_TRUE(t1 && t2);
  EXPECT_FALSE(reaches_node_1(*t2, delivered, 1500ms));
  const std::string at_1 = "command socket: refused a connection: on " + endpoints_.at("node-1") +
                           ": the peer's handshake does not open with this cluster's key";
  EXPECT_TRUE(refused_with(at_1)) << ::testing::PrintToString(refused_);
  // Each side refuses the other's connections.
  EXPECT_TRUE(refused_with("on " + endpoints_.at("node-2") +
                           ": the peer's handshake does not open with this cluster's key"))
      << ::testing::PrintToString(refused_);
  EXPECT_TRUE(delivered.empty());
  EXPECT_EQ(t1->counters().received, 0u);
  // It keeps trying (every 100 ms); the reports stay at one a second and count the rest.
  auto reports_at_1 = [&] {
    std::vector<std::string> out;
    for (const auto& r : refused_) {
      if (r.rfind(at_1, 0) == 0) out.push_back(r);
    }
    return out;
  };
  ASSERT_TRUE(run_until([&] { return reports_at_1().size() >= 2; }));
  EXPECT_NE(reports_at_1()[1].find("more refused since)"), std::string::npos) << reports_at_1()[1];
  EXPECT_GT(t1->counters().handshakes_refused, reports_at_1().size());
}

TEST_F(SecuredCommandTransportTest, AClientThatKnowsTheServersKeyButHasNotTheSecretIsRefused) {
  const keys::ClusterKey cluster = key("cluster.key");
  std::vector<protocol::Envelope> delivered;
  auto t1 = start(
      "node-1", [&](const protocol::Envelope& e) { delivered.push_back(e); }, cluster);
  ASSERT_TRUE(t1);
  // It learnt the public key somehow, and made a key pair of its own.
  char client_public[41];
  char client_secret[41];
  ASSERT_EQ(zmq_curve_keypair(client_public, client_secret), 0);
  const keys::CurveKeys server = cluster.curve_keys();
  zmq::socket_t dealer(zmq_, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::routing_id, "node-2");
  dealer.set(zmq::sockopt::curve_serverkey,
             std::string_view(reinterpret_cast<const char*>(server.public_key.data()), 32));
  dealer.set(zmq::sockopt::curve_publickey, std::string_view(client_public, 40));
  dealer.set(zmq::sockopt::curve_secretkey, std::string_view(client_secret, 40));
  dealer.connect(endpoints_.at("node-1"));
  const protocol::Envelope ack = node_2_to_node_1();
  dealer.send(zmq::buffer(wire::encode(ack)), zmq::send_flags::dontwait);
  EXPECT_TRUE(
      refused_with("from 127.0.0.1: it knows this cluster's public key but holds another key pair"))
      << ::testing::PrintToString(refused_);
  io_.run_for(200ms);
  EXPECT_TRUE(delivered.empty());
  EXPECT_EQ(t1->counters().received, 0u);
}

}  // namespace
}  // namespace amf::daemon
