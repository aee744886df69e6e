#pragma once

#include <string>
#include <string_view>

#include "amf/core/result.h"
#include "amf/wire/messages.h"

// Private to amf/wire (it is only included by the codecs, with the generated headers).
namespace amf::wire {

// Parses one channel's envelope and checks its protocol version; the error says which.
template <class Envelope>
Result<Envelope> parse(std::string_view bytes, const char* what) {
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(std::string("malformed ") + what + " (" + std::to_string(bytes.size()) +
                " bytes that are not a protobuf message)");
  }
  if (envelope.protocol_version() != kProtocolVersion) {
    return fail(std::string(what) + " has protocol version " +
                std::to_string(envelope.protocol_version()) + "; this build speaks version " +
                std::to_string(kProtocolVersion));
  }
  return envelope;
}

}  // namespace amf::wire
