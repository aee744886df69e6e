// Name lengths, bounded so that the files amfd derives from names can be created.
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
using testing_support::has_error_at;
using testing_support::position_of;

std::string su_config(std::string_view sg, std::string_view su, std::string_view comp) {
  return R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: )" +
         std::string(sg) + R"(
        redundancy: no-redundancy
        service_units:
          - name: )" +
         std::string(su) + R"(
            node: n
            components: [{name: )" +
         std::string(comp) + R"(, command: server, cs_types: [t]}]
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
)";
}

TEST(ConfigNameLengthTest, LongServiceUnitNameIsRefusedWhereItIs) {
  const std::string su(300, 's');
  std::vector<Diagnostic> diags = errors_of(su_config("sg", su, "comp"));
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "is 300 characters long; service unit names are at most 32", 9, 19));
}

TEST(ConfigNameLengthTest, NamesAtTheLimitAreAccepted) {
  // The longest names and the longest component identifier: 32 + 1 + 29 + 1 + 1 = 64.
  model::ClusterConfig config =
      config_of(su_config(std::string(32, 'g'), std::string(29, 'u'), std::string(1, 'c')));
  EXPECT_EQ(config.service_groups().size(), 1u);
}

TEST(ConfigNameLengthTest, EachEntityHasItsLimit) {
  // One name too long of each kind, each made of its own letter so the test can find it.
  auto name = [](char c, std::size_t length) { return std::string(length, c); };
  const std::string yaml = R"(cluster: {name: )" + name('k', 65) + R"(}
nodes: [{name: )" + name('n', 65) +
                           R"(, controller: true}, {name: n, controller: true}]
applications:
  - name: )" + name('a', 65) +
                           R"(
    service_groups:
      - name: )" + name('g', 33) +
                           R"(
        redundancy: 2n
        su_template:
          nodes: [n, n]
          components:
            - {name: )" + name('c', 33) +
                           R"(, command: server, cs_types: [)" + name('t', 65) + R"(]}
        service_instances:
          - name: )" + name('i', 65) +
                           R"(
            csis: [{name: )" +
                           name('s', 65) + R"(, cs_type: t}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  auto at = [&](char c, std::size_t length) { return position_of(yaml, name(c, length)); };
  EXPECT_TRUE(has_error_at(diags, "is 65 characters long; cluster names are at most 64 characters",
                           at('k', 65)));
  EXPECT_TRUE(has_error_at(diags, "node names are at most 64", at('n', 65)));
  EXPECT_TRUE(has_error_at(diags, "application names are at most 64", at('a', 65)));
  EXPECT_TRUE(has_error_at(diags, "service group names are at most 32", at('g', 33)));
  EXPECT_TRUE(has_error_at(diags, "component names are at most 32", at('c', 33)));
  EXPECT_TRUE(has_error_at(diags, "CS type names are at most 64", at('t', 65)));
  EXPECT_TRUE(has_error_at(diags, "service instance names are at most 64", at('i', 65)));
  EXPECT_TRUE(has_error_at(diags, "CSI names are at most 64", at('s', 65)));
}

TEST(ConfigNameLengthTest, ComponentIdentifierIsBounded) {
  // Each name is within its limit, but sg/su/comp is 32 + 1 + 31 + 1 + 4 = 69 characters.
  const std::string yaml = su_config(std::string(32, 'g'), std::string(31, 'u'), "comp");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "component identifier", position_of(yaml, "comp,")));
  EXPECT_NE(diags[0].message.find("is 69 characters long; at most 64"), std::string::npos)
      << diags[0].message;
}

TEST(ConfigNameLengthTest, StampedNamesAreBoundedAtTheirPrefix) {
  const std::string yaml = R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          name_prefix: )" + std::string(31, 'p') +
                           R"(
          nodes: [n, n]
          components: [{name: comp, command: server, cs_types: [t]}]
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "service unit names are at most 32", 9, 24));
}

TEST(ConfigNameLengthTest, ComponentsMustNotShareTheirFileNames) {
  // amfd names a component's log file and notify socket after its identifier with '/' as '_':
  // a/b_c/d and a_b/c/d would both be a_b_c_d.log.
  const std::string yaml = R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: a
        redundancy: no-redundancy
        service_units: [{name: b_c, node: n, components: [{name: d, command: x, cs_types: [t]}]}]
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
      - name: a_b
        redundancy: no-redundancy
        service_units: [{name: c, node: n, components: [{name: d, command: x, cs_types: [t]}]}]
        service_instances: [{name: si, csis: [{name: csi, cs_type: t}]}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "component 'a_b/c/d' and component 'a/b_c/d' (line 8) would share the "
                        "file name a_b_c_d",
                        12, 64));
}

}  // namespace
}  // namespace amf::config
