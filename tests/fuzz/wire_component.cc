// Fuzz target wire_component: the bytes a component (or amfd, in the other direction) sends
// on the component socket, through decode_component_message. Whatever decodes must encode
// again and decode to the same message; whatever does not must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/wire/codec.h"
#include "tests/fuzz/wire_equal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = amf::wire::decode_component_message(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  // Not compared byte for byte: protobuf serializes map fields (CSI attributes) in no fixed
  // order.
  const std::string again = amf::wire::encode(*decoded);
  const auto redecoded = amf::wire::decode_component_message(again);
  AMF_ASSERT(redecoded.has_value());
  AMF_ASSERT(amf::fuzz::same(*decoded, *redecoded));
  return 0;
}
