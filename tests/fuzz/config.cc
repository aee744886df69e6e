// Fuzz target config: YAML text through config::load_string, the path amfd --config and
// --check-config take after reading the file (bounded there at 4 MiB; parse_document bounds
// nodes after alias expansion and depth). A refused configuration must come back as
// diagnostics in document order, each with a message; an accepted one must be one amfd can
// speak and the cores can take: every component's name and every CSI with its attributes
// encodes into the component-channel message that carries it, and that message decodes
// (protobuf strings must be UTF-8); if director::unsupported_features() has nothing against
// it, Director::create must succeed and the whole cluster must start in memory (director and
// node directors wired by tests/unit/support/local_cluster.h) without an assertion.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "amf/core/assert.h"
#include "amf/director/director.h"
#include "amf/director/supported.h"
#include "amf/wire/codec.h"
#include "config/loader.h"
#include "tests/unit/support/local_cluster.h"

namespace {

// Starting a cluster costs time in its size; far above what a fuzzed input of -max_len bytes
// usually declares, and keeps a slow input from hiding behind a large template.
constexpr std::size_t kMaxComponentsToStart = 64;

std::size_t components(const amf::model::ClusterConfig& config) {
  std::size_t n = 0;
  for (const amf::model::SgConfig* sg : config.service_groups()) {
    for (const amf::model::SuConfig& su : sg->sus) n += su.components.size();
  }
  return n;
}

// What amfd sends a component about it (RegisterReply carries no name), and what the
// component sends back, through the codec.
void check_wire(const amf::model::ClusterConfig& config) {
  namespace wire = amf::wire;
  for (const amf::model::SgConfig* sg : config.service_groups()) {
    for (const amf::model::SuConfig& su : sg->sus) {
      for (const amf::model::ComponentConfig& comp : su.components) {
        AMF_ASSERT(wire::decode_component_message(wire::encode(wire::ComponentMessage{
                                                      wire::RegisterRequest{comp.id.str(), 1}}))
                       .has_value());
      }
    }
    for (const amf::model::SiConfig& si : sg->sis) {
      for (const amf::model::CsiConfig& csi : si.csis) {
        const wire::CsiSet set{1, csi.id.str(), amf::model::HaState::kActive,
                               amf::model::TransitionReason::kNewAssignment, csi.attributes};
        AMF_ASSERT(
            wire::decode_component_message(wire::encode(wire::ComponentMessage{set})).has_value());
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  amf::config::LoadResult loaded = amf::config::load_string(yaml, "fuzz.yaml");
  if (!loaded) {
    const auto& diags = loaded.error();
    AMF_ASSERT(!diags.empty());
    for (std::size_t i = 0; i < diags.size(); ++i) {
      AMF_ASSERT(!diags[i].message.empty());
      AMF_ASSERT(diags[i].line >= 0 && diags[i].column >= 0);
      AMF_ASSERT(diags[i].line != 0 || diags[i].column == 0);
      AMF_ASSERT(!diags[i].to_string().empty());
      if (i > 0) {
        AMF_ASSERT(std::pair(diags[i - 1].line, diags[i - 1].column) <=
                   std::pair(diags[i].line, diags[i].column));
      }
    }
    return 0;
  }
  AMF_ASSERT(!amf::config::summary(*loaded).empty());
  check_wire(*loaded);
  if (!amf::director::unsupported_features(*loaded).empty()) return 0;

  auto config = std::make_shared<const amf::model::ClusterConfig>(std::move(*loaded));
  AMF_ASSERT(amf::director::Director::create(config).has_value());
  if (components(*config) > kMaxComponentsToStart) return 0;
  amf::test::LocalCluster cluster(config);
  cluster.start();
  return 0;
}
