#include "config/text.h"

#include <cstdio>

namespace amf::config::detail {
namespace {

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

std::string hex_escape(const char* format, unsigned value) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
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
    if (byte(i) > 0xFF || !continuation(static_cast<unsigned char>(byte(i)))) return 0;
  }
  return length;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) return at;
    at += length;
  }
  return std::nullopt;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const auto c = static_cast<unsigned char>(text[at]);
    const std::size_t length = utf8_sequence_length(text, at);
    if (length == 0) {
      out += hex_escape("\\x%02x", c);
      ++at;
      continue;
    }
    if (length == 1 && (c < 0x20 || c == 0x7F)) {
      out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : hex_escape("\\x%02x", c);
    } else if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[at + 1]) < 0xA0) {
      out += hex_escape("\\u%04x", static_cast<unsigned char>(text[at + 1]));  // U+0080..U+009F
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
  return out;
}

Diagnostic make_diagnostic(std::string_view file, int line, int column, std::string_view message) {
  return Diagnostic{printable(file), line, column, printable(message)};
}

}  // namespace amf::config::detail
