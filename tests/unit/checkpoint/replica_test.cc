#include "amf/checkpoint/replica.h"

#include <gtest/gtest.h>

#include <deque>
#include <iostream>
#include <map>
#include <random>

namespace amf::checkpoint {
namespace {

using std::chrono::milliseconds;

const CheckpointName kName("counter-state");
const NodeId kA("a"), kB("b"), kC("c");

Attributes attributes(UpdateMode mode = UpdateMode::kSynchronous) {
  Attributes a;
  a.mode = mode;
  a.max_sections = 8;
  a.max_section_size = 64;
  return a;
}

// Replicas of one checkpoint on an in-memory network: one FIFO queue per link, links that can
// be cut (what is sent over them is lost) and messages that can be dropped one by one.
class Net {
 public:
  explicit Net(Attributes attrs = attributes(), Settings settings = {}) : settings_(settings) {
    for (const NodeId& n : {kA, kB, kC}) add(n, attrs);
  }
  void add(const NodeId& node, Attributes attrs) {
    replicas_.insert_or_assign(node, Replica(kName, attrs, node, settings_));
    disks_.insert_or_assign(node, Disk{Sections(attrs), {}, {}});
  }
  // Settings::durable: what a node's store holds, and the records on their way to it (lost
  // when the node's process dies).
  struct Disk {
    Sections content;
    Position at;
    std::deque<Persist> unflushed;
  };
  // The node's store writes and fsyncs what it was given, and says so.
  void flush(const NodeId& node) {
    Disk& disk = disks_.at(node);
    if (disk.unflushed.empty()) return;
    std::uint64_t last = 0;
    for (Persist& record : disk.unflushed) {
      if (record.operation) {
        ASSERT_TRUE(disk.content.check(*record.operation)) << describe(*record.operation);
        disk.content.apply(*record.operation, now_);
      } else {
        Sections fresh(disk.content.attributes());
        ASSERT_TRUE(fresh.restore(record.image, now_));
        disk.content = std::move(fresh);
      }
      disk.at = record.at;
      last = record.record;
    }
    disk.unflushed.clear();
    at(node).stored(last, now_);
    collect(node);
  }
  // The node's process dies and starts again from what its store holds.
  void restart_from_disk(const NodeId& node) {
    Disk& disk = disks_.at(node);
    disk.unflushed.clear();
    replicas_.insert_or_assign(node, Replica(kName, disk.content, disk.at, node, settings_));
  }
  // The node's process starts from a content its store held.
  void restore(const NodeId& node, Sections content, Position at) {
    disks_.insert_or_assign(node, Disk{content, at, {}});
    replicas_.insert_or_assign(node, Replica(kName, std::move(content), at, node, settings_));
  }
  bool recovering(const NodeId& node) { return at(node).recovering(); }
  Replica& at(const NodeId& node) { return replicas_.at(node); }

  void activate(const NodeId& node, std::uint64_t generation, std::set<NodeId> peers) {
    ASSERT_TRUE(at(node).activate(generation, peers, now_));
    collect(node);
  }
  void write(const NodeId& node, std::uint64_t token, Operation op) {
    at(node).write(token, std::move(op), now_);
    collect(node);
  }
  void collect(const NodeId& node) {
    for (Effect& e : at(node).take_effects()) {
      std::visit(
          [&](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Send>) {
              if (!cut_.contains({node, x.to}))
                links_[{node, x.to}].push_back(std::move(x.message));
            } else if constexpr (std::is_same_v<T, WriteDone>) {
              done_.insert_or_assign(x.token, x.result);
            } else if constexpr (std::is_same_v<T, ProtocolError>) {
              errors_.push_back(node.str() + ": " + x.what);
            } else if constexpr (std::is_same_v<T, Superseded>) {
              superseded_.push_back(node);
            } else if constexpr (std::is_same_v<T, Persist>) {
              disks_.at(node).unflushed.push_back(std::move(x));
            } else if constexpr (std::is_same_v<T, Recovered>) {
              recovered_.push_back(x);
            } else {
              (void)x;
            }
          },
          e);
    }
  }
  // Delivers the next message on one link; false when there is none.
  bool deliver(const NodeId& from, const NodeId& to) {
    auto it = links_.find({from, to});
    if (it == links_.end() || it->second.empty()) return false;
    Message m = std::move(it->second.front());
    it->second.pop_front();
    if (replicas_.contains(to)) {
      at(to).receive(m, now_);
      collect(to);
    }
    return true;
  }
  void drop(const NodeId& from, const NodeId& to) {
    auto& queue = links_[{from, to}];
    ASSERT_FALSE(queue.empty()) << "nothing to drop from " << from << " to " << to;
    queue.pop_front();
  }
  std::size_t queued(const NodeId& from, const NodeId& to) { return links_[{from, to}].size(); }
  void settle() {
    for (int round = 0; round < 10000; ++round) {
      bool any = false;
      for (auto& [link, queue] : links_) any |= deliver(link.first, link.second);
      if (!any) return;
    }
    FAIL() << "the replicas never settle";
  }
  void advance(Duration d) {
    now_ += d;
    for (auto& [node, r] : replicas_) {
      r.tick(now_);
      collect(node);
    }
  }
  void cut(const NodeId& a, const NodeId& b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void heal() { cut_.clear(); }

  std::optional<Result<void>> done(std::uint64_t token) const {
    auto it = done_.find(token);
    if (it == done_.end()) return std::nullopt;
    return it->second;
  }
  std::string value(const NodeId& node, const char* section = "s") {
    auto r = at(node).content().read(SectionId(section), 0, 1000);
    return r ? *r : "<" + r.error().message() + ">";
  }
  const std::vector<std::string>& errors() const { return errors_; }
  const std::vector<NodeId>& superseded() const { return superseded_; }
  const std::vector<Recovered>& recovered() const { return recovered_; }
  void clear_links() { links_.clear(); }
  TimePoint now() const { return now_; }

 private:
  Settings settings_;
  std::map<NodeId, Replica> replicas_;
  std::map<std::pair<NodeId, NodeId>, std::deque<Message>> links_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::map<std::uint64_t, Result<void>> done_;
  std::vector<std::string> errors_;
  std::vector<NodeId> superseded_;
  std::vector<Recovered> recovered_;
  std::map<NodeId, Disk> disks_;
  TimePoint now_{};
};

CreateSection create(std::string data = "") {
  return CreateSection{SectionId("s"), std::move(data)};
}
OverwriteSection set(std::string data) { return OverwriteSection{SectionId("s"), std::move(data)}; }

// A, active in generation 1, with B and C in service and section "s" created.
void start(Net& net) {
  net.activate(kA, 1, {kB, kC});
  net.settle();
  ASSERT_TRUE(net.at(kB).in_service());
  ASSERT_TRUE(net.at(kC).in_service());
  net.write(kA, 1, create());
  net.settle();
  ASSERT_TRUE(net.done(1) && *net.done(1));
}

TEST(ReplicaTest, ASynchronousWriteCompletesOnlyOnceEveryReplicaInServiceHoldsIt) {
  Net net;
  start(net);
  net.write(kA, 2, set("one"));
  EXPECT_FALSE(net.done(2));
  EXPECT_EQ(net.value(kA), "one");
  ASSERT_TRUE(net.deliver(kA, kB));
  ASSERT_TRUE(net.deliver(kB, kA));  // B's ack
  EXPECT_FALSE(net.done(2)) << "C does not hold it yet";
  ASSERT_TRUE(net.deliver(kA, kC));
  ASSERT_TRUE(net.deliver(kC, kA));
  ASSERT_TRUE(net.done(2));
  EXPECT_TRUE(*net.done(2));
  EXPECT_EQ(net.value(kB), "one");
  EXPECT_EQ(net.value(kC), "one");
  EXPECT_EQ(net.at(kA).committed(), 2u);
  EXPECT_TRUE(net.errors().empty());
}

TEST(ReplicaTest, AnAsynchronousWriteCompletesAtOnceAndTheReplicasFollow) {
  Net net(attributes(UpdateMode::kAsynchronous));
  net.activate(kA, 1, {kB, kC});
  net.settle();
  net.write(kA, 1, create("x"));
  ASSERT_TRUE(net.done(1));
  EXPECT_TRUE(*net.done(1));
  EXPECT_EQ(net.value(kB), "<there is no section 's'>");
  net.settle();
  EXPECT_EQ(net.value(kB), "x");
  EXPECT_EQ(net.value(kC), "x");
}

TEST(ReplicaTest, AReplicaThatJoinsLateIsColdSyncedBeforeItCounts) {
  Settings settings;
  settings.chunk_bytes = 10;  // several chunks
  Net net(attributes(), settings);
  net.activate(kA, 1, {kB});
  net.settle();
  for (int i = 0; i < 5; ++i) {
    net.write(kA, 10 + i,
              CreateSection{SectionId("s" + std::to_string(i)), std::string(8, 'a' + i)});
  }
  net.settle();
  EXPECT_FALSE(net.at(kC).in_service());
  net.at(kA).add_peer(kC, net.now());
  net.collect(kA);
  // C is probed, finds itself behind, asks for a resync; a write arrives meanwhile.
  net.write(kA, 20, OverwriteSection{SectionId("s0"), "new"});
  net.settle();
  EXPECT_TRUE(net.done(20) && *net.done(20));
  EXPECT_TRUE(net.at(kC).in_service());
  EXPECT_TRUE(net.at(kC).content().same_data(net.at(kA).content()));
  EXPECT_EQ(net.at(kC).position(), net.at(kA).position());
  EXPECT_TRUE(net.at(kA).peers().at(kC).in_service);
  EXPECT_TRUE(net.errors().empty());
}

TEST(ReplicaTest, ALostAppendIsAGapThatAResyncCloses) {
  Net net;
  start(net);
  net.write(kA, 2, set("two"));
  net.drop(kA, kC);  // C never gets it
  net.write(kA, 3, set("three"));
  net.settle();  // C cannot apply 3 on top of 1: it asks for a snapshot
  EXPECT_EQ(net.value(kC), "three");
  EXPECT_TRUE(net.done(2) && *net.done(2));
  EXPECT_TRUE(net.done(3) && *net.done(3));
  EXPECT_EQ(net.at(kC).position(), net.at(kA).position());
}

TEST(ReplicaTest, ALostAckIsAskedForAgain) {
  Net net;
  start(net);
  net.write(kA, 2, set("two"));
  net.deliver(kA, kB);
  net.deliver(kA, kC);
  net.drop(kC, kA);  // C's ack is lost
  net.settle();
  EXPECT_FALSE(net.done(2));
  net.advance(milliseconds(100));  // the active replica probes C again
  net.settle();
  EXPECT_TRUE(net.done(2) && *net.done(2));
}

TEST(ReplicaTest, ALostAckOfAnAsynchronousWriteIsAskedForAgainToo) {
  Net net(attributes(UpdateMode::kAsynchronous));
  start(net);
  net.write(kA, 2, set("two"));
  EXPECT_TRUE(net.done(2) && *net.done(2));
  net.deliver(kA, kB);
  net.deliver(kA, kC);
  net.drop(kC, kA);  // C's ack is lost: nothing waits for it, but A must learn where C is
  net.settle();
  EXPECT_LT(net.at(kA).peers().at(kC).acked, net.at(kA).position());
  net.advance(milliseconds(100));
  net.settle();
  EXPECT_EQ(net.at(kA).peers().at(kC).acked, net.at(kA).position());
  net.advance(milliseconds(100));
  EXPECT_EQ(net.queued(kA, kC), 0u) << "no probe once every peer caught up";
}

TEST(ReplicaTest, ALostSnapshotChunkIsAskedForAgainAfterTheRetry) {
  Settings settings;
  settings.chunk_bytes = 4;
  Net net(attributes(), settings);
  net.activate(kA, 1, {kB});
  net.settle();
  for (int i = 0; i < 3; ++i)
    net.write(kA, 10 + i, CreateSection{SectionId(std::to_string(i)), "abcd"});
  net.settle();
  net.at(kA).add_peer(kC, net.now());
  net.collect(kA);
  net.deliver(kA, kC);  // the probe
  net.deliver(kC, kA);  // C's resync
  ASSERT_GE(net.queued(kA, kC), 3u);
  net.deliver(kA, kC);  // chunk 0
  net.drop(kA, kC);     // chunk 1 is lost
  net.settle();
  EXPECT_FALSE(net.at(kC).in_service());
  net.advance(milliseconds(100));
  net.settle();
  EXPECT_TRUE(net.at(kC).in_service());
  EXPECT_TRUE(net.at(kC).content().same_data(net.at(kA).content()));
}

TEST(ReplicaTest, RefusesAWriteItCannotTakeSayingWhyAndAppliesNothing) {
  Net net;
  start(net);
  const Position before = net.at(kA).position();
  net.write(kA, 2, CreateSection{SectionId("s"), ""});
  EXPECT_EQ(net.done(2)->error().message(),
            "checkpoint 'counter-state': section 's' exists already");
  net.write(kA, 3, set(std::string(65, 'x')));
  EXPECT_EQ(net.done(3)->error().message(),
            "checkpoint 'counter-state': section 's' would be 65 bytes, over the checkpoint's "
            "max_section_size of 64 bytes");
  net.write(kB, 4, set("x"));
  EXPECT_EQ(
      net.done(4)->error().message(),
      "checkpoint 'counter-state': this replica is not the active one (the active one is on a)");
  net.settle();
  EXPECT_EQ(net.at(kA).position(), before);
  EXPECT_EQ(net.at(kB).position(), before);
  EXPECT_EQ(net.value(kB), "");
}

TEST(ReplicaTest, ASynchronousWriteThatAReplicaInServiceDoesNotTakeTimesOutNamingIt) {
  Net net;
  start(net);
  net.cut(kA, kC);
  net.write(kA, 2, set("two"));
  net.settle();
  net.advance(milliseconds(999));
  net.settle();
  EXPECT_FALSE(net.done(2));
  net.advance(milliseconds(1));
  ASSERT_TRUE(net.done(2));
  EXPECT_EQ(net.done(2)->error().message(),
            "checkpoint 'counter-state': write 2 not held by the replicas on c within 1000 ms; it "
            "may still reach them");
  // C's node is declared gone: writes stop waiting for it.
  net.at(kA).remove_peer(kC, net.now());
  net.write(kA, 3, set("three"));
  net.settle();
  EXPECT_TRUE(net.done(3) && *net.done(3));
  // It comes back, is cold-synced, and counts again.
  net.heal();
  net.at(kA).add_peer(kC, net.now());
  net.collect(kA);
  net.settle();
  EXPECT_EQ(net.value(kC), "three");
  EXPECT_TRUE(net.at(kA).peers().at(kC).in_service);
}

TEST(ReplicaTest, ANewActiveReplicaKeepsEveryAcknowledgedWriteAndResetsOneThatRanAhead) {
  Net net;
  start(net);
  net.write(kA, 2, set("acked"));
  net.settle();
  ASSERT_TRUE(net.done(2) && *net.done(2));
  // A's last write reaches C only, and A's node dies before anyone acknowledges it.
  net.write(kA, 3, set("lost"));
  net.drop(kA, kB);
  net.deliver(kA, kC);
  EXPECT_FALSE(net.done(3));
  EXPECT_EQ(net.value(kC), "lost");
  net.cut(kA, kB);
  net.cut(kA, kC);
  // B, in service, becomes active in generation 2: C, which ran ahead, is reset to B's content.
  ASSERT_TRUE(net.at(kB).in_service());
  net.activate(kB, 2, {kC});
  net.settle();
  EXPECT_EQ(net.value(kB), "acked");
  EXPECT_EQ(net.value(kC), "acked");
  EXPECT_TRUE(net.at(kC).in_service());
  net.write(kB, 4, set("after"));
  net.settle();
  EXPECT_TRUE(net.done(4) && *net.done(4));
  EXPECT_EQ(net.value(kC), "after");
  EXPECT_EQ(net.at(kC).position(), (Position{2, 3}));
}

TEST(ReplicaTest, AReplicaAtTheNewActivesPositionNeedsNoSnapshot) {
  Net net;
  start(net);
  net.write(kA, 2, set("x"));
  net.settle();
  net.cut(kA, kB);
  net.cut(kA, kC);
  net.activate(kB, 2, {kC});
  ASSERT_TRUE(net.deliver(kB, kC));  // the probe
  ASSERT_TRUE(net.deliver(kC, kB));  // an ack, not a resync
  EXPECT_TRUE(net.at(kB).peers().at(kC).in_service);
  net.settle();
  EXPECT_TRUE(net.at(kC).in_service());
}

// Another writer on the same node, or a newer assignment of the same one: a newer generation
// for the replica that is active already. The peers stay in service and a pending write still
// waits for them (a review found writes acknowledged by this node alone when they were reset).
TEST(ReplicaTest, ANewerGenerationForTheActiveReplicaKeepsItsPeersInService) {
  Net net;
  start(net);
  net.write(kA, 2, set("two"));
  net.activate(kA, 2, {kB, kC});
  net.write(kA, 3, set("three"));
  EXPECT_FALSE(net.done(2)) << "B and C hold nothing of it yet";
  EXPECT_FALSE(net.done(3));
  EXPECT_TRUE(net.at(kA).peers().at(kB).in_service);
  net.settle();
  EXPECT_TRUE(net.done(2) && *net.done(2));
  EXPECT_TRUE(net.done(3) && *net.done(3));
  EXPECT_EQ(net.value(kC), "three");
  EXPECT_EQ(net.at(kC).generation(), 2u);
  EXPECT_TRUE(net.at(kC).in_service()) << "told again in generation 2";
  EXPECT_TRUE(net.errors().empty()) << net.errors().front();
}

// A peer the active replica stopped counting (its node left the view, then is back) says it is
// not in service from the first probe on, until it holds everything again.
TEST(ReplicaTest, APeerTheActiveNoLongerCountsStopsSayingItIsInService) {
  Net net;
  start(net);
  net.at(kA).remove_peer(kC, net.now());
  net.write(kA, 2, set("two"));  // C is not sent it, and A does not wait for C
  EXPECT_EQ(net.queued(kA, kC), 0u);
  net.settle();
  EXPECT_TRUE(net.done(2) && *net.done(2));
  EXPECT_TRUE(net.at(kC).in_service()) << "C has not heard yet";
  net.at(kA).add_peer(kC, net.now());
  net.collect(kA);
  ASSERT_TRUE(net.deliver(kA, kC));  // the probe: "not in service"
  EXPECT_FALSE(net.at(kC).in_service());
  net.settle();
  EXPECT_TRUE(net.at(kC).in_service());
  EXPECT_EQ(net.value(kC), "two");
}

// An acknowledgement behind what the peer acknowledged before: a new process there, which holds
// nothing; the active replica no longer counts it until it holds everything again.
TEST(ReplicaTest, AnAckBehindAnEarlierOneIsANewProcessThatIsNotInService) {
  Net net;
  start(net);
  ASSERT_TRUE(net.at(kA).peers().at(kB).in_service);
  net.at(kA).receive(Ack{Header{kName, kB, 1}, Position{}, false}, net.now());
  net.collect(kA);
  EXPECT_FALSE(net.at(kA).peers().at(kB).in_service);
  net.write(kA, 2, set("two"));
  net.drop(kA, kB);
  net.deliver(kA, kC);
  net.deliver(kC, kA);
  EXPECT_TRUE(net.done(2) && *net.done(2)) << "C alone is in service";
  net.advance(milliseconds(100));  // B is probed again, resyncs, and counts again
  net.settle();
  EXPECT_TRUE(net.at(kA).peers().at(kB).in_service);
  EXPECT_EQ(net.value(kB), "two");
}

TEST(ReplicaTest, AnOlderGenerationIsIgnoredAndAnActiveThatHearsANewerOneStandsDown) {
  Net net;
  start(net);
  net.cut(kA, kB);
  net.cut(kA, kC);
  net.activate(kB, 2, {kA, kC});
  net.settle();
  net.heal();
  // A, cut off, still believes it is active: its write reaches C, which follows generation 2.
  net.write(kA, 7, set("stale"));
  ASSERT_TRUE(net.deliver(kA, kC));
  EXPECT_EQ(net.value(kC), "");
  EXPECT_EQ(net.queued(kC, kA), 0u) << "no ack for an older generation";
  // B's probe tells A of generation 2: its pending write fails and it follows B.
  net.advance(milliseconds(100));
  net.settle();
  ASSERT_TRUE(net.done(7));
  EXPECT_EQ(net.done(7)->error().message(),
            "checkpoint 'counter-state': superseded by the active replica on b in generation 2");
  EXPECT_EQ(net.superseded(), std::vector<NodeId>{kA});
  EXPECT_FALSE(net.at(kA).active());
  EXPECT_EQ(net.value(kA), "") << "its unacknowledged write is undone by a resync";
  EXPECT_TRUE(net.at(kA).in_service());
  EXPECT_FALSE(net.at(kA).activate(2, {}, net.now()));
}

TEST(ReplicaTest, AReplicaThatRestartedIsToldAgainThatItIsInService) {
  Net net;
  start(net);
  net.write(kA, 2, set("v"));
  net.settle();
  net.add(kC, attributes());  // C's process restarted: empty, told nothing
  net.write(kA, 3, set("w"));
  net.settle();
  EXPECT_TRUE(net.done(3) && *net.done(3));
  EXPECT_EQ(net.value(kC), "w");
  EXPECT_TRUE(net.at(kC).in_service());
}

TEST(ReplicaTest, TheActiveReplicaDeletesExpiredSectionsEverywhere) {
  Net net;
  net.activate(kA, 1, {kB, kC});
  net.settle();
  net.write(kA, 1, CreateSection{SectionId("t"), "x", milliseconds(30)});
  net.settle();
  EXPECT_EQ(net.at(kA).next_deadline(), net.now() + milliseconds(30));
  net.advance(milliseconds(30));
  net.settle();
  EXPECT_EQ(net.value(kA, "t"), "<there is no section 't'>");
  EXPECT_EQ(net.value(kB, "t"), "<there is no section 't'>");
  EXPECT_EQ(net.value(kC, "t"), "<there is no section 't'>");
}

TEST(ReplicaTest, BoundsTheWritesWaitingForReplicas) {
  Settings settings;
  settings.max_pending_writes = 2;
  Net net(attributes(), settings);
  start(net);
  net.write(kA, 2, set("1"));
  net.write(kA, 3, set("2"));
  net.write(kA, 4, set("3"));
  EXPECT_EQ(net.done(4)->error().message(),
            "checkpoint 'counter-state': 2 writes wait for the replicas already");
  net.settle();
  EXPECT_TRUE(net.done(3) && *net.done(3));
}

TEST(ReplicaTest, DropsWhatALyingPeerSendsAndSaysSo) {
  Net net;
  start(net);
  const Position at = net.at(kA).position();
  // An ack past anything A wrote.
  net.at(kA).receive(Ack{Header{kName, kB, 1}, Position{1, 99}, true}, net.now());
  net.collect(kA);
  // A snapshot from the active replica's node that breaks its own limits.
  Attributes tiny = attributes();
  tiny.max_sections = 1;
  Snapshot bad{Header{kName, kA, 1},
               Position{1, 50},
               0,
               true,
               tiny,
               {{SectionId("x"), "1"}, {SectionId("y"), "2"}}};
  net.at(kB).receive(bad, net.now());
  net.collect(kB);
  // A message for another checkpoint.
  net.at(kC).receive(Probe{Header{CheckpointName("other"), kA, 1}, at, attributes()}, net.now());
  net.collect(kC);
  ASSERT_EQ(net.errors().size(), 3u);
  EXPECT_EQ(net.errors()[0], "a: acknowledged 1:99, past this replica's 1:1");
  EXPECT_EQ(net.errors()[1], "b: sent a snapshot of more than 1 sections");
  EXPECT_EQ(net.errors()[2], "c: sent a message of checkpoint 'other' to 'counter-state'");
  EXPECT_EQ(net.at(kB).position(), at);
  EXPECT_EQ(net.value(kB), "");
  net.settle();
  EXPECT_EQ(net.at(kB).position(), at);
}

// A recovering active replica whose newest peer answers but then does not send its content asks
// the next newest that answered, rather than going on with its own, older content.
TEST(ReplicaTest, ARecoveryTakesTheNextNewestContentWhenTheNewestIsNotSent) {
  Settings settings;
  settings.durable = true;
  Net net(attributes(), settings);
  auto content = [](const std::string& value) {
    Sections c(attributes());
    c.apply(CreateSection{SectionId("s"), value}, {});
    return c;
  };
  net.restore(kA, content("1"), {1, 1});
  net.restore(kB, content("3"), {1, 3});
  net.restore(kC, content("2"), {1, 2});
  net.activate(kA, 2, {kB, kC});
  ASSERT_TRUE(net.recovering(kA));
  // Both answer; A asks B, the newest, for its content, and then A and B are cut off.
  ASSERT_TRUE(net.deliver(kA, kB));
  ASSERT_TRUE(net.deliver(kB, kA));
  ASSERT_TRUE(net.deliver(kA, kC));
  ASSERT_TRUE(net.deliver(kC, kA));
  ASSERT_EQ(net.queued(kA, kB), 1u) << "the pull";
  net.drop(kA, kB);
  net.cut(kA, kB);
  for (int i = 0; i < 30 && net.recovering(kA); ++i) {
    net.advance(milliseconds(100));
    net.settle();
  }
  ASSERT_FALSE(net.recovering(kA));
  EXPECT_EQ(net.value(kA), "2") << "it went on with its own content, older than C's";
  ASSERT_FALSE(net.recovered().empty());
  EXPECT_EQ(net.recovered().back().from, kC);
}

// Random drops, cuts and failovers: every replica that says it is in service holds every
// acknowledged synchronous write, and once the network heals all hold the active's content.
// `durable`: the replicas store what they apply (records reach the disk at random moments), and
// now and then every node's process dies at once: a node's replica then starts again from its
// disk, not in service, and the new active replica recovers the newest content; it must hold
// every write acknowledged before.
// `crashes`: counts the times every process died.
void random_faults(std::uint32_t seed, bool durable, int* crashes = nullptr) {
  const std::vector<NodeId> nodes{kA, kB, kC};
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  Settings settings;
  settings.durable = durable;
  Net net(attributes(), settings);
  auto flush_all = [&] {
    for (const NodeId& n : nodes) net.flush(n);
  };
  std::uint64_t generation = 1;
  NodeId active = kA;
  net.activate(kA, generation, {kB, kC});
  net.write(kA, 1, create("0"));
  net.settle();
  flush_all();
  net.settle();
  std::uint64_t next = 1, acked = 0;  // the values written, and the newest acknowledged
  std::map<std::uint64_t, std::uint64_t> token_value;
  for (int step = 0; step < 300; ++step) {
    if (durable && pick(100) < 20) net.flush(nodes[pick(3)]);
    const auto roll = pick(100);
    if (roll < 35) {
      token_value[next + 1] = next;
      net.write(active, next + 1, set(std::to_string(next)));
      ++next;
    } else if (roll < 75) {
      const NodeId& from = nodes[pick(3)];
      const NodeId& to = nodes[pick(3)];
      if (from != to) net.deliver(from, to);
    } else if (roll < 82) {
      const NodeId& from = nodes[pick(3)];
      const NodeId& to = nodes[pick(3)];
      if (from != to && net.queued(from, to) > 0) net.drop(from, to);
    } else if (roll < 90) {
      net.advance(milliseconds(pick(150)));
    } else if (roll < 92) {
      // The active replica's node takes a newer generation (another writer there), or a
      // peer's node leaves the view and comes back as a new life: its replica starts empty
      // (amfd drops a life's replicas when it ends) or from its disk, while what was in flight
      // still arrives.
      if (pick(2) == 0) {
        std::set<NodeId> peers(nodes.begin(), nodes.end());
        peers.erase(active);
        net.activate(active, ++generation, peers);
      } else {
        const NodeId& other = nodes[pick(3)];
        if (other != active) {
          net.at(active).remove_peer(other, net.now());
          if (durable) {
            net.restart_from_disk(other);
          } else {
            net.add(other, attributes());
          }
          net.at(active).add_peer(other, net.now());
          net.collect(active);
        }
      }
    } else if (roll < 95) {
      // Failover onto a replica in service (the director's choice), the old writer gone.
      std::vector<NodeId> candidates;
      for (const NodeId& n : nodes) {
        const Replica& r = net.at(n);
        if (n != active && r.in_service() && r.generation() == generation) candidates.push_back(n);
      }
      if (!candidates.empty()) {
        active = candidates[pick(candidates.size())];
        std::set<NodeId> peers(nodes.begin(), nodes.end());
        peers.erase(active);
        net.activate(active, ++generation, peers);
      }
    } else if (durable && roll < 97) {
      // Every process dies at once; what was not on disk is gone. Any node's component becomes
      // active: its replica, not in service, asks the others and takes the newest content.
      if (crashes) ++*crashes;
      net.clear_links();
      // And the active's node may never come back (its disk is lost with it: a new node takes
      // its place) when a peer was in service: that one holds every acknowledged write.
      bool peer_in_service = false;
      if (net.at(active).active()) {
        for (const auto& [node, peer] : net.at(active).peers()) peer_in_service |= peer.in_service;
      }
      const bool lose_active = peer_in_service && pick(2) == 0;
      for (const NodeId& n : nodes) {
        if (lose_active && n == active) {
          net.add(n, attributes());
        } else {
          net.restart_from_disk(n);
        }
      }
      active = nodes[pick(3)];
      std::set<NodeId> peers(nodes.begin(), nodes.end());
      peers.erase(active);
      net.activate(active, ++generation, peers);
      for (int i = 0; i < 10 && net.recovering(active); ++i) {
        net.settle();
        net.advance(milliseconds(10));
      }
      ASSERT_FALSE(net.recovering(active));
      ASSERT_GE(std::stoull(net.value(active)), acked)
          << active << " recovered without write " << acked;
    } else {
      net.settle();
    }
    for (const auto& [token, value] : token_value) {
      if (auto d = net.done(token); d && *d) acked = std::max(acked, value);
    }
    for (const NodeId& n : nodes) {
      // A claim of an older generation is void: an active replica cut off from its successor
      // still says it is in service until it hears of it. A recovering one takes no writes
      // and its host holds reads back.
      const Replica& r = net.at(n);
      if (!r.in_service() || r.generation() != generation || r.recovering()) continue;
      const std::string v = net.value(n);
      ASSERT_GE(std::stoull(v), acked) << n << " is in service without write " << acked;
    }
  }
  for (int i = 0; i < 20; ++i) {
    net.settle();
    flush_all();
    net.advance(milliseconds(100));
  }
  net.settle();
  for (const NodeId& n : nodes) {
    EXPECT_TRUE(net.at(n).content().same_data(net.at(active).content())) << n;
    EXPECT_TRUE(net.at(n).in_service()) << n;
  }
  EXPECT_TRUE(net.errors().empty()) << net.errors().front();
  if (durable) {
    EXPECT_GT(acked, 0u);
  }
}

TEST(ReplicaTest, EveryReplicaInServiceHoldsEveryAcknowledgedWriteUnderRandomFaults) {
  for (std::uint32_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    random_faults(seed, false);
    if (testing::Test::HasFatalFailure()) return;
  }
}

TEST(ReplicaTest, StoredReplicasKeepEveryAcknowledgedWriteWhenEveryProcessDies) {
  int crashes = 0;
  for (std::uint32_t seed = 1; seed <= 500; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    random_faults(seed, true, &crashes);
    if (testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(crashes, 500) << "the runs hardly crashed every process";
  std::cout << crashes << " crashes of every process over 500 runs\n";
}

}  // namespace
}  // namespace amf::checkpoint
