// Membership: heartbeats, suspicion, leases, views, and the safety property that a node life
// is declared gone only once its lease (and the time to stop its actives) is surely over.
#include "amf/membership/membership.h"

#include <gtest/gtest.h>

#include <queue>
#include <random>

namespace amf::membership {
namespace {

using namespace std::chrono_literals;

// Nodes on an in-memory network with a latency, cuts per direction and crashes; one of them
// leads (keeps the views). One clock for all.
class Cluster {
 public:
  Cluster(std::vector<std::string> names, std::set<std::string> voter_names, Profile profile,
          std::string director = "n1")
      : profile_(std::move(profile)), director_(director) {
    for (const auto& n : names) nodes_.emplace_back(n);
    for (const auto& v : voter_names) voters_.insert(NodeId(v));
    for (const NodeId& n : nodes_) {
      members_[n] = std::make_unique<Node>(Incarnate{n, 1}, nodes_, voters_, profile_, now_);
    }
    members_.at(director_)->lead(1, View{}, now_);
    drain();
  }

  void run_for(Duration d) { run_until(now_ + d); }
  void run_until(TimePoint end) {
    for (int steps = 0; steps < 10'000'000; ++steps) {
      TimePoint next = end;
      for (const auto& [n, m] : members_) {
        if (!crashed_.count(n)) next = std::min(next, *m->next_deadline());
      }

      if (!queue_.empty()) next = std::min(next, queue_.top().at);
      if (next >= end && (queue_.empty() || queue_.top().at > end)) {
        now_ = std::max(now_, end);
        return;
      }
      now_ = std::max(now_, next);
      while (!queue_.empty() && queue_.top().at <= now_) {
        Packet p = queue_.top();
        queue_.pop();
        if (crashed_.count(p.to)) continue;
        members_.at(p.to)->receive(p.message, now_);
        drain();
      }
      for (const auto& [n, m] : members_) {
        if (!crashed_.count(n) && *m->next_deadline() <= now_) m->tick(now_);
      }
      drain();
    }
    FAIL() << "the cluster never let time advance";
  }

  // Another node becomes director (as etcd would elect it) with a newer epoch, starting from
  // the view given (its node's, or an older one).
  void new_director(const std::string& n, std::uint64_t epoch, const View& start) {
    members_.at(director_)->stop_leading();  // deposed
    director_ = NodeId(n);
    members_.at(director_)->lead(epoch, start, now_);
    drain();
  }

  bool has_director() const { return members_.at(director_)->leads(); }
  void crash(const std::string& n) { crashed_.insert(NodeId(n)); }
  void cut(const std::string& from, const std::string& to) {
    cuts_.insert({NodeId(from), NodeId(to)});
  }
  void isolate(const std::string& n) {
    for (const NodeId& o : nodes_) {
      if (o.str() != n) {
        cut(n, o.str());
        cut(o.str(), n);
      }
    }
  }
  void heal() { cuts_.clear(); }
  void set_loss(double p) { loss_ = p; }
  void set_latency(Duration lo, Duration hi) {
    lat_lo_ = lo;
    lat_hi_ = hi;
  }
  void seed(std::uint64_t s) { rng_.seed(s); }

  const Member& member(const std::string& n) { return members_.at(NodeId(n))->member(); }
  Node& node(const std::string& n) { return *members_.at(NodeId(n)); }
  TimePoint now() const { return now_; }

  struct At {
    TimePoint at;
    Incarnate who;
  };
  std::vector<At> left, joined, fenced, unfenced, excluded;
  std::map<Incarnate, TimePoint> max_lease_end;  // the furthest each life's lease ever reached
  std::vector<std::string> log;

  bool has_left(const std::string& n, std::uint64_t inc) const {
    return std::any_of(left.begin(), left.end(), [&](const At& a) {
      return a.who == Incarnate{NodeId(n), inc};
    });
  }
  std::optional<TimePoint> left_at(const std::string& n, std::uint64_t inc) const {
    for (const At& a : left) {
      if (a.who == Incarnate{NodeId(n), inc}) return a.at;
    }
    return std::nullopt;
  }

  // The safety property: a life declared gone at t had no lease (and had stopped its actives)
  // by t: its lease's furthest end plus the fence time is no later than t.
  std::optional<std::string> unsafe() const {
    for (const At& a : left) {
      auto end = max_lease_end.find(a.who);
      if (end == max_lease_end.end()) continue;
      if (end->second + profile_.fence > a.at) {
        return a.who.node.str() + "#" + std::to_string(a.who.incarnation) + " declared gone at " +
               std::to_string((a.at - TimePoint{}) / 1us) + " us while its lease lasts until " +
               std::to_string((end->second - TimePoint{}) / 1us) + " us";
      }
    }
    return std::nullopt;
  }

 private:
  struct Packet {
    TimePoint at;
    std::uint64_t seq;
    NodeId to;
    Message message;
    bool operator>(const Packet& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void send(const NodeId& from, const NodeId& to, Message m) {
    if (crashed_.count(from) || cuts_.count({from, to})) return;
    if (loss_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < loss_) return;
    const auto span = (lat_hi_ - lat_lo_).count();
    const Duration lat =
        lat_lo_ + Duration(span > 0 ? static_cast<Duration::rep>(rng_() % span) : 0);
    queue_.push({now_ + lat, seq_++, to, std::move(m)});
  }

  void drain() {
    for (bool more = true; more;) {
      more = false;
      for (const auto& [n, node] : members_) {
        const Incarnate self = node->member().self();
        for (Effect& e : node->take_effects()) {
          more = true;
          log.push_back(n.str() + ": " + describe(e));
          if (auto* s = std::get_if<Send>(&e)) {
            send(n, s->to, std::move(s->message));
          } else if (std::holds_alternative<Fence>(e)) {
            fenced.push_back({now_, self});
          } else if (std::holds_alternative<Unfence>(e)) {
            unfenced.push_back({now_, self});
          } else if (auto* x = std::get_if<Excluded>(&e)) {
            excluded.push_back({now_, x->was});
          } else if (auto* l = std::get_if<NodeLeft>(&e)) {
            left.push_back({now_, l->who});
          } else if (auto* j = std::get_if<NodeJoined>(&e)) {
            joined.push_back({now_, j->who});
          }
        }
        if (auto end = node->member().lease_end()) {
          TimePoint& best = max_lease_end[node->member().self()];
          best = std::max(best, *end);
        }
      }
    }
  }

  Profile profile_;
  NodeId director_;
  std::vector<NodeId> nodes_;
  std::set<NodeId> voters_;
  std::map<NodeId, std::unique_ptr<Node>> members_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::set<NodeId> crashed_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
  double loss_ = 0;
  Duration lat_lo_ = 100us, lat_hi_ = 300us;
  std::mt19937_64 rng_{1};
  TimePoint now_{};
};

Cluster three() { return Cluster({"n1", "n2", "n3"}, {"n1", "n2", "n3"}, fast_profile()); }

TEST(MembershipProfileTest, TheTwoProfilesHoldAndBrokenOnesAreRefusedWithTheReason) {
  EXPECT_TRUE(check(fast_profile()));
  EXPECT_TRUE(check(default_profile()));
  Profile p = fast_profile();
  p.lease = 30ms;
  auto r = check(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("must fit in the timeout"), std::string::npos);
  p = fast_profile();
  p.timeout = 15ms;
  r = check(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("two heartbeat intervals"), std::string::npos);
  p = fast_profile();
  p.lease = 10ms;
  EXPECT_FALSE(check(p));
  EXPECT_FALSE(profile_named("slow"));
  EXPECT_EQ(profile_named("fast")->timeout, 30ms);
}

TEST(MembershipTest, NodesJoinAndHoldTheirLeases) {
  Cluster c = three();
  c.run_for(100ms);
  ASSERT_EQ(c.joined.size(), 3u);
  for (const auto* n : {"n1", "n2", "n3"}) {
    EXPECT_TRUE(c.member(n).leased(c.now())) << n;
    EXPECT_EQ(c.member(n).view().members.size(), 3u) << n;
  }
  EXPECT_TRUE(c.fenced.empty());
  c.run_for(10s);  // steady: no suspicion, no fence, no view change
  EXPECT_TRUE(c.fenced.empty());
  EXPECT_TRUE(c.left.empty());
  EXPECT_EQ(c.member("n2").view().id.number, c.member("n1").view().id.number);
}

TEST(MembershipTest, ACrashedNodeIsDeclaredGoneWithinItsDetectionTime) {
  Cluster c = three();
  c.run_for(1s);
  const TimePoint crash = c.now();
  c.crash("n3");
  c.run_for(1s);
  auto at = c.left_at("n3", 1);
  ASSERT_TRUE(at);
  // Detection (30 ms plus up to one heartbeat interval before it) and a round of view
  // acknowledgements: no waiting beyond, as the profile's lease fits in the timeout.
  EXPECT_LE(*at - crash, 30ms + 10ms + 2ms);
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
  EXPECT_TRUE(c.member("n1").leased(c.now()));  // two of three voters: a majority
  EXPECT_TRUE(c.member("n2").leased(c.now()));
}

TEST(MembershipTest, AnIsolatedNodeFencesItselfBeforeItIsDeclaredGone) {
  Cluster c = three();
  c.run_for(1s);
  c.isolate("n3");
  c.run_for(1s);
  ASSERT_TRUE(c.has_left("n3", 1));
  ASSERT_FALSE(c.fenced.empty());
  EXPECT_EQ(c.fenced.front().who, (Incarnate{NodeId("n3"), 1}));
  EXPECT_LE(c.fenced.front().at + fast_profile().fence, *c.left_at("n3", 1));
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
  EXPECT_FALSE(c.member("n3").leased(c.now()));
}

TEST(MembershipTest, ANodeTheDirectorCannotHearIsFencedThoughOthersStillHearIt) {
  // Only n3 -> n1 is cut: n2 hears n3 and n3 hears everyone. The director takes n3 out; n2
  // stops acknowledging it, so n3's lease runs out before the director declares it gone.
  Cluster c = three();
  c.run_for(1s);
  c.cut("n3", "n1");
  c.run_for(1s);
  ASSERT_TRUE(c.has_left("n3", 1));
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
  ASSERT_FALSE(c.fenced.empty());
  EXPECT_EQ(c.fenced.front().who.node, NodeId("n3"));
}

// hears_majority is both ways: hearing the voters is not enough, they must hear this node too
// (its heartbeats tell each peer whether it is heard). Else a node nobody hears could depose
// the director.
TEST(MembershipTest, ANodeHearsAMajorityOnlyWhenTheVotersHearItToo) {
  Cluster c = three();
  c.run_for(1s);
  for (const auto* n : {"n1", "n2", "n3"}) EXPECT_TRUE(c.member(n).hears_majority()) << n;
  c.cut("n3", "n1");
  c.cut("n3", "n2");
  c.run_for(100ms);
  EXPECT_TRUE(c.member("n3").hears(NodeId("n1")));
  EXPECT_TRUE(c.member("n3").hears(NodeId("n2")));
  EXPECT_FALSE(c.member("n3").hears_majority());  // it hears both, neither hears it
  EXPECT_TRUE(c.member("n1").hears_majority());   // n1 and n2 hear each other
  c.heal();
  c.cut("n3", "n1");  // n2 hears n3 and n3 hears n2: two of three
  c.run_for(100ms);
  EXPECT_TRUE(c.member("n3").hears_majority());
}

TEST(MembershipTest, AHealedNodeRejoinsAsANewIncarnationAndGetsItsLeaseBack) {
  Cluster c = three();
  c.run_for(1s);
  c.isolate("n3");
  c.run_for(1s);
  ASSERT_TRUE(c.has_left("n3", 1));
  c.heal();
  c.run_for(1s);
  ASSERT_EQ(c.excluded.size(), 1u);
  EXPECT_EQ(c.member("n3").self().incarnation, 2u);
  EXPECT_TRUE(std::any_of(c.joined.begin(), c.joined.end(), [](const auto& j) {
    return j.who == Incarnate{NodeId("n3"), 2};
  }));
  EXPECT_TRUE(c.member("n3").leased(c.now()));
  EXPECT_TRUE(c.member("n3").view().contains({NodeId("n3"), 2}));
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
}

// What amfctl status shows of each node, as one member sees it: down before it is heard,
// member once in the view, suspected while it cannot hear it but the view keeps it, down once
// the view takes it out, joining when it comes back as its next life, and member again. A
// node cut off sees itself fenced.
TEST(MembershipTest, EachMemberSaysHowItSeesEveryNodeAndWhichLife) {
  Cluster c = three();
  EXPECT_EQ(c.member("n2").standing_of(NodeId("n3")), "down");
  EXPECT_EQ(c.member("n2").incarnation_of(NodeId("n3")), 0u);
  EXPECT_EQ(c.member("n2").standing_of(NodeId("n2")), "joining");
  c.run_for(1s);
  for (const auto* n : {"n1", "n2", "n3"}) {
    EXPECT_EQ(c.member("n2").standing_of(NodeId(n)), "member") << n;
    EXPECT_EQ(c.member("n2").incarnation_of(NodeId(n)), 1u) << n;
  }

  // Each change of how n2 sees n3, 1 ms apart.
  const auto watch = [&](Duration how_long) {
    std::vector<std::string> seen;
    for (Duration t{}; t < how_long; t += 1ms) {
      c.run_for(1ms);
      const std::string now(c.member("n2").standing_of(NodeId("n3")));
      if (seen.empty() || seen.back() != now) seen.push_back(now);
    }
    return seen;
  };
  c.cut("n3", "n2");  // the director (n1) still hears n3
  EXPECT_EQ(watch(1s), (std::vector<std::string>{"member", "suspected"}));
  EXPECT_EQ(c.member("n1").standing_of(NodeId("n3")), "member");
  c.heal();
  EXPECT_EQ(watch(1s), (std::vector<std::string>{"member"}));

  c.isolate("n3");
  EXPECT_EQ(watch(1s).back(), "down");
  EXPECT_EQ(c.member("n3").standing_of(NodeId("n3")), "fenced");
  c.heal();
  EXPECT_EQ(watch(1s), (std::vector<std::string>{"joining", "member"}));
  EXPECT_EQ(c.member("n2").incarnation_of(NodeId("n3")), 2u);
  EXPECT_EQ(c.member("n3").standing_of(NodeId("n3")), "member");
  EXPECT_EQ(c.member("n3").incarnation_of(NodeId("n3")), 2u);
}

TEST(MembershipTest, ADirectorCutOffFromTheMajorityDeclaresNobodyGoneAndFencesItself) {
  Cluster c = three();
  c.run_for(1s);
  c.isolate("n1");
  c.run_for(2s);
  EXPECT_TRUE(c.left.empty());
  EXPECT_FALSE(c.member("n1").leased(c.now()));
  // The majority side keeps its leases while it has no director (headless).
  EXPECT_TRUE(c.member("n2").leased(c.now()));
  EXPECT_TRUE(c.member("n3").leased(c.now()));
}

TEST(MembershipTest, TwoVotersWithoutAWitnessLoseTheirLeasesWithEitherOne) {
  Cluster two({"n1", "n2"}, {"n1", "n2"}, fast_profile());
  two.run_for(1s);
  two.crash("n2");
  two.run_for(1s);
  EXPECT_FALSE(two.member("n1").leased(two.now()));  // one of two is no majority
  EXPECT_TRUE(two.left.empty());

  Cluster witnessed({"n1", "n2", "witness"}, {"n1", "n2", "witness"}, fast_profile());
  witnessed.run_for(1s);
  witnessed.crash("n2");
  witnessed.run_for(1s);
  EXPECT_TRUE(witnessed.member("n1").leased(witnessed.now()));
  EXPECT_TRUE(witnessed.has_left("n2", 1));
  EXPECT_FALSE(witnessed.unsafe()) << *witnessed.unsafe();
}

TEST(MembershipTest, ANodeThatIsNotAVoterHeartbeatsToTheVotersOnly) {
  Cluster c({"n1", "n2", "n3", "p1"}, {"n1", "n2", "n3"}, fast_profile());
  c.run_for(1s);
  EXPECT_TRUE(c.member("p1").leased(c.now()));
  for (const std::string& line : c.log) {
    if (line.rfind("p1: send to ", 0) == 0 && line.find("Heartbeat ") != std::string::npos) {
      EXPECT_EQ(line.find("send to p1"), std::string::npos) << line;
    }
  }
  c.crash("p1");
  c.run_for(1s);
  EXPECT_TRUE(c.has_left("p1", 1));
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
}

TEST(MembershipTest, ANewDirectorStartingFromAnOldViewNeverGivesALifeTakenOutItsLeaseBack) {
  // n1 takes n3#1 out and declares it gone; then n2 becomes director from a view that still
  // lists n3#1, and n3 is reachable again. The voters that installed n1's view keep n3#1 out
  // (they never acknowledge it again) and tell n2, which takes it out too: n3 rejoins as #2.
  Cluster c = three();
  c.run_for(1s);
  c.isolate("n3");
  c.run_for(1s);
  ASSERT_TRUE(c.has_left("n3", 1));
  const Incarnate n3_1{NodeId("n3"), 1};
  const TimePoint lease_before = c.max_lease_end.at(n3_1);
  View stale{{1, 1}, {{NodeId("n1"), 1}, {NodeId("n2"), 1}, n3_1}, {}};
  c.heal();
  c.new_director("n2", 2, stale);
  c.run_for(1s);
  EXPECT_EQ(c.max_lease_end.at(n3_1), lease_before)
      << "n3#1 got a lease after it was declared gone";
  EXPECT_EQ(c.member("n3").self().incarnation, 2u);
  EXPECT_TRUE(c.member("n2").view().contains({NodeId("n3"), 2}));
  EXPECT_TRUE(c.member("n2").view().taken_out(n3_1));
  EXPECT_TRUE(c.member("n3").leased(c.now()));
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
}

TEST(MembershipTest, ADirectorWhoseOwnLifeWasTakenOutStepsDownAndItsNodeRejoins) {
  // n3 is cut off and taken out by n1; still unaware, it wins an election and, healed, hears
  // from the voters that its life is over.
  Cluster c = three();
  c.run_for(1s);
  c.isolate("n3");
  c.run_for(1s);
  ASSERT_TRUE(c.has_left("n3", 1));
  const Incarnate n3_1{NodeId("n3"), 1};
  ASSERT_EQ(c.member("n3").self(), n3_1);
  const TimePoint lease_before = c.max_lease_end.at(n3_1);
  c.heal();
  c.new_director("n3", 2, c.member("n3").view());
  c.run_for(1s);
  EXPECT_FALSE(c.has_director());
  EXPECT_TRUE(std::any_of(c.log.begin(), c.log.end(), [](const std::string& line) {
    return line.find("n3: step down (the director's own life n3#1 is taken out") == 0;
  }));
  EXPECT_EQ(c.member("n3").self().incarnation, 2u);
  EXPECT_EQ(c.max_lease_end.at(n3_1), lease_before);
  // Elected again, as its new life, it takes everyone in.
  c.new_director("n3", 3, c.member("n3").view());
  c.run_for(1s);
  ASSERT_TRUE(c.has_director());
  for (const auto* n : {"n1", "n2", "n3"}) {
    EXPECT_TRUE(c.member(n).leased(c.now())) << n;
    EXPECT_TRUE(c.member("n3").view().contains(c.member(n).self())) << n;
  }
  EXPECT_FALSE(c.unsafe()) << *c.unsafe();
}

TEST(MembershipTest, AnOldOrReplayedHeartbeatDoesNotKeepANodeAlive) {
  const std::vector<NodeId> nodes{NodeId("n1"), NodeId("n2")};
  const std::set<NodeId> voters{NodeId("n1"), NodeId("n2")};
  TimePoint t{};
  Member n1({NodeId("n1"), 1}, nodes, voters, fast_profile(), t);
  const Heartbeat recorded{{NodeId("n2"), 1}, 5, {}};
  n1.receive(recorded, t);
  ASSERT_FALSE(n1.suspects(NodeId("n2")));
  // n2 dies; someone keeps sending what it recorded, and an older one.
  for (int i = 1; i <= 4; ++i) {
    t += 10ms;
    n1.receive(recorded, t);
    n1.receive(Heartbeat{{NodeId("n2"), 1}, 3, {}}, t);
    n1.tick(t);
  }
  EXPECT_TRUE(n1.suspects(NodeId("n2")));
  // A newer heartbeat of it, or of a newer life, is news.
  n1.receive(Heartbeat{{NodeId("n2"), 1}, 6, {}}, t);
  EXPECT_FALSE(n1.suspects(NodeId("n2")));
}

TEST(MembershipTest, AViewThatListsALifeItAlsoTakesOutKeepsItOut) {
  const std::vector<NodeId> nodes{NodeId("n1"), NodeId("n2")};
  TimePoint t{};
  Member n1({NodeId("n1"), 1}, nodes, {NodeId("n1"), NodeId("n2")}, fast_profile(), t);
  const Incarnate n2{NodeId("n2"), 1};
  n1.receive(ViewInstall{NodeId("n2"), View{{1, 1}, {{NodeId("n1"), 1}, n2}, {n2}}, ""}, t);
  EXPECT_FALSE(n1.view().contains(n2));
  EXPECT_TRUE(n1.view().taken_out(n2));
  // So its heartbeats are not acknowledged.
  n1.take_effects();
  n1.receive(Heartbeat{n2, 1, {}}, t);
  for (const Effect& e : n1.take_effects()) {
    const auto* s = std::get_if<Send>(&e);
    EXPECT_FALSE(s && std::holds_alternative<HeartbeatAck>(s->message)) << describe(e);
  }
}

TEST(MembershipTest, AFreshProcessAcknowledgesNothingUntilItsPredecessorsLeasesAreOver) {
  // An earlier process of n2 may have acknowledged lives it cannot report now.
  const std::vector<NodeId> nodes{NodeId("n1"), NodeId("n2")};
  TimePoint t{};
  Member n2({NodeId("n2"), 2}, nodes, {NodeId("n1"), NodeId("n2")}, fast_profile(), t);
  const Incarnate n1{NodeId("n1"), 1};
  const View view{{1, 1}, {n1, {NodeId("n2"), 2}}, {}};
  const auto acknowledges = [&](TimePoint at, std::uint64_t seq) {
    n2.take_effects();
    n2.receive(ViewInstall{NodeId("n1"), view, ""}, at);
    n2.receive(Heartbeat{n1, seq, {1, 1}}, at);
    int acks = 0;
    for (const Effect& e : n2.take_effects()) {
      if (const auto* s = std::get_if<Send>(&e)) {
        acks += std::holds_alternative<HeartbeatAck>(s->message) ||
                std::holds_alternative<ViewAck>(s->message);
      }
    }
    return acks;
  };
  // lease / (1 - drift) + fence, scaled by 1 + drift: about 25 ms for the fast profile.
  EXPECT_EQ(acknowledges(t + 20ms, 1), 0);
  EXPECT_EQ(acknowledges(t + 26ms, 2), 2);
}

TEST(MembershipTest, TheWaitCoversANewerLifeOfTheGoneNodeAndStrangersAreIgnored) {
  const std::vector<NodeId> nodes{NodeId("n1"), NodeId("n2"), NodeId("n3")};
  const std::set<NodeId> voters{nodes.begin(), nodes.end()};
  TimePoint t{};
  Member own({NodeId("n1"), 1}, nodes, voters, fast_profile(), t);
  const Incarnate n1{NodeId("n1"), 1}, n2{NodeId("n2"), 1}, n3{NodeId("n3"), 1};
  ViewKeeper keeper(own, 1, View{{0, 0}, {n1, n2, n3}, {}}, t);
  t += 100ms;
  keeper.suspected(n3, "not heard", t);
  const ViewId taken = keeper.view().id;
  keeper.take_effects();
  // A stranger's answer changes nothing, nor does a stranger named as out. n2 acknowledged
  // n3's next life (which this director never heard) a moment ago.
  keeper.receive(ViewAck{{NodeId("zz"), 1}, taken, {}, {}}, t);
  keeper.receive(ViewAck{n2, taken, {{NodeId("zz"), 1}}, {{{NodeId("n3"), 2}, 1ms}}}, t);
  EXPECT_FALSE(keeper.view().taken_out({NodeId("zz"), 1}));
  keeper.receive(ViewAck{n1, taken, {}, {}}, t);
  const auto left = [&] {
    for (const Effect& e : keeper.take_effects()) {
      if (std::holds_alternative<NodeLeft>(e)) return true;
    }
    return false;
  };
  keeper.tick(t + 10ms);
  EXPECT_FALSE(left()) << "declared gone while n3#2's lease may last";
  keeper.tick(t + 30ms);
  EXPECT_TRUE(left());
}

TEST(MembershipTest, AViewOfAnOlderEpochIsIgnored) {
  Cluster c = three();
  c.run_for(1s);
  Node& n2 = c.node("n2");
  const ViewId before = n2.member().view().id;
  ASSERT_EQ(before.epoch, 1u);
  n2.receive(ViewInstall{NodeId("n1"), View{{0, 99}, {}}, "a deposed director"}, c.now());
  EXPECT_EQ(n2.member().view().id, before);
  for (const Effect& e : n2.take_effects()) {
    EXPECT_FALSE(std::holds_alternative<Excluded>(e)) << describe(e);
    EXPECT_FALSE(std::holds_alternative<Fence>(e)) << describe(e);
  }
}

// Random cuts (both ways, one way, isolated nodes), loss and latency, many seeds: a life is
// never declared gone while its lease may last, and every life that is cut off long enough is.
TEST(MembershipPropertyTest, NoLifeIsDeclaredGoneWhileItsLeaseMayLast) {
  const std::vector<std::string> names{"n1", "n2", "n3", "n4", "n5"};
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    Cluster c(names, {"n1", "n2", "n3", "n4", "n5"}, fast_profile());
    c.seed(seed);
    std::mt19937_64 rng(seed);
    c.set_loss(seed % 3 == 0 ? 0.05 : 0.0);
    c.set_latency(50us, seed % 2 ? 3ms : 500us);
    c.run_for(500ms);
    std::uint64_t epoch = 1;
    for (int round = 0; round < 20; ++round) {
      const auto& a = names[rng() % names.size()];
      const auto& b = names[rng() % names.size()];
      switch (rng() % 6) {
        case 0:
          c.isolate(a);
          break;
        case 1:
          c.cut(a, b);
          break;
        case 2:
          c.cut(b, a);
          break;
        case 3: {
          // A new director, from its node's view or from a view that knows nothing.
          const auto& d = names[rng() % names.size()];
          c.new_director(d, ++epoch, rng() % 2 ? c.member(d).view() : View{});
          break;
        }
        default:
          c.heal();
          break;
      }
      c.run_for(std::chrono::milliseconds(5 + rng() % 200));
      ASSERT_FALSE(c.unsafe()) << "seed " << seed << ": " << *c.unsafe();
    }
    c.heal();
    c.set_loss(0);
    c.run_for(1s);
    // A director whose own life an earlier one took out stepped down: elect another, until one
    // stays.
    for (int i = 0; i < 5 && !c.has_director(); ++i) {
      c.new_director("n1", ++epoch, c.member("n1").view());
      c.run_for(1s);
    }
    ASSERT_TRUE(c.has_director()) << "seed " << seed;
    c.run_for(1s);
    ASSERT_FALSE(c.unsafe()) << "seed " << seed << ": " << *c.unsafe();
    // Healed: everyone is back in the view, leased.
    for (const auto& n : names) {
      EXPECT_TRUE(c.member(n).leased(c.now())) << "seed " << seed << " " << n;
      EXPECT_TRUE(c.member(names[0]).view().contains(c.member(n).self()))
          << "seed " << seed << " " << n;
    }
  }
}

}  // namespace
}  // namespace amf::membership
