// The scenario-script interpreter: transcripts, expectations, errors, violations.
#include "sim/script.h"

#include <gtest/gtest.h>

namespace amf::sim {
namespace {

TEST(SimScriptTest, RunsAScriptAndChecksExpectations) {
  const ScriptResult r = run_script(
      "# a comment\n"
      "config 2n sus=2 sis=1\n"
      "start\n"
      "settle\n"
      "kill app/su-1/server\n"
      "settle\n"
      "expect served app/si-1\n"
      "expect presence app/su-1 instantiated\n"
      "expect presence app/su-1 uninstantiated\n");
  EXPECT_EQ(r.failed_expectations, 1);
  EXPECT_EQ(r.errors, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.transcript.rfind("# a comment\n> config 2n sus=2 sis=1\n> start\n", 0), 0u);
  EXPECT_NE(r.transcript.find("FAILED: presence of app/su-1 is instantiated"), std::string::npos);
  EXPECT_NE(r.transcript.find("ha-state"), std::string::npos);
}

TEST(SimScriptTest, TranscriptsAreDeterministic) {
  const std::string script =
      "config n-way sus=3 sis=2 standbys=1\nstart\nsettle\nkill app/su-2/server\nsettle\nshow\n";
  EXPECT_EQ(run_script(script).transcript, run_script(script).transcript);
}

TEST(SimScriptTest, BadCommandsAreErrors) {
  const ScriptResult r = run_script(
      "kill app/su-1/server\n"
      "config 3n\n"
      "config 2n sus=2 bogus=1\n"
      "config 2n\n"
      "start\n"
      "frobnicate app/su-1/server\n"
      "kill app/su-7/server\n"
      "advance soon\n"
      "admin explode su app/su-1\n"
      "config-file x.yaml\n");
  EXPECT_EQ(r.errors, 8);
  EXPECT_FALSE(r.ok());
}

TEST(SimScriptTest, TheDirectorsNodeIsOneOfTheConfigurationAndCannotBeCutFromItself) {
  const std::string setup = "config 2n sus=2 sis=1\nnodes 2\n";
  const ScriptResult unknown = run_script(setup + "director-on node-9\nstart\n");
  EXPECT_EQ(unknown.errors, 1);
  EXPECT_NE(
      unknown.transcript.find("the director's node node-9 is not a node of the configuration"),
      std::string::npos)
      << unknown.transcript;
  const ScriptResult cut = run_script(setup +
                                      "director-on node-1\nstart\nsettle\n"
                                      "partition node-1 both 1s\npartition node-2 both 1s\n");
  EXPECT_EQ(cut.errors, 1);
  EXPECT_NE(cut.transcript.find("partition node-1: the director runs there"), std::string::npos)
      << cut.transcript;
}

TEST(SimScriptTest, AnExpectedViolationIsNoFailure) {
  const std::string setup =
      "config 2n sus=2 sis=1\nstart\nsettle\nrogue app/su-2/server app/si-1/csi active\n";
  const ScriptResult unexpected = run_script(setup);
  ASSERT_TRUE(unexpected.violation);
  EXPECT_EQ(unexpected.violation->invariant, "safety");
  EXPECT_FALSE(unexpected.ok());
  const ScriptResult expected = run_script(setup + "expect violation safety\nshow\n");
  EXPECT_TRUE(expected.ok()) << expected.transcript;
  EXPECT_NE(expected.transcript.find("VIOLATION of safety"), std::string::npos);
  const ScriptResult wrong = run_script(setup + "expect violation liveness\n");
  EXPECT_FALSE(wrong.ok());
}

TEST(SimScriptTest, ConfigFileUsesTheInjectedLoader) {
  ScriptEnv env;
  env.load_config = [](const std::string& path) -> Result<model::ClusterConfig> {
    if (path != "demo.yaml") return fail("no such file");
    model::ClusterConfig c;
    c.name = "x";
    c.nodes.push_back({NodeId("node-1"), "node-1", "127.0.0.1", true});
    return c;
  };
  EXPECT_EQ(run_script("config-file demo.yaml\nstart\nsettle\n", env).errors, 0);
  EXPECT_EQ(run_script("config-file other.yaml\n", env).errors, 1);
}

}  // namespace
}  // namespace amf::sim
