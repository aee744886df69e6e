// Director election over a compare-and-swap record: a model of etcd's store (one record, a
// revision that grows with every write) and several nodes' Election cores.
#include "amf/membership/election.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

namespace amf::membership {
namespace {

using namespace std::chrono_literals;

class Store {
 public:
  std::optional<Record> record;
  std::int64_t revision = 0;
  bool down = false;

  // Carries out one node's effects against the store, as the host does with etcd.
  void serve(Election& e, TimePoint now, std::vector<std::string>* log = nullptr) {
    for (int round = 0; round < 100; ++round) {
      auto effects = e.take_effects();
      if (effects.empty()) return;
      for (const ElectionEffect& effect : effects) {
        if (log) log->push_back(describe(effect));
        if (down && (std::holds_alternative<ReadRecord>(effect) ||
                     std::holds_alternative<SwapRecord>(effect))) {
          e.store_failed("connection refused", now);
        } else if (std::holds_alternative<ReadRecord>(effect)) {
          e.record(record, now);
        } else if (const auto* swap = std::get_if<SwapRecord>(&effect)) {
          const std::int64_t current = record ? record->revision : 0;
          if (swap->expected == current) {
            record = swap->next;
            record->revision = ++revision;
            e.swapped(*record, now);
          } else {
            e.record(record, now);
          }
        }
      }
    }
    FAIL() << "the election never settled";
  }
};

ElectionSettings settings(const std::string& node, bool candidate) {
  return {NodeId(node), candidate, 30ms, 90ms};
}

// Runs `e` from one deadline to the next, the store serving it, `rounds` times or until `stop`.
void step(
    Election& e, Store& store, TimePoint& now, int rounds,
    const std::function<bool()>& stop = [] { return false; }) {
  for (int i = 0; i < rounds && !stop(); ++i) {
    now = *e.next_deadline();
    e.tick(now);
    store.serve(e, now);
  }
}

bool has(const std::vector<std::string>& log, const std::string& text) {
  return std::any_of(log.begin(), log.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

TEST(ElectionTest, TheFirstCandidateCreatesEpochOneAndTheOthersFollowIt) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now), n2(settings("n2", true), now),
      p1(settings("p1", false), now);
  std::vector<std::string> log1, log2, logp;
  store.serve(n1, now, &log1);
  store.serve(n2, now, &log2);
  store.serve(p1, now, &logp);
  EXPECT_TRUE(n1.leads());
  EXPECT_TRUE(has(log1, "won the director's role, epoch 1"));
  EXPECT_FALSE(n2.leads());
  EXPECT_TRUE(has(log2, "director is n1, epoch 1"));
  EXPECT_FALSE(has(log2, "swap"));
  EXPECT_TRUE(has(logp, "director is n1, epoch 1"));
}

// A follower of a director it does not suspect reads the record every `follow`; the director,
// and a follower once it suspects the director, every `check`.
TEST(ElectionTest, AFollowerReadsSeldomUntilItSuspectsTheDirectorAndTheDirectorReadsOften) {
  Store store;
  TimePoint now{};
  ElectionSettings slow = settings("n2", true);
  slow.follow = 240ms;
  ElectionSettings director = settings("n1", true);
  director.follow = 240ms;
  Election n1(director, now), n2(slow, now);
  store.serve(n1, now);
  store.serve(n2, now);
  ASSERT_TRUE(n1.leads());
  n1.membership({.leased = true}, now);
  n2.membership({.leased = false, .hears_majority = false}, now);
  // Over 960 ms: n1 reads every 30 ms, n2 every 240 ms.
  auto reads = [&](Election& e, Duration over) {
    int count = 0;
    std::vector<std::string> log;
    for (const TimePoint until = now + over; now < until;) {
      now += 10ms;
      n1.tick(now);
      n2.tick(now);
      log.clear();
      store.serve(e, now, &log);
      count += static_cast<int>(std::count(log.begin(), log.end(), "read the director record"));
      store.serve(&e == &n1 ? n2 : n1, now);
    }
    return count;
  };
  EXPECT_EQ(reads(n2, 960ms), 4);
  EXPECT_GE(reads(n1, 960ms), 30);
  // n2 comes to suspect n1 (cut off: it may not depose it): from its next read on, every 30 ms.
  now += 10ms;
  n2.membership({.leased = false, .hears_majority = false, .suspects_director = true}, now);
  EXPECT_GE(reads(n2, 300ms), 9);
  EXPECT_FALSE(n2.leads());
}

TEST(ElectionTest, ALeasedCandidateReplacesASuspectedDirectorWhichLearnsItLost) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now), n2(settings("n2", true), now);
  store.serve(n1, now);
  store.serve(n2, now);
  n1.membership({.leased = true, .suspects_director = false}, now);
  store.serve(n1, now);
  // n2 cannot hear n1 and holds its lease.
  n2.membership({.leased = true, .suspects_director = true}, now);
  std::vector<std::string> log2;
  store.serve(n2, now, &log2);
  EXPECT_TRUE(n2.leads());
  EXPECT_TRUE(has(log2, "swap the director record from revision 1 to n2 epoch 2"));
  // n1 still thinks it leads until its next read.
  std::vector<std::string> log1;
  now += 30ms;
  n1.tick(now);
  store.serve(n1, now, &log1);
  EXPECT_FALSE(n1.leads());
  EXPECT_TRUE(has(log1, "lost the director's role (n2 holds epoch 2)")) << log1.back();
}

TEST(ElectionTest, ACandidateCutOffFromTheMajorityNeverDeposes) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now), n2(settings("n2", true), now);
  store.serve(n1, now);
  store.serve(n2, now);
  // Suspects n1, but holds no lease and hears no majority of the voters.
  n2.membership({.leased = false, .hears_majority = false, .suspects_director = true}, now);
  std::vector<std::string> log;
  for (int i = 0; i < 10; ++i) {
    now += 30ms;
    n2.tick(now);
    store.serve(n2, now, &log);
  }
  EXPECT_FALSE(n2.leads());
  EXPECT_FALSE(has(log, "swap"));
  EXPECT_EQ(store.record->director, NodeId("n1"));
}

// Every life restarted (or the director that would have taken them in is gone): no view lists
// them, so none holds a lease, and only a director could give them one. A candidate that hears
// a majority of the voters deposes the suspected director all the same.
TEST(ElectionTest, ACandidateThatHearsAMajorityButHoldsNoLeaseDeposesASuspectedDirector) {
  Store store;
  store.record = Record{NodeId("n1"), 3, 0};
  store.record->revision = store.revision = 5;
  TimePoint now{};
  Election n2(settings("n2", true), now);
  store.serve(n2, now);
  ASSERT_FALSE(n2.leads());
  n2.membership({.leased = false, .hears_majority = true, .suspects_director = true}, now);
  std::vector<std::string> log;
  store.serve(n2, now, &log);
  EXPECT_TRUE(n2.leads());
  EXPECT_TRUE(has(log, "swap the director record from revision 5 to n2 epoch 4"));
}

// The director lost the role because etcd was out of reach for its grace; its life goes on,
// heard by the rest, so nobody suspects it. Once etcd answers it takes the next epoch, lease or
// not (found by the membership swarm: no view listed the lives then up, so none held a lease,
// and no director came again).
TEST(ElectionTest, ADirectorThatLostTheRoleToAnUnreachableStoreTakesItAgainWhenItHearsAMajority) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now);
  store.serve(n1, now);
  ASSERT_TRUE(n1.leads());
  store.down = true;
  step(n1, store, now, 4, [&] { return !n1.leads(); });
  ASSERT_FALSE(n1.leads());
  store.down = false;
  // Alone, it does not stand again (a director cut off from the majority must not)...
  n1.membership({.leased = false, .hears_majority = false, .suspects_director = false}, now);
  step(n1, store, now, 3);
  EXPECT_FALSE(n1.leads());
  EXPECT_EQ(store.record->epoch, 1u);
  // ...but hearing a majority, it does.
  n1.membership({.leased = false, .hears_majority = true, .suspects_director = false}, now);
  std::vector<std::string> log;
  store.serve(n1, now, &log);
  EXPECT_TRUE(n1.leads());
  EXPECT_TRUE(has(log, "won the director's role, epoch 2"));
}

// `follow` is for following another node's director only. Without one to follow (the record is
// gone, names this node, or the role was just lost to an unreachable store), the next read is
// a `check` away: only this node may be able to take the role (found in review: a director
// that lost its role to etcd retried every 250 ms, and the cluster had no director meanwhile).
TEST(ElectionTest, ANodeWithNoOtherDirectorToFollowReadsEveryCheck) {
  auto slow = [](const std::string& node, bool candidate) {
    ElectionSettings s = settings(node, candidate);
    s.follow = 240ms;
    return s;
  };
  TimePoint now{};
  {  // the record it followed is gone; a node that may not stand waits for a new one
    Store store;
    store.record = Record{NodeId("n1"), 2, 4};
    store.revision = 4;
    Election p1(slow("p1", false), now);
    store.serve(p1, now);
    EXPECT_EQ(*p1.next_deadline() - now, 240ms);  // following n1
    store.record.reset();
    step(p1, store, now, 1);
    EXPECT_EQ(*p1.next_deadline() - now, 30ms);
  }
  {  // the record names this node, whose present life swaps for it, but etcd fails the swap
    Election n1(slow("n1", true), now);
    (void)n1.take_effects();  // its first read
    n1.record(Record{NodeId("n1"), 2, 4}, now);
    auto effects = n1.take_effects();
    ASSERT_TRUE(std::any_of(effects.begin(), effects.end(), [](const ElectionEffect& e) {
      return std::holds_alternative<SwapRecord>(e);
    }));
    n1.store_failed("connection refused", now);
    EXPECT_EQ(*n1.next_deadline() - now, 30ms);
  }
  {  // the director lost its role to an unreachable store, and etcd still fails it
    Store store;
    Election n1(slow("n1", true), now);
    store.serve(n1, now);
    ASSERT_TRUE(n1.leads());
    n1.membership({.leased = true}, now);
    store.down = true;
    step(n1, store, now, 100, [&] { return !n1.leads(); });
    ASSERT_FALSE(n1.leads());
    step(n1, store, now, 1);
    EXPECT_EQ(*n1.next_deadline() - now, 30ms);
  }
}

TEST(ElectionTest, OfTwoRacingCandidatesOneWinsAndTheOtherFollowsWithoutSwappingAgain) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now), n2(settings("n2", true), now),
      n3(settings("n3", true), now);
  store.serve(n1, now);
  store.serve(n2, now);
  store.serve(n3, now);
  // Both suspect n1 at once: both swaps are out before either is answered.
  n2.membership({.leased = true, .suspects_director = true}, now);
  n3.membership({.leased = true, .suspects_director = true}, now);
  auto e2 = n2.take_effects();
  auto e3 = n3.take_effects();
  ASSERT_EQ(e2.size(), 1u);
  ASSERT_EQ(e3.size(), 1u);
  const auto s2 = std::get<SwapRecord>(e2[0]);
  const auto s3 = std::get<SwapRecord>(e3[0]);
  EXPECT_EQ(s2.expected, s3.expected);
  // The store takes n2's first; n3's compares against a revision that is gone.
  store.record = s2.next;
  store.record->revision = ++store.revision;
  n2.swapped(*store.record, now);
  n3.record(store.record, now);
  std::vector<std::string> log3;
  store.serve(n3, now, &log3);
  EXPECT_TRUE(n2.leads());
  EXPECT_FALSE(n3.leads());
  EXPECT_FALSE(has(log3, "swap")) << "n3's suspicion was of n1, not of n2";
  EXPECT_EQ(n3.known()->director, NodeId("n2"));
}

TEST(ElectionTest, ADirectorThatCannotReadTheRecordForItsGraceStopsActing) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now);
  store.serve(n1, now);
  ASSERT_TRUE(n1.leads());
  store.down = true;
  std::vector<std::string> log;
  for (int i = 0; i < 4 && n1.leads(); ++i) {
    now = *n1.next_deadline();
    n1.tick(now);
    store.serve(n1, now, &log);
  }
  EXPECT_FALSE(n1.leads());
  EXPECT_TRUE(has(log,
                  "lost the director's role (could not read the director record for 90 ms: "
                  "connection refused)"))
      << log.back();
}

TEST(ElectionTest, ADirectorLosesTheRoleWithItsLeaseButNotBeforeItFirstHadOne) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now);
  store.serve(n1, now);
  // Just elected: no view yet, so no lease.
  n1.membership({.leased = false, .suspects_director = false}, now);
  EXPECT_TRUE(n1.leads());
  n1.membership({.leased = true, .suspects_director = false}, now);
  n1.membership({.leased = false, .suspects_director = false}, now);
  std::vector<std::string> log;
  store.serve(n1, now, &log);
  EXPECT_FALSE(n1.leads());
  EXPECT_TRUE(has(log, "cut off from the majority"));
}

TEST(ElectionTest, ADirectorWhoseKeeperSteppedDownResignsAndItsNewLifeTakesTheNextEpoch) {
  Store store;
  TimePoint now{};
  Election n1(settings("n1", true), now);
  store.serve(n1, now);
  ASSERT_TRUE(n1.leads());
  n1.resign("the director's own life n1#1 is taken out", now);
  std::vector<std::string> log;
  store.serve(n1, now, &log);
  EXPECT_TRUE(has(log, "lost the director's role (the director's own life n1#1 is taken out)"));
  EXPECT_TRUE(has(log, "won the director's role, epoch 2"));
  EXPECT_TRUE(n1.leads());
}

TEST(ElectionTest, ARestartedDirectorNodeTakesANewEpochAndEpochsAreNeverReused) {
  Store store;
  store.record = Record{NodeId("n1"), 3, 0};
  store.record->revision = store.revision = 7;
  TimePoint now{};
  Election n1(settings("n1", true), now);  // a new life of n1 finds its old record
  std::vector<std::string> log;
  store.serve(n1, now, &log);
  EXPECT_TRUE(n1.leads());
  EXPECT_TRUE(has(log, "won the director's role, epoch 4"));
  // Someone deletes the record: n1 stops acting, and the record it makes again is epoch 5,
  // not 1.
  store.record.reset();
  now += 30ms;
  n1.tick(now);
  log.clear();
  store.serve(n1, now, &log);
  EXPECT_TRUE(has(log, "lost the director's role (the director record is gone from etcd)"));
  EXPECT_TRUE(has(log, "won the director's role, epoch 5")) << log.back();
  EXPECT_EQ(store.record->epoch, 5u);
}

}  // namespace
}  // namespace amf::membership
