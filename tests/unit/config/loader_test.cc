#include "config/loader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using std::chrono::milliseconds;

using testing_support::config_of;
using testing_support::dump;
using testing_support::errors_of;
using testing_support::has_error;

// ---- loading valid configurations ------------------------------------------------------------

TEST(ConfigLoaderTest, LoadsDemoExample) {
  LoadResult result = load_file(AMF_SOURCE_DIR "/config/examples/demo.yaml");
  ASSERT_TRUE(result.has_value()) << dump(result.error());
  const model::ClusterConfig& config = *result;

  EXPECT_EQ(config.name, "demo");
  ASSERT_EQ(config.nodes.size(), 1u);
  EXPECT_EQ(config.nodes[0].id, NodeId("node-1"));
  EXPECT_EQ(config.nodes[0].address, "127.0.0.1");
  EXPECT_TRUE(config.nodes[0].controller);

  ASSERT_EQ(config.applications.size(), 1u);
  EXPECT_EQ(config.applications[0].id, AppId("counter"));
  ASSERT_EQ(config.applications[0].service_groups.size(), 1u);
  const model::SgConfig& sg = config.applications[0].service_groups[0];
  EXPECT_EQ(sg.id, SgId("counter"));
  EXPECT_EQ(sg.app, AppId("counter"));
  EXPECT_EQ(sg.redundancy, model::RedundancyModel::kTwoN);
  EXPECT_TRUE(sg.auto_repair);
  EXPECT_FALSE(sg.auto_adjust);
  EXPECT_EQ(sg.preferred_active_sus, 1);
  EXPECT_EQ(sg.preferred_standby_sus, 1);

  ASSERT_EQ(sg.sus.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const model::SuConfig& su = sg.sus[i];
    std::string name = "su-" + std::to_string(i + 1);
    EXPECT_EQ(su.id, SuId("counter/" + name));
    EXPECT_EQ(su.name, name);
    EXPECT_EQ(su.node, NodeId("node-1"));
    EXPECT_EQ(su.rank, i + 1);
    ASSERT_EQ(su.components.size(), 1u);
    const model::ComponentConfig& comp = su.components[0];
    EXPECT_EQ(comp.id, CompId("counter/" + name + "/server"));
    EXPECT_EQ(comp.command, "amf-demo-counter");
    EXPECT_TRUE(comp.args.empty());
    EXPECT_EQ(comp.cs_types, std::vector<std::string>{"counter"});
    EXPECT_EQ(comp.recovery, model::Recovery::kComponentFailover);
    EXPECT_EQ(comp.timeouts.instantiate, milliseconds(5000));
    EXPECT_EQ(comp.timeouts.csi_set, milliseconds(1000));
    EXPECT_EQ(comp.timeouts.terminate, milliseconds(5000));   // default
    EXPECT_EQ(comp.timeouts.csi_remove, milliseconds(5000));  // default
    EXPECT_EQ(comp.instantiate_retries, 2);                   // default
    EXPECT_FALSE(comp.disable_restart);
    EXPECT_FALSE(comp.health_check.has_value());
  }

  ASSERT_EQ(sg.sis.size(), 1u);
  const model::SiConfig& si = sg.sis[0];
  EXPECT_EQ(si.id, SiId("counter/si-1"));
  EXPECT_EQ(si.rank, 0);
  ASSERT_EQ(si.csis.size(), 1u);
  EXPECT_EQ(si.csis[0].id, CsiId("counter/si-1/endpoint"));
  EXPECT_EQ(si.csis[0].cs_type, "counter");
  EXPECT_EQ(si.csis[0].attributes,
            (model::CsiAttributes{{"checkpoint", "counter"}, {"port", "47011"}}));

  EXPECT_NE(config.find_component(CompId("counter/su-2/server")), nullptr);
}

TEST(ConfigLoaderTest, LoadsEveryKey) {
  model::ClusterConfig config = config_of(R"(cluster: {name: full}
nodes:
  - {name: a, address: 10.0.0.1, controller: true}
  - {name: b, controller: false}
  - {name: c}
applications:
  - name: shop
    service_groups:
      - name: web
        redundancy: n+m
        auto_repair: false
        auto_adjust: true
        preferred_active_sus: 2
        preferred_standby_sus: 1
        preferred_inservice_sus: 3
        max_active_sis_per_su: 4
        max_standby_sis_per_su: 5
        service_units:
          - name: front
            node: b
            rank: 7
            components:
              - name: httpd
                command: /usr/sbin/httpd
                args: [-f, 8080]
                env: {LOG_LEVEL: debug, _X1: "1"}
                cs_types: [web, cache]
                recovery: su-restart
                instantiate_retries: 0
                disable_restart: true
                timeouts:
                  instantiate_ms: 1
                  terminate_ms: 2
                  cleanup_ms: 3
                  csi_set_ms: 4
                  csi_remove_ms: 5
                health_check: {key: hc, period_ms: 100, max_duration_ms: 50}
        su_template:
          name_prefix: web
          nodes: [a, c]
          components: [{name: httpd, command: httpd, cs_types: [web, cache]}]
        service_instances:
          - name: shop
            rank: 1
            csis:
              - {name: http, cs_type: web, attributes: {port: 80, tls: false}}
              - {name: mem, cs_type: cache}
      - name: pool
        redundancy: n-way-active
        preferred_assigned_sus: 2
        su_template: {nodes: [a, b], components: [{name: w, command: w, cs_types: [job]}]}
        service_instances:
          - {name: jobs, preferred_active_assignments: 2, csis: [{name: q, cs_type: job}]}
      - name: db
        redundancy: n-way
        su_template: {nodes: [a, b, c], components: [{name: d, command: d, cs_types: [db]}]}
        service_instances:
          - {name: data, preferred_standby_assignments: 2, csis: [{name: t, cs_type: db}]}
)");
  ASSERT_EQ(config.nodes.size(), 3u);
  EXPECT_EQ(config.nodes[0].address, "10.0.0.1");
  EXPECT_FALSE(config.nodes[1].controller);
  EXPECT_EQ(config.nodes[2].address, "127.0.0.1");

  const model::SgConfig* web = config.find_sg(SgId("web"));
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->redundancy, model::RedundancyModel::kNPlusM);
  EXPECT_FALSE(web->auto_repair);
  EXPECT_TRUE(web->auto_adjust);
  EXPECT_EQ(web->preferred_active_sus, 2);
  EXPECT_EQ(web->preferred_standby_sus, 1);
  EXPECT_EQ(web->preferred_inservice_sus, 3);
  EXPECT_EQ(web->max_active_sis_per_su, 4);
  EXPECT_EQ(web->max_standby_sis_per_su, 5);
  // Stamped SUs come first, then the explicit ones.
  ASSERT_EQ(web->sus.size(), 3u);
  EXPECT_EQ(web->sus[0].id, SuId("web/web-1"));
  EXPECT_EQ(web->sus[1].id, SuId("web/web-2"));
  EXPECT_EQ(web->sus[1].node, NodeId("c"));
  EXPECT_EQ(web->sus[2].id, SuId("web/front"));
  EXPECT_EQ(web->sus[2].rank, 7);

  const model::ComponentConfig* httpd = config.find_component(CompId("web/front/httpd"));
  ASSERT_NE(httpd, nullptr);
  EXPECT_EQ(httpd->command, "/usr/sbin/httpd");
  EXPECT_EQ(httpd->args, (std::vector<std::string>{"-f", "8080"}));
  EXPECT_EQ(httpd->env, (std::map<std::string, std::string>{{"LOG_LEVEL", "debug"}, {"_X1", "1"}}));
  EXPECT_EQ(httpd->cs_types, (std::vector<std::string>{"web", "cache"}));
  EXPECT_EQ(httpd->recovery, model::Recovery::kSuRestart);
  EXPECT_EQ(httpd->instantiate_retries, 0);
  EXPECT_TRUE(httpd->disable_restart);
  EXPECT_EQ(httpd->timeouts.instantiate, milliseconds(1));
  EXPECT_EQ(httpd->timeouts.terminate, milliseconds(2));
  EXPECT_EQ(httpd->timeouts.cleanup, milliseconds(3));
  EXPECT_EQ(httpd->timeouts.csi_set, milliseconds(4));
  EXPECT_EQ(httpd->timeouts.csi_remove, milliseconds(5));
  ASSERT_TRUE(httpd->health_check.has_value());
  EXPECT_EQ(httpd->health_check->key, "hc");
  EXPECT_EQ(httpd->health_check->period, milliseconds(100));
  EXPECT_EQ(httpd->health_check->max_duration, milliseconds(50));

  const model::SiConfig* shop = config.find_si(SiId("web/shop"));
  ASSERT_NE(shop, nullptr);
  EXPECT_EQ(shop->rank, 1);
  ASSERT_EQ(shop->csis.size(), 2u);
  EXPECT_EQ(shop->csis[0].attributes, (model::CsiAttributes{{"port", "80"}, {"tls", "false"}}));

  EXPECT_EQ(config.find_sg(SgId("pool"))->preferred_assigned_sus, 2);
  EXPECT_EQ(config.find_si(SiId("pool/jobs"))->preferred_active_assignments, 2);
  EXPECT_EQ(config.find_si(SiId("db/data"))->preferred_standby_assignments, 2);
}

// A 2N SG 'db' of SUs su-1 and su-2 with one CSI 'shard' (line 12), whose remaining keys are
// `csi_keys` (each line indented for the CSI's mapping; the first is line 14).
std::string shard_csi_yaml(const std::string& csi_keys) {
  return R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: db
    service_groups:
      - name: db
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: d, command: x, cs_types: [shard]}]}
        service_instances:
          - name: si
            csis:
              - name: shard
                cs_type: shard
)" + csi_keys;
}

TEST(ConfigLoaderTest, CsiAttributesMayHaveSeveralValuesOrNone) {
  model::ClusterConfig config = config_of(shard_csi_yaml(
      "                attributes: {peers: [sc-2:5432, sc-1:5432], read_only: [], port: 5432, "
      "one: [x]}\n"));
  ASSERT_EQ(config.applications.size(), 1u);
  EXPECT_EQ(config.find_si(SiId("db/si"))->csis.at(0).attributes,
            (model::CsiAttributes{{"one", "x"},
                                  {"peers", "sc-2:5432"},
                                  {"peers", "sc-1:5432"},
                                  {"port", "5432"},
                                  {"read_only", ""}}));

  std::vector<Diagnostic> diags = errors_of(
      shard_csi_yaml("                attributes: {peers: [a, {b: c}], gone: , nested: {x: 1}}\n"));
  EXPECT_TRUE(
      has_error(diags, "expected a scalar value in the list of 'peers' in 'attributes'", 14, 41))
      << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "expected a scalar value or a list of them for 'gone' in 'attributes' "
                        "in CSI 'shard', got nothing (write \"\" for an empty string, [] for no "
                        "value)",
                        14))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "expected a scalar value or a list of them for 'nested'", 14))
      << dump(diags);
  EXPECT_EQ(diags.size(), 3u) << dump(diags);
}

TEST(ConfigLoaderTest, EachSuMayHaveItsOwnCsiAttributeValues) {
  const std::string kHead =
      shard_csi_yaml("                attributes: {host: 0.0.0.0, port: 5432}\n");
  model::ClusterConfig config = config_of(kHead + R"(                su_attributes:
                  - {su: su-1, attributes: {host: 10.0.0.1}}
                  - {su: su-2, attributes: {host: [10.0.0.2, 10.0.0.3], tls: []}}
)");
  ASSERT_EQ(config.applications.size(), 1u);
  const model::CsiConfig& csi = config.find_si(SiId("db/si"))->csis.at(0);
  EXPECT_EQ(csi.attributes_for(SuId("db/su-1")),
            (model::CsiAttributes{{"host", "10.0.0.1"}, {"port", "5432"}}));
  EXPECT_EQ(csi.attributes_for(SuId("db/su-2")),
            (model::CsiAttributes{
                {"host", "10.0.0.2"}, {"host", "10.0.0.3"}, {"port", "5432"}, {"tls", ""}}));
  EXPECT_EQ(csi.attributes_for(SuId("db/other")), csi.attributes);

  std::vector<Diagnostic> diags = errors_of(kHead + R"(                su_attributes:
                  - {su: su-3, attributes: {host: a}}
                  - {su: su-1, attributes: {host: a}}
                  - {su: su-1, attributes: {host: b}}
                  - {su: su-2}
                  - {su: su-2, attributes: {host: a}, port: 1}
)");
  EXPECT_TRUE(has_error(diags,
                        "unknown service unit 'su-3' in su_attributes entry of CSI 'shard'; "
                        "service units of db: su-1, su-2",
                        16, 26))
      << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "service unit 'su-1' given twice in su_attributes of CSI 'shard'; first "
                        "at line 17",
                        18, 26))
      << dump(diags);
  EXPECT_TRUE(has_error(diags, "missing required key 'attributes'", 19)) << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'port'", 20)) << dump(diags);
}

TEST(ConfigLoaderTest, ApplicationsAreOptional) {
  model::ClusterConfig absent =
      config_of("cluster: {name: c}\nnodes: [{name: n, controller: true}]\n");
  EXPECT_TRUE(absent.applications.empty());
  model::ClusterConfig empty =
      config_of("cluster: {name: c}\nnodes: [{name: n, controller: true}]\napplications: []\n");
  EXPECT_TRUE(empty.applications.empty());
}

// ---- membership --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, MembershipKeysAndTheVoters) {
  model::ClusterConfig config = config_of(R"(cluster: {name: c, membership_profile: fast}
nodes:
  - {name: sc-1, controller: true, membership_port: 7401}
  - {name: sc-2, controller: true, membership_port: 7402}
  - {name: pl-1, witness: true}
  - {name: pl-2}
)");
  EXPECT_EQ(config.membership_profile, "fast");
  EXPECT_EQ(config.nodes[0].membership_port, 7401);
  EXPECT_EQ(config.nodes[0].command_port, 7302);
  EXPECT_EQ(config.nodes[0].checkpoint_port, 7303);
  EXPECT_TRUE(config.etcd.empty());
  EXPECT_EQ(config.nodes[2].membership_port, 7301);
  EXPECT_TRUE(config.nodes[2].witness);
  EXPECT_EQ(config.voters(), (std::vector<NodeId>{NodeId("sc-1"), NodeId("sc-2"), NodeId("pl-1")}));
  EXPECT_EQ(
      config_of("cluster: {name: c}\nnodes: [{name: n, controller: true}]\n").membership_profile,
      "default");
}

TEST(ConfigLoaderTest, TheCheckpointStoreIsMemoryOrFile) {
  EXPECT_EQ(
      config_of("cluster: {name: c}\nnodes: [{name: n, controller: true}]\n").checkpoint_store,
      model::CheckpointStorage::kMemory);
  EXPECT_EQ(config_of("cluster: {name: c, checkpoint_store: file}\n"
                      "nodes: [{name: n, controller: true}]\n")
                .checkpoint_store,
            model::CheckpointStorage::kFile);
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, checkpoint_store: disk}\n"
                                  "nodes: [{name: a, controller: true}]\n"),
                        "'checkpoint_store' in the cluster is 'disk'; it must be 'memory' or "
                        "'file'",
                        1, 38));
}

TEST(ConfigLoaderTest, TheCheckpointRecoveryWaitIsAPositiveDuration) {
  EXPECT_EQ(config_of("cluster: {name: c}\nnodes: [{name: n, controller: true}]\n")
                .checkpoint_recovery_wait,
            std::chrono::milliseconds(1'000));
  EXPECT_EQ(config_of("cluster: {name: c, checkpoint_recovery_wait_ms: 60000}\n"
                      "nodes: [{name: n, controller: true}]\n")
                .checkpoint_recovery_wait,
            std::chrono::milliseconds(60'000));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, checkpoint_recovery_wait_ms: 0}\n"
                                  "nodes: [{name: a, controller: true}]\n"),
                        "'checkpoint_recovery_wait_ms' in cluster 'c' must be a positive number of "
                        "milliseconds, at most 86400000 (24 h), got 0",
                        1, 49));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, checkpoint_recovery_wait_ms: soon}\n"
                                  "nodes: [{name: a, controller: true}]\n"),
                        "expected an integer (milliseconds) for 'checkpoint_recovery_wait_ms' in "
                        "cluster 'c', got 'soon'",
                        1, 49));
}

TEST(ConfigLoaderTest, TwoVotersWithoutAWitnessAreRefusedWithTheWayOut) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - {name: sc-1, controller: true}
  - {name: sc-2, controller: true}
  - {name: pl-1}
)");
  EXPECT_TRUE(has_error(diags,
                        "two voters (sc-1 and sc-2) cannot keep a majority when either is lost, "
                        "so every node would fence itself: add a witness ('witness: true' on a "
                        "third node",
                        2, 1));
  // One controller and a witness are two voters too.
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c}\nnodes: [{name: a, controller: true}, "
                                  "{name: b, witness: true}]\n"),
                        "two voters (a and b)", 2, 1));
  // A single node needs no majority of anyone.
  EXPECT_EQ(config_of("cluster: {name: c}\nnodes: [{name: a, controller: true}]\n").voters().size(),
            1u);
}

TEST(ConfigLoaderTest, BadMembershipSettingsSayWhatAndWhere) {
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, membership_profile: quick}\n"
                                  "nodes: [{name: a, controller: true}]\n"),
                        "unknown membership profile 'quick' (expected fast or default)", 1, 40));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c}\n"
                                  "nodes: [{name: a, controller: true, witness: true}]\n"),
                        "'witness' on node 'a', which is a controller", 2, 37));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c}\n"
                                  "nodes: [{name: a, controller: true, membership_port: 70000}]\n"),
                        "membership_port", 2, 54));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c}\n"
                                  "nodes: [{name: a, controller: true, command_port: 0}]\n"),
                        "command_port", 2, 51));
}

TEST(ConfigLoaderTest, EtcdMembersAreIpAddressesWithPorts) {
  model::ClusterConfig config = config_of(
      "cluster: {name: c, etcd: [\"127.0.0.1:2379\", \"[::1]:2380\"]}\n"
      "nodes: [{name: a, controller: true, command_port: 7402}]\n");
  EXPECT_EQ(config.etcd, (std::vector<std::string>{"127.0.0.1:2379", "[::1]:2380"}));
  EXPECT_EQ(config.nodes[0].command_port, 7402);
  const std::string nodes = "nodes: [{name: a, controller: true}]\n";
  for (const std::string bad : {"localhost:2379", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999",
                                "::1:2379", "127.0.0.1:23x9"}) {
    EXPECT_TRUE(has_error(errors_of("cluster: {name: c, etcd: [\"" + bad + "\"]}\n" + nodes),
                          "etcd member '" + bad + "' is not HOST:PORT with an IP address", 1, 27))
        << bad;
  }
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, etcd: []}\n" + nodes),
                        "'etcd' in cluster needs at least one member", 1, 26));
  EXPECT_TRUE(
      has_error(errors_of("cluster: {name: c, etcd: [\"127.0.0.1:1\", \"127.0.0.1:1\"]}\n" + nodes),
                "duplicate etcd member '127.0.0.1:1'", 1, 42));
  EXPECT_TRUE(has_error(errors_of("cluster: {name: c, etcd: 127.0.0.1:2379}\n" + nodes),
                        "expected a sequence for 'etcd' in cluster 'c'", 1, 26));
}

// ---- keys -------------------------------------------------------------------------------------

TEST(ConfigLoaderTest, UnknownKeyListsValidKeysAndSuggestsTheClosest) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - nmae: node-1        # line 3
    controller: true
    colour: red         # line 5: nothing close
)");
  EXPECT_TRUE(has_error(diags,
                        "unknown key 'nmae' in node; valid keys: name, address, controller, "
                        "witness, membership_port, command_port, checkpoint_port, su_failover_max, "
                        "su_failover_probation_ms, admin_state; did you mean 'name'?",
                        3, 5));
  EXPECT_TRUE(
      has_error(diags,
                "unknown key 'colour' in node; valid keys: name, address, controller, witness, "
                "membership_port, command_port, checkpoint_port, su_failover_max, "
                "su_failover_probation_ms",
                5, 5));
  for (const Diagnostic& d : diags) {
    if (d.line == 5) {
      EXPECT_EQ(d.message.find("did you mean"), std::string::npos) << d.message;
    }
  }
}

TEST(ConfigLoaderTest, UnknownDurationKeySuggestsTheMillisecondsKey) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n]
          components:
            - name: x
              command: x
              cs_types: [t]
              timeouts: {terminate: 100}    # line 14
        service_instances: [{name: s, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(
      has_error(diags, "did you mean 'terminate_ms'? (durations are in milliseconds)", 14, 26));
}

TEST(ConfigLoaderTest, MissingRequiredKeyReportedAtEnclosingMapping) {
  std::vector<Diagnostic> diags = errors_of(R"(nodes:
  - address: 10.0.0.1   # line 2
    controller: true
)");
  EXPECT_TRUE(has_error(diags, "the configuration is missing required key 'cluster'", 1, 1));
  EXPECT_TRUE(has_error(diags, "node is missing required key 'name'", 2, 5));
  EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(ConfigLoaderTest, DuplicateKeyReported) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - name: a
    controller: true
    name: b             # line 5
)");
  EXPECT_TRUE(has_error(diags, "duplicate key 'name' in node 'a'; first given at line 3", 5, 5));
}

// ---- types ------------------------------------------------------------------------------------

TEST(ConfigLoaderTest, WrongTypesNameTheKeyAndTheExpectedType) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: 5
nodes:
  - name: [n]           # line 3
    controller: yes     # line 4
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        service_units: {name: s}     # line 10
        service_instances:
          - name: s
            rank: first              # line 13
            csis: [{name: c, cs_type: t}]
)");
  EXPECT_TRUE(has_error(diags, "expected a mapping for cluster, got '5'", 1, 10));
  EXPECT_TRUE(has_error(diags, "expected a string for 'name' in node, got a sequence", 3, 11));
  EXPECT_TRUE(has_error(
      diags, "expected a boolean (true or false) for 'controller' in node, got 'yes'", 4, 17));
  EXPECT_TRUE(has_error(
      diags, "expected a sequence for 'service_units' in service group 'g', got a mapping", 10,
      24));
  EXPECT_TRUE(has_error(
      diags, "expected an integer for 'rank' in service instance 's', got 'first'", 13, 19));
}

TEST(ConfigLoaderTest, EmptyValueIsReportedAtItsKey) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:           # line 3
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "expected a sequence for 'applications' in the configuration, got "
                        "nothing (write [] for an empty list)",
                        3, 1));
}

TEST(ConfigLoaderTest, BadEnumValuesListTheValidOnes) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 3n                 # line 7
        su_template:
          nodes: [n]
          components:
            - name: x
              command: x
              cs_types: [t]
              recovery: reboot         # line 14
        service_instances: [{name: s, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "invalid redundancy '3n' in service group 'g'; valid values: "
                        "no-redundancy, 2n, n+m, n-way, n-way-active",
                        7, 21));
  EXPECT_TRUE(has_error(diags,
                        "invalid recovery 'reboot' in component 'x'; valid values: "
                        "component-restart, component-failover, su-restart, su-failover, "
                        "node-switchover, node-failover, node-failfast",
                        14, 25));
}

TEST(ConfigLoaderTest, CountsMustBeNonNegativeAndDurationsPositive) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        preferred_inservice_sus: -1      # line 8
        su_template:
          nodes: [n]
          components:
            - name: x
              command: x
              cs_types: [t]
              instantiate_retries: -2    # line 15
              timeouts: {cleanup_ms: 0}  # line 16
              health_check: {key: k, period_ms: 1.5}   # line 17
        service_instances: [{name: s, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(
      diags, "'preferred_inservice_sus' in service group 'g' must be between 0 and", 8, 34));
  EXPECT_TRUE(
      has_error(diags, "'instantiate_retries' in component 'x' must be between 0 and", 15, 36));
  EXPECT_TRUE(has_error(diags,
                        "'cleanup_ms' in timeouts of component 'x' must be a positive number of "
                        "milliseconds",
                        16, 38));
  EXPECT_TRUE(has_error(diags,
                        "expected an integer (milliseconds) for 'period_ms' in health_check of "
                        "component 'x', got '1.5'",
                        17, 49));
}

TEST(ConfigLoaderTest, EscalationSettingsAreReadWithDefaultsAndChecked) {
  model::ClusterConfig config = config_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true, su_failover_max: 2, su_failover_probation_ms: 60000}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        comp_restart_max: 3
        comp_restart_probation_ms: 1000
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  const auto& sg = config.applications[0].service_groups[0];
  EXPECT_EQ(sg.comp_restart_max, 3);
  EXPECT_EQ(sg.comp_restart_probation, std::chrono::milliseconds(1000));
  EXPECT_EQ(sg.su_restart_max, 10);  // default
  EXPECT_EQ(sg.su_restart_probation, std::chrono::milliseconds(4000));
  EXPECT_EQ(config.nodes[0].su_failover_max, 2);
  EXPECT_EQ(config.nodes[0].su_failover_probation, std::chrono::milliseconds(60000));

  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true, su_failover_max: -1}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_restart_probation_ms: 0
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags, "'su_failover_max' in node 'n' must be between 0 and", 2, 54));
  EXPECT_TRUE(has_error(diags,
                        "'su_restart_probation_ms' in service group 'g' must be a positive number "
                        "of milliseconds",
                        8, 34));
}

TEST(ConfigLoaderTest, SiDependenciesResolveWithinAndAcrossServiceGroups) {
  model::ClusterConfig config = config_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: db
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: data, csis: [{name: c, cs_type: t}]}]
      - name: web
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - name: front
            dependencies: [{sponsor: db/data, tolerance_ms: 2500}, {sponsor: api}]
            csis: [{name: c, cs_type: t}]
          - name: api
            csis: [{name: c, cs_type: t}]
)");
  const auto& front = config.applications[0].service_groups[1].sis[0];
  ASSERT_EQ(front.dependencies.size(), 2u);
  EXPECT_EQ(front.dependencies[0].sponsor, SiId("db/data"));
  EXPECT_EQ(front.dependencies[0].tolerance, std::chrono::milliseconds(2500));
  EXPECT_EQ(front.dependencies[1].sponsor, SiId("web/api"));
  EXPECT_EQ(front.dependencies[1].tolerance, std::chrono::milliseconds(1000));  // default
}

TEST(ConfigLoaderTest, BadSiDependenciesAreReportedAtTheSponsor) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: a, dependencies: [{sponsor: b}], csis: [{name: c, cs_type: t}]}
          - {name: b, dependencies: [{sponsor: a}], csis: [{name: c, cs_type: t}]}
          - {name: s, dependencies: [{sponsor: s}], csis: [{name: c, cs_type: t}]}
          - {name: u, dependencies: [{sponsor: nope}], csis: [{name: c, cs_type: t}]}
)");
  ASSERT_EQ(diags.size(), 4u) << dump(diags);
  EXPECT_TRUE(
      has_error(diags, "the dependencies of 'g/a' lead back to it (a dependency cycle)", 10, 48));
  EXPECT_TRUE(
      has_error(diags, "the dependencies of 'g/b' lead back to it (a dependency cycle)", 11, 48));
  EXPECT_TRUE(has_error(diags, "service instance 'g/s' cannot depend on itself", 12, 48));
  EXPECT_TRUE(has_error(diags, "unknown sponsor 'nope' in the dependencies of 'g/u'", 13, 48));
}

// ---- names ------------------------------------------------------------------------------------

TEST(ConfigLoaderTest, NamesMustBeValid) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - {name: "", controller: true}   # line 3
  - name: a/b                      # line 4
  - name: -x                       # line 5
)");
  EXPECT_TRUE(has_error(diags, "'name' in node '' must not be empty", 3, 12));
  EXPECT_TRUE(has_error(diags,
                        "invalid name 'a/b' for 'name' in node 'a/b': names must match "
                        "[A-Za-z0-9][A-Za-z0-9._-]*",
                        4, 11));
  EXPECT_TRUE(has_error(diags, "invalid name '-x'", 5, 11));
}

TEST(ConfigLoaderTest, SiblingNamesMustBeUnique) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - {name: n, controller: true}
  - {name: n}                              # line 4
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        service_units:
          - name: s
            node: n
            components:
              - {name: x, command: x, cs_types: [t]}
              - {name: x, command: y, cs_types: [u]}   # line 15
          - {name: s, node: n, components: [{name: x, command: x, cs_types: [t, u]}]}  # line 16
        service_instances:
          - {name: i, csis: [{name: c, cs_type: t}]}
          - {name: i, csis: [{name: c, cs_type: t}, {name: c, cs_type: u}]}   # line 19
  - name: a                                # line 20
    service_groups: [{name: h, redundancy: 2n, su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}, service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]}]
)");
  EXPECT_TRUE(has_error(diags, "duplicate node name 'n'; first defined at line 3", 4, 12));
  EXPECT_TRUE(has_error(
      diags, "duplicate component name 'x' in service unit 's'; first defined at line 14", 15, 24));
  EXPECT_TRUE(has_error(
      diags, "duplicate service unit name 's' in service group 'g'; first defined at line 11", 16,
      20));
  EXPECT_TRUE(has_error(
      diags, "duplicate service instance name 'i' in service group 'g'; first defined at line 18",
      19, 20));
  EXPECT_TRUE(has_error(
      diags, "duplicate CSI name 'c' in service instance 'i'; first defined at line 19", 19, 60));
  EXPECT_TRUE(has_error(diags, "duplicate application name 'a'; first defined at line 6", 20, 11));
}

// As in OpenSAF, where the application is part of an SG's DN: two applications may each have an
// SG of one name. Their ids (and their SUs', SIs', components') are APP.SG; their DNs keep the
// name. Within one application the name is still unique.
TEST(ConfigLoaderTest, TwoApplicationsMayEachHaveAnSgOfTheSameName) {
  const model::ClusterConfig config = config_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
  - name: b
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: i, csis: [{name: c, cs_type: t}], dependencies: [{sponsor: a.g/i}]}
      - name: h
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: i, csis: [{name: c, cs_type: t}]}
          - {name: j, csis: [{name: c, cs_type: t}], dependencies: [{sponsor: i}]}
)");
  ASSERT_EQ(config.applications.size(), 2u);
  const model::SgConfig& a = config.applications[0].service_groups.at(0);
  const model::SgConfig& b = config.applications[1].service_groups.at(0);
  EXPECT_EQ(a.id.str(), "a.g");
  EXPECT_EQ(b.id.str(), "b.g");
  EXPECT_EQ(a.name, "g");
  EXPECT_EQ(b.sus.at(0).id.str(), "b.g/su-1");
  EXPECT_EQ(b.sis.at(0).id.str(), "b.g/i");
  EXPECT_EQ(b.sis.at(0).csis.at(0).id.str(), "b.g/i/c");
  EXPECT_EQ(b.sus.at(0).components.at(0).id.str(), "b.g/su-1/x");
  EXPECT_EQ(b.sus.at(0).components.at(0).dn, "safComp=x,safSu=su-1,safSg=g,safApp=b");
  ASSERT_EQ(b.sis.at(0).dependencies.size(), 1u);
  EXPECT_EQ(b.sis.at(0).dependencies[0].sponsor.str(), "a.g/i");
  // An SG name no other application uses keeps it as its id.
  const model::SgConfig& h = config.applications[1].service_groups.at(1);
  EXPECT_EQ(h.id.str(), "h");
  ASSERT_EQ(h.sis.at(1).dependencies.size(), 1u);
  EXPECT_EQ(h.sis.at(1).dependencies[0].sponsor.str(), "h/i");
}

TEST(ConfigLoaderTest, ASponsorInAnSgWhoseNameIsSharedIsNamedByItsId) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
  - name: b
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
      - name: h
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: i, csis: [{name: c, cs_type: t}], dependencies: [{sponsor: g/i}]}  # line 20
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "unknown sponsor 'g/i' in the dependencies of 'h/i' (name an SI of the "
                        "same service group, or another group's as 'group/si'; the service "
                        "groups named 'g' are a.g, b.g in ids)",
                        20, 0));
}

TEST(ConfigLoaderTest, ServiceGroupNamesAreUniqueWithinAnApplication) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g                              # line 6
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
      - name: g                              # line 10
        redundancy: 2n
        su_template: {nodes: [n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(
      diags, "duplicate service group name 'g' in application 'a'; first defined at line 6", 10,
      15));
}

TEST(ConfigLoaderTest, ExplicitServiceUnitMustNotClashWithTemplate) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:                          # line 8
          nodes: [n, n]
          components: [{name: x, command: x, cs_types: [t]}]
        service_units:
          - {name: su-2, node: n, components: [{name: x, command: x, cs_types: [t]}]}  # line 12
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "duplicate service unit name 'su-2' in service group 'g'; stamped by "
                        "su_template at line 8",
                        12, 20));
}

// ---- references -------------------------------------------------------------------------------

TEST(ConfigLoaderTest, ServiceUnitNodeMustExist) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n1, controller: true}, {name: n2}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n1, n3]                     # line 9
          components: [{name: x, command: x, cs_types: [t]}]
        service_units:
          - name: s
            node: n4                          # line 13
            components: [{name: x, command: x, cs_types: [t]}]
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 2u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "unknown node 'n3' in su_template of service group 'g'; known nodes: "
                        "n1, n2",
                        9, 23));
  EXPECT_TRUE(
      has_error(diags, "unknown node 'n4' in service unit 's'; known nodes: n1, n2", 13, 19));
}

TEST(ConfigLoaderTest, EveryServiceUnitNeedsOneComponentPerCsType) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_units:
          - name: s
            node: n
            components:
              - {name: x, command: x, cs_types: [t, u]}
              - {name: y, command: y, cs_types: [u]}
        service_instances:
          - name: i
            csis:
              - name: c1
                cs_type: u                    # line 19
)");
  EXPECT_TRUE(has_error(diags,
                        "no component of SU 'su-1' supports cs_type 'u', needed by CSI 'c1' of "
                        "service instance 'i' (the same holds for every SU stamped by su_template)",
                        19, 26));
  EXPECT_TRUE(has_error(diags,
                        "cs_type 'u' is ambiguous in SU 's': components 'x' and 'y' both "
                        "support it",
                        19, 26));
  EXPECT_EQ(diags.size(), 2u) << dump(diags);
}

TEST(ConfigLoaderTest, ClusterNeedsAControllerNode) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:                  # line 2
  - name: a
  - {name: b, controller: false}
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "no controller node", 2, 1));
}

// ---- structure --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, RequiredSequencesMustNotBeEmpty) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: []               # line 2
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n]
          components:
            - {name: x, command: x, cs_types: []}    # line 11
        service_instances: []                       # line 12
)");
  EXPECT_TRUE(has_error(diags, "the configuration needs at least one node in 'nodes'", 2, 8));
  EXPECT_TRUE(has_error(diags, "component 'x' needs at least one cs_type in 'cs_types'", 11, 47));
  EXPECT_TRUE(has_error(
      diags, "service group 'g' needs at least one service instance in 'service_instances'", 12,
      28));
}

TEST(ConfigLoaderTest, ServiceGroupNeedsServiceUnits) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g                 # line 6
        redundancy: 2n
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "service group 'g' has no service units; add 'su_template' or "
                        "'service_units'",
                        6, 9));
}

TEST(ConfigLoaderTest, ComponentCommandAndEnvironmentAreChecked) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n]
          components:
            - name: x
              command: ""                    # line 12
              cs_types: [t]
              env:
                AMF_COMP_NAME: spoofed       # line 15
                2BAD: v                      # line 16
                EMPTY:                       # line 17
              health_check: {period_ms: 5}   # line 18
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags, "'command' in component 'x' must not be empty", 12, 24));
  EXPECT_TRUE(has_error(diags, "environment variable 'AMF_COMP_NAME' is reserved", 15, 17));
  EXPECT_TRUE(has_error(diags, "invalid environment variable name '2BAD'", 16, 17));
  EXPECT_TRUE(has_error(diags, "expected a scalar value for 'EMPTY'", 17, 17));
  EXPECT_TRUE(
      has_error(diags, "health_check of component 'x' is missing required key 'key'", 18, 29));
  EXPECT_EQ(diags.size(), 5u) << dump(diags);
}

// ---- counts per redundancy model --------------------------------------------------------------

TEST(ConfigLoaderTest, TwoNRejectsSettingsOfOtherModels) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        preferred_active_sus: 1           # the default: accepted
        preferred_standby_sus: 2          # line 9
        max_active_sis_per_su: 3          # line 10
        preferred_assigned_sus: 1         # line 11
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - name: i
            preferred_active_assignments: 2   # line 15
            csis: [{name: c, cs_type: t}]
)");
  ASSERT_EQ(diags.size(), 4u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "'preferred_standby_sus' applies only to the n+m model, but service "
                        "group 'g' is 2n",
                        9, 32));
  EXPECT_TRUE(has_error(diags,
                        "'max_active_sis_per_su' applies only to the n+m, n-way and "
                        "n-way-active models, but service group 'g' is 2n",
                        10, 32));
  EXPECT_TRUE(has_error(diags,
                        "'preferred_assigned_sus' applies only to the n-way and "
                        "n-way-active models",
                        11, 33));
  EXPECT_TRUE(has_error(diags,
                        "'preferred_active_assignments' applies only to the n-way-active "
                        "model, but service group 'g' is 2n",
                        15, 43));
}

TEST(ConfigLoaderTest, NPlusMNeedsEnoughServiceUnits) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: n+m
        preferred_active_sus: 2
        preferred_standby_sus: 1          # line 9
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
      - name: h
        redundancy: n+m
        preferred_active_sus: 0           # line 14
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 2u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "n+m with 2 active and 1 standby SUs needs at least 3 service units; 2 "
                        "are configured",
                        9, 32));
  EXPECT_TRUE(has_error(diags, "n+m needs at least 1 active service unit", 14, 31));
}

TEST(ConfigLoaderTest, NoRedundancyServesAtMostOneSiPerServiceUnit) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: no-redundancy         # line 7
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: i1, csis: [{name: c, cs_type: t}]}
          - {name: i2, csis: [{name: c, cs_type: t}]}
          - {name: i3, csis: [{name: c, cs_type: t}]}
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "no-redundancy assigns at most one service instance per service unit: 3 "
                        "service instances need at least 3 service units; 2 are configured",
                        7, 21));
}

TEST(ConfigLoaderTest, NWayStandbyAssignmentsLeaveRoomForTheActive) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: n-way
        su_template: {nodes: [n, n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - name: i
            preferred_standby_assignments: 3    # line 11
            csis: [{name: c, cs_type: t}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "n-way with 3 service units allows at most 2 standby assignments per "
                        "service instance (one SU holds the active); service instance 'i' asks "
                        "for 3",
                        11, 44));
}

TEST(ConfigLoaderTest, NWayActiveAssignmentsBetweenOneAndServiceUnits) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: n-way-active
        max_standby_sis_per_su: 1          # line 8
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances:
          - {name: i1, preferred_active_assignments: 3, csis: [{name: c, cs_type: t}]}  # line 11
          - {name: i2, preferred_active_assignments: 0, csis: [{name: c, cs_type: t}]}  # line 12
)");
  ASSERT_EQ(diags.size(), 3u) << dump(diags);
  EXPECT_TRUE(
      has_error(diags, "'max_standby_sis_per_su' applies only to the n+m and n-way models", 8, 33));
  EXPECT_TRUE(has_error(diags,
                        "n-way-active with 2 service units allows between 1 and 2 active "
                        "assignments per service instance; service instance 'i1' asks for 3",
                        11, 54));
  EXPECT_TRUE(has_error(diags, "service instance 'i2' asks for 0", 12, 54));
}

TEST(ConfigLoaderTest, PreferredInServiceAtMostServiceUnits) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        preferred_inservice_sus: 3          # line 8
        su_template: {nodes: [n, n], components: [{name: x, command: x, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "'preferred_inservice_sus' is 3 but 2n service group 'g' has only 2 "
                        "service units",
                        8, 34));
}

// ---- whole files ------------------------------------------------------------------------------

TEST(ConfigLoaderTest, ReportsEveryProblemAtOnceInDocumentOrder) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {nmae: c}       # line 1
nodes:
  - name: n
    controller: true
    adress: x                    # line 5
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [n, m]          # line 12
          components: [{name: x, command: x, cs_types: [t], recovery: none}]   # line 13
        service_instances:
          - {name: i, rank: -1, csis: [{name: c, cs_type: t}]}                  # line 15
)");
  ASSERT_EQ(diags.size(), 6u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "unknown key 'nmae' in cluster", 1, 11));
  EXPECT_TRUE(has_error(diags, "cluster is missing required key 'name'", 1, 10));
  EXPECT_TRUE(has_error(diags, "unknown key 'adress'", 5, 5));
  EXPECT_TRUE(has_error(diags, "unknown node 'm'", 12, 22));
  EXPECT_TRUE(has_error(diags, "invalid recovery 'none'", 13, 71));
  EXPECT_TRUE(has_error(diags, "'rank' in service instance 'i' must be between 0", 15, 29));
  for (std::size_t i = 1; i < diags.size(); ++i) {
    EXPECT_LE(std::pair(diags[i - 1].line, diags[i - 1].column),
              std::pair(diags[i].line, diags[i].column));
  }
}

TEST(ConfigLoaderTest, SyntaxErrorReportsOneBasedPosition) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes:
  - name: a
   controller: true       # line 4: bad indentation
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "YAML syntax error", 4, 4));
  EXPECT_EQ(diags[0].file, "test.yaml");
}

TEST(ConfigLoaderTest, UnclosedFlowSequenceIsASyntaxError) {
  std::vector<Diagnostic> diags = errors_of("cluster: {name: c}\nnodes: [{name: a}\n");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_GE(diags[0].line, 2);
}

TEST(ConfigLoaderTest, EmptyDocumentAndNonMappingRoot) {
  EXPECT_TRUE(has_error(errors_of(""), "the configuration is empty", 1, 1));
  EXPECT_TRUE(has_error(errors_of("# only a comment\n"), "the configuration is empty", 1, 1));
  EXPECT_TRUE(has_error(errors_of("- a\n- b\n"),
                        "expected a mapping for the configuration, got a sequence", 1, 1));
}

TEST(ConfigLoaderTest, SecondDocumentRejected) {
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
---
cluster: {name: d}        # line 4
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags, "a second YAML document", 4, 1));
}

TEST(ConfigLoaderTest, AliasExpansionIsBounded) {
  // Each level multiplies the size by ten: 10^7 nodes if expanded without a bound.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 7; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += (j ? ", " : "") + prev;
    yaml += "]\n";
  }
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_NE(diags[0].message.find("too large"), std::string::npos) << diags[0].message;
}

TEST(ConfigLoaderTest, MissingFileReportsTheOsReason) {
  LoadResult result = load_file("/nonexistent-dir/cluster.yaml");
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  const Diagnostic& d = result.error()[0];
  EXPECT_EQ(d.file, "/nonexistent-dir/cluster.yaml");
  EXPECT_EQ(d.line, 0);
  EXPECT_EQ(d.column, 0);
  EXPECT_NE(d.message.find("No such file or directory"), std::string::npos) << d.message;
}

TEST(ConfigLoaderTest, DiagnosticToString) {
  EXPECT_EQ((Diagnostic{"c.yaml", 3, 5, "unknown key 'x'"}).to_string(),
            "c.yaml:3:5: unknown key 'x'");
  EXPECT_EQ((Diagnostic{"c.yaml", 0, 0, "cannot open"}).to_string(), "c.yaml: cannot open");
}

// ---- summary ----------------------------------------------------------------------------------

TEST(ConfigLoaderTest, SummaryOfDemo) {
  LoadResult result = load_file(AMF_SOURCE_DIR "/config/examples/demo.yaml");
  ASSERT_TRUE(result.has_value()) << dump(result.error());
  EXPECT_EQ(summary(*result),
            "cluster 'demo': 1 node, 1 application, 1 service group (2n), 2 service units, 2 "
            "components, 1 service instance, 1 CSI");
}

TEST(ConfigLoaderTest, SummaryListsEachModelOnce) {
  model::ClusterConfig config = config_of(R"(cluster: {name: big}
nodes: [{name: a, controller: true}, {name: b}]
applications:
  - name: x
    service_groups:
      - name: g1
        redundancy: n+m
        su_template: {nodes: [a, b], components: [{name: c, command: c, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}, {name: d, cs_type: t}]}]
      - name: g2
        redundancy: 2n
        su_template: {nodes: [a, b], components: [{name: c, command: c, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}, {name: j, csis: [{name: c, cs_type: t}]}]
  - name: y
    service_groups:
      - name: g3
        redundancy: n+m
        su_template: {nodes: [a, b], components: [{name: c, command: c, cs_types: [t]}]}
        service_instances: [{name: i, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_EQ(summary(config),
            "cluster 'big': 2 nodes, 2 applications, 3 service groups (n+m, 2n), 6 service units, "
            "6 components, 4 service instances, 5 CSIs");
  EXPECT_EQ(summary(model::ClusterConfig{"empty", {}, {}}),
            "cluster 'empty': 0 nodes, 0 applications, 0 service groups, 0 service units, 0 "
            "components, 0 service instances, 0 CSIs");
}

// ---- containers (runtime: oci) --------------------------------------------------------------

constexpr std::string_view kOciHead = R"(cluster: {name: c}
nodes: [{name: node-1, controller: true}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [node-1, node-1]
          components:
            - name: server
              command: amf-demo-counter
              cs_types: [t]
)";

TEST(ConfigLoaderTest, ReadsInitialAdminStatesAndRefusesOnesAnEntityCannotHave) {
  const model::ClusterConfig config = config_of(R"(cluster: {name: c}
nodes: [{name: node-1, controller: true, admin_state: locked}, {name: node-2}]
applications:
  - name: a
    admin_state: locked-instantiation
    service_groups:
      - name: g
        redundancy: 2n
        admin_state: locked
        su_template:
          nodes: [node-1, node-2]
          admin_state: locked-instantiation
          components: [{name: s, command: x, cs_types: [t]}]
        service_instances: [{name: si, admin_state: locked, csis: [{name: c, cs_type: t}]}]
      - name: h
        redundancy: 2n
        service_units:
          - {name: u1, node: node-1, admin_state: locked,
             components: [{name: s, command: x, cs_types: [t]}]}
          - {name: u2, node: node-2, components: [{name: s, command: x, cs_types: [t]}]}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  using model::AdminState;
  ASSERT_EQ(config.nodes.size(), 2u);
  EXPECT_EQ(config.nodes[0].admin_state, AdminState::kLocked);
  EXPECT_EQ(config.nodes[1].admin_state, AdminState::kUnlocked);
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& app = config.applications[0];
  EXPECT_EQ(app.admin_state, AdminState::kLockedInstantiation);
  EXPECT_EQ(app.service_groups[0].admin_state, AdminState::kLocked);
  EXPECT_EQ(app.service_groups[0].sus[0].admin_state, AdminState::kLockedInstantiation);
  EXPECT_EQ(app.service_groups[0].sus[1].admin_state, AdminState::kLockedInstantiation);
  EXPECT_EQ(app.service_groups[0].sis[0].admin_state, AdminState::kLocked);
  EXPECT_EQ(app.service_groups[1].admin_state, AdminState::kUnlocked);
  EXPECT_EQ(app.service_groups[1].sus[0].admin_state, AdminState::kLocked);
  EXPECT_EQ(app.service_groups[1].sus[1].admin_state, AdminState::kUnlocked);
  EXPECT_EQ(app.service_groups[1].sis[0].admin_state, AdminState::kUnlocked);
  std::vector<Diagnostic> diags = errors_of(R"(cluster: {name: c}
nodes: [{name: node-1, controller: true, admin_state: shutting-down}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: 2n
        su_template:
          nodes: [node-1]
          components: [{name: s, command: x, cs_types: [t]}]
        service_instances:
          - {name: si, admin_state: locked-instantiation, csis: [{name: c, cs_type: t}]}
)");
  EXPECT_TRUE(has_error(diags,
                        "invalid admin_state 'shutting-down' in node 'node-1'; valid values: "
                        "unlocked, locked, locked-instantiation",
                        2, 55));
  EXPECT_TRUE(has_error(diags,
                        "invalid admin_state 'locked-instantiation' in service instance 'si'; "
                        "valid values: unlocked, locked",
                        12, 37));
}

TEST(ConfigLoaderTest, ReadsAContainerComponent) {
  const std::string yaml = std::string(kOciHead) + R"(              runtime: oci
              container: {rootfs: /srv/rootfs, network: none, memory_limit_mb: 64, pids_limit: 32}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)";
  const model::ClusterConfig config = config_of(yaml);
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& comp = config.applications[0].service_groups[0].sus[0].components[0];
  EXPECT_EQ(comp.runtime, model::Runtime::kOci);
  EXPECT_EQ(comp.container.rootfs, "/srv/rootfs");
  EXPECT_TRUE(comp.container.own_network);
  EXPECT_EQ(comp.container.memory_limit_mb, 64);
  EXPECT_EQ(comp.container.pids_limit, 32);
}

TEST(ConfigLoaderTest, ContainerDefaultsToTheHostRootAndNetwork) {
  const std::string yaml = std::string(kOciHead) + R"(              runtime: oci
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)";
  const model::ClusterConfig config = config_of(yaml);
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& comp = config.applications[0].service_groups[0].sus[0].components[0];
  EXPECT_EQ(comp.container.rootfs, "host");
  EXPECT_FALSE(comp.container.own_network);
  EXPECT_FALSE(comp.container.memory_limit_mb);
}

TEST(ConfigLoaderTest, BrokenContainerSettingsAreReportedWhereTheyAre) {
  const std::string yaml = std::string(kOciHead) + R"(              runtime: docker
              container: {rootfs: srv/rootfs, network: bridge, memory_limit_mb: 1}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error(diags,
                        "invalid runtime 'docker' in component 'server'; valid values: "
                        "process, oci",
                        14, 24));
  EXPECT_TRUE(has_error(diags, "'container' in component 'server' needs 'runtime: oci'", 15, 15));
  EXPECT_TRUE(has_error(diags,
                        "'rootfs' in container of component 'server' must be an absolute "
                        "directory or 'host', not 'srv/rootfs'",
                        15, 35));
  EXPECT_TRUE(
      has_error(diags, "invalid network 'bridge' in container of component 'server'", 15, 56));
  EXPECT_TRUE(has_error(diags, "memory_limit_mb", 15, 81));
}

TEST(ConfigLoaderTest, ReadsANotifiedComponentWithItsWatchdog) {
  const std::string yaml = std::string(kOciHead) + R"(              instantiated_when: notified
              watchdog_ms: 500
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)";
  const model::ClusterConfig config = config_of(yaml);
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& comp = config.applications[0].service_groups[0].sus[0].components[0];
  EXPECT_EQ(comp.instantiated_when, model::InstantiatedWhen::kNotified);
  EXPECT_FALSE(comp.sa_aware());
  ASSERT_TRUE(comp.health_check);
  EXPECT_EQ(comp.health_check->period, std::chrono::milliseconds(500));
  EXPECT_TRUE(comp.health_check->component_invoked);
}

TEST(ConfigLoaderTest, LifecycleMistakesAreReportedWhereTheyAre) {
  const std::string yaml = std::string(kOciHead) + R"(              instantiated_when: started
              watchdog_ms: 500
              health_check: {key: k}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)";
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error(diags,
                        "'watchdog_ms' in component 'server' needs 'instantiated_when: "
                        "notified'",
                        15, 15));
  EXPECT_TRUE(has_error(diags,
                        "'health_check' in component 'server' needs 'instantiated_when: "
                        "registered'",
                        16, 15));
  diags = errors_of(std::string(kOciHead) + R"(              instantiated_when: soon
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "invalid instantiated_when 'soon' in component 'server'; valid "
                        "values: registered, notified, started, probed",
                        14, 34));
}

TEST(ConfigLoaderTest, ReadsAProbedComponentAndRefusesOneWithoutAProbe) {
  const model::ClusterConfig config = config_of(std::string(kOciHead) +
                                                R"(              instantiated_when: probed
              probe: {tcp_port: 8080, startup_period_ms: 5}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& comp = config.applications[0].service_groups[0].sus[0].components[0];
  EXPECT_EQ(comp.instantiated_when, model::InstantiatedWhen::kProbed);
  EXPECT_FALSE(comp.sa_aware());
  ASSERT_TRUE(comp.probe);
  EXPECT_EQ(comp.probe->startup_period, std::chrono::milliseconds(5));
  EXPECT_EQ(comp.probe->period, std::chrono::milliseconds(10000));
  std::vector<Diagnostic> diags =
      errors_of(std::string(kOciHead) + R"(              instantiated_when: probed
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "'instantiated_when: probed' in component 'server' needs a 'probe' "
                        "(it is instantiated once the probe first succeeds)",
                        14, 34));
  diags =
      errors_of(std::string(kOciHead) + R"(              probe: {tcp_port: 80, startup_period_ms: 5}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "'startup_period_ms' in probe of component 'server' needs "
                        "'instantiated_when: probed' in its component",
                        14, 37));
}

TEST(ConfigLoaderTest, HooksAreForComponentsThatDoNotRegister) {
  const model::ClusterConfig config = config_of(std::string(kOciHead) +
                                                R"(              instantiated_when: started
              hooks: {on_active: promote.sh, on_remove: "rm -f x"}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& hooks = config.applications[0].service_groups[0].sus[0].components[0].hooks;
  EXPECT_EQ(hooks.on_active, "promote.sh");
  EXPECT_EQ(hooks.on_remove, "rm -f x");
  EXPECT_EQ(hooks.on_standby, "");
  std::vector<Diagnostic> diags =
      errors_of(std::string(kOciHead) + R"(              hooks: {on_active: x, on_promote: y}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "'hooks' in component 'server' needs 'instantiated_when' notified, "
                        "started or probed",
                        14, 15));
  EXPECT_TRUE(has_error(diags, "unknown key 'on_promote' in hooks of component 'server'", 14, 37));
}

TEST(ConfigLoaderTest, ReadsProbesAndReportsBrokenOnes) {
  const model::ClusterConfig config = config_of(
      std::string(kOciHead) +
      R"(              probe: {http_port: 8080, http_path: /healthz, period_ms: 2000, failure_threshold: 5}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& probe = config.applications[0].service_groups[0].sus[0].components[0].probe;
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->kind, model::ProbeConfig::Kind::kHttp);
  EXPECT_EQ(probe->port, 8080);
  EXPECT_EQ(probe->path, "/healthz");
  EXPECT_EQ(probe->period, std::chrono::milliseconds(2000));
  EXPECT_EQ(probe->timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(probe->failure_threshold, 5);
  std::vector<Diagnostic> diags =
      errors_of(std::string(kOciHead) + R"(              probe: {tcp_port: 80, exec: [true]}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "probe of component 'server' needs exactly one of exec, "
                        "tcp_port, http_port",
                        14, 22));
  diags = errors_of(std::string(kOciHead) + R"(              probe: {tcp_port: 70000}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags, "tcp_port", 14, 33));
}

TEST(ConfigLoaderTest, ReadsAWorkingDirectoryAndRefusesOneThatLeavesTheRuntimeDirectory) {
  const model::ClusterConfig config = config_of(std::string(kOciHead) +
                                                R"(              working_dir: shared/db
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  EXPECT_EQ(config.applications[0].service_groups[0].sus[0].components[0].working_dir, "shared/db");
  // Every component also has its SA Forum name, for SA_AMF_COMPONENT_NAME.
  EXPECT_EQ(config.applications[0].service_groups[0].sus[1].components[0].dn,
            "safComp=server,safSu=su-2,safSg=g,safApp=a");
  std::vector<Diagnostic> diags =
      errors_of(std::string(kOciHead) + R"(              working_dir: shared/../../etc
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "'working_dir' in component 'server' must be absolute or name a "
                        "directory inside RUNTIME/work (no '..', not '.'), not 'shared/../../etc'",
                        14, 28));
  diags = errors_of(std::string(kOciHead) + R"(              working_dir: ""
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags, "'working_dir' in component 'server' must not be empty", 14, 28));
  // An absolute one is the operator's to choose.
  const model::ClusterConfig absolute = config_of(std::string(kOciHead) +
                                                  R"(              working_dir: /srv/db
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(absolute.applications.size(), 1u);
  EXPECT_EQ(absolute.applications[0].service_groups[0].sus[0].components[0].working_dir, "/srv/db");
}

TEST(ConfigLoaderTest, ReadsClcCliCommandsAndRefusesEmptyOnes) {
  const model::ClusterConfig config = config_of(std::string(kOciHead) +
                                                R"(              terminate_command: "stop.sh"
              cleanup_command: "kill.sh"
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  const auto& comp = config.applications[0].service_groups[0].sus[0].components[0];
  EXPECT_EQ(comp.terminate_command, "stop.sh");
  EXPECT_EQ(comp.cleanup_command, "kill.sh");
  std::vector<Diagnostic> diags =
      errors_of(std::string(kOciHead) + R"(              cleanup_command: ""
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(
      has_error(diags, "'cleanup_command' in component 'server' must not be empty", 14, 32));
}

TEST(ConfigLoaderTest, PidFileIsForProcessesOnly) {
  const model::ClusterConfig config = config_of(std::string(kOciHead) +
                                                R"(              pid_file: run/server.pid
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(config.applications.size(), 1u);
  EXPECT_EQ(config.applications[0].service_groups[0].sus[0].components[0].pid_file,
            "run/server.pid");
  std::vector<Diagnostic> diags = errors_of(std::string(kOciHead) + R"(              runtime: oci
              pid_file: x.pid
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  EXPECT_TRUE(has_error(diags,
                        "'pid_file' in component 'server' is for processes, not "
                        "'runtime: oci'",
                        15, 15));
  // kOciHead's template stamps two SUs on one node: a shared working_dir would make them share
  // the file, and so would an absolute pid_file.
  for (const std::string& keys :
       {std::string("              working_dir: shared\n              pid_file: x.pid\n"),
        std::string("              pid_file: /run/x.pid\n")}) {
    diags = errors_of(std::string(kOciHead) + keys +
                      "        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]\n");
    ASSERT_EQ(diags.size(), 1u) << dump(diags);
    EXPECT_TRUE(has_error(diags,
                          "component 'g/su-2/server' and component 'g/su-1/server' (line 11) "
                          "would read the same pid file on node node-1, ",
                          11, 21))
        << dump(diags);
  }
  // Explicit SUs too, across service groups; on different nodes they do not meet.
  diags = errors_of(R"(cluster: {name: c}
nodes: [{name: n1, controller: true}, {name: n2}]
applications:
  - name: a
    service_groups:
      - name: g
        redundancy: no-redundancy
        service_units:
          - {name: s1, node: n1, components: [{name: d, command: x, cs_types: [t], working_dir: /srv/d, pid_file: d.pid}]}
          - {name: s2, node: n2, components: [{name: d, command: x, cs_types: [t], working_dir: /srv/d, pid_file: d.pid}]}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
      - name: h
        redundancy: no-redundancy
        service_units:
          - {name: s1, node: n1, components: [{name: d, command: x, cs_types: [t], pid_file: /srv/d/./d.pid}]}
        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]
)");
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error(diags,
                        "component 'h/s1/d' and component 'g/s1/d' (line 9) would read the same "
                        "pid file on node n1, /srv/d/./d.pid",
                        15, 54))
      << dump(diags);
  // Without working_dir, a relative pid_file is in each component's own directory.
  config_of(std::string(kOciHead) + "              pid_file: x.pid\n" +
            "        service_instances: [{name: si, csis: [{name: c, cs_type: t}]}]\n");
}

}  // namespace
}  // namespace amf::config
