// Fuzz target wire_node: the bytes of one envelope between nodes' runtimes (a director's
// command, a node director's report, or an acknowledgement), through decode_node_envelope and
// then into the runtimes of a two-node 2N cluster in memory (tests/unit/support/local_cluster.h:
// node-1 hosts the director, epoch 1, every life 0), as a peer that got past the transport
// could send it, twice, with time passing between. Whatever decodes must encode to the same
// envelope; the cluster must settle without an assertion and, while its director has not been
// deposed by a command of a newer epoch, never hold two actives for its SI.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/wire/codec.h"
#include "tests/unit/support/local_cluster.h"
#include "tests/unit/support/test_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amf;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = wire::decode_node_envelope(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  const auto again = wire::decode_node_envelope(wire::encode(*decoded));
  AMF_ASSERT(again.has_value());
  AMF_ASSERT(*again == *decoded);

  static const auto config = test::make_cluster({.redundancy = model::RedundancyModel::kTwoN,
                                                 .sus = 2,
                                                 .sis = 1,
                                                 .nodes = {"node-1", "node-2"}});
  test::LocalCluster cluster(config);
  cluster.start();
  for (int i = 0; i < 2; ++i) {
    cluster.deliver(*decoded);
    cluster.advance(std::chrono::seconds(1));
  }
  // A command of a newer epoch (any peer may claim one: the transport vouches for peers, not
  // the epoch) deposes the director on node-1; then only the node directors are left.
  if (!cluster.has_director()) return 0;
  int actives = 0;
  for (const auto& a : cluster.director().assignments(SgId("app"))) {
    if (a.ha == model::HaState::kActive) ++actives;
  }
  AMF_ASSERT(actives <= 1);
  return 0;
}
