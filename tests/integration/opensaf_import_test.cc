// `amfctl import opensaf` end to end: an OpenSAF application configuration of non-SA-aware
// daemons (CLC-CLI), imported by the real amfctl, checked by amfd --check-config and run by
// the real amfd until its SI is assigned active and standby.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/amfd_fixture.h"

namespace amf::itest {
namespace {

// Two SUs on one node (amfd runs one), each a `sleep` daemon started by amfd; the SG type and
// the component type carry the settings, as OpenSAF users write them.
std::string app_config() {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<imm:IMM-contents xmlns:imm="http://www.saforum.org/IMMSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<object class="SaAmfNode"><dn>safAmfNode=node-1,safAmfCluster=itest</dn></object>
	<object class="SaAmfSGType">
		<dn>safVersion=1,safSgType=Pair</dn>
		<attr><name>saAmfSgtRedundancyModel</name><value>1</value></attr>
	</object>
	<object class="SaAmfCompType">
		<dn>safVersion=1,safCompType=Sleeper</dn>
		<attr><name>saAmfCtCompCategory</name><value>8</value></attr>
		<attr><name>saAmfCtRelPathInstantiateCmd</name><value>/bin/sleep</value></attr>
		<attr><name>saAmfCtDefInstantiateCmdArgv</name><value>3600</value></attr>
		<attr><name>saAmfCtDefClcCliTimeout</name><value>3000000000</value></attr>
		<attr><name>saAmfCtDefCmdEnv</name><value>SLEEPER_MODE=imported</value></attr>
	</object>
	<object class="SaAmfCtCsType"><dn>safSupportedCsType=safVersion=1\,safCSType=Nap,safVersion=1,safCompType=Sleeper</dn></object>
	<object class="SaAmfApplication"><dn>safApp=Naps</dn></object>
	<object class="SaAmfSG">
		<dn>safSg=Naps,safApp=Naps</dn>
		<attr><name>saAmfSGType</name><value>safVersion=1,safSgType=Pair</value></attr>
	</object>
	<object class="SaAmfSU">
		<dn>safSu=SU1,safSg=Naps,safApp=Naps</dn>
		<attr><name>saAmfSUHostNodeOrNodeGroup</name><value>safAmfNode=node-1,safAmfCluster=itest</value></attr>
		<attr><name>saAmfSURank</name><value>1</value></attr>
	</object>
	<object class="SaAmfSU">
		<dn>safSu=SU2,safSg=Naps,safApp=Naps</dn>
		<attr><name>saAmfSUHostNodeOrNodeGroup</name><value>safAmfNode=node-1,safAmfCluster=itest</value></attr>
		<attr><name>saAmfSURank</name><value>2</value></attr>
	</object>
	<object class="SaAmfComp">
		<dn>safComp=Sleeper,safSu=SU1,safSg=Naps,safApp=Naps</dn>
		<attr><name>saAmfCompType</name><value>safVersion=1,safCompType=Sleeper</value></attr>
	</object>
	<object class="SaAmfComp">
		<dn>safComp=Sleeper,safSu=SU2,safSg=Naps,safApp=Naps</dn>
		<attr><name>saAmfCompType</name><value>safVersion=1,safCompType=Sleeper</value></attr>
	</object>
	<object class="SaAmfSI">
		<dn>safSi=Nap,safApp=Naps</dn>
		<attr><name>saAmfSIProtectedbySG</name><value>safSg=Naps,safApp=Naps</value></attr>
	</object>
	<object class="SaAmfCSI">
		<dn>safCsi=Nap,safSi=Nap,safApp=Naps</dn>
		<attr><name>saAmfCSType</name><value>safVersion=1,safCSType=Nap</value></attr>
	</object>
</imm:IMM-contents>
)";
}

TEST_F(AmfdTest, AnImportedOpenSafConfigurationRunsUnderAmfd) {
  const std::string xml = dir_.file("AppConfig.xml", app_config());
  Output imported = run({bin("amfctl"), "import", "opensaf", xml});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("imported cluster 'itest': 1 node, 1 application, 1 service group "
                              "(2n), 2 service units, 2 components, 1 service instance, 1 CSI"),
            std::string::npos)
      << imported.err;
  const std::string yaml = dir_.file("imported.yaml", imported.out);
  Output checked = run({bin("amfd"), "--check-config", yaml});
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;

  start(imported.out);
  auto [active, standby] = settled_pair();
  EXPECT_EQ(active, "Naps/SU1");
  EXPECT_EQ(standby, "Naps/SU2");
}

TEST_F(AmfdTest, AnImportThatCannotRunSaysWhatToEditAndExitsOne) {
  // No component type in the file: the components have no command.
  std::string xml = app_config();
  const std::size_t from = xml.find("\t<object class=\"SaAmfCompType\">");
  const std::size_t to = xml.find("\t<object class=\"SaAmfApplication\">");
  xml.erase(from, to - from);
  Output imported = run({bin("amfctl"), "import", "opensaf", dir_.file("AppConfig.xml", xml)});
  EXPECT_EQ(imported.exit_code, 1);
  EXPECT_FALSE(imported.out.empty());  // the configuration, to edit
  EXPECT_NE(imported.err.find("its component type safVersion=1,safCompType=Sleeper is not in "
                              "these files"),
            std::string::npos)
      << imported.err;
  EXPECT_NE(imported.err.find("the imported configuration does not load as it is"),
            std::string::npos)
      << imported.err;
  EXPECT_NE(imported.err.find("<imported>:"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("missing required key 'command'"), std::string::npos) << imported.err;

  Output not_xml = run({bin("amfctl"), "import", "opensaf", dir_.file("x.xml", "hello")});
  EXPECT_EQ(not_xml.exit_code, 1);
  EXPECT_TRUE(not_xml.out.empty());
  EXPECT_NE(not_xml.err.find("not well-formed XML"), std::string::npos) << not_xml.err;
}

}  // namespace
}  // namespace amf::itest
