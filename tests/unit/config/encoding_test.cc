// Strings in the configuration must be UTF-8 without NUL: protobuf carries them to components
// and clients, and commands and environment variables end at a NUL.
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
using testing_support::printable_ascii;

// A valid configuration; the tests replace the @...@ markers.
constexpr std::string_view kBase = R"(cluster: {name: c}
nodes: [{name: n, controller: true}]
applications:
  - name: app
    service_groups:
      - name: sg
        redundancy: 2n
        su_template:
          nodes: [n, n]
          components:
            - name: comp
              command: @COMMAND@
              args: [@ARG@]
              env: {VAR: @ENV@}
              cs_types: [t]
        service_instances:
          - name: si
            csis:
              - name: csi
                cs_type: t
                attributes: {@KEY@: @VALUE@}
)";

std::string with(std::string text, std::string_view marker, std::string_view value) {
  text.replace(text.find(marker), marker.size(), value);
  return text;
}

std::string base(std::string_view command = "server", std::string_view arg = "-v",
                 std::string_view env = "x", std::string_view key = "port",
                 std::string_view value = "47011") {
  std::string text(kBase);
  text = with(text, "@COMMAND@", command);
  text = with(text, "@ARG@", arg);
  text = with(text, "@ENV@", env);
  text = with(text, "@KEY@", key);
  return with(text, "@VALUE@", value);
}

TEST(ConfigEncodingTest, NonUtf8StringsAreRefusedWhereTheyAre) {
  const std::string yaml = base(/*command=*/"\"serv\xe9r\"",  // Latin-1
                                /*arg=*/"\"ok\xc3\"",         // truncated sequence
                                /*env=*/"\"\xed\xa0\x80\"",   // an encoded surrogate
                                /*key=*/"\"k\xc0\xaf\"",      // overlong '/'
                                /*value=*/"\"\xff\xfe\"");    // never UTF-8
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error_at(diags, "is not valid UTF-8", position_of(yaml, "\"serv")));
  EXPECT_TRUE(has_error_at(diags, "is not valid UTF-8", position_of(yaml, "\"ok")));
  EXPECT_TRUE(has_error_at(diags, "is not valid UTF-8", position_of(yaml, "\"\xed")));
  EXPECT_TRUE(has_error_at(diags, "is not valid UTF-8", position_of(yaml, "\"k\xc0")));
  EXPECT_TRUE(has_error_at(diags, "is not valid UTF-8", position_of(yaml, "\"\xff")));
  EXPECT_TRUE(has_error_at(diags, "byte 0xe9 at offset 4", position_of(yaml, "\"serv")));
  EXPECT_EQ(diags.size(), 5u) << dump(diags);
  EXPECT_TRUE(printable_ascii(diags));
}

TEST(ConfigEncodingTest, NonUtf8InAnyKeyOrNameIsRefusedToo) {
  // An unknown key and a name: reported as not UTF-8 as well as for what else is wrong.
  const std::string yaml =
      "cluster: {name: \"c\xff\"}\nnodes: [{name: n, controller: true}]\n"
      "\"bad\x80key\": 1\n";
  std::vector<Diagnostic> diags = errors_of(yaml);
  EXPECT_TRUE(has_error(diags, "is not valid UTF-8", 1, 17));
  EXPECT_TRUE(has_error(diags, "is not valid UTF-8", 3, 1));
  EXPECT_TRUE(printable_ascii(diags));
}

TEST(ConfigEncodingTest, NulCharactersAreRefused) {
  const std::string yaml = base("server", "-v", "\"a\\0b\"");
  std::vector<Diagnostic> diags = errors_of(yaml);
  ASSERT_EQ(diags.size(), 1u) << dump(diags);
  EXPECT_TRUE(has_error_at(diags, "NUL", position_of(yaml, "\"a\\0b\"")));
}

TEST(ConfigEncodingTest, ValidUtf8IsKept) {
  model::ClusterConfig config = config_of(base("/opt/s\xc3\xa4ule/srv", "\"\xe2\x98\x95\"",
                                               "\"\xf0\x9f\x98\x80\"", "name", "caf\xc3\xa9"));
  const model::SiConfig* si = config.find_si(SiId("sg/si"));
  ASSERT_NE(si, nullptr);
  EXPECT_EQ(si->csis.at(0).attributes.find("name")->second, "caf\xc3\xa9");
}

}  // namespace
}  // namespace amf::config
