// The reliable link: every message handed on once, in order, over a network that loses,
// duplicates, delays and reorders envelopes.
#include "amf/protocol/link.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace amf::protocol {
namespace {

using namespace std::chrono_literals;

const Endpoint kDirector{NodeId("node-1"), 4};
const Endpoint kNode{NodeId("node-2"), 9};
const Duration kRetransmit = 50ms;

Message command(int i) { return NodeCommand(InstantiateSu{SuId("app/su-" + std::to_string(i))}); }
Message report(int i) {
  return NodeReport(RemovalDone{SuId("app/su-" + std::to_string(i)), SiId("app/si-1"),
                                static_cast<CommandId>(i)});
}
int number_of(const Message& m) {
  const std::string su = std::holds_alternative<NodeCommand>(m)
                             ? std::get<InstantiateSu>(std::get<NodeCommand>(m)).su.str()
                             : std::get<RemovalDone>(std::get<NodeReport>(m)).su.str();
  return std::stoi(su.substr(su.rfind('-') + 1));
}

TEST(LinkTest, NumbersMessagesAndAcknowledgesWhatArrived) {
  Link d(kDirector, kNode, kRetransmit);
  Link n(kNode, kDirector, kRetransmit);
  const TimePoint t{};
  const Envelope e1 = d.send(command(1), 3, t);
  EXPECT_EQ(e1.from, kDirector);
  EXPECT_EQ(e1.to, kNode);
  EXPECT_EQ(e1.epoch, 3u);
  EXPECT_EQ(e1.seq, 1u);
  EXPECT_EQ(e1.ack, 0u);
  EXPECT_EQ(d.send(command(2), 3, t).seq, 2u);
  ASSERT_EQ(n.receive(e1).size(), 1u);
  const auto ack = n.take_ack(3);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->seq, 0u) << "an acknowledgement carries no message";
  EXPECT_EQ(ack->ack, 1u);
  EXPECT_FALSE(n.take_ack(3).has_value()) << "owed once";
  EXPECT_EQ(d.unacknowledged(), 2u);
  EXPECT_TRUE(d.receive(*ack).empty());
  EXPECT_EQ(d.unacknowledged(), 1u);
}

TEST(LinkTest, ADuplicateIsDroppedAndCountedButAcknowledgedAgain) {
  Link d(kDirector, kNode, kRetransmit);
  Link n(kNode, kDirector, kRetransmit);
  const Envelope e1 = d.send(command(1), 1, TimePoint{});
  EXPECT_EQ(n.receive(e1).size(), 1u);
  n.take_ack(1);
  EXPECT_TRUE(n.receive(e1).empty());
  EXPECT_EQ(n.stats().duplicates, 1u);
  EXPECT_TRUE(n.take_ack(1).has_value()) << "the sender resent it: its acknowledgement was lost";
}

TEST(LinkTest, AnEarlyMessageWaitsForTheGapAndBothAreHandedOnInOrder) {
  Link d(kDirector, kNode, kRetransmit);
  Link n(kNode, kDirector, kRetransmit);
  const Envelope e1 = d.send(command(1), 1, TimePoint{});
  const Envelope e2 = d.send(command(2), 1, TimePoint{});
  EXPECT_TRUE(n.receive(e2).empty());
  EXPECT_EQ(n.stats().held, 1u);
  const auto both = n.receive(e1);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(number_of(both[0]), 1);
  EXPECT_EQ(number_of(both[1]), 2);
}

TEST(LinkTest, AnUnacknowledgedMessageIsSentAgainAfterTheRetransmitTime) {
  Link d(kDirector, kNode, kRetransmit);
  const TimePoint t{};
  d.send(command(1), 1, t);
  EXPECT_EQ(d.next_deadline(), t + kRetransmit);
  EXPECT_TRUE(d.retransmit(1, t + kRetransmit - 1ms).empty());
  const auto again = d.retransmit(1, t + kRetransmit);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, 1u);
  EXPECT_EQ(d.next_deadline(), t + 2 * kRetransmit);
  EXPECT_EQ(d.stats().retransmitted, 1u);
}

// The property: whatever the network loses (as long as it does not lose everything for ever),
// duplicates and reorders, each side hands on exactly what the other sent, in order, once; and
// once the network is quiet every message is acknowledged.
TEST(LinkTest, EveryMessageArrivesOnceInOrderOverALossyNetwork) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> coin(0, 1);
    const double loss = coin(rng) * 0.5;
    const double dup = coin(rng) * 0.3;
    const int messages = 1 + static_cast<int>(rng() % 60);
    Link d(kDirector, kNode, kRetransmit);
    Link n(kNode, kDirector, kRetransmit);
    std::multimap<TimePoint, Envelope> in_flight;
    TimePoint now{};
    auto transmit = [&](const Envelope& e) {
      if (coin(rng) < loss) return;
      const int copies = coin(rng) < dup ? 2 : 1;
      for (int c = 0; c < copies; ++c) {
        in_flight.emplace(now + std::chrono::microseconds(rng() % 30'000), e);
      }
    };
    std::vector<int> at_node, at_director;
    int sent = 0;
    for (int round = 0; round < 100'000; ++round) {
      if (sent < messages && coin(rng) < 0.3) {
        ++sent;
        transmit(d.send(command(sent), 1, now));
        transmit(n.send(report(sent), 1, now));
      }
      // Next: an arrival or a retransmission, whichever is first.
      std::optional<TimePoint> next;
      if (!in_flight.empty()) next = in_flight.begin()->first;
      for (const Link* l : {&d, &n}) {
        if (auto dl = l->next_deadline(); dl && (!next || *dl < *next)) next = dl;
      }
      if (!next) {
        if (sent == messages) break;
        now += 1ms;
        continue;
      }
      now = std::max(now, *next);
      if (!in_flight.empty() && in_flight.begin()->first <= now) {
        const Envelope e = in_flight.begin()->second;
        in_flight.erase(in_flight.begin());
        Link& to = e.to == kNode ? n : d;
        for (const auto& m : to.receive(e))
          (e.to == kNode ? at_node : at_director).push_back(number_of(m));
        if (auto ack = to.take_ack(1)) transmit(*ack);
      }
      for (Link* l : {&d, &n}) {
        for (const auto& e : l->retransmit(1, now)) transmit(e);
      }
    }
    std::vector<int> expected(static_cast<std::size_t>(messages));
    for (int i = 0; i < messages; ++i) expected[static_cast<std::size_t>(i)] = i + 1;
    ASSERT_EQ(at_node, expected) << "seed " << seed << " loss " << loss << " dup " << dup;
    ASSERT_EQ(at_director, expected) << "seed " << seed;
    EXPECT_EQ(d.unacknowledged(), 0u) << "seed " << seed;
    EXPECT_EQ(n.unacknowledged(), 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace amf::protocol
