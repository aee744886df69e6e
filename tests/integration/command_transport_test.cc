// The command links between nodes on real ZeroMQ sockets over loopback TCP: a director on one
// runtime and a node director on another reach a 2N assignment through them, and what a peer
// must not send is refused with the reason.
#include "amf/daemon/command_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include "amf/wire/codec.h"
#include "tests/integration/loop.h"
#include "tests/unit/support/test_config.h"
#include "tools/support/ports.h"

namespace amf::daemon {
namespace {

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
  CommandTransport::Settings settings(const std::string& self) {
    CommandTransport::Settings s{NodeId(self), endpoints_.at(self), {}};
    for (const auto& [node, endpoint] : endpoints_) {
      if (node != self) s.peers[NodeId(node)] = endpoint;
    }
    return s;
  }
  std::unique_ptr<CommandTransport> start(const std::string& self,
                                          CommandTransport::Deliver deliver) {
    auto t = CommandTransport::start(io_, zmq_, settings(self), std::move(deliver),
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
  const protocol::Envelope ack{protocol::kEnvelopeVersion,
                               {NodeId("node-2"), 0},
                               {NodeId("node-1"), 0},
                               1,
                               0,
                               0,
                               std::nullopt};
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
            "command socket: an envelope that names node-3 as its sender came from node-2");
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
      io_, zmq_, settings("node-1"), [](const protocol::Envelope&) {}, nullptr);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("cannot bind " + endpoints_.at("node-1")),
            std::string::npos)
      << second.error().message();
}

}  // namespace
}  // namespace amf::daemon
