// Preferred in-service SUs below the SG's SU count: spares stay uninstantiated until needed.
#include <gtest/gtest.h>

#include "amf/director/director.h"
#include "tests/unit/support/command_ids.h"
#include "tests/unit/support/test_config.h"

namespace amf::director {
namespace {

using namespace protocol;  // the messages the director takes and sends

using model::HaState;
using model::OperState;
using model::PresenceState;
using test::si;
using test::su;

const TimePoint kT0{};

SuStateReport report(int i, PresenceState p, OperState o = OperState::kEnabled) {
  return {su(i), p, o, "test"};
}

class SparesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = std::const_pointer_cast<model::ClusterConfig>(
        test::make_cluster({.redundancy = model::RedundancyModel::kTwoN, .sus = 4}));
    config->applications[0].service_groups[0].preferred_inservice_sus = 2;
    auto created = Director::create(config);
    ASSERT_TRUE(created) << created.error().message();
    director_.emplace(std::move(*created));
  }
  std::vector<ToNode> handle(const Event& e) {
    director_->handle(e, kT0);
    std::vector<ToNode> out;
    auto effects = director_->take_effects();
    ids_.record(effects);
    for (auto& effect : effects) {
      if (auto* c = std::get_if<ToNode>(&effect)) out.push_back(*c);
    }
    return out;
  }
  template <class T>
  static std::vector<SuId> sus_of(const std::vector<ToNode>& cmds) {
    std::vector<SuId> out;
    for (const auto& c : cmds) {
      if (auto* t = std::get_if<T>(&c.command)) out.push_back(t->su);
    }
    return out;
  }
  // su-1 active, su-2 standby, su-3 and su-4 spares.
  void steady() {
    handle(NodeUp{NodeId("node-1")});
    handle(report(1, PresenceState::kInstantiated));
    handle(ids_.done(su(1), si(1), HaState::kActive));
    handle(report(2, PresenceState::kInstantiated));
    handle(ids_.done(su(2), si(1), HaState::kStandby));
  }
  std::optional<Director> director_;
  test::CommandIds ids_;
};

TEST_F(SparesTest, OnlyThePreferredNumberIsInstantiatedByRank) {
  const auto cmds = handle(NodeUp{NodeId("node-1")});
  EXPECT_EQ(sus_of<InstantiateSu>(cmds), (std::vector<SuId>{su(1), su(2)}));
}

TEST_F(SparesTest, ALostSuBringsTheNextSpareIn) {
  steady();
  const auto cmds = handle(report(2, PresenceState::kUninstantiated, OperState::kDisabled));
  EXPECT_EQ(sus_of<InstantiateSu>(cmds), (std::vector<SuId>{su(3)}));
  // Told once: a second report before su-3's own changes nothing.
  EXPECT_TRUE(sus_of<InstantiateSu>(handle(report(4, PresenceState::kUninstantiated))).empty());
}

TEST_F(SparesTest, AnInstantiationFailureBringsTheNextSpareIn) {
  handle(NodeUp{NodeId("node-1")});
  handle(report(1, PresenceState::kInstantiated));
  const auto cmds = handle(report(2, PresenceState::kInstantiationFailed, OperState::kDisabled));
  EXPECT_EQ(sus_of<InstantiateSu>(cmds), (std::vector<SuId>{su(3)}));
}

TEST_F(SparesTest, LockingBringsASpareInAndUnlockingGivesTheSurplusBack) {
  steady();
  auto cmds = handle(AdminRequest{1, AdminOp::kLock, director::EntityKind::kSu, su(2).str()});
  EXPECT_EQ(sus_of<InstantiateSu>(cmds), (std::vector<SuId>{su(3)}));
  handle(ids_.removed(su(2), si(1)));
  handle(report(3, PresenceState::kInstantiated));
  handle(ids_.done(su(3), si(1), HaState::kStandby));
  // su-2 is back in service: three SUs where two are preferred; su-2 holds nothing.
  cmds = handle(AdminRequest{2, AdminOp::kUnlock, director::EntityKind::kSu, su(2).str()});
  EXPECT_EQ(sus_of<TerminateSu>(cmds), (std::vector<SuId>{su(2)}));
  EXPECT_TRUE(sus_of<InstantiateSu>(cmds).empty());
}

// Found by the swarm: an SU told to terminate as a surplus was given an assignment before it
// reported itself down, and its component took it back at a later restart (two actives).
TEST_F(SparesTest, ASurplusSuBeingTerminatedIsGivenNothing) {
  steady();
  handle(AdminRequest{1, AdminOp::kLock, director::EntityKind::kSu, su(2).str()});
  handle(ids_.removed(su(2), si(1)));
  handle(report(3, PresenceState::kInstantiated));
  handle(ids_.done(su(3), si(1), HaState::kStandby));
  auto cmds = handle(AdminRequest{2, AdminOp::kUnlock, director::EntityKind::kSu, su(2).str()});
  ASSERT_EQ(sus_of<TerminateSu>(cmds), (std::vector<SuId>{su(2)}));
  // Before su-2 reports, the standby su-3 fails: the new standby must not be su-2.
  cmds = handle(report(3, PresenceState::kUninstantiated, OperState::kDisabled));
  for (const auto& c : cmds) {
    if (auto* a = std::get_if<AssignHa>(&c.command)) {
      EXPECT_NE(a->su, su(2));
    }
  }
  EXPECT_EQ(sus_of<InstantiateSu>(cmds), (std::vector<SuId>{su(4)}));  // a spare instead
}

TEST_F(SparesTest, ASpareOnANodeThatIsDownIsSkipped) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kTwoN,
                          .sus = 3,
                          .nodes = {"node-1", "node-2", "node-3"}}));
  config->applications[0].service_groups[0].preferred_inservice_sus = 2;
  director_.emplace(std::move(*Director::create(config)));
  EXPECT_EQ(sus_of<InstantiateSu>(handle(NodeUp{NodeId("node-1")})), std::vector<SuId>{su(1)});
  // node-2 is not up: the next able SU is su-3.
  EXPECT_EQ(sus_of<InstantiateSu>(handle(NodeUp{NodeId("node-3")})), std::vector<SuId>{su(3)});
  // node-2 comes: two are already on their way, su-2 stays a spare.
  EXPECT_TRUE(sus_of<InstantiateSu>(handle(NodeUp{NodeId("node-2")})).empty());
}

}  // namespace
}  // namespace amf::director
