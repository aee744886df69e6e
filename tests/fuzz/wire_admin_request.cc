// Fuzz target wire_admin_request: the bytes amfctl (or anyone who can reach admin.sock) sends,
// through decode_admin_request. Whatever decodes must encode again to the same bytes as its
// re-encoding and decode to the same request; whatever does not must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/wire/codec.h"
#include "tests/fuzz/wire_equal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = amf::wire::decode_admin_request(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  const std::string again = amf::wire::encode(*decoded);
  const auto redecoded = amf::wire::decode_admin_request(again);
  AMF_ASSERT(redecoded.has_value());
  AMF_ASSERT(amf::fuzz::same(*decoded, *redecoded));
  // No map fields here, so the encoding of a decoded request is canonical.
  AMF_ASSERT(amf::wire::encode(*redecoded) == again);
  return 0;
}
