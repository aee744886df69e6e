#include "amf/daemon/supported.h"

#include <gtest/gtest.h>

#include "tests/unit/support/test_config.h"

namespace amf::daemon {
namespace {

std::shared_ptr<model::ClusterConfig> cluster() {
  return std::const_pointer_cast<model::ClusterConfig>(test::make_cluster({}));
}

TEST(SupportedTest, TheTestClusterIsRunnable) {
  EXPECT_TRUE(unsupported_features(*cluster()).empty());
}

TEST(SupportedTest, EveryUnimplementedFeatureIsNamedWithItsEntity) {
  auto config = cluster();
  auto& sg = config->applications[0].service_groups[0];
  sg.sus[0].components[0].runtime = model::Runtime::kOci;  // runnable
  config->nodes.push_back({NodeId("node-2"), "node-2", "127.0.0.2", false});
  const auto problems = unsupported_features(*config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("2 nodes; this build runs single-node clusters only"),
            std::string::npos);
}

TEST(SupportedTest, SparesAreRunnable) {
  auto config = cluster();
  config->applications[0].service_groups[0].preferred_inservice_sus = 1;
  EXPECT_TRUE(unsupported_features(*config).empty());
}

}  // namespace
}  // namespace amf::daemon
