// Admin operations through the director and node director together (no I/O).
#include <gtest/gtest.h>

#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

namespace amf {
namespace {

using director::AdminOp;
using model::HaState;
using model::TransitionReason;
using test::comp;
using test::si;
using test::su;

models::AssignmentTable table(test::LocalCluster& c) {
  return c.director().assignments(SgId("app"));
}

director::Director::SuView view(test::LocalCluster& c, int i) {
  for (const auto& v : c.director().service_units()) {
    if (v.id == su(i)) return v;
  }
  return {};
}

// The HA states one component was given, in order, from `from` on.
std::vector<HaState> given(test::LocalCluster& c, int i, std::size_t from = 0) {
  std::vector<HaState> out;
  for (std::size_t k = from; k < c.csi_sets().size(); ++k) {
    if (c.csi_sets()[k].comp == comp(i)) out.push_back(c.csi_sets()[k].ha);
  }
  return out;
}

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() : c_(test::make_cluster({})) { c_.start(); }
  test::LocalCluster c_;
};

TEST_F(AdminTest, LockActiveSuQuiescesItThenPromotesStandbyThenRemovesIt) {
  const std::size_t mark = c_.csi_sets().size();
  auto r = c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(given(c_, 1, mark), (std::vector<HaState>{HaState::kQuiesced}));
  EXPECT_EQ(given(c_, 2, mark), (std::vector<HaState>{HaState::kActive}));
  // The quiesce came first, then the promotion, which says it is a switchover.
  EXPECT_EQ(c_.csi_sets()[mark].comp, comp(1));
  EXPECT_EQ(c_.csi_sets()[mark + 1].reason, TransitionReason::kSwitchover);
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(2), HaState::kActive}}));
  EXPECT_EQ(view(c_, 1).admin, model::AdminState::kLocked);
  EXPECT_EQ(view(c_, 1).readiness, model::ReadinessState::kOutOfService);
  EXPECT_TRUE(c_.alive(comp(1)));  // locked, still instantiated
}

TEST_F(AdminTest, UnlockGivesTheSuItsStandbyBack) {
  c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-1");
  auto r = c_.admin(AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r && r->ok);
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                                {si(1), su(1), HaState::kStandby}}));
}

TEST_F(AdminTest, ShutdownLetsTheActiveFinishWorkFirstAndEndsLocked) {
  const std::size_t mark = c_.csi_sets().size();
  auto r = c_.admin(AdminOp::kShutdown, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(given(c_, 1, mark), (std::vector<HaState>{HaState::kQuiescing}));
  EXPECT_EQ(view(c_, 1).admin, model::AdminState::kLocked);
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(2), HaState::kActive}}));
}

TEST_F(AdminTest, LockInstantiationTerminatesAndUnlockInstantiationBringsItBack) {
  c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-2");  // the standby: simply removed
  auto r = c_.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_FALSE(c_.alive(comp(2)));
  EXPECT_EQ(view(c_, 2).presence, model::PresenceState::kUninstantiated);
  r = c_.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_TRUE(c_.alive(comp(2)));
  EXPECT_EQ(view(c_, 2).admin, model::AdminState::kLocked);
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
}

TEST_F(AdminTest, SiSwapSwapsActiveAndStandbyThroughQuiesce) {
  const std::size_t mark = c_.csi_sets().size();
  auto r = c_.admin(AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_EQ(given(c_, 1, mark), (std::vector<HaState>{HaState::kQuiesced, HaState::kStandby}));
  EXPECT_EQ(given(c_, 2, mark), (std::vector<HaState>{HaState::kActive}));
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                                {si(1), su(1), HaState::kStandby}}));
}

TEST_F(AdminTest, RepairClearsALockedFaultySu) {
  c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-2");
  c_.kill(comp(2));  // a locked SU is not auto-repaired
  EXPECT_EQ(view(c_, 2).oper, model::OperState::kDisabled);
  auto r = c_.admin(AdminOp::kRepair, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_EQ(view(c_, 2).oper, model::OperState::kEnabled);
  EXPECT_TRUE(c_.alive(comp(2)));
}

// A locked SU whose component died: disabled, then locked for instantiation.
void disable_and_lock_instantiation(test::LocalCluster& c, int i) {
  const std::string id = su(i).str();
  ASSERT_TRUE(c.admin(AdminOp::kLock, director::EntityKind::kSu, id)->ok);
  c.kill(comp(i));  // a locked SU is not auto-repaired
  ASSERT_EQ(view(c, i).oper, model::OperState::kDisabled);
  auto r = c.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, id);
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  ASSERT_FALSE(c.alive(comp(i)));
}

TEST_F(AdminTest, RepairOfAnSuLockedForInstantiationEnablesItWithoutStartingIt) {
  ASSERT_NO_FATAL_FAILURE(disable_and_lock_instantiation(c_, 2));
  auto r = c_.admin(AdminOp::kRepair, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(view(c_, 2).oper, model::OperState::kEnabled);
  EXPECT_EQ(view(c_, 2).presence, model::PresenceState::kUninstantiated);
  EXPECT_FALSE(c_.alive(comp(2)));
  r = c_.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message, "lock-instantiation su app/su-2: it is already locked-instantiation");
  r = c_.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "");
  EXPECT_TRUE(c_.alive(comp(2)));
}

// An SU whose termination failed: unlock-instantiation names it, and once the operator has
// made sure its process is gone, a repair clears it and still starts nothing.
TEST_F(AdminTest, RepairOfAnSuLockedForInstantiationWhoseTerminationFailedStartsNothing) {
  ASSERT_TRUE(c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-2")->ok);
  c_.unkillable.insert(comp(2));
  c_.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-2");
  c_.advance(std::chrono::seconds(10));  // the termination times out, then the cleanup
  c_.advance(std::chrono::seconds(10));
  ASSERT_EQ(view(c_, 2).presence, model::PresenceState::kTerminationFailed);
  ASSERT_EQ(view(c_, 2).oper, model::OperState::kDisabled);
  ASSERT_TRUE(c_.alive(comp(2)));
  auto r = c_.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "not started: app/su-2 (termination-failed; repair it)");
  ASSERT_TRUE(c_.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-2")->ok);
  c_.unkillable.clear();
  c_.kill(comp(2));  // the operator vouches that it is gone
  r = c_.admin(AdminOp::kRepair, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_FALSE(c_.alive(comp(2)));
  EXPECT_EQ(view(c_, 2).oper, model::OperState::kEnabled);
  EXPECT_EQ(view(c_, 2).presence, model::PresenceState::kUninstantiated);
}

TEST_F(AdminTest, UnlockInstantiationOfADisabledSuIsAnsweredAtOnceSayingItAwaitsARepair) {
  ASSERT_NO_FATAL_FAILURE(disable_and_lock_instantiation(c_, 2));
  auto r = c_.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "not started: app/su-2 (disabled; repair it to start it)");
  EXPECT_EQ(view(c_, 2).admin, model::AdminState::kLocked);
  EXPECT_FALSE(c_.alive(comp(2)));
  // The SG is not left busy: the next operation on it is taken at once.
  r = c_.admin(AdminOp::kRepair, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_TRUE(c_.alive(comp(2)));
}

TEST(AdminLevelsTest, UnlockInstantiationUnderANodeLockedForInstantiationSaysWhatHoldsItBack) {
  test::LocalCluster c(test::make_cluster({.nodes = {"node-1", "node-2"}}));
  c.start();
  for (const auto& [kind, entity] : std::vector<std::pair<director::EntityKind, std::string>>{
           {director::EntityKind::kSu, "app/su-2"}, {director::EntityKind::kNode, "node-2"}}) {
    ASSERT_TRUE(c.admin(AdminOp::kLock, kind, entity)->ok) << entity;
    auto r = c.admin(AdminOp::kLockInstantiation, kind, entity);
    ASSERT_TRUE(r && r->ok) << entity << ": " << (r ? r->message : "no answer");
  }
  auto r = c.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "not started: app/su-2 (node node-2 is locked-instantiation)");
  EXPECT_FALSE(c.alive(comp(2)));
  r = c.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kNode, "node-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "");
  EXPECT_TRUE(c.alive(comp(2)));
  // The other way round: the node lets it start, its own admin state does not.
  for (const auto& [kind, entity] : std::vector<std::pair<director::EntityKind, std::string>>{
           {director::EntityKind::kSu, "app/su-2"}, {director::EntityKind::kNode, "node-2"}}) {
    r = c.admin(AdminOp::kLockInstantiation, kind, entity);
    ASSERT_TRUE(r && r->ok) << entity << ": " << (r ? r->message : "no answer");
  }
  r = c.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kNode, "node-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(r->message, "not started: app/su-2 (its own admin state is locked-instantiation)");
  EXPECT_FALSE(c.alive(comp(2)));
}

struct Refusal {
  AdminOp op;
  director::EntityKind kind;
  std::string entity, message;
};

// Every request is answered at once with a refusal saying exactly `message`.
void expect_refused(test::LocalCluster& c, const std::vector<Refusal>& cases) {
  for (const auto& k : cases) {
    auto r = c.admin(k.op, k.kind, k.entity);
    ASSERT_TRUE(r) << k.message;
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->message, k.message);
  }
}

// ---- the event log tells the story of an operation ----

// "from -> to (cause)" of every HA-state event for `su`, and "entity: from -> to" of every
// admin event, from `mark` on.
std::vector<std::string> story(const test::LocalCluster& c, std::size_t mark, const SuId& su) {
  std::vector<std::string> out;
  const auto& notes = c.notifications();
  for (std::size_t i = mark; i < notes.size(); ++i) {
    const model::Notification& n = notes[i];
    if (n.kind == model::NotificationKind::kHaState && n.entity == su.str()) {
      out.push_back(n.related + " " + n.from + " -> " + n.to + " (" + n.cause + ")");
    } else if (n.kind == model::NotificationKind::kAdmin) {
      out.push_back(n.entity + ": " + n.from + " -> " + n.to);
    }
  }
  return out;
}

TEST_F(AdminTest, HaChangesNameTheOperationThatCausedThemAndQuiescingIsAStateOfItsOwn) {
  std::size_t mark = c_.notifications().size();
  auto r = c_.admin(AdminOp::kShutdown, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(story(c_, mark, SuId("app/su-1")),
            (std::vector<std::string>{
                "su app/su-1: unlocked -> shutting-down",
                "app/si-1 active -> quiescing (shutdown su app/su-1)",
                "app/si-1 quiescing -> quiesced (shutdown su app/su-1)",
                "app/si-1 quiesced -> unassigned (shutdown su app/su-1)",
                "su app/su-1: shutting-down -> locked",
            }));
  mark = c_.notifications().size();
  r = c_.admin(AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(story(c_, mark, SuId("app/su-1")),
            (std::vector<std::string>{"su app/su-1: locked -> unlocked",
                                      "app/si-1 unassigned -> standby (unlock su app/su-1)"}));
  // Admin events name every kind of entity the same way: kind and id.
  mark = c_.notifications().size();
  r = c_.admin(AdminOp::kLock, director::EntityKind::kNode, "node-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(story(c_, mark, SuId("app/su-1")).front(), "node node-1: unlocked -> locked");
}

// ---- names: amf's ids and the SA Forum DNs OpenSAF's operators know ----

TEST_F(AdminTest, OperationsTakeTheSaForumDnsOfEveryKind) {
  // safSu=SU,safSg=SG,safApp=APP is SG/SU, and so on; what is done is the same operation.
  auto r = c_.admin(AdminOp::kLock, director::EntityKind::kSu, "safSu=su-1,safSg=app,safApp=app");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(view(c_, 1).admin, model::AdminState::kLocked);
  r = c_.admin(AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  const std::vector<std::pair<director::EntityKind, std::string>> dns{
      {director::EntityKind::kSg, "safSg=app,safApp=app"},
      {director::EntityKind::kApp, "safApp=app"},
      {director::EntityKind::kNode, "safAmfNode=node-1,safAmfCluster=test"},
      {director::EntityKind::kNode, "safAmfNode=node-1"},
      {director::EntityKind::kCluster, "safAmfCluster=test"},
      {director::EntityKind::kSi, "safSi=si-1,safApp=app"},
  };
  for (const auto& [kind, dn] : dns) {
    r = c_.admin(AdminOp::kLock, kind, dn);
    ASSERT_TRUE(r) << dn;
    EXPECT_TRUE(r->ok) << dn << ": " << r->message;
    r = c_.admin(AdminOp::kUnlock, kind, dn);
    ASSERT_TRUE(r) << dn;
    EXPECT_TRUE(r->ok) << dn << ": " << r->message;
  }
  r = c_.admin(AdminOp::kRestart, director::EntityKind::kComp,
               "safComp=server,safSu=su-2,safSg=app,safApp=app");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
}

TEST_F(AdminTest, ADnOfTheWrongFormOrThatNamesNothingIsRefusedWithTheFormItTakes) {
  const auto before = table(c_);
  const std::vector<Refusal> cases{
      {AdminOp::kLock, director::EntityKind::kSu, "safSi=si-1,safApp=app",
       "lock su safSi=si-1,safApp=app: 'safSi=si-1,safApp=app' is not the DN of a service unit "
       "(safSu=SU,safSg=SG,safApp=APP)"},
      {AdminOp::kLock, director::EntityKind::kSu, "safSu=su-9,safSg=app,safApp=app",
       "lock su safSu=su-9,safSg=app,safApp=app: no service unit named "
       "'safSu=su-9,safSg=app,safApp=app'; name a service unit as SG/SU or as "
       "safSu=SU,safSg=SG,safApp=APP"},
      {AdminOp::kLock, director::EntityKind::kSu, "safSu=su-1,safSg=app,safApp=other",
       "lock su safSu=su-1,safSg=app,safApp=other: no service unit named "
       "'safSu=su-1,safSg=app,safApp=other'; name a service unit as SG/SU or as "
       "safSu=SU,safSg=SG,safApp=APP"},
      {AdminOp::kLock, director::EntityKind::kNode, "safAmfNode=node-9,safAmfCluster=test",
       "lock node safAmfNode=node-9,safAmfCluster=test: no node named 'node-9'; name a node as "
       "NODE or as safAmfNode=NODE,safAmfCluster=CLUSTER"},
      {AdminOp::kLock, director::EntityKind::kCluster, "safAmfCluster=other",
       "lock cluster safAmfCluster=other: the cluster is named 'test'; name a cluster as CLUSTER "
       "(or nothing) or as safAmfCluster=CLUSTER"},
      {AdminOp::kSiSwap, director::EntityKind::kSi, "safSi=,safApp=app",
       "si-swap si safSi=,safApp=app: 'safSi=,safApp=app' is not the DN of a service instance "
       "(safSi=SI,safApp=APP)"},
  };
  expect_refused(c_, cases);
  EXPECT_EQ(table(c_), before);
}

// An application "shop" with two SGs, "app" and "app2", each with SUs su-1, su-2 and an SI
// si-1: the names a DN must tell apart.
std::shared_ptr<const model::ClusterConfig> shop_with_two_sgs() {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  model::ApplicationConfig& app = config->applications.at(0);
  app.id = AppId("shop");
  app.name = "shop";
  model::SgConfig second = app.service_groups.at(0);
  second.name = "app2";
  second.id = SgId("app2");
  for (auto& su_config : second.sus) {
    su_config.id = SuId("app2/" + su_config.name);
    for (auto& c : su_config.components) c.id = CompId(su_config.id.str() + "/" + c.name);
  }
  for (auto& si : second.sis) {
    si.id = SiId("app2/" + si.name);
    for (auto& csi : si.csis) csi.id = CsiId(si.id.str() + "/" + csi.name);
  }
  app.service_groups.push_back(second);
  for (auto& sg : app.service_groups) sg.app = app.id;
  return config;
}

TEST(AdminDnTest, EachPartOfADnCountsAndAnAmbiguousSiIsRefusedWithTheIds) {
  test::LocalCluster c(shop_with_two_sgs());
  c.start();
  auto r = c.admin(AdminOp::kLock, director::EntityKind::kSu, "safSu=su-2,safSg=app2,safApp=shop");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  for (const auto& v : c.director().service_units()) {
    EXPECT_EQ(v.own_admin,
              v.id == SuId("app2/su-2") ? model::AdminState::kLocked : model::AdminState::kUnlocked)
        << v.id.str();
  }
  // The application and the SG are not interchangeable.
  r = c.admin(AdminOp::kLock, director::EntityKind::kSu, "safSu=su-2,safSg=shop,safApp=app2");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  r = c.admin(AdminOp::kLock, director::EntityKind::kSi, "safSi=si-1,safApp=shop");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message,
            "lock si safSi=si-1,safApp=shop: 'safSi=si-1,safApp=shop' names 2 service instances "
            "(app/si-1, app2/si-1): SI names are unique within a service group only; name one "
            "as SG/SI");
  // Two applications each with an SG "app", as a configuration imported before amf let them
  // keep their name had it: the second named APP.SG. OpenSAF's DN of it still reaches it.
  auto imported = std::const_pointer_cast<model::ClusterConfig>(shop_with_two_sgs());
  model::ApplicationConfig other{AppId("shop2"), "shop2", {}};
  model::SgConfig renamed = imported->applications[0].service_groups[1];
  imported->applications[0].service_groups.pop_back();
  renamed.name = "shop2.app";
  renamed.id = SgId("shop2.app");
  renamed.app = other.id;
  for (auto& su_config : renamed.sus) {
    su_config.id = SuId("shop2.app/" + su_config.name);
    for (auto& comp_config : su_config.components) {
      comp_config.id = CompId(su_config.id.str() + "/" + comp_config.name);
    }
  }
  for (auto& si : renamed.sis) {
    si.id = SiId("shop2.app/" + si.name);
    for (auto& csi : si.csis) csi.id = CsiId(si.id.str() + "/" + csi.name);
  }
  other.service_groups.push_back(renamed);
  imported->applications.push_back(other);
  test::LocalCluster c2(imported);
  c2.start();
  r = c2.admin(AdminOp::kLock, director::EntityKind::kSg, "safSg=app,safApp=shop2");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(c2.director().sg_admin(SgId("shop2.app")), model::AdminState::kLocked);
  EXPECT_EQ(c2.director().sg_admin(SgId("app")), model::AdminState::kUnlocked);

  // Now both keep the name "app" (ids shop.app and shop2.app): each DN reaches its own.
  auto same = std::const_pointer_cast<model::ClusterConfig>(imported);
  model::SgConfig& first = same->applications[0].service_groups[0];
  model::SgConfig& second = same->applications[1].service_groups[0];
  second.name = "app";
  auto reid = [](model::SgConfig& sg, const std::string& id) {
    sg.id = SgId(id);
    for (auto& su_config : sg.sus) {
      su_config.id = SuId(id + "/" + su_config.name);
      for (auto& comp_config : su_config.components) {
        comp_config.id = CompId(su_config.id.str() + "/" + comp_config.name);
      }
    }
    for (auto& si : sg.sis) {
      si.id = SiId(id + "/" + si.name);
      for (auto& csi : si.csis) csi.id = CsiId(si.id.str() + "/" + csi.name);
    }
  };
  reid(first, "shop.app");
  reid(second, "shop2.app");
  test::LocalCluster c3(same);
  c3.start();
  r = c3.admin(AdminOp::kLock, director::EntityKind::kSu, "safSu=su-1,safSg=app,safApp=shop2");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  for (const auto& v : c3.director().service_units()) {
    EXPECT_EQ(v.own_admin, v.id == SuId("shop2.app/su-1") ? model::AdminState::kLocked
                                                          : model::AdminState::kUnlocked)
        << v.id.str();
  }

  // An SG's own name comes first; APP.SG is only the fallback: with SGs named "shop.app"
  // (listed first) and "app" in application shop, safSg=app reaches "app".
  auto both = std::const_pointer_cast<model::ClusterConfig>(shop_with_two_sgs());
  auto& sgs = both->applications[0].service_groups;
  sgs[1].name = "shop.app";
  reid(sgs[1], "shop.app");
  std::swap(sgs[0], sgs[1]);
  test::LocalCluster c4(both);
  c4.start();
  r = c4.admin(AdminOp::kLock, director::EntityKind::kSg, "safSg=app,safApp=shop");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(c4.director().sg_admin(SgId("app")), model::AdminState::kLocked);
  EXPECT_EQ(c4.director().sg_admin(SgId("shop.app")), model::AdminState::kUnlocked);
}

// ---- refusals: every one answered at once, nothing changed ----

TEST_F(AdminTest, RefusalsSayWhatAndWhyAndChangeNothing) {
  const std::vector<Refusal> cases{
      {AdminOp::kLock, director::EntityKind::kSu, "app/su-9",
       "lock su app/su-9: no service unit named 'app/su-9'; name a service unit as SG/SU or as "
       "safSu=SU,safSg=SG,safApp=APP"},
      {AdminOp::kUnlock, director::EntityKind::kSu, "app/su-1",
       "unlock su app/su-1: it is already unlocked"},
      {AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-1",
       "lock-instantiation su app/su-1: it is unlocked; lock it first"},
      {AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-1",
       "unlock-instantiation su app/su-1: it is unlocked"},
      {AdminOp::kRepair, director::EntityKind::kSu, "app/su-1",
       "repair su app/su-1: it is not disabled"},
      {AdminOp::kLock, director::EntityKind::kNode, "node-9",
       "lock node node-9: no node named 'node-9'; name a node as NODE or as "
       "safAmfNode=NODE,safAmfCluster=CLUSTER"},
      {AdminOp::kLock, director::EntityKind::kSg, "nope",
       "lock sg nope: no service group named 'nope'; name a service group as SG or as "
       "safSg=SG,safApp=APP"},
      {AdminOp::kLock, director::EntityKind::kApp, "nope",
       "lock app nope: no application named 'nope'; name an application as APP or as safApp=APP"},
      {AdminOp::kLock, director::EntityKind::kCluster, "other",
       "lock cluster other: the cluster is named 'test'; name a cluster as CLUSTER (or nothing) or "
       "as safAmfCluster=CLUSTER"},
      {AdminOp::kRepair, director::EntityKind::kSg, "app",
       "repair sg app: repair applies to a service unit (su) or a node"},
      {AdminOp::kRepair, director::EntityKind::kNode, "node-1",
       "repair node node-1: no service unit on it is disabled"},
      {AdminOp::kAdjust, director::EntityKind::kSu, "app/su-1",
       "adjust su app/su-1: adjust applies to a service group (sg)"},
      {AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-7",
       "si-swap si app/si-7: no service instance named 'app/si-7'; name a service instance as "
       "SG/SI or as safSi=SI,safApp=APP"},
      {AdminOp::kSiSwap, director::EntityKind::kSu, "app/su-1",
       "si-swap applies to a service instance (si), not su"},
  };
  const auto before = table(c_);
  expect_refused(c_, cases);
  EXPECT_EQ(table(c_), before);
  EXPECT_EQ(view(c_, 1).admin, model::AdminState::kUnlocked);
}

// ---- initial admin states from the configuration ----

TEST(InitialAdminStateTest, SuConfiguredLockedInstantiationStartsOnlyWhenUnlockedByHand) {
  auto config = std::make_shared<model::ClusterConfig>(*test::make_cluster({}));
  config->applications[0].service_groups[0].sus[1].admin_state =
      model::AdminState::kLockedInstantiation;
  test::LocalCluster c(config);
  c.start();
  EXPECT_FALSE(c.alive(comp(2)));
  EXPECT_EQ(view(c, 2).admin, model::AdminState::kLockedInstantiation);
  EXPECT_EQ(view(c, 2).own_admin, model::AdminState::kLockedInstantiation);
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive}}));
  EXPECT_TRUE(c.director().admin_states().empty());  // as configured: nothing to keep
  auto r = c.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_TRUE(c.alive(comp(2)));
  EXPECT_EQ(view(c, 2).admin, model::AdminState::kLocked);
  r = c.admin(AdminOp::kUnlock, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}));
  // Unlocked, unlike its configuration: the store must keep that, or a director that takes
  // over would start from the configuration again.
  EXPECT_EQ(c.director().admin_states(),
            (director::AdminStates{
                {{director::EntityKind::kSu, "app/su-2"}, model::AdminState::kUnlocked}}));
}

TEST(InitialAdminStateTest, RestoredAdminStatesGoOverTheConfiguredOnesAndUnknownOnesAreReported) {
  // What a restarted amfd does with its store: su-2 was locked for instantiation by hand, su-1
  // configured so and unlocked by hand; su-9 is no longer in the configuration.
  auto config = std::make_shared<model::ClusterConfig>(*test::make_cluster({}));
  config->applications[0].service_groups[0].sus[0].admin_state =
      model::AdminState::kLockedInstantiation;
  auto d = director::Director::create(config);
  ASSERT_TRUE(d);
  const TimePoint t0{};
  d->restore_admin(
      {{{director::EntityKind::kSu, "app/su-1"}, model::AdminState::kUnlocked},
       {{director::EntityKind::kSu, "app/su-2"}, model::AdminState::kLockedInstantiation},
       {{director::EntityKind::kSu, "app/su-9"}, model::AdminState::kLocked}},
      1, t0);
  EXPECT_EQ(
      d->admin_states(),
      (director::AdminStates{
          {{director::EntityKind::kSu, "app/su-1"}, model::AdminState::kUnlocked},
          {{director::EntityKind::kSu, "app/su-2"}, model::AdminState::kLockedInstantiation}}));
  std::vector<std::string> errors;
  for (const auto& e : d->take_effects()) {
    if (const auto* n = std::get_if<model::Notification>(&e)) {
      if (n->kind == model::NotificationKind::kError) errors.push_back(n->entity + ": " + n->cause);
    }
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("app/su-9: admin state in the store for an entity the configuration "
                           "does not have"),
            std::string::npos)
      << errors[0];
  // The node comes up: su-1 is started, su-2 is not.
  d->handle(director::NodeUp{NodeId("node-1")}, t0);
  std::vector<SuId> started;
  for (const auto& e : d->take_effects()) {
    if (const auto* to = std::get_if<director::ToNode>(&e)) {
      if (const auto* i = std::get_if<protocol::InstantiateSu>(&to->command)) {
        started.push_back(i->su);
      }
    }
  }
  EXPECT_EQ(started, (std::vector<SuId>{su(1)}));
}

TEST(InitialAdminStateTest, LockedNodeSgApplicationAndSiGetNoAssignments) {
  for (int level = 0; level < 4; ++level) {
    auto config = std::make_shared<model::ClusterConfig>(
        *test::make_cluster({.sis = 2, .nodes = {"node-1", "node-2"}}));
    auto& app = config->applications[0];
    switch (level) {
      case 0:
        config->nodes[0].admin_state = model::AdminState::kLocked;
        break;
      case 1:
        app.service_groups[0].admin_state = model::AdminState::kLocked;
        break;
      case 2:
        app.admin_state = model::AdminState::kLocked;
        break;
      default:
        app.service_groups[0].sis[1].admin_state = model::AdminState::kLocked;
    }
    test::LocalCluster c(config);
    c.start();
    EXPECT_TRUE(c.alive(comp(1))) << level;  // locked, not locked-instantiation
    const models::AssignmentTable expected =
        level == 0   ? models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                             {si(2), su(2), HaState::kActive}}
        : level == 3 ? models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}
                     : models::AssignmentTable{};
    EXPECT_EQ(table(c), expected) << level;
  }
}

TEST(AdminLevelsTest, LockingANodeMovesTheWorkToAnotherNode) {
  test::LocalCluster c(test::make_cluster({.nodes = {"node-1", "node-2"}}));
  c.start();
  auto r = c.admin(AdminOp::kLock, director::EntityKind::kNode, "node-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(2), HaState::kActive}}));
  EXPECT_EQ(view(c, 1).admin, model::AdminState::kLocked);  // effective: its node is locked
  r = c.admin(AdminOp::kUnlock, director::EntityKind::kNode, "node-1");
  ASSERT_TRUE(r && r->ok);
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(2), HaState::kActive},
                                               {si(1), su(1), HaState::kStandby}}));
}

TEST(AdminLevelsTest, NodeLockInstantiationTerminatesEverySuOnIt) {
  test::LocalCluster c(test::make_cluster({.nodes = {"node-1", "node-2"}}));
  c.start();
  ASSERT_TRUE(c.admin(AdminOp::kLock, director::EntityKind::kNode, "node-2")->ok);
  auto r = c.admin(AdminOp::kLockInstantiation, director::EntityKind::kNode, "node-2");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_FALSE(c.alive(comp(2)));
  EXPECT_TRUE(c.alive(comp(1)));
  r = c.admin(AdminOp::kUnlockInstantiation, director::EntityKind::kNode, "node-2");
  ASSERT_TRUE(r && r->ok) << r->message;
  EXPECT_TRUE(c.alive(comp(2)));
}

TEST(AdminLevelsTest, SgAppAndClusterLocksTakeTheServiceDownAndUnlocksBringItBack) {
  for (const auto kind :
       {director::EntityKind::kSg, director::EntityKind::kApp, director::EntityKind::kCluster}) {
    test::LocalCluster c(test::make_cluster({}));
    c.start();
    const std::string entity = kind == director::EntityKind::kCluster ? "" : "app";
    auto r = c.admin(AdminOp::kLock, kind, entity);
    ASSERT_TRUE(r && r->ok) << to_string(kind) << ": " << (r ? r->message : "no answer");
    EXPECT_TRUE(table(c).empty()) << to_string(kind);
    r = c.admin(AdminOp::kUnlock, kind, entity);
    ASSERT_TRUE(r && r->ok) << to_string(kind);
    EXPECT_EQ(table(c).size(), 2u) << to_string(kind);
  }
}

TEST(AdminLevelsTest, ShutdownOfAnSgQuiescesGracefullyAndEndsLocked) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  const std::size_t mark = c.csi_sets().size();
  auto r = c.admin(AdminOp::kShutdown, director::EntityKind::kSg, "app");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(given(c, 1, mark), (std::vector<HaState>{HaState::kQuiescing}));
  EXPECT_TRUE(table(c).empty());
  r = c.admin(AdminOp::kShutdown, director::EntityKind::kSg, "app");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "shutdown sg app: it is locked");
  // Each entity keeps its own admin state: the SG is locked, its SUs are not (their readiness
  // says the SG's lock), so an unlock of an SU is rightly refused as already unlocked.
  EXPECT_EQ(c.director().sg_admin(SgId("app")), model::AdminState::kLocked);
  for (const auto& su : c.director().service_units(SgId("app"))) {
    EXPECT_EQ(su.own_admin, model::AdminState::kUnlocked) << su.id;
    EXPECT_EQ(su.admin, model::AdminState::kLocked) << su.id;
    EXPECT_EQ(su.readiness, model::ReadinessState::kOutOfService) << su.id;
  }
}

TEST(AdminLevelsTest, AdjustMovesTheActiveBackToThePreferredSu) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.kill(comp(1));  // su-2 (rank 2) takes over; su-1 (rank 1) returns as standby
  ASSERT_EQ(table(c).at(0).su, su(2));
  auto r = c.admin(AdminOp::kAdjust, director::EntityKind::kSg, "app");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}));
}

TEST(AutoAdjustTest, ActiveFailsBackToThePreferredSuAfterTheProbation) {
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  auto& sg = config->applications[0].service_groups[0];
  sg.auto_adjust = true;
  sg.auto_adjust_probation = std::chrono::seconds(10);
  test::LocalCluster c(config);
  c.start();
  c.kill(comp(1));  // su-2 takes over; su-1 (preferred) comes back as standby
  ASSERT_EQ(table(c).at(0).su, su(2));
  c.advance(std::chrono::seconds(9));
  EXPECT_EQ(table(c).at(0).su, su(2)) << "not before the probation has passed";
  c.advance(std::chrono::seconds(1));
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                               {si(1), su(2), HaState::kStandby}}));
  EXPECT_FALSE(c.director().next_deadline());  // nothing more to do
}

TEST(AutoAdjustTest, WithoutAutoAdjustTheActiveStaysWhereItIs) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.kill(comp(1));
  c.advance(std::chrono::minutes(5));
  EXPECT_EQ(table(c).at(0).su, su(2));
}

TEST(SiSwapTest, NPlusMSwapNeverGivesAnSiTwoActives) {
  // N+M with 2 active SUs and 1 standby SU backing both: su-3 is standby for si-1 (active on
  // one SU) and for si-2 (active on the other).
  auto config = std::const_pointer_cast<model::ClusterConfig>(
      test::make_cluster({.redundancy = model::RedundancyModel::kNPlusM, .sus = 3, .sis = 2}));
  auto& sg = config->applications[0].service_groups[0];
  sg.preferred_active_sus = 2;
  sg.preferred_standby_sus = 1;
  test::LocalCluster c(config);
  c.start();
  auto before = table(c);
  ASSERT_EQ(before.size(), 4u) << ::testing::PrintToString(before);
  const SuId standby = before[1].su;
  auto r = c.admin(AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r && r->ok) << (r ? r->message : "no answer");
  const auto after = table(c);
  for (const SiId& s : {si(1), si(2)}) {
    int actives = 0;
    for (const auto& a : after) actives += a.si == s && a.ha == HaState::kActive;
    EXPECT_EQ(actives, 1) << s << " in " << ::testing::PrintToString(after);
  }
  EXPECT_EQ(models::ha_of(after, standby, si(1)), HaState::kActive);  // the swap happened
}

TEST(AdminBusyTest, OperationOnAnSgMidTransitionIsRefusedWithTryAgain) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  c.auto_respond = false;  // the next CSI callback stays unanswered: the SG stays busy
  c.kill(comp(1));
  auto r = c.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message, "lock su app/su-2: service group app is changing assignments; try again");
  r = c.admin(AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
}

TEST(AdminBusyTest, SiSwapInNoRedundancyIsRefused) {
  test::LocalCluster c(test::make_cluster({.redundancy = model::RedundancyModel::kNoRedundancy}));
  c.start();
  auto r = c.admin(AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(
      r->message,
      "si-swap si app/si-1: service group app is no-redundancy: it has no standby to swap with");
}

TEST(SiAdminTest, LockedSiIsAssignedNowhereWhileTheOthersCarryOn) {
  test::LocalCluster c(test::make_cluster({.sis = 2}));
  c.start();
  const std::size_t mark = c.csi_sets().size();
  auto r = c.admin(AdminOp::kLock, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  // The active was quiesced before its removal; nothing was promoted.
  EXPECT_EQ(given(c, 1, mark), (std::vector<HaState>{HaState::kQuiesced}));
  EXPECT_TRUE(given(c, 2, mark).empty());
  EXPECT_EQ(table(c), (models::AssignmentTable{{si(2), su(1), HaState::kActive},
                                               {si(2), su(2), HaState::kStandby}}));
  EXPECT_EQ(c.director().si_admin(si(1)), model::AdminState::kLocked);
  // A swap of the other SI moves only that one; the locked SI stays unassigned.
  r = c.admin(AdminOp::kSiSwap, director::EntityKind::kSi, "app/si-2");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(models::ha_of(table(c), su(2), si(2)), HaState::kActive);
  EXPECT_FALSE(models::ha_of(table(c), su(1), si(1)));
  EXPECT_FALSE(models::ha_of(table(c), su(2), si(1)));
  r = c.admin(AdminOp::kUnlock, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(models::ha_of(table(c), su(2), si(1)), HaState::kActive);
  EXPECT_EQ(models::ha_of(table(c), su(1), si(1)), HaState::kStandby);
}

TEST(SiAdminTest, ShutdownQuiescesTheActiveGracefullyAndEndsLocked) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  const std::size_t mark = c.csi_sets().size();
  auto r = c.admin(AdminOp::kShutdown, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(given(c, 1, mark), (std::vector<HaState>{HaState::kQuiescing}));
  EXPECT_TRUE(table(c).empty());
  EXPECT_EQ(c.director().si_admin(si(1)), model::AdminState::kLocked);
}

TEST(SiAdminTest, RefusalsSayWhatAndWhy) {
  test::LocalCluster c(test::make_cluster({}));
  c.start();
  auto r = c.admin(AdminOp::kLockInstantiation, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message,
            "lock-instantiation si app/si-1: lock-instantiation does not apply to a service "
            "instance (lock, unlock, shutdown and si-swap do)");
  r = c.admin(AdminOp::kLock, director::EntityKind::kSi, "app/si-9");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message,
            "lock si app/si-9: no service instance named 'app/si-9'; name a service instance as "
            "SG/SI or as safSi=SI,safApp=APP");
  r = c.admin(AdminOp::kUnlock, director::EntityKind::kSi, "app/si-1");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->message, "unlock si app/si-1: it is already unlocked");
  EXPECT_EQ(table(c).size(), 2u);  // nothing changed
}

TEST_F(AdminTest, RestartOfAnSuStartsItsProcessesAgainAndKeepsItsAssignments) {
  const int before = c_.starts(comp(1));
  const std::size_t mark = c_.csi_sets().size();
  auto r = c_.admin(AdminOp::kRestart, director::EntityKind::kSu, "app/su-1");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  EXPECT_EQ(c_.starts(comp(1)), before + 1);
  EXPECT_TRUE(c_.alive(comp(1)));
  // The new process got its CSI back as active; nothing moved.
  EXPECT_EQ(given(c_, 1, mark), (std::vector<HaState>{HaState::kActive}));
  EXPECT_TRUE(given(c_, 2, mark).empty());
  EXPECT_EQ(table(c_), (models::AssignmentTable{{si(1), su(1), HaState::kActive},
                                                {si(1), su(2), HaState::kStandby}}));
  EXPECT_EQ(view(c_, 1).oper, model::OperState::kEnabled);
}

TEST_F(AdminTest, RestartOfAComponentAndItsRefusals) {
  auto r = c_.admin(AdminOp::kRestart, director::EntityKind::kComp, "app/su-2/server");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  r = c_.admin(AdminOp::kLock, director::EntityKind::kComp, "app/su-2/server");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message,
            "lock comp app/su-2/server: lock does not apply to a component (restart does)");
  r = c_.admin(AdminOp::kRestart, director::EntityKind::kNode, "node-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message,
            "restart node node-1: restart applies to a service unit (su) or a component (comp)");
  c_.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-2");
  c_.admin(AdminOp::kLockInstantiation, director::EntityKind::kSu, "app/su-2");
  r = c_.admin(AdminOp::kRestart, director::EntityKind::kSu, "app/su-2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "restart su app/su-2: it is not instantiated");
}

TEST(AdminTimeoutTest, AnOperationThatCannotCompleteIsAnsweredAtItsTimeLimit) {
  // A component allowed to take two minutes over a callback, and silent: the quiesce of the
  // lock stays outstanding past the operation's 60 s limit.
  auto config = std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
  for (auto& su_config : config->applications[0].service_groups[0].sus) {
    su_config.components[0].timeouts.csi_set = std::chrono::minutes(2);
  }
  test::LocalCluster c(config);
  c.start();
  c.auto_respond = false;
  EXPECT_FALSE(c.admin(AdminOp::kLock, director::EntityKind::kSu, "app/su-1"));  // not answered yet
  c.advance(std::chrono::seconds(59));
  EXPECT_TRUE(c.results().empty());
  c.advance(std::chrono::seconds(1));
  ASSERT_EQ(c.results().size(), 1u);
  EXPECT_FALSE(c.results()[0].ok);
  EXPECT_EQ(c.results()[0].message,
            "lock app/su-1 did not complete within 60 s; see amfctl events");
}

}  // namespace
}  // namespace amf
