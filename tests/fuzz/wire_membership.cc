// Fuzz target wire_membership: the bytes of a membership datagram (after its key's tag), through
// decode_membership_message and then into a membership Node that leads, as a peer that holds
// the cluster's key could send them. Whatever decodes must encode to the same message and
// leave the cores' invariants whole; whatever does not must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/membership/membership.h"
#include "amf/wire/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amf;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = wire::decode_membership_message(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  const auto again = wire::decode_membership_message(wire::encode(*decoded));
  AMF_ASSERT(again.has_value());
  AMF_ASSERT(membership::describe(*again) == membership::describe(*decoded));

  // A leading node of a three-node cluster hears it, twice, and time goes on.
  const std::vector<NodeId> nodes{NodeId("n1"), NodeId("n2"), NodeId("n3")};
  TimePoint now{};
  membership::Node node({NodeId("n1"), 1}, nodes, {nodes.begin(), nodes.end()},
                        membership::fast_profile(), now);
  node.lead(1, node.member().view(), now);
  for (int i = 0; i < 2; ++i) {
    node.receive(*decoded, now);
    now += std::chrono::milliseconds(7);
    node.tick(now);
  }
  const membership::View& view = node.member().view();
  AMF_ASSERT(std::is_sorted(view.members.begin(), view.members.end()));
  for (const auto& m : view.members) AMF_ASSERT(!view.taken_out(m));
  // This node's own life is never taken out by what a peer says, unless it leaves it for a new
  // one (and then the new one is not out).
  AMF_ASSERT(!view.taken_out(node.member().self()));
  for (const auto& e : node.take_effects()) AMF_ASSERT(!membership::describe(e).empty());
  return 0;
}
