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
  EXPECT_NE(problems[0].find("2 nodes, and a cluster of several nodes elects its director through "
                             "etcd: list the etcd members' client addresses under cluster: etcd"),
            std::string::npos);
  config->etcd = {"127.0.0.1:2379"};
  EXPECT_TRUE(unsupported_features(*config).empty());
}

TEST(SupportedTest, NodesOnOneAddressNeedPortsOfTheirOwn) {
  auto config = cluster();
  config->etcd = {"127.0.0.1:2379"};
  config->nodes[0].address = "127.0.0.1";
  config->nodes.push_back({NodeId("node-2"), "node-2", "127.0.0.1", false});
  config->nodes.back().membership_port = 7401;
  auto problems = unsupported_features(*config);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], config->nodes[0].name +
                             "'s command_port and node-2's command_port are both tcp port 7302 on "
                             "127.0.0.1: nodes on one address need ports of their own");
  EXPECT_EQ(problems[1], config->nodes[0].name +
                             "'s checkpoint_port and node-2's checkpoint_port are both tcp port "
                             "7303 on 127.0.0.1: nodes on one address need ports of their own");
  config->nodes.back().command_port = 7402;
  config->nodes.back().checkpoint_port = 7302;  // another node's command port
  problems = unsupported_features(*config);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], config->nodes[0].name +
                             "'s command_port and node-2's checkpoint_port are both tcp port 7302 "
                             "on 127.0.0.1: nodes on one address need ports of their own");
  config->nodes.back().checkpoint_port = 7403;
  EXPECT_TRUE(unsupported_features(*config).empty());
}

TEST(SupportedTest, SparesAreRunnable) {
  auto config = cluster();
  config->applications[0].service_groups[0].preferred_inservice_sus = 1;
  EXPECT_TRUE(unsupported_features(*config).empty());
}

}  // namespace
}  // namespace amf::daemon
