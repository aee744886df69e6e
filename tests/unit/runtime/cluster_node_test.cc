// The cluster node core: membership, the director election and the takeover's rules, on an
// in-memory network and a model of etcd's store (a revision per put, compare-and-swap on a
// key's mod revision). One clock for all.
#include "amf/runtime/cluster_node.h"

#include <gtest/gtest.h>

#include <queue>

#include "amf/runtime/cluster_store.h"

namespace amf::runtime {
namespace {

using namespace std::chrono_literals;

// etcd, as the core sees it: keys with mod revisions, one revision counter for the store.
class Store {
 public:
  store::Answer get(const std::string& key) const {
    if (down) return store::Failed{"no etcd member answered"};
    auto it = keys_.find(key);
    if (it == keys_.end()) return store::Got{};
    return store::Got{it->second};
  }
  store::Answer put(const std::string& key, std::int64_t expected, const std::string& value) {
    if (down) return store::Failed{"no etcd member answered"};
    auto it = keys_.find(key);
    const std::int64_t now = it == keys_.end() ? 0 : it->second.mod_revision;
    if (now != expected) {
      store::Swapped no{false, revision_, std::nullopt};
      if (it != keys_.end()) no.current = it->second;
      return no;
    }
    keys_[key] = store::Value{value, ++revision_};
    if (auto lost = lose_answers.find(key); lost != lose_answers.end() && lost->second > 0) {
      --lost->second;
      return store::Failed{"no answer: timed out"};  // the write stands; its answer is lost
    }
    return store::Swapped{true, revision_, std::nullopt};
  }
  void set(const std::string& key, const std::string& value) {
    keys_[key] = store::Value{value, ++revision_};
  }
  void erase(const std::string& key) { keys_.erase(key); }
  std::optional<std::string> value(const std::string& key) const {
    auto it = keys_.find(key);
    return it == keys_.end() ? std::nullopt : std::optional(it->second.value);
  }
  bool down = false;
  std::map<std::string, int> lose_answers;  // so many writes to the key land unanswered

 private:
  std::map<std::string, store::Value> keys_;
  std::int64_t revision_ = 0;
};

// Nodes n1..nN, all controllers and voters, fast profile; datagrams take 100 µs, store answers
// 2 ms (a swap in a three-member etcd with fsync).
class Harness {
 public:
  explicit Harness(int count) {
    for (int i = 1; i <= count; ++i) names_.push_back(NodeId("n" + std::to_string(i)));
    for (const NodeId& n : names_) boot(n.str());
  }

  void boot(const std::string& name) {
    const NodeId n(name);
    const std::uint64_t life = ++lives_[n];
    ClusterNodeSettings s{
        {n, life}, names_, {names_.begin(), names_.end()}, true, membership::fast_profile(),
        "test"};
    nodes_[n] = std::make_unique<ClusterNode>(s, now_);
    crashed_.erase(n);
    drain(n);
  }
  void crash(const std::string& name) {
    crashed_.insert(NodeId(name));
    nodes_.erase(NodeId(name));
  }
  void isolate(const std::string& name) { isolated_.insert(NodeId(name)); }
  // Datagrams from `from` to `to` are lost (one way; the store is still reached).
  void cut(const std::string& from, const std::string& to) {
    cuts_.insert({NodeId(from), NodeId(to)});
  }

  void run_for(Duration d) {
    const TimePoint end = now_ + d;
    for (int steps = 0; steps < 10'000'000; ++steps) {
      TimePoint next = end;
      for (const auto& [n, c] : nodes_) {
        if (auto t = c->next_deadline()) next = std::min(next, *t);
      }
      if (!queue_.empty()) next = std::min(next, queue_.top().at);
      if (next >= end && (queue_.empty() || queue_.top().at > end)) {
        now_ = end;
        return;
      }
      now_ = std::max(now_, next);
      while (!queue_.empty() && queue_.top().at <= now_) {
        Pending p = queue_.top();
        queue_.pop();
        auto it = nodes_.find(p.to);
        if (it == nodes_.end()) continue;
        p.deliver(*it->second, now_);
        drain(p.to);
      }
      for (auto& [n, c] : nodes_) {
        if (auto t = c->next_deadline(); t && *t <= now_) {
          c->tick(now_);
          drain(n);
        }
      }
    }
    FAIL() << "time never advanced";
  }

  // The node that has taken over as the director, if one has.
  std::optional<std::string> director() const {
    for (const auto& [n, c] : nodes_) {
      if (c->leads() && took_over_.contains(n)) return n.str();
    }
    return std::nullopt;
  }

  ClusterNode& node(const std::string& n) { return *nodes_.at(NodeId(n)); }
  void admin_state(const std::string& n, director::AdminStateChanged change) {
    node(n).admin_state(change, now_);
    drain(NodeId(n));
  }
  TimePoint now() const { return now_; }

  struct Seen {
    TimePoint at;
    ClusterEffect effect;
  };
  // What each node's core asked its host for, but sends and store requests.
  std::map<NodeId, std::vector<Seen>> seen;
  std::vector<const TakeOver*> takeovers(const std::string& n) const {
    std::vector<const TakeOver*> out;
    if (!seen.contains(NodeId(n))) return out;
    for (const Seen& s : seen.at(NodeId(n))) {
      if (const auto* t = std::get_if<TakeOver>(&s.effect)) out.push_back(t);
    }
    return out;
  }
  template <class T>
  std::vector<std::pair<TimePoint, T>> all(const std::string& n) const {
    std::vector<std::pair<TimePoint, T>> out;
    if (!seen.contains(NodeId(n))) return out;
    for (const Seen& s : seen.at(NodeId(n))) {
      if (const auto* t = std::get_if<T>(&s.effect)) out.emplace_back(s.at, *t);
    }
    return out;
  }
  // Where in the node's effects the first TakeOver and the first NodeDown of `down` are.
  std::optional<std::size_t> index_of_takeover(const std::string& n) const {
    const auto& list = seen.at(NodeId(n));
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (std::holds_alternative<TakeOver>(list[i].effect)) return i;
    }
    return std::nullopt;
  }
  std::optional<std::pair<std::size_t, TimePoint>> node_down(const std::string& n,
                                                             const std::string& down) const {
    const auto& list = seen.at(NodeId(n));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto* to = std::get_if<ToDirector>(&list[i].effect);
      const auto* d = to ? std::get_if<director::NodeDown>(&to->event) : nullptr;
      if (d && d->node == NodeId(down)) return std::pair(i, list[i].at);
    }
    return std::nullopt;
  }
  std::vector<std::string> downs(const std::string& n) const {
    std::vector<std::string> out;
    for (const auto& [at, e] : all<ToDirector>(n)) {
      if (const auto* d = std::get_if<director::NodeDown>(&e.event)) out.push_back(d->node.str());
    }
    return out;
  }

  Store store;
  std::set<std::string> took_over_names() const {
    std::set<std::string> out;
    for (const NodeId& n : took_over_) out.insert(n.str());
    return out;
  }

 private:
  struct Pending {
    TimePoint at;
    std::uint64_t seq;
    NodeId to;
    std::function<void(ClusterNode&, TimePoint)> deliver;
  };
  struct Later {
    bool operator()(const Pending& a, const Pending& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  void later(Duration after, NodeId to, std::function<void(ClusterNode&, TimePoint)> deliver) {
    queue_.push(Pending{now_ + after, seq_++, std::move(to), std::move(deliver)});
  }

  void drain(const NodeId& n) {
    auto it = nodes_.find(n);
    if (it == nodes_.end()) return;
    for (ClusterEffect& e : it->second->take_effects()) {
      if (auto* send = std::get_if<membership::Send>(&e)) {
        if (isolated_.contains(n) || isolated_.contains(send->to) ||
            cuts_.contains({n, send->to})) {
          continue;
        }
        later(100us, send->to,
              [m = send->message](ClusterNode& c, TimePoint at) { c.receive(m, at); });
      } else if (auto* get = std::get_if<store::Get>(&e)) {
        if (isolated_.contains(n)) {
          later(250ms, n, [id = get->id](ClusterNode& c, TimePoint at) {
            c.answer(id, store::Failed{"timed out"}, at);
          });
          continue;
        }
        // The store answers with what it holds when the request arrives, 1 ms out.
        later(1ms, n, [this, n, id = get->id, key = get->key](ClusterNode&, TimePoint) {
          auto answer = store.get(key);
          later(1ms, n, [id, answer](ClusterNode& c, TimePoint at) { c.answer(id, answer, at); });
        });
      } else if (auto* put = std::get_if<store::Put>(&e)) {
        if (isolated_.contains(n)) {
          later(250ms, n, [id = put->id](ClusterNode& c, TimePoint at) {
            c.answer(id, store::Failed{"timed out"}, at);
          });
          continue;
        }
        later(1ms, n, [this, n, p = *put](ClusterNode&, TimePoint) {
          auto answer = store.put(p.key, p.expected, p.value);
          later(1ms, n,
                [id = p.id, answer](ClusterNode& c, TimePoint at) { c.answer(id, answer, at); });
        });
      } else {
        if (std::holds_alternative<TakeOver>(e)) took_over_.insert(n);
        if (std::holds_alternative<GiveUp>(e)) took_over_.erase(n);
        seen[n].push_back(Seen{now_, e});
      }
    }
  }
  std::vector<NodeId> names_;
  std::map<NodeId, std::uint64_t> lives_;
  std::map<NodeId, std::unique_ptr<ClusterNode>> nodes_;
  std::set<NodeId> crashed_, isolated_, took_over_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
  std::priority_queue<Pending, std::vector<Pending>, Later> queue_;
  std::uint64_t seq_ = 0;
  TimePoint now_{};
};

director::AdminStateChanged lock(const std::string& su, model::AdminState state) {
  return director::AdminStateChanged{director::EntityKind::kSu, su, state};
}

TEST(ClusterNodeTest, OneDirectorTakesOverWithEveryNodeOnlyAfterALeaseAndTheOthersFollowIt) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director()) << "nobody took over";
  const std::string d = *h.director();
  EXPECT_EQ(h.took_over_names(), std::set<std::string>{d});
  const auto takeovers = h.takeovers(d);
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0]->epoch, 1u);
  EXPECT_EQ(takeovers[0]->up.size(), 3u);
  // Listening (2 timeouts), then a lease's length after a majority installed the first view.
  const membership::Profile p = membership::fast_profile();
  EXPECT_GE(h.all<TakeOver>(d)[0].first - TimePoint{}, 2 * p.timeout + p.lease + p.fence);
  for (const char* n : {"n1", "n2", "n3"}) {
    ASSERT_TRUE(h.node(n).director()) << n;
    EXPECT_EQ(h.node(n).director()->director, NodeId(d)) << n;
    EXPECT_TRUE(h.node(n).accepts_commands()) << n;
    EXPECT_TRUE(h.all<EndLife>(n).empty()) << n;
  }
  const auto record = h.store.value(director_key("test"));
  ASSERT_TRUE(record);
  auto decoded = decode_record(*record, 1, director_key("test"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->director, NodeId(d));
}

TEST(ClusterNodeTest,
     ASurvivorOfTheDirectorsNodeTakesOverAndOnlyThenTellsItsDirectorTheNodeIsDown) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string first = *h.director();
  h.crash(first);
  const TimePoint crashed = h.now();
  h.run_for(1s);
  ASSERT_TRUE(h.director()) << "no survivor took over";
  const std::string second = *h.director();
  ASSERT_NE(second, first);
  const auto takeovers = h.all<TakeOver>(second);
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0].second.epoch, 2u);
  // The crashed life is awaited, then declared gone: after the takeover, never before.
  EXPECT_EQ(h.downs(second), std::vector<std::string>{first});
  const auto down = h.node_down(second, first);
  ASSERT_TRUE(down);
  EXPECT_GT(down->first, *h.index_of_takeover(second));
  EXPECT_GT(down->second, crashed);
  for (const auto& n : {"n1", "n2", "n3"}) {
    if (n == first) continue;
    EXPECT_EQ(h.node(n).director()->epoch, 2u) << n;
    EXPECT_TRUE(h.all<EndLife>(n).empty()) << n;
  }

  // The crashed node comes back as its next life: the director has it up again.
  h.boot(first);
  h.run_for(500ms);
  bool up_again = false;
  for (const auto& [at, e] : h.all<ToDirector>(second)) {
    if (const auto* up = std::get_if<director::NodeUp>(&e.event)) {
      up_again |= up->node == NodeId(first) && up->incarnation == 2;
    }
  }
  EXPECT_TRUE(up_again);
  EXPECT_EQ(h.node(first).director()->director, NodeId(second));
}

// Every node restarts (a power cut), and the director's does not come back. The other two are new
// lives that no view lists, so neither holds a lease (leases come from a director's views); each
// hears a majority of the voters, and that is enough to depose the director the record names.
TEST(ClusterNodeTest, AfterTheWholeClusterRestartsWithoutTheDirectorsNodeTheOthersElectOne) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string gone = *h.director();
  std::vector<std::string> back;
  for (const char* n : {"n1", "n2", "n3"}) {
    h.crash(n);
    if (n != gone) back.emplace_back(n);
  }
  for (const std::string& n : back) h.boot(n);
  h.run_for(1s);
  ASSERT_TRUE(h.director()) << "nobody deposed " << gone;
  const std::string d = *h.director();
  EXPECT_NE(d, gone);
  ASSERT_EQ(h.takeovers(d).size(), 1u);
  EXPECT_EQ(h.takeovers(d)[0]->epoch, 2u);
  for (const std::string& n : back) {
    EXPECT_EQ(h.node(n).director()->director, NodeId(d)) << n;
    EXPECT_TRUE(h.node(n).accepts_commands()) << n;
  }
}

// A node nobody hears must not depose the director (found in review of the rule above): cuts
// from the director to n and from n to the third node leave n hearing the third node and
// itself, a majority one way only, and never hearing the director. It loses its lease and
// restarts; its new life holds none and must not stand, or its views (of itself and the third
// node) would end the director's life and nobody could direct while the cuts last.
TEST(ClusterNodeTest, ANodeThatHearsAMajorityThatCannotHearItDeposesNobody) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string d = *h.director();
  const std::string n = d == "n1" ? "n2" : "n1";
  const std::string third = d != "n3" && n != "n3" ? "n3" : "n2";
  h.cut(d, n);
  h.cut(n, third);
  h.run_for(300ms);
  ASSERT_EQ(h.all<EndLife>(n).size(), 1u) << "no majority acknowledges " << n;
  h.crash(n);
  h.boot(n);  // its next life, as systemd restarts amfd
  h.run_for(2s);
  EXPECT_FALSE(h.node(n).leads());
  EXPECT_TRUE(h.takeovers(n).empty());
  ASSERT_TRUE(h.director());
  EXPECT_EQ(*h.director(), d);
  EXPECT_EQ(h.node(d).director()->epoch, 1u);
  for (const std::string& m : {d, third}) {
    EXPECT_TRUE(h.all<EndLife>(m).empty()) << m;
    EXPECT_TRUE(h.node(m).accepts_commands()) << m;
  }
}

TEST(ClusterNodeTest, AdminStatesAreWrittenThroughAndTheNextDirectorStartsFromThem) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string first = *h.director();
  h.admin_state(first, lock("app/su-1", model::AdminState::kLocked));
  h.admin_state(first, lock("app/su-2", model::AdminState::kShuttingDown));
  h.run_for(50ms);
  auto kept = parse_admin_states(h.store.value(admin_states_key("test")).value_or(""));
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_EQ(kept->size(), 2u);

  h.crash(first);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const auto takeovers = h.takeovers(*h.director());
  ASSERT_EQ(takeovers.size(), 1u);
  const director::AdminStates& admin = takeovers[0]->admin;
  ASSERT_EQ(admin.size(), 2u);
  EXPECT_EQ(admin.at({director::EntityKind::kSu, "app/su-1"}), model::AdminState::kLocked);
  // A shutdown the director before did not live to finish is finished.
  EXPECT_EQ(admin.at({director::EntityKind::kSu, "app/su-2"}), model::AdminState::kLocked);
}

TEST(ClusterNodeTest, AdminStatesThatAreNotAStoreKeepEveryDirectorIdleUntilMendedAndAreKept) {
  Harness h(3);
  h.store.set(admin_states_key("test"), "not a store");
  h.run_for(3s);
  EXPECT_FALSE(h.director());
  int reports = 0;
  for (const char* n : {"n1", "n2", "n3"}) {
    for (const auto& [at, r] : h.all<Report>(n)) {
      reports += r.cause.find("does not act yet") != std::string::npos ? 1 : 0;
    }
  }
  EXPECT_GE(reports, 2);  // reported, and read again each second
  EXPECT_EQ(h.store.value(admin_states_key("test")), "not a store");

  h.store.erase(admin_states_key("test"));
  h.run_for(2s);
  EXPECT_TRUE(h.director());
}

TEST(ClusterNodeTest, AnAdminWriteTheStoreCouldNotTakeIsTriedAgainUntilItLands) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string d = *h.director();
  h.store.down = true;
  h.admin_state(d, lock("app/su-1", model::AdminState::kLocked));
  h.run_for(350ms);  // tried every 100 ms, failing
  h.admin_state(d, lock("app/su-2", model::AdminState::kLockedInstantiation));
  EXPECT_FALSE(h.store.value(admin_states_key("test")).value_or("").find("app/su-1") !=
               std::string::npos);
  h.store.down = false;
  h.run_for(250ms);
  auto kept = parse_admin_states(h.store.value(admin_states_key("test")).value_or(""));
  ASSERT_TRUE(kept) << kept.error().message();
  EXPECT_EQ(kept->size(), 2u);
  EXPECT_TRUE(h.all<GiveUp>(d).empty());
  EXPECT_TRUE(h.node(d).leads());
}

// A director writes back the admin states it read before it acts. When that write lands but its
// answer is lost (etcd slower than the client's patience), it is said so, not taken for another
// director's write, and the director reads and writes again until one is answered.
TEST(ClusterNodeTest, AClaimOfTheAdminStatesWhoseAnswerIsLostIsMadeAgainAndTheDirectorActs) {
  Harness h(3);
  h.store.set(
      admin_states_key("test"),
      admin_states_json({{{director::EntityKind::kSu, "app/su-1"}, model::AdminState::kLocked}}));
  h.store.lose_answers[admin_states_key("test")] = 3;
  h.run_for(2s);
  ASSERT_TRUE(h.director());
  const std::string d = *h.director();
  EXPECT_EQ(h.store.lose_answers[admin_states_key("test")], 0);
  int said = 0;
  for (const auto& [at, l] : h.all<Log>(d)) {
    said += l.text.find("cannot write the admin states back to etcd (no answer: timed out)") !=
                    std::string::npos
                ? 1
                : 0;
    EXPECT_EQ(l.text.find("changed in etcd"), std::string::npos) << l.text;
  }
  EXPECT_EQ(said, 3);
  const auto takeovers = h.takeovers(d);
  ASSERT_EQ(takeovers.size(), 1u);
  EXPECT_EQ(takeovers[0]->admin.size(), 1u);
}

TEST(ClusterNodeTest, ADirectorWhoseAdminWriteFindsAnotherDirectorsStandsDown) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string d = *h.director();
  // A successor wrote (as a deposed director's view of it): the next swap fails.
  h.store.set(admin_states_key("test"), admin_states_json({}));
  h.admin_state(d, lock("app/su-1", model::AdminState::kLocked));
  h.run_for(20ms);
  ASSERT_FALSE(h.all<GiveUp>(d).empty()) << "the director kept acting";
  bool said = false;
  for (const auto& [at, r] : h.all<Report>(d)) {
    said |= r.cause.find("changed by another director") != std::string::npos;
  }
  EXPECT_TRUE(said);
  // The store kept the other director's states; this one's write never landed.
  EXPECT_EQ(h.store.value(admin_states_key("test")), admin_states_json({}));
}

TEST(ClusterNodeTest, AnIsolatedNodeEndsItsLifeOnceAndThenDoesNothing) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  std::string victim = *h.director() == "n3" ? "n2" : "n3";
  h.isolate(victim);
  h.run_for(200ms);
  const auto ends = h.all<EndLife>(victim);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_NE(ends[0].second.cause.find("fenced"), std::string::npos) << ends[0].second.cause;
  EXPECT_TRUE(h.node(victim).ended());
  EXPECT_FALSE(h.node(victim).accepts_commands());
  EXPECT_FALSE(h.node(victim).next_deadline());
  // The director declares it gone only after its lease is over.
  EXPECT_EQ(h.downs(*h.director()), std::vector<std::string>{victim});
  const auto down = h.node_down(*h.director(), victim);
  ASSERT_TRUE(down);
  EXPECT_GE(down->second, ends[0].first);
}

TEST(ClusterNodeTest, AnAnswerNobodyAskedForIsIgnored) {
  Harness h(1);
  h.run_for(500ms);
  ASSERT_TRUE(h.director());
  const auto before = h.seen[NodeId("n1")].size();
  h.node("n1").answer(999'999, store::Got{store::Value{"{}", 7}}, h.now());
  h.node("n1").answer(999'999, store::Failed{"late"}, h.now());
  EXPECT_TRUE(h.node("n1").take_effects().empty());
  EXPECT_EQ(h.seen[NodeId("n1")].size(), before);
  EXPECT_TRUE(h.node("n1").leads());
}

// What amfctl status says of etcd, from each node's own requests: reachable, then failing
// since the first failure with its reason, then reachable again once it answers.
TEST(ClusterNodeTest, EachNodeKnowsWhenTheStoreLastAnsweredAndSinceWhenItFails) {
  Harness h(3);
  EXPECT_FALSE(h.node("n2").store_health().last_answer);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  for (const char* n : {"n1", "n2", "n3"}) {
    const StoreHealth& health = h.node(n).store_health();
    ASSERT_TRUE(health.last_answer) << n;  // followers read the director's record too
    EXPECT_GT(*health.last_answer, h.now() - 1s) << n;
    EXPECT_FALSE(health.failing_since) << n;
  }
  h.store.down = true;
  const TimePoint down = h.now();
  h.run_for(2s);
  for (const char* n : {"n1", "n2", "n3"}) {
    const StoreHealth& health = h.node(n).store_health();
    ASSERT_TRUE(health.failing_since) << n;
    EXPECT_GE(*health.failing_since, down) << n;
    EXPECT_LT(*health.failing_since, down + 1s) << n;
    EXPECT_LE(*health.last_answer, down) << n;
    EXPECT_EQ(health.failure, "no etcd member answered") << n;
  }
  h.store.down = false;
  h.run_for(2s);
  for (const char* n : {"n1", "n2", "n3"}) {
    const StoreHealth& health = h.node(n).store_health();
    EXPECT_FALSE(health.failing_since) << n;
    EXPECT_GT(*health.last_answer, down + 2s) << n;
    EXPECT_EQ(health.failure, "") << n;
  }
}

TEST(ClusterNodeTest, WithoutTheStoreNoNewDirectorTakesOverAndTheNodesRunOnHeadless) {
  Harness h(3);
  h.run_for(1s);
  ASSERT_TRUE(h.director());
  const std::string first = *h.director();
  h.store.down = true;
  h.crash(first);
  h.run_for(2s);
  EXPECT_FALSE(h.director());
  for (const char* n : {"n1", "n2", "n3"}) {
    if (n == first) continue;
    EXPECT_TRUE(h.takeovers(n).empty()) << n;
    // The survivors still hold their leases (they acknowledge each other in the last view):
    // their components keep running and are restarted locally.
    EXPECT_TRUE(h.node(n).accepts_commands()) << n;
    EXPECT_TRUE(h.all<EndLife>(n).empty()) << n;
  }
  h.store.down = false;
  h.run_for(2s);
  ASSERT_TRUE(h.director());
  EXPECT_EQ(h.takeovers(*h.director()).at(0)->epoch, 2u);
}

}  // namespace
}  // namespace amf::runtime
