#include "config/text.h"

#include <cstdio>

namespace amf::config::detail {
namespace {

std::string hex_escape(const char* format, unsigned value) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

}  // namespace

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
