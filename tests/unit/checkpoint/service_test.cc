#include "amf/checkpoint/service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>

namespace amf::checkpoint {
namespace {

using std::chrono::milliseconds;

const NodeId kA("a"), kB("b");
const CheckpointName kName("counter-state");

Attributes attributes() {
  Attributes a;
  a.max_sections = 4;
  a.max_section_size = 32;
  return a;
}

OpenRequest create_for_writing() { return OpenRequest{kName, attributes(), true}; }

std::string error_of(const Result<void>& r) { return r ? "ok" : r.error().message(); }

// Two nodes' services, their messages carried in order.
struct Pair {
  Service a{kA};
  Service b{kB};
  std::deque<std::pair<NodeId, Message>> wire;  // (to, message)
  std::vector<Answer> answers;
  std::vector<std::string> reports;
  TimePoint now{};

  Service& at(const NodeId& n) { return n == kA ? a : b; }
  void collect() {
    for (Service* s : {&a, &b}) {
      for (ServiceEffect& e : s->take_effects()) {
        if (auto* send = std::get_if<Send>(&e)) wire.emplace_back(send->to, send->message);
        if (auto* answer = std::get_if<Answer>(&e)) answers.push_back(*answer);
        if (auto* r = std::get_if<Report>(&e))
          reports.push_back(r->checkpoint.str() + ": " + r->text);
      }
    }
  }
  void settle() {
    collect();
    for (int i = 0; i < 1000 && !wire.empty(); ++i) {
      auto [to, m] = wire.front();
      wire.pop_front();
      at(to).receive(m, now);
      collect();
    }
  }
  std::string answer(std::uint64_t request) const {
    for (const Answer& x : answers) {
      if (x.request == request) return error_of(x.result);
    }
    return "none";
  }
};

TEST(CheckpointServiceTest, OpensCreatingOrExistingAndSaysWhyNot) {
  Service s(kA);
  EXPECT_EQ(error_of(s.open(1, OpenRequest{kName, std::nullopt, false}, {kA}, std::nullopt, {})),
            "checkpoint 'counter-state' does not exist on node a (open it with attributes to "
            "create it)");
  Attributes bad = attributes();
  bad.max_sections = 0;
  EXPECT_EQ(error_of(s.open(1, OpenRequest{kName, bad, true}, {kA}, std::nullopt, {})),
            "checkpoint 'counter-state': max_sections is 0, must be 1 to 65536");
  EXPECT_EQ(error_of(s.open(1, OpenRequest{CheckpointName("a/b"), attributes(), true}, {kA},
                            std::nullopt, {})),
            "checkpoint name 'a/b' has a control character or '/'");
  ASSERT_EQ(error_of(s.open(1, create_for_writing(), {kA}, std::nullopt, {})), "ok");
  EXPECT_EQ(error_of(s.open(2, OpenRequest{kName, std::nullopt, false}, {kA}, std::nullopt, {})),
            "ok");
  Attributes other = attributes();
  other.mode = UpdateMode::kAsynchronous;
  EXPECT_EQ(error_of(s.open(3, OpenRequest{kName, other, true}, {kA}, std::nullopt, {})),
            "checkpoint 'counter-state' exists with other attributes (synchronous, 4 sections of "
            "at most 32 bytes, retention 0 ms; asked: asynchronous, 4 sections of at most 32 "
            "bytes, retention 0 ms)");
  EXPECT_EQ(error_of(s.close(3, kName)),
            "checkpoint 'counter-state' is not open by this component");
  EXPECT_EQ(error_of(s.close(2, kName)), "ok");
  EXPECT_EQ(s.status().at(0).opened_here, 1u);
}

TEST(CheckpointServiceTest, BoundsCheckpointsAndOpens) {
  ServiceSettings settings;
  settings.max_checkpoints = 1;
  settings.max_opens_per_client = 1;
  Service s(kA, settings);
  ASSERT_EQ(error_of(s.open(1, create_for_writing(), {kA}, std::nullopt, {})), "ok");
  EXPECT_EQ(error_of(s.open(1, OpenRequest{CheckpointName("x"), attributes(), true}, {kA},
                            std::nullopt, {})),
            "this component has 1 checkpoints open, its maximum");
  EXPECT_EQ(error_of(s.open(2, OpenRequest{CheckpointName("x"), attributes(), true}, {kA},
                            std::nullopt, {})),
            "node a holds 1 checkpoints, its maximum");
}

TEST(CheckpointServiceTest, OnlyAnActiveComponentThatOpenedItForWritingWrites) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA}, std::nullopt, p.now)), "ok");
  ASSERT_EQ(
      error_of(p.a.open(2, OpenRequest{kName, std::nullopt, false}, {kA}, std::nullopt, p.now)),
      "ok");
  p.a.write(1, 10, kName, CreateSection{SectionId("s"), "0"}, std::nullopt, p.now);
  p.a.write(2, 11, kName, CreateSection{SectionId("s"), "0"}, 5, p.now);
  p.a.write(3, 12, kName, CreateSection{SectionId("s"), "0"}, 5, p.now);
  p.a.write(1, 13, kName, CreateSection{SectionId("s"), std::string(33, 'x')}, 5, p.now);
  p.a.write(1, 14, kName, CreateSection{SectionId("s"), "0"}, 5, p.now);
  p.collect();
  EXPECT_EQ(p.answer(10),
            "checkpoint 'counter-state': only a component with an active assignment writes (this "
            "one holds none)");
  EXPECT_EQ(p.answer(11), "checkpoint 'counter-state' is open for reading only");
  EXPECT_EQ(p.answer(12), "checkpoint 'counter-state' is not open by this component");
  EXPECT_EQ(p.answer(13),
            "checkpoint 'counter-state': section 's' would be 33 bytes, over the checkpoint's "
            "max_section_size of 32 bytes");
  EXPECT_EQ(p.answer(14), "ok") << "one node: nobody else to wait for";
  EXPECT_EQ(*p.a.read(2, kName, SectionId("s"), 0, 100), "0");
  EXPECT_EQ(p.a.read(2, kName, SectionId("t"), 0, 100).error().message(),
            "checkpoint 'counter-state': there is no section 't'");
  EXPECT_EQ(p.a.sections(2, kName, p.now)->size(), 1u);
}

TEST(CheckpointServiceTest, ASecondNodeGetsAReplicaAndAWriteWaitsForIt) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.collect();
  EXPECT_TRUE(p.a.recovering(kName)) << "a's replica was in service nowhere: it asks b first";
  EXPECT_EQ(p.answer(1), "none") << "the write waits for the recovery";
  EXPECT_EQ(p.b.replica(kName), nullptr) << "a's probe is not delivered yet";
  p.settle();
  EXPECT_FALSE(p.a.recovering(kName));
  EXPECT_EQ(p.answer(1), "ok");
  ASSERT_NE(p.b.replica(kName), nullptr);
  EXPECT_TRUE(p.b.replica(kName)->in_service());
  p.a.write(1, 2, kName, OverwriteSection{SectionId("s"), "2"}, 5, p.now);
  p.collect();
  EXPECT_EQ(p.answer(2), "none") << "waits for b";
  p.settle();
  EXPECT_EQ(p.answer(2), "ok");
  EXPECT_EQ(p.b.replica(kName)->content().find(SectionId("s"))->data, "2");
}

// An active component that opens it for writing makes its node's replica active at once: the
// other node is synced without waiting for a write.
TEST(CheckpointServiceTest, AnActiveComponentsOpenSyncsTheOtherReplicasAtOnce) {
  Pair p;
  p.a.members({kA}, p.now);  // b's node is down
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.collect();
  EXPECT_EQ(p.answer(1), "ok") << "no other replica is up: nothing to ask or wait for";
  p.wire.clear();
  // b comes up; its standby becomes active (command 9) and opens it. b's replica, in service
  // nowhere, asks a where it stands, takes a's newer content, then syncs a from it.
  ASSERT_EQ(error_of(p.b.open(7, create_for_writing(), {kA, kB}, 9, p.now)), "ok");
  ASSERT_NE(p.b.replica(kName), nullptr);
  EXPECT_TRUE(p.b.replica(kName)->active());
  EXPECT_TRUE(p.b.recovering(kName));
  p.settle();
  EXPECT_FALSE(p.b.recovering(kName));
  EXPECT_TRUE(p.b.replica(kName)->peers().at(kA).in_service);
  EXPECT_FALSE(p.a.replica(kName)->active());
  EXPECT_EQ(p.b.replica(kName)->content().find(SectionId("s"))->data, "1");
  EXPECT_NE(std::find(p.reports.begin(), p.reports.end(),
                      "counter-state: recovered at 5:1, with the content of the replica on a"),
            p.reports.end());
  // A standby's open (no active assignment) activates nothing.
  ASSERT_EQ(error_of(p.a.open(2, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  EXPECT_FALSE(p.a.replica(kName)->active());
}

TEST(CheckpointServiceTest, TheStandbysNodeTakesOverWithANewerAssignment) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.settle();
  // The standby component on b opens it (it exists there now) and is made active by command 9.
  ASSERT_EQ(
      error_of(p.b.open(7, OpenRequest{kName, attributes(), true}, {kA, kB}, std::nullopt, p.now)),
      "ok");
  EXPECT_EQ(*p.b.read(7, kName, SectionId("s"), 0, 10), "1");
  p.b.write(7, 2, kName, OverwriteSection{SectionId("s"), "2"}, 9, p.now);
  p.settle();
  EXPECT_EQ(p.answer(2), "ok");
  EXPECT_TRUE(p.b.replica(kName)->active());
  EXPECT_FALSE(p.a.replica(kName)->active());
  EXPECT_EQ(p.a.replica(kName)->content().find(SectionId("s"))->data, "2");
  // The old active component, still running on a, may not write any more.
  p.a.write(1, 3, kName, OverwriteSection{SectionId("s"), "3"}, 5, p.now);
  p.collect();
  EXPECT_EQ(p.answer(3),
            "checkpoint 'counter-state': its active replica is on node b, in generation 9, newer "
            "than this component's assignment (5)");
}

TEST(CheckpointServiceTest, AWriteStopsWaitingForANodeThatIsGone) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  p.a.members({kA, kB}, p.now);
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.settle();
  p.a.write(1, 2, kName, OverwriteSection{SectionId("s"), "2"}, 5, p.now);
  p.collect();
  p.wire.clear();  // b's node dies with the write on its way
  EXPECT_EQ(p.answer(2), "none");
  p.a.members({kA}, p.now);
  p.collect();
  EXPECT_EQ(p.answer(2), "ok");
  EXPECT_NE(std::find(p.reports.begin(), p.reports.end(),
                      "counter-state: no longer waits for the replica on b: its node is gone"),
            p.reports.end());
}

TEST(CheckpointServiceTest, AGoneComponentGetsNoAnswerAndAnEndedLifeFailsWhatWaits) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  ASSERT_EQ(error_of(p.a.open(2, create_for_writing(), {kA, kB}, std::nullopt, p.now)), "ok");
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.settle();
  p.a.write(1, 2, kName, OverwriteSection{SectionId("s"), "2"}, 5, p.now);
  p.a.write(2, 3, kName, OverwriteSection{SectionId("s"), "3"}, 5, p.now);
  p.a.client_gone(1);
  p.a.life_ended();
  p.collect();
  EXPECT_EQ(p.answer(2), "none");
  EXPECT_EQ(p.answer(3),
            "this node's life ended (it fenced itself) before the write was done; it may or may "
            "not have reached the replicas");
  EXPECT_EQ(p.a.replica(kName), nullptr);
  EXPECT_TRUE(p.a.status().empty());
}

// Settings::durable: a synchronous write is answered once the store holds it, and a replica the
// store kept comes back not in service, at its position.
TEST(CheckpointServiceTest, AStoredReplicaAnswersOnceOnDiskAndComesBackAtItsPosition) {
  ServiceSettings settings;
  settings.replica.durable = true;
  Service a(kA, settings);
  ASSERT_EQ(error_of(a.open(1, create_for_writing(), {kA}, std::nullopt, {})), "ok");
  a.write(1, 10, kName, CreateSection{SectionId("s"), "7"}, 5, {});
  std::vector<Store> records;
  std::vector<Answer> answers;
  auto collect = [&](Service& s) {
    for (ServiceEffect& e : s.take_effects()) {
      if (auto* r = std::get_if<Store>(&e)) records.push_back(*r);
      if (auto* x = std::get_if<Answer>(&e)) answers.push_back(*x);
    }
  };
  collect(a);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].checkpoint, kName);
  EXPECT_EQ(records[0].record.at, (Position{5, 1}));
  // A new replica's first record is its whole content: it replaces whatever the store held
  // under the name before.
  EXPECT_FALSE(records[0].record.operation);
  ASSERT_EQ(records[0].record.image.size(), 1u);
  EXPECT_EQ(records[0].record.image[0].data, "7");
  EXPECT_TRUE(answers.empty()) << "not answered before the store holds it";
  a.stored(kName, records[0].record.record, {});
  collect(a);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(error_of(answers[0].result), "ok");

  // amfd starts again: the store gives the content back.
  Sections kept(attributes());
  ASSERT_TRUE(kept.restore(records[0].record.image, {}));
  Service again(kA, settings);
  ASSERT_EQ(error_of(again.restore(kName, kept, Position{5, 1})), "ok");
  EXPECT_EQ(error_of(again.restore(kName, kept, Position{5, 1})),
            "checkpoint 'counter-state' is held already");
  EXPECT_EQ(error_of(again.restore(CheckpointName("x/y"), kept, Position{5, 1})),
            "checkpoint name 'x/y' has a control character or '/'");
  ASSERT_EQ(again.status().size(), 1u);
  EXPECT_FALSE(again.status()[0].in_service);
  EXPECT_EQ(again.status()[0].position, (Position{5, 1}));
  // The component, active again in a newer assignment, reads what it wrote.
  ASSERT_EQ(error_of(again.open(2, create_for_writing(), {kA}, 9, {})), "ok");
  EXPECT_EQ(*again.read(2, kName, SectionId("s"), 0, 10), "7");
}

TEST(CheckpointServiceTest, ARecoveryGoesOnWithoutAReplicaThatDoesNotAnswerAndSaysSo) {
  Pair p;
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, 5, p.now)), "ok");
  p.a.write(1, 1, kName, CreateSection{SectionId("s"), "1"}, 5, p.now);
  p.collect();
  EXPECT_TRUE(p.a.recovering(kName));
  p.now += milliseconds(999);
  p.a.tick(p.now);
  p.collect();
  EXPECT_TRUE(p.a.recovering(kName)) << "b may answer for a second";
  p.now += milliseconds(1);
  p.a.tick(p.now);
  p.collect();
  EXPECT_FALSE(p.a.recovering(kName));
  EXPECT_EQ(p.answer(1), "ok");
  EXPECT_NE(std::find(p.reports.begin(), p.reports.end(),
                      "counter-state: recovered at 0:0, with its own content, the newest; the "
                      "replicas on b did not answer and may hold newer writes"),
            p.reports.end());
}

// With stores, a replica that recovers waits for the replica on a node that is down, which may
// hold newer writes (after a restart of the whole cluster), and takes its content once it is up.
TEST(CheckpointServiceTest, AStoredReplicaRecoveringWaitsForAReplicaWhoseNodeIsDown) {
  ServiceSettings settings;
  settings.replica.durable = true;
  Pair p;
  p.a = Service(kA, settings);
  p.b = Service(kB, settings);
  auto kept = [](const std::string& value) {
    Sections content(attributes());
    content.apply(CreateSection{SectionId("s"), value}, {});
    return content;
  };
  ASSERT_EQ(error_of(p.a.restore(kName, kept("1"), Position{5, 1})), "ok");
  ASSERT_EQ(error_of(p.b.restore(kName, kept("3"), Position{5, 3})), "ok");
  p.a.members({kA}, p.now);  // b's node is not up yet
  ASSERT_EQ(error_of(p.a.open(1, create_for_writing(), {kA, kB}, 9, p.now)), "ok");
  p.a.write(1, 1, kName, OverwriteSection{SectionId("s"), "x"}, 9, p.now);
  p.collect();
  EXPECT_TRUE(p.a.recovering(kName)) << "it must ask b, whose node is down";
  ASSERT_EQ(p.a.status().size(), 1u);
  EXPECT_TRUE(p.a.status()[0].recovering) << "amfctl ckpt shows it";
  p.wire.clear();  // lost: b is down
  p.now += milliseconds(500);
  p.a.tick(p.now);
  p.collect();
  p.wire.clear();
  EXPECT_TRUE(p.a.recovering(kName));
  p.a.members({kA}, p.now);  // a view change meanwhile does not end the wait
  EXPECT_TRUE(p.a.recovering(kName));
  // b is up: the next probe reaches it.
  p.a.members({kA, kB}, p.now);
  p.b.members({kA, kB}, p.now);
  p.now += milliseconds(100);
  p.a.tick(p.now);
  p.settle();
  EXPECT_FALSE(p.a.recovering(kName));
  EXPECT_FALSE(p.a.status()[0].recovering);
  EXPECT_EQ(p.a.replica(kName)->content().find(SectionId("s"))->data, "x")
      << "b's content, then the write that waited";
  EXPECT_NE(std::find(p.reports.begin(), p.reports.end(),
                      "counter-state: recovered at 5:3, with the content of the replica on b"),
            p.reports.end());
}

TEST(ServiceTest, ARenewedLifeIsGoneFromOneViewBeforeItIsBack) {
  const NodeId a("a"), b("b"), c("c");
  const std::map<NodeId, std::uint64_t> before{{a, 1}, {b, 1}};
  EXPECT_EQ(member_views(before, {{a, 1}, {b, 1}, {c, 1}}),
            (std::vector<std::set<NodeId>>{{a, b, c}}));
  EXPECT_EQ(member_views(before, {{a, 1}}), (std::vector<std::set<NodeId>>{{a}}));
  EXPECT_EQ(member_views(before, {{a, 1}, {b, 2}}), (std::vector<std::set<NodeId>>{{a}, {a, b}}))
      << "b restarted within one view: gone, then back";
}

}  // namespace
}  // namespace amf::checkpoint
