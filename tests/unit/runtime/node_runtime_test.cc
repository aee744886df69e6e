// The node runtime's routing and bounds, with recording hosts and an in-memory network.
#include "amf/runtime/node_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>

#include "tests/unit/support/test_config.h"

namespace amf::runtime {
namespace {

using test::comp;
using test::make_cluster;
using test::su;

// Records what a runtime hands its host; optionally answers like a process launcher and a
// component that registers and accepts every callback at once.
struct RecordingHost : Host {
  NodeRuntime* runtime = nullptr;
  bool answer = false;
  std::vector<node::Effect> effects;
  std::vector<model::Notification> notes;
  std::vector<director::AdminResult> results;
  node::PeerId next_peer = 1;

  void carry_out(const node::Effect& effect) override {
    effects.push_back(effect);
    if (!answer) return;
    if (const auto* start = std::get_if<node::StartProcess>(&effect)) {
      runtime->post(node::ProcessStarted{start->comp});
      runtime->post(node::ComponentRegister{next_peer++, start->comp.str()});
    } else if (const auto* set = std::get_if<node::SendCsiSet>(&effect)) {
      runtime->post(node::ComponentResponse{set->peer, set->invocation, true});
    }
  }
  void admin_result(const director::AdminResult& r) override { results.push_back(r); }
  void notify(const model::Notification& n) override { notes.push_back(n); }

  template <class T>
  int count() const {
    int n = 0;
    for (const auto& e : effects) n += std::holds_alternative<T>(e) ? 1 : 0;
    return n;
  }
};

// An in-memory network between runtimes: envelopes wait until settle().
struct Network : Transport {
  std::map<NodeId, NodeRuntime*> runtimes;
  std::deque<protocol::Envelope> in_flight;

  void send(const protocol::Envelope& e) override { in_flight.push_back(e); }
  // The messages in flight (acknowledgements left out).
  std::vector<protocol::Envelope> messages() const {
    std::vector<protocol::Envelope> out;
    for (const auto& e : in_flight) {
      if (e.message) out.push_back(e);
    }
    return out;
  }
  // Delivers everything in flight and pumps every runtime until the cluster is quiet.
  void settle() {
    for (int guard = 0; guard < 10000; ++guard) {
      bool busy = false;
      for (auto& [id, r] : runtimes) busy |= r->pump();
      while (!in_flight.empty()) {
        protocol::Envelope e = in_flight.front();
        in_flight.pop_front();
        runtimes.at(e.to.node)->receive(e);
        busy = true;
      }
      if (!busy) return;
    }
    FAIL() << "the network did not settle";
  }
};

TimePoint now() { return TimePoint{}; }

TEST(NodeRuntimeTest, ACommandForItsOwnNodeGoesThroughItsQueueNotTheTransport) {
  auto config = make_cluster({});
  RecordingHost host;
  Network net;
  NodeRuntime r(config, NodeId("node-1"), *director::Director::create(config), host, net, now);
  host.runtime = &r;
  r.to_director(director::NodeUp{NodeId("node-1")});
  EXPECT_FALSE(r.pump());
  EXPECT_EQ(host.count<node::StartProcess>(), 2);  // both SUs of the 2N SG
  EXPECT_TRUE(net.in_flight.empty());
  EXPECT_FALSE(host.notes.empty());  // the node director's presence changes
}

TEST(NodeRuntimeTest, ACommandForAnotherNodeGoesToTheTransport) {
  auto config = make_cluster({.nodes = {"node-1", "node-2"}});
  RecordingHost host;
  Network net;
  NodeRuntime r(config, NodeId("node-1"), *director::Director::create(config), host, net, now);
  r.to_director(director::NodeUp{NodeId("node-1")});
  r.to_director(director::NodeUp{NodeId("node-2")});
  r.pump();
  const auto sent = net.messages();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, (protocol::Endpoint{NodeId("node-2"), 0}));
  EXPECT_EQ(sent[0].from, (protocol::Endpoint{NodeId("node-1"), 0}));
  EXPECT_EQ(sent[0].epoch, 1u);
  EXPECT_EQ(sent[0].seq, 1u);
  const auto& command = std::get<protocol::NodeCommand>(*sent[0].message);
  ASSERT_TRUE(std::holds_alternative<protocol::InstantiateSu>(command));
  EXPECT_EQ(std::get<protocol::InstantiateSu>(command).su, su(2));
  EXPECT_EQ(host.count<node::StartProcess>(), 1);  // su-1, here
}

TEST(NodeRuntimeTest, AReportGoesToTheTransportWhenTheDirectorIsElsewhere) {
  auto config = make_cluster({.nodes = {"node-1", "node-2"}});
  RecordingHost host;
  host.answer = true;
  Network net;
  NodeRuntime r(config, NodeId("node-2"), std::nullopt, host, net, now);
  host.runtime = &r;
  EXPECT_FALSE(r.has_director());
  r.receive({protocol::kEnvelopeVersion,
             {NodeId("node-1"), 7},
             {NodeId("node-2"), 0},
             3,
             1,
             0,
             protocol::NodeCommand(protocol::InstantiateSu{su(2)})});
  r.pump();
  EXPECT_EQ(r.followed(), (protocol::Endpoint{NodeId("node-1"), 7}));
  const auto sent = net.messages();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().from, (protocol::Endpoint{NodeId("node-2"), 0}));
  EXPECT_EQ(sent.back().to, (protocol::Endpoint{NodeId("node-1"), 7}));
  EXPECT_EQ(sent.back().epoch, 3u);  // the epoch of the director it follows
  EXPECT_EQ(sent.back().ack, 1u);    // and the command arrived
  const auto* report =
      std::get_if<protocol::SuStateReport>(&std::get<protocol::NodeReport>(*sent.back().message));
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->su, su(2));
  EXPECT_EQ(report->presence, model::PresenceState::kInstantiated);
}

TEST(NodeRuntimeTest, HandsAtMostItsBoundOfEventsPerPumpAndKeepsTheirOrder) {
  auto config = make_cluster({});
  RecordingHost host;
  Network net;
  NodeRuntime r(config, NodeId("node-1"), *director::Director::create(config), host, net, now,
                Options{.max_events_per_pump = 1});
  host.runtime = &r;
  r.post(node::to_event(protocol::InstantiateSu{su(1)}));
  r.post(node::to_event(protocol::InstantiateSu{su(2)}));
  EXPECT_TRUE(r.pump());  // one event: su-1's start
  ASSERT_EQ(host.count<node::StartProcess>(), 1);
  EXPECT_EQ(std::get<node::StartProcess>(host.effects[0]).comp, comp(1));
  EXPECT_FALSE(r.pump());  // the second, and the queue is empty
  ASSERT_EQ(host.count<node::StartProcess>(), 2);
  EXPECT_EQ(std::get<node::StartProcess>(host.effects.back()).comp, comp(2));
}

TEST(NodeRuntimeTest, APumpCalledFromTheHostReturnsAndTheRunningPumpGoesOn) {
  auto config = make_cluster({});
  struct ReentrantHost : RecordingHost {
    bool inner_result = true;
    void carry_out(const node::Effect& effect) override {
      RecordingHost::carry_out(effect);
      if (std::holds_alternative<node::StartProcess>(effect)) inner_result = runtime->pump();
    }
  } host;
  host.answer = true;
  Network net;
  NodeRuntime r(config, NodeId("node-1"), *director::Director::create(config), host, net, now);
  host.runtime = &r;
  r.post(node::to_event(protocol::InstantiateSu{su(1)}));
  EXPECT_FALSE(r.pump());
  EXPECT_TRUE(host.inner_result);  // the inner call saw the posted events and left them
  EXPECT_TRUE(r.idle());           // the outer call handled them
  EXPECT_EQ(r.node().components().front().presence, model::PresenceState::kInstantiated);
}

// Rule 4: a timeout does not fire while the evidence that would stop it is still queued. su-1's
// component starts and registers, but both reports wait behind su-2's instantiation when the
// instantiate timeout runs out; the tick waits for the queue, and su-1 is instantiated. A
// deadline with nothing queued still fires at once: su-2's component never registers.
TEST(NodeRuntimeTest, ATimeoutWaitsForTheEventsQueuedBeforeIt) {
  auto config = make_cluster({});
  struct OnlyFirstAnswers : RecordingHost {
    void carry_out(const node::Effect& effect) override {
      const auto* start = std::get_if<node::StartProcess>(&effect);
      answer = start != nullptr && start->comp == comp(1);
      RecordingHost::carry_out(effect);
    }
  } host;
  Network net;
  TimePoint t{};
  NodeRuntime r(
      config, NodeId("node-1"), std::nullopt, host, net, [&] { return t; },
      Options{.max_events_per_pump = 1});
  host.runtime = &r;
  auto failed = [&](const CompId& c) {
    return std::any_of(host.notes.begin(), host.notes.end(), [&](const model::Notification& n) {
      return n.entity == c.str() && n.cause.find("not registered within") != std::string::npos;
    });
  };
  r.post(node::to_event(protocol::InstantiateSu{su(1)}));
  r.post(node::to_event(protocol::InstantiateSu{su(2)}));
  EXPECT_TRUE(r.pump());  // su-1 started; its ProcessStarted and registration queue behind su-2
  t += std::chrono::minutes(1);                 // far past the instantiate timeout
  EXPECT_FALSE(r.next_deadline().has_value());  // nothing to wake for while events are queued
  r.tick();
  EXPECT_FALSE(failed(comp(1)));
  while (r.pump()) {
  }
  EXPECT_FALSE(failed(comp(1)));
  const auto views = r.node().components();
  ASSERT_FALSE(views.empty());
  EXPECT_EQ(views.front().id, comp(1));
  EXPECT_EQ(views.front().presence, model::PresenceState::kInstantiated);

  ASSERT_TRUE(r.next_deadline().has_value());  // su-2's component, started a minute late
  t = *r.next_deadline();
  r.tick();
  r.pump();
  EXPECT_TRUE(failed(comp(2)));
}

TEST(NodeRuntimeTest, TwoRuntimesOverAnInMemoryNetworkAssignActiveAndStandby) {
  auto config = make_cluster({.nodes = {"node-1", "node-2"}});
  RecordingHost host1, host2;
  host1.answer = host2.answer = true;
  Network net;
  NodeRuntime r1(config, NodeId("node-1"), *director::Director::create(config), host1, net, now);
  NodeRuntime r2(config, NodeId("node-2"), std::nullopt, host2, net, now);
  host1.runtime = &r1;
  host2.runtime = &r2;
  net.runtimes = {{NodeId("node-1"), &r1}, {NodeId("node-2"), &r2}};
  r1.to_director(director::NodeUp{NodeId("node-1")});
  r1.to_director(director::NodeUp{NodeId("node-2")});
  net.settle();
  const auto table = r1.director().assignments(SgId("app"));
  ASSERT_EQ(table.size(), 2u);
  std::map<SuId, model::HaState> ha;
  for (const auto& a : table) ha[a.su] = a.ha;
  EXPECT_EQ(ha[su(1)], model::HaState::kActive);  // rank 1
  EXPECT_EQ(ha[su(2)], model::HaState::kStandby);
  EXPECT_EQ(host2.count<node::SendCsiSet>(), 1);  // node-2's component got its standby
}

}  // namespace
}  // namespace amf::runtime
