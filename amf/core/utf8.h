#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// UTF-8 as protobuf's `string` fields require it: whatever amf puts into a message must be
// well-formed, or the peer's decoder refuses the whole message. The configuration loader
// refuses text that is not; what comes from outside at run time (a component's sd_notify
// STATUS, a quoted malformed line) is made well-formed by valid_utf8() where it is encoded.
namespace amf {

// Length of the well-formed UTF-8 sequence at text[at] (1 to 4), or 0 when the byte there does
// not start one. Well-formed as RFC 3629 and protobuf's validator have it: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) -> unsigned {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0x100;
  };
  const unsigned first = byte(0);
  if (first < 0x80) return 1;
  // The second byte's range depends on the first (Unicode 15, table 3-7); later ones are
  // plain continuation bytes.
  unsigned low = 0x80, high = 0xBF;
  std::size_t length = 0;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    if (first == 0xE0) low = 0xA0;   // no overlong forms
    if (first == 0xED) high = 0x9F;  // no surrogates
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    if (first == 0xF0) low = 0x90;   // no overlong forms
    if (first == 0xF4) high = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0, C1 (overlong) or F5..FF
  }
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) > 0xFF || (byte(i) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Offset of the first byte of `text` that is not part of well-formed UTF-8; nullopt when all is.
inline std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) return at;
    at += length;
  }
  return std::nullopt;
}

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD (the
// replacement character); well-formed text comes back unchanged.
inline std::string valid_utf8(std::string_view text) {
  if (!first_invalid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++at;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

}  // namespace amf
