// Fuzz target wire_admin_reply: the bytes amfctl reads from admin.sock, through
// decode_admin_reply. Whatever decodes must encode again to the same bytes as its re-encoding
// and decode to the same reply; a status or event list must also survive its JSON form
// (`amfctl -o json`, read back by status_from_json). Whatever does not decode must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "amf/core/assert.h"
#include "amf/wire/codec.h"
#include "tests/fuzz/wire_equal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = amf::wire::decode_admin_reply(bytes);
  if (!decoded) {
    AMF_ASSERT(!decoded.error().message().empty());
    return 0;
  }
  const std::string again = amf::wire::encode(*decoded);
  const auto redecoded = amf::wire::decode_admin_reply(again);
  AMF_ASSERT(redecoded.has_value());
  AMF_ASSERT(amf::fuzz::same(*decoded, *redecoded));
  AMF_ASSERT(amf::wire::encode(*redecoded) == again);

  if (const auto* status = std::get_if<amf::wire::ClusterStatus>(&*decoded)) {
    const auto from_json = amf::wire::status_from_json(amf::wire::to_json(*status));
    AMF_ASSERT(from_json.has_value());
    AMF_ASSERT(amf::fuzz::same(*status, *from_json));
  } else if (const auto* events = std::get_if<amf::wire::EventList>(&*decoded)) {
    AMF_ASSERT(!amf::wire::to_json(*events).empty());
  }
  return 0;
}
