// `amfctl import opensaf`: OpenSAF IMM XML application configurations, one per redundancy
// model, written as OpenSAF users write them (tests/unit/config/opensaf/), to amf YAML that
// loads, with a report of what could not be carried over.
#include "config/opensaf_import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using std::chrono::milliseconds;
using testing_support::dump;

std::string data(const std::string& name) {
  return std::string(AMF_SOURCE_DIR) + "/tests/unit/config/opensaf/" + name;
}

struct Result {
  Imported imported;
  model::ClusterConfig config;
};

// Imports the files; the YAML must load.
Result import_and_load(const std::vector<std::string>& files) {
  std::vector<std::string> paths;
  for (const std::string& f : files) paths.push_back(data(f));
  auto imported = import_opensaf_files(paths);
  if (!imported) {
    for (const std::string& e : imported.error()) ADD_FAILURE() << e;
    return {};
  }
  LoadResult loaded = load_string(imported->yaml, "imported.yaml");
  if (!loaded) {
    ADD_FAILURE() << "the imported YAML does not load:\n"
                  << dump(loaded.error()) << "\n"
                  << imported->yaml;
    return {*imported, {}};
  }
  return {*imported, *loaded};
}

// True when one line of the report holds every part, in any order.
testing::AssertionResult reported(const Imported& imported, std::vector<std::string> parts) {
  for (const std::string& line : imported.report) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; })) {
      return testing::AssertionSuccess();
    }
  }
  std::string all;
  for (const std::string& line : imported.report) all += "  " + line + "\n";
  return testing::AssertionFailure()
         << "no report line with '" << parts.front() << "'...; the report:\n"
         << all;
}

// The first SG of that name.
const model::SgConfig& sg(const model::ClusterConfig& c, const std::string& name) {
  for (const model::SgConfig* g : c.service_groups()) {
    if (g->name == name) return *g;
  }
  ADD_FAILURE() << "no SG " << name;
  static model::SgConfig none;
  return none;
}

TEST(OpenSafImportTest, TwoNWithItsTypesNodeGroupAndBundleBecomesAConfigurationThatLoads) {
  Result r = import_and_load({"AppConfig-2N.xml"});
  ASSERT_EQ(r.config.applications.size(), 1u) << r.imported.yaml;
  EXPECT_EQ(r.config.name, "myAmfCluster");
  ASSERT_EQ(r.config.nodes.size(), 2u);
  EXPECT_EQ(r.config.nodes[0].name, "SC-1");
  EXPECT_TRUE(r.config.nodes[0].controller);
  EXPECT_FALSE(r.config.nodes[1].controller);

  const model::SgConfig& g = sg(r.config, "Counter");
  EXPECT_EQ(g.redundancy, model::RedundancyModel::kTwoN);
  EXPECT_EQ(g.comp_restart_max, 5);  // from the SG type
  EXPECT_EQ(g.su_restart_max, 3);
  EXPECT_EQ(g.comp_restart_probation, milliseconds(3000));
  EXPECT_EQ(g.preferred_inservice_sus, 0);  // 10 of 2 SUs: all of them
  ASSERT_EQ(g.sus.size(), 2u);
  EXPECT_EQ(g.sus[0].node.str(), "SC-1");  // the SUs are spread over the bundle's nodes
  EXPECT_EQ(g.sus[1].node.str(), "SC-2");
  EXPECT_EQ(g.sus[0].rank, 1);
  EXPECT_EQ(g.sus[0].admin_state, model::AdminState::kLockedInstantiation);

  const model::ComponentConfig& server = g.sus[0].components.at(0);
  EXPECT_EQ(server.command, "/opt/counter/bin/counter_script");  // bundle prefix + relative path
  EXPECT_EQ(server.args, std::vector<std::string>{"instantiate"});
  EXPECT_EQ(server.cleanup_command, "/opt/counter/bin/counter_script cleanup");
  EXPECT_TRUE(server.sa_aware());
  EXPECT_EQ(server.recovery, model::Recovery::kComponentRestart);
  // The type's environment, extended and overridden by the component's (saAmfCompCmdEnv).
  EXPECT_EQ(server.env.at("COUNTER_LOG"), "info");
  EXPECT_EQ(server.env.at("COUNTER_MODE"), "first");
  EXPECT_EQ(server.env.at("COUNTER_ID"), "1");
  EXPECT_EQ(g.sus[1].components.at(0).env.at("COUNTER_MODE"), "type-default");
  EXPECT_FALSE(server.env.contains("AMF_COUNTER_TRACE"));
  EXPECT_EQ(server.timeouts.instantiate, milliseconds(7000));
  EXPECT_EQ(server.timeouts.cleanup, milliseconds(7000));
  EXPECT_EQ(server.timeouts.csi_set, milliseconds(2500));
  ASSERT_TRUE(server.health_check.has_value());
  EXPECT_EQ(server.health_check->key, "CounterHc");
  EXPECT_EQ(server.health_check->period, milliseconds(12000));
  EXPECT_EQ(server.health_check->max_duration, milliseconds(5000));
  EXPECT_EQ(server.dn, "safComp=Server,safSu=SU1,safSg=Counter,safApp=Counter");

  ASSERT_EQ(g.sis.size(), 1u);
  EXPECT_EQ(g.sis[0].csis.at(0).cs_type, "CounterCs");
  EXPECT_EQ(g.sis[0].csis.at(0).attributes.find("port")->second, "47011");

  EXPECT_TRUE(reported(r.imported, {"safVersion=1,safCompType=CounterServer", "saAmfCtDefCmdEnv",
                                    "AMF_COUNTER_TRACE", "reserves names starting with AMF_"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfCtDefQuiescingCompleteTimeout", "csi_set_ms"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfSGNumPrefAssignedSUs", "2n"}));
  EXPECT_TRUE(
      reported(r.imported, {"safSu=SU2,safSg=Counter,safApp=Counter", "placed on node SC-2"}));
  EXPECT_EQ(r.imported.report.size(), 6u) << r.imported.yaml;
}

TEST(OpenSafImportTest, NPlusMOfNonSaAwareDaemonsKeepsItsCountsPlacesAndCommands) {
  Result r = import_and_load({"AppConfig-npm.xml"});
  ASSERT_EQ(r.config.applications.size(), 1u);
  EXPECT_EQ(r.config.nodes.size(), 4u);
  const model::SgConfig& g = sg(r.config, "Web");
  EXPECT_EQ(g.redundancy, model::RedundancyModel::kNPlusM);
  EXPECT_EQ(g.preferred_active_sus, 2);
  EXPECT_EQ(g.preferred_standby_sus, 1);
  EXPECT_EQ(g.max_active_sis_per_su, 1);
  EXPECT_EQ(g.max_standby_sis_per_su, 2);
  EXPECT_EQ(g.comp_restart_max, 2);
  ASSERT_EQ(g.sus.size(), 3u);
  EXPECT_EQ(g.sus[0].node.str(), "PL-3");
  EXPECT_EQ(g.sus[2].node.str(), "PL-5");
  EXPECT_EQ(g.sus[2].admin_state, model::AdminState::kLocked);
  const model::ComponentConfig& httpd = g.sus[0].components.at(0);
  EXPECT_EQ(httpd.instantiated_when, model::InstantiatedWhen::kStarted);
  EXPECT_EQ(httpd.args, (std::vector<std::string>{"start", "--port=8080"}));
  EXPECT_EQ(httpd.terminate_command, "/usr/lib/web/httpd-clc stop");
  EXPECT_EQ(httpd.cleanup_command, "/usr/lib/web/httpd-clc 'kill it'");  // quoted for sh
  EXPECT_EQ(g.sus[1].components.at(0).cleanup_command, "/usr/lib/web/httpd-clc kill --hard");
  EXPECT_EQ(httpd.recovery, model::Recovery::kNodeSwitchover);
  EXPECT_EQ(httpd.timeouts.terminate, milliseconds(4000));
  EXPECT_EQ(g.sis.at(1).csis.at(0).attributes.find("address")->second, "10.0.0.11/24");
  EXPECT_EQ(g.sis.at(1).rank, 2);
  EXPECT_TRUE(reported(r.imported, {"saAmfCtCompCapability", "capability model 2"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfCtDefInstantiationLevel"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfCtCompCategory", "a non-SA-aware component", "hooks"}));
  // The node's own settings.
  const model::NodeConfig* pl5 = r.config.find_node(NodeId("PL-5"));
  ASSERT_NE(pl5, nullptr);
  EXPECT_EQ(pl5->su_failover_max, 7);
  EXPECT_EQ(pl5->su_failover_probation, milliseconds(60000));
  EXPECT_EQ(pl5->admin_state, model::AdminState::kLockedInstantiation);
  EXPECT_TRUE(reported(r.imported, {"safAmfNode=PL-5", "saAmfNodeAutoRepair", "no such setting"}));
}

TEST(OpenSafImportTest, NWayReportsTheAttributeValuesItCannotCarry) {
  Result r = import_and_load({"AppConfig-nway.xml"});
  ASSERT_EQ(r.config.applications.size(), 1u);
  const model::SgConfig& g = sg(r.config, "Db");
  EXPECT_EQ(g.redundancy, model::RedundancyModel::kNWay);
  EXPECT_EQ(g.preferred_assigned_sus, 2);
  EXPECT_EQ(g.sis.at(0).preferred_standby_assignments, 2);
  EXPECT_EQ(g.sus.at(2).node.str(), "PL-3");  // the only node of its own node group
  EXPECT_TRUE(reported(
      r.imported, {"safSu=SU3", "placed on node PL-3", "its node group safAmfNodeGroup=Payloads"}));
  EXPECT_EQ(g.sus.at(2).components.at(0).args, std::vector<std::string>{"--replica=3"});
  EXPECT_EQ(g.sus.at(2).components.at(0).timeouts.instantiate, milliseconds(30000));
  EXPECT_EQ(g.sus.at(0).components.at(0).timeouts.instantiate, milliseconds(10000));  // default
  EXPECT_EQ(g.sus.at(0).components.at(0).timeouts.csi_set, milliseconds(2));  // 1.5 ms, rounded up
  // A multi-valued attribute keeps its values in order; one without a value has an empty one.
  EXPECT_EQ(
      g.sis.at(0).csis.at(0).attributes,
      (model::CsiAttributes{{"peers", "sc-1:5432"}, {"peers", "sc-2:5432"}, {"readonly", ""}}));
  EXPECT_TRUE(reported(r.imported, {"saAmfCtDefCallbackTimeout", "rounded up to 2 ms"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfSIPrefActiveAssignments", "n-way redundancy model"}));
}

TEST(OpenSafImportTest, NWayActiveKeepsASponsorInAnotherServiceGroup) {
  Result r = import_and_load({"AppConfig-nwayactive.xml"});
  ASSERT_EQ(r.config.applications.size(), 1u);
  const model::SgConfig& front = sg(r.config, "Front");
  EXPECT_EQ(front.redundancy, model::RedundancyModel::kNWayActive);
  EXPECT_EQ(front.max_active_sis_per_su, 3);
  const model::SiConfig& si = front.sis.at(0);
  EXPECT_EQ(si.preferred_active_assignments, 2);
  ASSERT_EQ(si.dependencies.size(), 1u);
  EXPECT_EQ(si.dependencies[0].sponsor.str(), "Back/Back");
  EXPECT_EQ(si.dependencies[0].tolerance, milliseconds(2000));
  const model::SgConfig& back = sg(r.config, "Back");
  EXPECT_EQ(back.redundancy, model::RedundancyModel::kTwoN);
  EXPECT_EQ(back.sis.at(0).admin_state, model::AdminState::kLocked);
  EXPECT_TRUE(r.imported.report.size() <= 1u) << r.imported.report.front();  // the controller
}

TEST(OpenSafImportTest, NoRedundancyWithTypeVersionsAndTwoApplicationsSharingAnSgName) {
  Result r = import_and_load({"AppConfig-noredundancy.xml"});
  ASSERT_EQ(r.config.applications.size(), 2u);
  const model::SgConfig& workers = sg(r.config, "Workers");
  EXPECT_EQ(workers.redundancy, model::RedundancyModel::kNoRedundancy);
  EXPECT_FALSE(workers.auto_repair);
  EXPECT_EQ(workers.admin_state, model::AdminState::kLockedInstantiation);
  EXPECT_EQ(workers.sus.at(0).components.at(0).command, "/usr/bin/worker");
  const model::ComponentConfig& v2 = workers.sus.at(1).components.at(0);
  EXPECT_EQ(v2.command, "/usr/bin/worker2");  // safVersion=2 of the same type
  EXPECT_TRUE(v2.disable_restart);
  EXPECT_EQ(v2.instantiate_retries, 3);  // 4 attempts without delay, the first included
  EXPECT_EQ(v2.instantiate_delay, milliseconds(1000));
  // The other application's SG of the same name keeps it; their ids tell them apart.
  const model::SgConfig* other = nullptr;
  for (const model::SgConfig* g : r.config.service_groups()) {
    if (g->name == "Workers" && g->app.str() == "Batch2") other = g;
  }
  ASSERT_NE(other, nullptr) << r.imported.yaml;
  EXPECT_EQ(other->id.str(), "Batch2.Workers");
  EXPECT_EQ(workers.id.str(), "Batch.Workers");
  EXPECT_EQ(workers.sus.at(0).components.at(0).dn,
            "safComp=W,safSu=SU1,safSg=Workers,safApp=Batch");
  for (const std::string& line : r.imported.report) {
    EXPECT_EQ(line.find("'Batch2.Workers'"), std::string::npos) << "no renaming: " << line;
  }
  EXPECT_NE(r.imported.yaml.find("name: Worker-v1"), std::string::npos) << r.imported.yaml;
  EXPECT_TRUE(reported(r.imported, {"saAmfCtDefRecoveryOnError", "recovery 7"}));
  EXPECT_TRUE(reported(r.imported, {"saAmfCompProxyCsi", "amf has no such setting"}));
  EXPECT_TRUE(reported(r.imported, {"class SaLogStreamConfig not carried over"}));
}

TEST(OpenSafImportTest, FilesAreReadTogetherAsImmcfgLoadsThem) {
  // The applications of two files in one configuration; their nodes together.
  Result r = import_and_load({"AppConfig-npm.xml", "AppConfig-nway.xml"});
  ASSERT_EQ(r.config.applications.size(), 2u);
  EXPECT_EQ(r.config.nodes.size(), 5u);  // SC-1, PL-3..5, and SC-2 (SC-1 and PL-3 again)
}

// ---- bad input: what and where, and nothing imported ------------------------------------------

std::vector<std::string> errors_of(const std::string& text) {
  auto imported = import_opensaf({{"bad.xml", text}});
  EXPECT_FALSE(imported.has_value()) << imported->yaml;
  return imported ? std::vector<std::string>{} : imported.error();
}

constexpr const char* kHead =
    "<?xml version=\"1.0\"?>\n<imm:IMM-contents xmlns:imm=\"http://www.saforum.org/IMMSchema\">\n";

TEST(OpenSafImportTest, MalformedXmlIsRefusedWithItsLine) {
  std::vector<std::string> errors =
      errors_of(std::string(kHead) + "<object class=\"SaAmfSG\">\n<dn>x</dn>\n<attr name=x/>\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("bad.xml:5: not well-formed XML: expected ' or \""), std::string::npos)
      << errors[0];
}

TEST(OpenSafImportTest, AFileThatIsNotImmContentsSaysWhatItIs) {
  std::vector<std::string> errors = errors_of("<?xml version=\"1.0\"?>\n<html><body/></html>\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("not OpenSAF IMM XML: the root element is 'html', not "
                           "'imm:IMM-contents'"),
            std::string::npos)
      << errors[0];
}

TEST(OpenSafImportTest, AnAttributeGivenTwiceIsRefused) {
  std::vector<std::string> errors = errors_of(
      std::string(kHead) +
      "<object class=\"SaAmfSU\"><dn>safSu=S,safSg=G,safApp=A</dn>"
      "<attr><name>saAmfSURank</name><value>1</value></attr>"
      "<attr><name>saAmfSURank</name><value>2</value></attr></object>\n</imm:IMM-contents>\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "bad.xml: safSu=S,safSg=G,safApp=A: attribute 'saAmfSURank' given twice; give its "
            "values in one <attr>");
}

TEST(OpenSafImportTest, ObjectsWithoutADnOrDefinedTwiceAreRefused) {
  std::vector<std::string> errors = errors_of(
      std::string(kHead) +
      "<object class=\"SaAmfApplication\"><dn>safApp=A</dn></object>\n"
      "<object class=\"SaAmfApplication\"></object>\n"
      "<object class=\"SaAmfApplication\"><dn>safApp=A</dn></object>\n</imm:IMM-contents>\n");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("object 2 (class 'SaAmfApplication') has no <dn>"), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("safApp=A: defined twice"), std::string::npos) << errors[1];
}

TEST(OpenSafImportTest, HostileNestingAndMissingFilesAreRefused) {
  // Plain, behind attribute values that hold "/>", and behind closing tags in a processing
  // instruction: each would make Boost's parser recurse a hundred thousand levels.
  for (const std::string& level :
       {std::string("<a>"), std::string("<a x=\"/>\">"), std::string("<?pi </a></a>?><a>")}) {
    std::string deep = kHead;
    for (int i = 0; i < 100'000; ++i) deep += level;
    std::vector<std::string> errors = errors_of(deep);
    ASSERT_EQ(errors.size(), 1u) << level;
    EXPECT_NE(errors[0].find("nested deeper than 32 levels"), std::string::npos) << errors[0];
  }
  std::vector<std::string> errors = errors_of(std::string(kHead) + "</a></a><a><a>");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("a closing tag without its element"), std::string::npos) << errors[0];

  auto missing = import_opensaf_files({"/nonexistent/AppConfig.xml"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().at(0), "/nonexistent/AppConfig.xml: cannot open");
}

TEST(OpenSafImportTest, ControlCharactersFromTheFileReachTheReportEscaped) {
  auto imported =
      import_opensaf({{"x.xml", std::string(kHead) +
                                    "<object class=\"SaAmfWeird\"><dn>safX=\x1b[2J</dn></object>\n"
                                    "</imm:IMM-contents>\n"}});
  ASSERT_TRUE(imported.has_value());
  ASSERT_EQ(imported->report.size(), 2u);  // the object, and no node named
  for (const std::string& line : imported->report) {
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  }
  EXPECT_TRUE(reported(*imported, {"safX=\\x1b[2J", "class SaAmfWeird"}));
}

TEST(OpenSafImportTest, ValuesThatLookLikeYamlStayStringsAndHugeTimesAreReported) {
  auto imported = import_opensaf(
      {{"x.xml",
        std::string(kHead) +
            "<object class=\"SaAmfCompType\"><dn>safVersion=1,safCompType=T</dn>"
            "<attr><name>saAmfCtCompCategory</name><value>8</value></attr>"
            "<attr><name>saAmfCtRelPathInstantiateCmd</name><value>/bin/t</value></attr>"
            "<attr><name>saAmfCtDefInstantiateCmdArgv</name><value>~</value><value>null</value>"
            "<value>yes</value><value>- x</value><value>{a: 1}</value></attr>"
            "<attr><name>saAmfCtDefCmdEnv</name><value>E=true</value></attr>"
            "<attr><name>saAmfCtDefClcCliTimeout</name><value>9223372036854775807</value></attr>"
            "</object>\n"
            "<object class=\"SaAmfCtCsType\"><dn>safSupportedCsType=safVersion=1\\,safCSType=C,"
            "safVersion=1,safCompType=T</dn></object>\n"
            "<object class=\"SaAmfSGType\"><dn>safVersion=1,safSgType=S</dn><attr><name>"
            "saAmfSgtRedundancyModel</name><value>5</value></attr></object>\n"
            "<object class=\"SaAmfApplication\"><dn>safApp=A</dn></object>\n"
            "<object class=\"SaAmfSG\"><dn>safSg=G,safApp=A</dn><attr><name>saAmfSGType</name>"
            "<value>safVersion=1,safSgType=S</value></attr></object>\n"
            "<object class=\"SaAmfSU\"><dn>safSu=U,safSg=G,safApp=A</dn></object>\n"
            "<object class=\"SaAmfComp\"><dn>safComp=C,safSu=U,safSg=G,safApp=A</dn><attr><name>"
            "saAmfCompType</name><value>safVersion=1,safCompType=T</value></attr></object>\n"
            "<object class=\"SaAmfSI\"><dn>safSi=I,safApp=A</dn><attr><name>saAmfSIProtectedbySG"
            "</name><value>safSg=G,safApp=A</value></attr></object>\n"
            "<object class=\"SaAmfCSI\"><dn>safCsi=X,safSi=I,safApp=A</dn><attr><name>saAmfCSType"
            "</name><value>safVersion=1,safCSType=C</value></attr></object>\n"
            "</imm:IMM-contents>\n"}});
  ASSERT_TRUE(imported.has_value());
  LoadResult loaded = load_string(imported->yaml, "imported.yaml");
  ASSERT_TRUE(loaded.has_value()) << dump(loaded.error()) << imported->yaml;
  const model::ComponentConfig& c = loaded->service_groups().at(0)->sus.at(0).components.at(0);
  EXPECT_EQ(c.args, (std::vector<std::string>{"~", "null", "yes", "- x", "{a: 1}"}));
  EXPECT_EQ(c.env.at("E"), "true");
  EXPECT_EQ(c.timeouts.instantiate, milliseconds(10000));  // amf's default
  EXPECT_TRUE(reported(*imported, {"saAmfCtDefClcCliTimeout", "outside amf's durations"}));
}

TEST(OpenSafImportTest, WhatAmfCannotRunIsLeftForTheLoaderToSayWhere) {
  // A component whose type is not among the files: imported, and the loader names the gap.
  auto imported = import_opensaf(
      {{"x.xml", std::string(kHead) +
                     "<object class=\"SaAmfSGType\"><dn>safVersion=1,safSgType=T</dn>"
                     "<attr><name>saAmfSgtRedundancyModel</name><value>1</value></attr></object>\n"
                     "<object class=\"SaAmfApplication\"><dn>safApp=A</dn></object>\n"
                     "<object class=\"SaAmfSG\"><dn>safSg=G,safApp=A</dn><attr><name>saAmfSGType"
                     "</name><value>safVersion=1,safSgType=T</value></attr></object>\n"
                     "<object class=\"SaAmfSU\"><dn>safSu=S,safSg=G,safApp=A</dn></object>\n"
                     "<object class=\"SaAmfComp\"><dn>safComp=C,safSu=S,safSg=G,safApp=A</dn>"
                     "<attr><name>saAmfCompType</name><value>safVersion=1,safCompType=Gone"
                     "</value></attr></object>\n"
                     "<object class=\"SaAmfSI\"><dn>safSi=I,safApp=A</dn><attr><name>"
                     "saAmfSIProtectedbySG</name><value>safSg=Elsewhere,safApp=A</value></attr>"
                     "</object>\n"
                     "</imm:IMM-contents>\n"}});
  ASSERT_TRUE(imported.has_value());
  EXPECT_TRUE(reported(*imported, {"safSi=I,safApp=A", "nothing in these files leads to it"}));
  EXPECT_TRUE(reported(*imported, {"safComp=C",
                                   "its component type safVersion=1,safCompType=Gone "
                                   "is not in these files"}));
  LoadResult loaded = load_string(imported->yaml, "imported.yaml");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(dump(loaded.error()).find("component 'C' is missing required key 'command'"),
            std::string::npos)
      << dump(loaded.error());
}

}  // namespace
}  // namespace amf::config
