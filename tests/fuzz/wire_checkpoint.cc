// Fuzz target wire_checkpoint: the bytes of a checkpoint replication message, through
// decode_checkpoint_message and then into two replicas of checkpoint "counter-state" on node
// n2: one that follows (it has never heard of an active replica) and one that is active in
// generation 2 with peers n1 and n3, as a peer that holds the cluster's key could send them.
// Whatever decodes must encode to the same bytes and leave each replica's content within its
// limits; whatever does not must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/checkpoint/replica.h"
#include "amf/core/assert.h"
#include "amf/wire/codec.h"

namespace {

void check_limits(const amf::checkpoint::Replica& replica) {
  const auto& content = replica.content();
  const auto& a = content.attributes();
  AMF_ASSERT(content.all().size() <= a.max_sections);
  std::uint64_t bytes = 0;
  for (const auto& [id, section] : content.all()) {
    AMF_ASSERT(section.data.size() <= a.max_section_size);
    bytes += section.data.size();
  }
  AMF_ASSERT(bytes == content.bytes());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amf;
  using namespace amf::checkpoint;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = wire::decode_checkpoint_message(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  const std::string encoded = wire::encode(*decoded);
  const auto again = wire::decode_checkpoint_message(encoded);
  AMF_ASSERT(again.has_value());
  AMF_ASSERT(wire::encode(*again) == encoded);

  Attributes attributes;
  attributes.max_sections = 4;
  attributes.max_section_size = 64;
  const CheckpointName name("counter-state");
  TimePoint now{};
  Replica follower(name, attributes, NodeId("n2"));
  Replica active(name, attributes, NodeId("n2"));
  AMF_ASSERT(active.activate(2, {NodeId("n1"), NodeId("n3")}, now).has_value());
  active.write(1, CreateSection{SectionId("s"), "x"}, now);
  for (int i = 0; i < 2; ++i) {
    for (Replica* r : {&follower, &active}) {
      r->receive(*decoded, now);
      r->tick(now);
      check_limits(*r);
      for (const auto& e : r->take_effects()) AMF_ASSERT(!checkpoint::describe(e).empty());
    }
    now += std::chrono::milliseconds(150);
  }
  AMF_ASSERT(active.pending_writes() <= 1);
  return 0;
}
