// Drill files (config/drill.h): what they say, and every mistake reported where it is.
#include "config/drill.h"

#include <gtest/gtest.h>

#include <string>

namespace amf::config {
namespace {

std::string errors(const DrillResult& r) {
  std::string text;
  if (!r) {
    for (const auto& d : r.error()) text += d.to_string() + "\n";
  }
  return text;
}

TEST(DrillFileTest, ReadsTheFaultsInTimeOrderAndTheConfigurationBesideTheFile) {
  const auto drill = load_drill_string(
      "name: two faults\n"
      "config: ../cluster.yaml\n"
      "sg: counter/counter\n"
      "observe_ms: 120000\n"
      "faults:\n"
      "  - {at_ms: 5000, fault: crash-loop, count: 4}\n"
      "  - {at_ms: 0, fault: node-crash}\n",
      "tools/drill/drills/two.yaml");
  ASSERT_TRUE(drill) << errors(drill);
  EXPECT_EQ(drill->name, "two faults");
  EXPECT_EQ(drill->config, "tools/drill/cluster.yaml");
  EXPECT_EQ(drill->sg, "counter/counter");
  EXPECT_EQ(drill->warmup, std::chrono::milliseconds(60'000));
  EXPECT_EQ(drill->observe, std::chrono::milliseconds(120'000));
  ASSERT_EQ(drill->faults.size(), 2u);
  EXPECT_EQ(drill->faults[0].fault, "node-crash");
  EXPECT_EQ(drill->faults[1].fault, "crash-loop");
  EXPECT_EQ(drill->faults[1].at, std::chrono::milliseconds(5'000));
  EXPECT_EQ(drill->faults[1].count, 4);
}

TEST(DrillFileTest, AnAbsoluteConfigurationPathIsKeptAndTheNameDefaultsToTheFiles) {
  const auto drill = load_drill_string(
      "config: /etc/amf/cluster.yaml\nfaults: [{at_ms: 0, fault: component-hang}]\n",
      "drills/hang.yaml");
  ASSERT_TRUE(drill) << errors(drill);
  EXPECT_EQ(drill->config, "/etc/amf/cluster.yaml");
  EXPECT_EQ(drill->name, "hang");
}

TEST(DrillFileTest, EveryMistakeIsReportedWithItsPosition) {
  const auto drill = load_drill_string(
      "config: c.yaml\n"
      "observe_ms: -3\n"
      "colour: blue\n"
      "faults:\n"
      "  - {at_ms: 0, fault: power-cut}\n"
      "  - {fault: node-crash}\n"
      "  - {at_ms: 10, fault: node-crash, count: 2}\n",
      "d.yaml");
  ASSERT_FALSE(drill);
  const std::string text = errors(drill);
  EXPECT_NE(text.find("d.yaml:2:"), std::string::npos) << text;     // observe_ms
  EXPECT_NE(text.find("d.yaml:3:1: "), std::string::npos) << text;  // unknown key
  EXPECT_NE(text.find("d.yaml:5:23: 'power-cut' is not a fault"), std::string::npos) << text;
  EXPECT_NE(text.find("d.yaml:6:"), std::string::npos) << text;  // at_ms missing
  EXPECT_NE(text.find("only a crash-loop fault takes a count"), std::string::npos) << text;
}

TEST(DrillFileTest, AFaultAfterTheClientStopsIsRefused) {
  const auto drill = load_drill_string(
      "config: c.yaml\nobserve_ms: 60000\nfaults:\n  - {at_ms: 0, fault: node-crash}\n"
      "  - {at_ms: 60000, fault: component-crash}\n",
      "late.yaml");
  ASSERT_FALSE(drill);
  EXPECT_NE(errors(drill).find("late.yaml:5:5: the fault at 60000 ms comes after the client stops"),
            std::string::npos)
      << errors(drill);
}

TEST(DrillFileTest, ADrillWithoutFaultsOrConfigurationIsRefused) {
  const std::string text = errors(load_drill_string("name: nothing\nfaults: []\n", "e.yaml"));
  EXPECT_NE(text.find("config"), std::string::npos) << text;
  EXPECT_NE(text.find("at least one fault"), std::string::npos) << text;
  EXPECT_NE(errors(load_drill_file("/nonexistent/drill.yaml")).find("cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace amf::config
