// Bounds on what the YAML parser may build: nodes, text, one value, nesting; checked while
// parsing, so a hostile file is refused before it costs memory.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using testing_support::config_of;
using testing_support::dump;
using testing_support::errors_of;
using testing_support::has_error;

TEST(ConfigLimitsTest, LargeFlatListIsRefusedNamingTheNodeLimit) {
  // About 4 MB: one million entries, far past the node limit. Nodes counted: the root mapping,
  // the key 'nodes', the sequence, then the entries: entry k is node 3 + k, on line k + 1. Node
  // 200001, the first too many, is entry 199998.
  std::string yaml = "nodes:\n";
  for (int i = 0; i < 1'000'000; ++i) yaml += "- x\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "more than 200000 YAML nodes", 199'998 + 1, 3));
}

TEST(ConfigLimitsTest, LargeFlowListIsRefusedNamingTheNodeLimit) {
  std::string yaml = "nodes: [";
  for (int i = 0; i < 1'000'000; ++i) yaml += "x,";
  yaml += "x]\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("more than 200000 YAML nodes"), std::string::npos)
      << diags[0].message;
  EXPECT_EQ(diags[0].line, 1);
}

TEST(ConfigLimitsTest, TypesCopiedIntoManyInstancesCountTowardTheNodeLimit) {
  // A type of 1000 environment variables (about 2000 nodes) named by 150 components: 300 000
  // nodes once copied, from a file of some 30 KB.
  std::string yaml =
      "cluster: {name: c}\nnodes: [{name: n, controller: true}]\n"
      "component_types:\n  - name: t\n    command: x\n    cs_types: [s]\n"
      "    env: {";
  for (int i = 0; i < 1000; ++i) yaml += "V" + std::to_string(i) + ": v, ";
  yaml +=
      "LAST: v}\napplications:\n  - name: a\n    service_groups:\n      - name: g\n"
      "        redundancy: n-way-active\n        service_units:\n";
  for (int i = 0; i < 150; ++i) {
    yaml += "          - {name: su" + std::to_string(i) +
            ", node: n, components: [{name: c, type: t}]}\n";
  }
  yaml += "        service_instances: [{name: si, csis: [{name: x, cs_type: s}]}]\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("the types' keys copied into the instances that name them come "
                                  "to more than 200000 YAML nodes by here"),
            std::string::npos)
      << diags[0].message;
  // The 100th instance crosses it: 99 copies of about 2006 nodes are under 200 000.
  EXPECT_EQ(diags[0].line, 14 + 99);
}

TEST(ConfigLimitsTest, TypesCopiedIntoManyInstancesCountTowardTheTextLimit) {
  // A type of 60 arguments of 60 000 bytes (3.6 MB, 62 nodes) named by 6 components: 21.6 MB
  // once copied, past the 16 MiB of text a document may hold.
  std::string yaml =
      "cluster: {name: c}\nnodes: [{name: n, controller: true}]\n"
      "component_types:\n  - name: t\n    command: x\n    cs_types: [s]\n"
      "    args:\n";
  for (int i = 0; i < 60; ++i) yaml += "      - " + std::string(60'000, 'a') + "\n";
  yaml +=
      "applications:\n  - name: a\n    service_groups:\n      - name: g\n"
      "        redundancy: n-way-active\n        service_units:\n";
  for (int i = 0; i < 6; ++i) {
    yaml += "          - {name: su" + std::to_string(i) +
            ", node: n, components: [{name: c, type: t}]}\n";
  }
  yaml += "        service_instances: [{name: si, csis: [{name: x, cs_type: s}]}]\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("come to more than 16777216 bytes of text by here"),
            std::string::npos)
      << diags[0].message;
  EXPECT_EQ(diags[0].line, 74 + 4);  // the fifth instance (su0 is on line 74): 5 x 3.6 MB > 16 MiB
}

TEST(ConfigLimitsTest, LongScalarIsRefusedNamingTheScalarLimit) {
  std::string yaml = "cluster: {name: c}\nnodes: [{name: n, controller: true}]\nx: \"" +
                     std::string(70'000, 'a') + "\"\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "longer than 65536 bytes", 3, 4));
}

TEST(ConfigLimitsTest, AliasesOfLongScalarsAreBoundedInBytes) {
  // 60 kB expanded 300 times is 18 MB, from a file of 62 kB and only 300 nodes.
  std::string yaml = "a: &a \"" + std::string(60'000, 'a') + "\"\nb: [*a";
  for (int i = 1; i < 300; ++i) yaml += ", *a";
  yaml += "]\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("more than 16777216 bytes of text"), std::string::npos)
      << diags[0].message;
  EXPECT_EQ(diags[0].line, 2);
}

TEST(ConfigLimitsTest, RecursiveAliasIsRefused) {
  std::vector<Diagnostic> diags = errors_of("a: &a [x, *a]\n");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "refers to a node that contains it", 1, 11));
}

TEST(ConfigLimitsTest, AliasesStillWork) {
  model::ClusterConfig config = config_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: sg
        redundancy: 2n
        su_template:
          nodes: [n, n]
          components: &comps [{name: comp, command: server, cs_types: [t]}]
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
      - name: sg2
        redundancy: 2n
        su_template: {nodes: [n, n], components: *comps}
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
)");
  EXPECT_NE(config.find_component(CompId("sg2/su-2/comp")), nullptr);
}

// ---- 3. nesting -----------------------------------------------------------------------------

TEST(ConfigLimitsTest, DeepFlowNestingNamesTheDepthLimitAndPosition) {
  // "a: [[[...": the k-th '[' is at column 3 + k and at depth k; depth 65 is the first refused.
  for (int levels : {100, 5'000}) {
    std::string yaml = "a: " + std::string(levels, '[') + std::string(levels, ']') + "\n";
    std::vector<Diagnostic> diags = errors_of(yaml);
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_TRUE(has_error(diags, "nested deeper than 64 levels", 1, 68)) << levels;
  }
}

TEST(ConfigLimitsTest, DeepBlockNestingNamesTheDepthLimitAndPosition) {
  // Key k<i> sits on line i + 1, column i + 1, at depth i + 1.
  std::string yaml;
  for (int i = 0; i < 70; ++i) {
    yaml += std::string(i, ' ') + "k" + std::to_string(i) + ":" + (i == 69 ? " x" : "") + "\n";
  }
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "nested deeper than 64 levels", 65, 65));
}

}  // namespace
}  // namespace amf::config
