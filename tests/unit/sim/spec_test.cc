// Fault specs, durations and service group specs: parsing and validation.
#include <gtest/gtest.h>

#include "sim/cluster_spec.h"
#include "sim/duration.h"
#include "sim/faults.h"

namespace amf::sim {
namespace {

TEST(SimSpecTest, FaultSpecParsesAndPrintsBack) {
  auto f = FaultSpec::parse("crash=0.01,hang=0.001,admin=0.5");
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ((*f)[FaultKind::kCrash], 0.01);
  EXPECT_DOUBLE_EQ((*f)[FaultKind::kAdmin], 0.5);
  EXPECT_EQ(f->to_string(), "crash=0.01,hang=0.001,admin=0.5");
  EXPECT_EQ(FaultSpec::parse(f->to_string())->to_string(), f->to_string());
  EXPECT_FALSE(FaultSpec::parse("none")->any());
}

TEST(SimSpecTest, NetworkFaultsParseAndPrintBack) {
  auto f = FaultSpec::parse("crash=0.01,loss=0.05,dup=0.01,reorder=0.1,delay=2.5,drift=200");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_DOUBLE_EQ(f->net.loss, 0.05);
  EXPECT_DOUBLE_EQ(f->net.dup, 0.01);
  EXPECT_DOUBLE_EQ(f->net.reorder, 0.1);
  EXPECT_EQ(f->net.delay, Duration(std::chrono::microseconds(2500)));
  EXPECT_DOUBLE_EQ(f->net.drift_ppm, 200);
  EXPECT_EQ(f->to_string(), "crash=0.01,loss=0.05,dup=0.01,reorder=0.1,delay=2.5,drift=200");
  EXPECT_EQ(FaultSpec::parse(f->to_string())->to_string(), f->to_string());
  auto p = FaultSpec::parse("partition=0.1");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ((*p)[FaultKind::kPartition], 0.1);
}

TEST(SimSpecTest, FaultSpecRefusesUnknownAndOutOfRangeFaults) {
  auto loss = FaultSpec::parse("loss=1.5");
  ASSERT_FALSE(loss);
  EXPECT_NE(loss.error().message().find("probability between 0 and 1"), std::string::npos);
  EXPECT_FALSE(FaultSpec::parse("delay=-1"));
  EXPECT_FALSE(FaultSpec::parse("delay=soon"));
  EXPECT_FALSE(FaultSpec::parse("drift=1e9"));
  EXPECT_FALSE(FaultSpec::parse("crash"));
  EXPECT_FALSE(FaultSpec::parse("crash=-1"));
  EXPECT_FALSE(FaultSpec::parse("crash=lots"));
  auto unknown = FaultSpec::parse("meteor=0.1");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("unknown fault"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("loss"), std::string::npos) << "it lists the keys";
  auto node = FaultSpec::parse("node=0.25");
  ASSERT_TRUE(node);
  EXPECT_DOUBLE_EQ((*node)[FaultKind::kNode], 0.25);
  EXPECT_EQ(node->to_string(), "node=0.25");
}

TEST(SimSpecTest, Durations) {
  EXPECT_EQ(parse_duration("1h"), Duration(std::chrono::hours(1)));
  EXPECT_EQ(parse_duration("1h30m"), Duration(std::chrono::minutes(90)));
  EXPECT_EQ(parse_duration("250ms"), Duration(std::chrono::milliseconds(250)));
  EXPECT_EQ(parse_duration("1.5s"), Duration(std::chrono::milliseconds(1500)));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("5 weeks"));
  EXPECT_FALSE(parse_duration("100000h"));
  EXPECT_EQ(format_time(TimePoint{} + std::chrono::milliseconds(62013)), "62.013s");
}

TEST(SimSpecTest, InitialAdminStatesAreTheLastSusAndSis) {
  auto sg = parse_sg_spec({"2n", "sus=3", "sis=2", "li-sus=2", "locked-sis=1"});
  ASSERT_TRUE(sg) << sg.error().message();
  EXPECT_EQ(describe(*sg), "2n sus=3 sis=2 li-sus=2 locked-sis=1");
  ClusterSpec cluster;
  cluster.sgs.push_back(*sg);
  const auto config = build(cluster);
  const model::SgConfig& built = config->applications[0].service_groups[0];
  EXPECT_EQ(built.sus[0].admin_state, model::AdminState::kUnlocked);
  EXPECT_EQ(built.sus[1].admin_state, model::AdminState::kLockedInstantiation);
  EXPECT_EQ(built.sus[2].admin_state, model::AdminState::kLockedInstantiation);
  EXPECT_EQ(built.sis[0].admin_state, model::AdminState::kUnlocked);
  EXPECT_EQ(built.sis[1].admin_state, model::AdminState::kLocked);
  auto too_many = parse_sg_spec({"2n", "sus=2", "li-sus=3"});
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("li-sus exceeds sus"), std::string::npos);
  too_many = parse_sg_spec({"2n", "sis=1", "locked-sis=2"});
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("locked-sis exceeds sis"), std::string::npos);
}

TEST(SimSpecTest, SgSpecsFollowTheModelsRules) {
  auto sg = parse_sg_spec({"n+m", "sus=4", "sis=3", "active-sus=2", "standby-sus=2"});
  ASSERT_TRUE(sg) << sg.error().message();
  EXPECT_EQ(describe(*sg), "n+m sus=4 sis=3 active-sus=2 standby-sus=2");
  EXPECT_FALSE(parse_sg_spec({"n+m", "sus=3", "active-sus=2", "standby-sus=2"}));
  EXPECT_FALSE(parse_sg_spec({"no-redundancy", "sus=1", "sis=2"}));
  EXPECT_FALSE(parse_sg_spec({"2n", "actives=2"}));
  EXPECT_FALSE(parse_sg_spec({"n-way", "sus=2", "standbys=2"}));
  EXPECT_FALSE(parse_sg_spec({"2n", "sus=0"}));
  EXPECT_FALSE(parse_sg_spec({"2n", "csi-set=soon"}));
  EXPECT_FALSE(parse_sg_spec({}));
}

TEST(SimSpecTest, BuildNamesEntitiesPredictably) {
  auto sg = parse_sg_spec({"2n", "sus=2", "sis=2", "components=2", "csi-set=1s"});
  ASSERT_TRUE(sg);
  auto c = build({"sim", 1, {*sg}});
  ASSERT_NE(c->find_component(CompId("app/su-2/server-2")), nullptr);
  EXPECT_EQ(c->find_component(CompId("app/su-2/server-2"))->timeouts.csi_set,
            std::chrono::milliseconds(1000));
  ASSERT_NE(c->find_si(SiId("app/si-2")), nullptr);
  EXPECT_EQ(c->find_si(SiId("app/si-2"))->csis.size(), 2u);
  EXPECT_EQ(c->find_si(SiId("app/si-2"))->csis[1].id, CsiId("app/si-2/csi-2"));
}

}  // namespace
}  // namespace amf::sim
