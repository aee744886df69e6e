// User text echoed in diagnostics and the summary reaches the terminal escaped.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using testing_support::dump;
using testing_support::errors_of;
using testing_support::has_error;
using testing_support::printable_ascii;

TEST(ConfigEscapingTest, ControlCharactersInEchoedTextAreEscaped) {
  const std::string yaml = R"(cluster: {name: c}
nodes: [{name: "n\e[2J", controller: true}]
"x\e]0;pwned\a": 1
applications:
  - name: app
    service_groups:
      - name: sg
        redundancy: "2n\r"
        su_template:
          nodes: [n]
          components:
            - name: comp
              command: server
              cs_types: [t]
              recovery: "restart\u009b"
        service_instances:
          - name: si
            dependencies: [{sponsor: "a\nb"}]
            csis: [{name: csi, cs_type: t}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(printable_ascii(diags)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "invalid name 'n\\x1b[2J'", 2, 16));
  EXPECT_TRUE(has_error(diags, "unknown key 'x\\x1b]0;pwned\\x07'", 3, 1));
  EXPECT_TRUE(has_error(diags, "invalid redundancy '2n\\r'", 8, 21));
  EXPECT_TRUE(has_error(diags, "invalid recovery 'restart\\u009b'", 15, 25));
  EXPECT_TRUE(has_error(diags, "unknown sponsor 'a\\nb'", 18, 38));
}

TEST(ConfigEscapingTest, FileNameIsEscaped) {
  LoadResult result = load_string("x: [", "evil\x1b[31m.yaml");
  ASSERT_FALSE(result.has_value());
  EXPECT_TRUE(printable_ascii(result.error()));
  EXPECT_EQ(result.error()[0].file, "evil\\x1b[31m.yaml");
}

TEST(ConfigEscapingTest, SummaryEscapesTheClusterName) {
  model::ClusterConfig config;
  config.name = "c\x1b[2J\n";
  EXPECT_EQ(summary(config),
            "cluster 'c\\x1b[2J\\n': 0 nodes, 0 applications, 0 service groups, 0 service units, "
            "0 components, 0 service instances, 0 CSIs");
}

}  // namespace
}  // namespace amf::config
