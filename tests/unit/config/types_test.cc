// Component and service group types, and YAML merge keys: the two ways an operator writes a
// default once (config/README.md, "Types and merge keys").
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using std::chrono::milliseconds;

using testing_support::config_of;
using testing_support::dump;
using testing_support::errors_of;
using testing_support::has_error;
using testing_support::has_error_at;
using testing_support::position_of;

constexpr std::string_view kHead = R"(cluster: {name: c}
nodes: [{name: n1, controller: true}, {name: n2}]
)";

std::string with_head(std::string_view rest) { return std::string(kHead) + std::string(rest); }

const model::ComponentConfig& component(const model::ClusterConfig& config, std::size_t sg,
                                        std::size_t su, std::size_t comp) {
  return config.applications.at(0).service_groups.at(sg).sus.at(su).components.at(comp);
}

// ---- merge keys ------------------------------------------------------------------------------

TEST(ConfigTypesTest, MergeKeysTakeWhatTheMappingDoesNotGiveItself) {
  model::ClusterConfig config = config_of(with_head(R"(x-defaults:
  component: &component
    command: /usr/bin/server
    args: [--quiet]
    cs_types: [svc]
    recovery: su-restart
    env: &env {LEVEL: info, MODE: primary}
  more: &more {disable_restart: true, recovery: node-failover}
applications:
  - name: app
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n1, n2]
          components:
            - <<: *component
              name: a
              recovery: component-restart
              env: {<<: *env, MODE: replica, EXTRA: "1"}
            - <<: [*component, *more]
              name: b
              cs_types: [other]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}, {name: y, cs_type: other}]}]
)"));
  ASSERT_EQ(config.applications.size(), 1u);
  const model::ComponentConfig& a = component(config, 0, 0, 0);
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.command, "/usr/bin/server");
  EXPECT_EQ(a.args, std::vector<std::string>{"--quiet"});
  EXPECT_EQ(a.recovery, model::Recovery::kComponentRestart);  // its own wins
  EXPECT_EQ(a.env.at("LEVEL"), "info");
  EXPECT_EQ(a.env.at("MODE"), "replica");
  EXPECT_EQ(a.env.at("EXTRA"), "1");
  const model::ComponentConfig& b = component(config, 0, 0, 1);
  EXPECT_EQ(b.recovery, model::Recovery::kSuRestart);  // of several, the first to give it
  EXPECT_TRUE(b.disable_restart);
  EXPECT_EQ(b.env.at("MODE"), "primary");
}

TEST(ConfigTypesTest, AQuotedMergeKeyIsAnOrdinaryKey) {
  std::vector<Diagnostic> diags =
      errors_of(with_head("applications:\n  - {name: app, \"<<\": {x: 1}, service_groups: []}\n"));
  EXPECT_TRUE(has_error(diags, "unknown key '<<' in application 'app'", 4)) << dump(diags);
}

TEST(ConfigTypesTest, AMergeKeyThatNamesNoMappingIsRefusedWhereItIs) {
  const std::string scalar = with_head("x-a: {<<: 3}\n");
  std::vector<Diagnostic> diags = errors_of(scalar);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "the merge key '<<' takes a mapping or a sequence of mappings",
                           position_of(scalar, "3}")))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "not a scalar", 3)) << dump(diags);

  diags = errors_of(with_head("x-a: {<<: [{a: 1}, 2]}\n"));
  EXPECT_TRUE(has_error(diags, "not a sequence holding something else", 3)) << dump(diags);

  const std::string twice = with_head("x-a: &a {k: 1}\nx-b: {<<: *a, j: 2, <<: *a}\n");
  diags = errors_of(twice);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(
      has_error(diags, "a second merge key '<<' in this mapping (the first is at line 4)", 4, 21))
      << dump(diags);
}

TEST(ConfigTypesTest, MergesChainAnEmptyListMergesNothingAndADuplicateInASourceIsRefused) {
  model::ClusterConfig config =
      config_of(with_head(R"(x-base: &base {command: /bin/base, cs_types: [svc]}
x-more: &more {<<: *base, recovery: su-restart}
applications:
  - name: app
    service_groups:
      - name: g
        <<: []
        redundancy: no-redundancy
        service_units: [{name: a, node: n1, components: [{<<: *more, name: c}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)"));
  ASSERT_EQ(config.applications.size(), 1u);
  EXPECT_EQ(component(config, 0, 0, 0).command, "/bin/base");
  EXPECT_EQ(component(config, 0, 0, 0).recovery, model::Recovery::kSuRestart);

  const std::string yaml = with_head("x-a: &a {k: 1, j: 2, k: 3}\nx-b: {<<: *a}\n");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(
      diags, "duplicate key 'k' in a mapping merged by '<<' (first given at line 3)", 3, 22))
      << dump(diags);
}

TEST(ConfigTypesTest, TopLevelKeysStartingWithXAreAPlaceForAnchors) {
  config_of(with_head("x-anything: {whatever: [1, 2]}\nx-more: 3\n"));
  std::vector<Diagnostic> diags = errors_of(with_head("extras: 1\n"));
  EXPECT_TRUE(has_error(diags,
                        "unknown key 'extras' in the configuration; valid keys: cluster, nodes, "
                        "applications, component_types, service_group_types, x-*",
                        3))
      << dump(diags);
}

// ---- types -----------------------------------------------------------------------------------

constexpr std::string_view kTypes = R"(component_types:
  - name: server
    command: /usr/bin/server
    args: [--serve]
    cs_types: [svc]
    recovery: su-failover
    env: {LEVEL: info, MODE: primary}
    timeouts: {instantiate_ms: 3000, cleanup_ms: 700}
    instantiated_when: started
    hooks: {on_active: promote, on_standby: demote}
service_group_types:
  - name: pair
    redundancy: 2n
    comp_restart_max: 3
    su_restart_probation_ms: 9000
    auto_repair: false
)";

TEST(ConfigTypesTest, InstancesTakeTheirTypesDefaultsAndOverrideThem) {
  model::ClusterConfig config = config_of(with_head(std::string(kTypes) + R"(applications:
  - name: app
    service_groups:
      - name: g
        type: pair
        auto_repair: true
        service_units:
          - name: su-1
            node: n1
            components:
              - {name: plain, type: server}
              - name: tuned
                type: server
                cs_types: [other]
                recovery: component-restart
                env: {MODE: replica, EXTRA: "1"}
                timeouts: {cleanup_ms: 200}
                hooks: {on_active: promote-harder}
        service_instances:
          - {name: si, csis: [{name: x, cs_type: svc}, {name: y, cs_type: other}]}
      - name: h
        type: pair
        redundancy: no-redundancy
        su_template:
          nodes: [n2]
          components: [{name: c, type: server, cs_types: [svc, other]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)"));
  ASSERT_EQ(config.applications.size(), 1u);
  const model::SgConfig& g = config.applications[0].service_groups.at(0);
  EXPECT_EQ(g.redundancy, model::RedundancyModel::kTwoN);
  EXPECT_EQ(g.comp_restart_max, 3);
  EXPECT_EQ(g.su_restart_probation, milliseconds(9000));
  EXPECT_TRUE(g.auto_repair);  // its own wins
  const model::SgConfig& h = config.applications[0].service_groups.at(1);
  EXPECT_EQ(h.redundancy, model::RedundancyModel::kNoRedundancy);
  EXPECT_FALSE(h.auto_repair);

  const model::ComponentConfig& plain = component(config, 0, 0, 0);
  EXPECT_EQ(plain.name, "plain");
  EXPECT_EQ(plain.command, "/usr/bin/server");
  EXPECT_EQ(plain.args, std::vector<std::string>{"--serve"});
  EXPECT_EQ(plain.cs_types, std::vector<std::string>{"svc"});
  EXPECT_EQ(plain.recovery, model::Recovery::kSuFailover);
  EXPECT_EQ(plain.env.size(), 2u);
  EXPECT_EQ(plain.timeouts.instantiate, milliseconds(3000));
  EXPECT_EQ(plain.timeouts.cleanup, milliseconds(700));
  EXPECT_EQ(plain.instantiated_when, model::InstantiatedWhen::kStarted);
  EXPECT_EQ(plain.hooks.on_active, "promote");

  // env, timeouts and hooks extend the type's; every other key replaces it.
  const model::ComponentConfig& tuned = component(config, 0, 0, 1);
  EXPECT_EQ(tuned.recovery, model::Recovery::kComponentRestart);
  EXPECT_EQ(tuned.env.at("LEVEL"), "info");
  EXPECT_EQ(tuned.env.at("MODE"), "replica");
  EXPECT_EQ(tuned.env.at("EXTRA"), "1");
  EXPECT_EQ(tuned.timeouts.instantiate, milliseconds(3000));
  EXPECT_EQ(tuned.timeouts.cleanup, milliseconds(200));
  EXPECT_EQ(tuned.hooks.on_active, "promote-harder");
  EXPECT_EQ(tuned.hooks.on_standby, "demote");

  const model::ComponentConfig& stamped = component(config, 1, 0, 0);
  EXPECT_EQ(stamped.cs_types, (std::vector<std::string>{"svc", "other"}));
  EXPECT_EQ(stamped.dn, "safComp=c,safSu=su-1,safSg=h,safApp=app");
}

TEST(ConfigTypesTest, AProblemInATypeIsReportedOnceAtTheTypeHoweverManyInheritIt) {
  const std::string yaml = with_head(R"(component_types:
  - {name: t, command: x, cs_types: [svc], recovery: sideways, instantiate_retries: -1}
applications:
  - name: app
    service_groups:
      - name: g
        redundancy: n-way-active
        service_units:
          - {name: a, node: n1, components: [{name: c, type: t}, {name: d, type: t, cs_types: [o]}]}
          - {name: b, node: n2, components: [{name: c, type: t}, {name: d, type: t, cs_types: [o]}]}
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}, {name: y, cs_type: o}]}]
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 2u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "invalid recovery 'sideways' in component type 't'",
                           position_of(yaml, "sideways")))
      << dump(diags);
  EXPECT_TRUE(
      has_error_at(diags, "'instantiate_retries' in component type 't'", position_of(yaml, "-1")))
      << dump(diags);
}

TEST(ConfigTypesTest, TypesAreCheckedWhenNothingUsesThem) {
  const std::string yaml = with_head(R"(component_types:
  - {name: t, type: u, comand: x}
  - {name: t}
  - {command: y}
service_group_types:
  - {name: s, redundancy: 3n, admin_state: locked, service_units: []}
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error(diags, "unknown key 'type' in component type 't'", 4)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'comand' in component type 't'", 4)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "did you mean 'command'?", 4)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "duplicate component type name 't'", 5)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "component type is missing required key 'name'", 6)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "invalid redundancy '3n' in service group type 's'", 8))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'admin_state' in service group type 's'", 8))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'service_units' in service group type 's'", 8))
      << dump(diags);
  EXPECT_EQ(diags.size(), 7u) << dump(diags);
}

TEST(ConfigTypesTest, KeysATypeMayNotHaveAreReportedOnceAndNotInherited) {
  const std::string yaml = with_head(R"(service_group_types:
  - name: s
    redundancy: 2n
    admin_state: bogus
    service_units: [{name: extra, node: nowhere, components: []}]
    service_instances: []
applications:
  - name: app
    service_groups:
      - name: g
        type: s
        service_units: [{name: a, node: n1, components: [{name: c, command: x, cs_types: [t]}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: t}]}]
      - name: h
        type: s
        service_units: [{name: a, node: n1, components: [{name: c, command: x, cs_types: [t]}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: t}]}]
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error(diags, "unknown key 'admin_state' in service group type 's'", 6))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'service_units' in service group type 's'", 7))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'service_instances' in service group type 's'", 8))
      << dump(diags);
  // Nothing about the node 'nowhere' or the SU 'extra': the SGs did not inherit them.
  EXPECT_EQ(diags.size(), 4u) << dump(diags);  // and the admin_state value, read at the type
}

TEST(ConfigTypesTest, ARuleThatSpansKeysBrokenForManyInstancesIsListedOncePerMessage) {
  // Three SUs whose component 'c' inherits hooks but is SA-aware: one line, not three.
  const std::string yaml = with_head(R"(component_types:
  - {name: t, command: x, cs_types: [svc], hooks: {on_active: promote}}
applications:
  - name: app
    service_groups:
      - name: g
        redundancy: n-way-active
        su_template:
          nodes: [n1, n2]
          components: [{name: c, type: t}]
        service_units:
          - {name: a, node: n1, components: [{name: c, type: t}]}
          - {name: b, node: n2, components: [{name: c, type: t}]}
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "'hooks' in component 'c' needs 'instantiated_when'",
                           position_of(yaml, "hooks")))
      << dump(diags);
}

TEST(ConfigTypesTest, ATypeThatIsNotANameIsReported) {
  std::vector<Diagnostic> diags = errors_of(with_head(std::string(kTypes) + R"(applications:
  - name: app
    service_groups:
      - name: g
        type: [pair]
        redundancy: 2n
        service_units: [{name: a, node: n1, components: [{name: c, type: ~}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)"));
  EXPECT_TRUE(
      has_error(diags, "expected a string for 'type' (a service group type), got a sequence", 23))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "expected a string for 'type' (a component type), got nothing", 25))
      << dump(diags);
  EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(ConfigTypesTest, AnUnknownTypeNamesTheKnownOnesWithoutACascade) {
  const std::string yaml = with_head(std::string(kTypes) + R"(applications:
  - name: app
    service_groups:
      - name: g
        type: pairs
        service_units: [{name: a, node: n1, components: [{name: c, type: sever}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error_at(diags,
                           "unknown service group type 'pairs'; known: pair; did you mean 'pair'?",
                           position_of(yaml, "pairs")))
      << dump(diags);
  EXPECT_TRUE(has_error_at(diags,
                           "unknown component type 'sever'; known: server; did you mean 'server'?",
                           position_of(yaml, "sever}")))
      << dump(diags);
  // Not "missing required key 'redundancy'" nor 'command': they may be in the type meant.
  EXPECT_EQ(diags.size(), 2u) << dump(diags);

  diags = errors_of(with_head(R"(applications:
  - name: app
    service_groups:
      - name: g
        redundancy: 2n
        service_units: [{name: a, node: n1, components: [{name: c, type: server}]}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)"));
  EXPECT_TRUE(has_error(diags,
                        "unknown component type 'server'; none is defined (define it in "
                        "'component_types' at the top level)",
                        8))
      << dump(diags);
}

TEST(ConfigTypesTest, RulesThatSpanKeysAreCheckedOnTheInstance) {
  // The type's hooks need a component that is not SA-aware; this instance makes it one.
  const std::string yaml = with_head(std::string(kTypes) + R"(applications:
  - name: app
    service_groups:
      - name: g
        type: pair
        service_units:
          - name: a
            node: n1
            components: [{name: c, type: server, instantiated_when: registered}]
        service_instances: [{name: si, csis: [{name: x, cs_type: svc}]}]
)");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "'hooks' in component 'c' needs 'instantiated_when'",
                           position_of(yaml, "hooks")))
      << dump(diags);
}

TEST(ConfigTypesTest, TheReferencesExampleLoads) {
  std::ifstream file(std::string(AMF_SOURCE_DIR) + "/config/README.md");
  std::stringstream text;
  text << file.rdbuf();
  const std::string readme = text.str();
  const std::size_t section = readme.find("## Types and merge keys");
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = readme.find("```yaml\n", section) + 8;
  const std::size_t end = readme.find("```", begin);
  ASSERT_LT(begin, end);
  model::ClusterConfig config =
      config_of("cluster: {name: c}\nnodes: [{name: node-1, controller: true}]\n" +
                readme.substr(begin, end - begin) +
                "        service_instances: [{name: si, csis: [{name: x, cs_type: counter}]}]\n");
  ASSERT_EQ(config.applications.size(), 1u);
  const model::SgConfig& sg = config.applications[0].service_groups.at(0);
  EXPECT_EQ(sg.redundancy, model::RedundancyModel::kTwoN);
  EXPECT_EQ(sg.comp_restart_max, 3);
  const model::ComponentConfig& server = sg.sus.at(0).components.at(0);
  EXPECT_EQ(server.command, "amf-counter");
  EXPECT_EQ(server.env.at("COUNTER_LOG"), "info");
  EXPECT_EQ(server.env.at("COUNTER_PORT"), "47011");
  ASSERT_TRUE(server.probe.has_value());
  EXPECT_EQ(server.probe->port, 47011);
  EXPECT_EQ(server.probe->period, milliseconds(200));
}

}  // namespace
}  // namespace amf::config
