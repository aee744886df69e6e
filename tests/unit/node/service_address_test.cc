// The node director's floating service addresses (SetServiceAddress): up while the node holds
// the SI active or quiescing, and placed at the head of the batch, so that the address is up
// before the component is told it is active and down before it is told it is quiesced, is
// cleaned up, or its SU is reported failed.
#include <gtest/gtest.h>

#include "amf/node/node_director.h"
#include "tests/unit/support/node_driver.h"
#include "tests/unit/support/test_config.h"

namespace amf::node {
namespace {

using model::HaState;
using model::TransitionReason;
using test::comp;
using test::only;
using test::si;
using test::su;

const model::ServiceAddress kAddress{"10.213.9.100", 24, "eth0", false};

// The index of the first effect of type T, or -1.
template <typename T>
int first(const std::vector<Effect>& effects) {
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (std::holds_alternative<T>(effects[i])) return static_cast<int>(i);
  }
  return -1;
}

class ServiceAddressTest : public ::testing::Test, protected test::NodeDriver {
 protected:
  void make(test::ClusterSpec spec = {}) {
    auto config = std::make_shared<model::ClusterConfig>(*test::make_cluster(spec));
    config->applications.at(0).service_groups.at(0).sis.at(0).service_address = kAddress;
    nd_.emplace(config, NodeId("node-1"));
  }
  // su-N instantiated, its component registered as peer N.
  void instantiated(int n) {
    handle(protocol::InstantiateSu{su(n)});
    handle(ProcessStarted{comp(n)});
    handle(ComponentRegister{static_cast<PeerId>(n), comp(n).str()});
  }
  std::vector<Effect> assign(int n, HaState ha) {
    return handle(protocol::AssignHa{su(n), si(1), ha, TransitionReason::kNewAssignment});
  }
  // Assigns and answers the CSI set.
  void assigned(int n, HaState ha) {
    auto sets = only<SendCsiSet>(assign(n, ha));
    ASSERT_EQ(sets.size(), 1u);
    handle(ComponentResponse{static_cast<PeerId>(n), sets[0].invocation, true});
  }
};

TEST_F(ServiceAddressTest, AnActiveAssignmentBringsTheAddressUpBeforeTheComponentIsTold) {
  make();
  instantiated(1);
  auto effects = assign(1, HaState::kActive);
  auto raised = only<SetServiceAddress>(effects);
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_TRUE(raised[0].up);
  EXPECT_EQ(raised[0].si, si(1));
  EXPECT_EQ(raised[0].address, kAddress);
  ASSERT_GE(first<SendCsiSet>(effects), 0);
  EXPECT_LT(first<SetServiceAddress>(effects), first<SendCsiSet>(effects));
  // Answered: reported active, and nothing more happens to the address.
  auto answer = handle(ComponentResponse{1, only<SendCsiSet>(effects)[0].invocation, true});
  EXPECT_TRUE(only<SetServiceAddress>(answer).empty());
  EXPECT_EQ(only<ToDirector>(answer).size(), 1u);
}

// The host could not bring the address up: the active's SU is failed over (not restarted
// here, whatever its recovery), the address is taken down again with it, and a failure that
// comes after the SI left is late and changes nothing.
TEST_F(ServiceAddressTest, AnAddressThatCannotBeBroughtUpFailsTheActivesSuOver) {
  make({.recovery = model::Recovery::kComponentRestart});
  instantiated(1);
  assigned(1, HaState::kActive);
  auto effects = handle(ServiceAddressFailed{si(1), "no interface 'eth0'"});
  const auto notes = only<model::Notification>(effects);
  bool said = false, failed_over = false;
  for (const auto& n : notes) {
    said |= n.kind == model::NotificationKind::kError &&
            n.cause.find(
                "the service address 10.213.9.100/24 on eth0 of SI app/si-1 cannot be "
                "brought up here: no interface 'eth0'") != std::string::npos;
    failed_over |= n.kind == model::NotificationKind::kRecovery && n.to == "component-failover";
  }
  EXPECT_TRUE(said);
  EXPECT_TRUE(failed_over);
  const auto down = only<SetServiceAddress>(effects);
  ASSERT_EQ(down.size(), 1u);
  EXPECT_FALSE(down[0].up);
  EXPECT_EQ(only<SignalProcess>(effects).size(), 1u);  // the component is cleaned up
  EXPECT_TRUE(only<StartProcess>(effects).empty());    // and not restarted here
  // Late: the SI is not held here any more.
  EXPECT_TRUE(handle(ServiceAddressFailed{si(1), "again"}).empty());
}

TEST_F(ServiceAddressTest, AStandbyHoldsNoAddress) {
  make();
  instantiated(2);
  EXPECT_TRUE(only<SetServiceAddress>(assign(2, HaState::kStandby)).empty());
}

TEST_F(ServiceAddressTest, QuiescedTakesItDownBeforeTheComponentIsTold) {
  make();
  instantiated(1);
  assigned(1, HaState::kActive);
  auto effects = assign(1, HaState::kQuiesced);
  auto dropped = only<SetServiceAddress>(effects);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_FALSE(dropped[0].up);
  ASSERT_GE(first<SendCsiSet>(effects), 0);
  EXPECT_LT(first<SetServiceAddress>(effects), first<SendCsiSet>(effects));
}

TEST_F(ServiceAddressTest, QuiescingKeepsItUpUntilTheComponentIsDone) {
  make();
  instantiated(1);
  assigned(1, HaState::kActive);
  auto effects = assign(1, HaState::kQuiescing);  // shutdown: work in progress is finished
  EXPECT_TRUE(only<SetServiceAddress>(effects).empty());
  auto done = handle(ComponentResponse{1, only<SendCsiSet>(effects).at(0).invocation, true});
  auto dropped = only<SetServiceAddress>(done);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_FALSE(dropped[0].up);
  EXPECT_LT(first<SetServiceAddress>(done), first<ToDirector>(done));
}

TEST_F(ServiceAddressTest, ADeadActiveTakesItDownBeforeItsSuIsReportedFailed) {
  make();
  instantiated(1);
  assigned(1, HaState::kActive);
  auto effects = handle(ProcessExited{comp(1), "killed by signal 9"});
  auto dropped = only<SetServiceAddress>(effects);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_FALSE(dropped[0].up);
  ASSERT_GE(first<ToDirector>(effects), 0);
  EXPECT_EQ(first<SetServiceAddress>(effects), 0);
}

TEST_F(ServiceAddressTest, AComponentRestartedInPlaceKeepsIt) {
  make({.recovery = model::Recovery::kComponentRestart});
  instantiated(1);
  assigned(1, HaState::kActive);
  EXPECT_TRUE(
      only<SetServiceAddress>(handle(ProcessExited{comp(1), "killed by signal 9"})).empty());
}

TEST_F(ServiceAddressTest, RemovingTheActiveTakesItDown) {
  make();
  instantiated(1);
  assigned(1, HaState::kActive);
  auto effects = handle(protocol::RemoveHa{su(1), si(1)});
  auto dropped = only<SetServiceAddress>(effects);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_FALSE(dropped[0].up);
  EXPECT_EQ(first<SetServiceAddress>(effects), 0);
}

TEST_F(ServiceAddressTest, AnSiWithoutAnAddressMakesNoneOfThis) {
  nd_.emplace(test::make_cluster({}), NodeId("node-1"));
  instantiated(1);
  EXPECT_TRUE(only<SetServiceAddress>(assign(1, HaState::kActive)).empty());
}

}  // namespace
}  // namespace amf::node
