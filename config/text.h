#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"

// Internal to config/: what the loader requires of text, and how it shows text it did not write.
namespace amf::config::detail {

// Length of the well-formed UTF-8 sequence at text[at] (1 to 4), or 0 when the byte there does
// not start one. Well-formed as RFC 3629 and protobuf's validator have it: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Offset of the first byte of `text` that is not part of well-formed UTF-8; nullopt when all is.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// `text` made safe for a terminal: control characters are escaped (\n, \r, \t; other C0 and DEL
// as \xNN; C1 controls U+0080..U+009F as \u00NN), bytes that are not UTF-8 become \xNN, the rest
// (printable ASCII and other well-formed UTF-8) is kept. Backslashes are not doubled.
std::string printable(std::string_view text);

// The one way config/ makes a Diagnostic: its file name and message go through printable(),
// so no user text reaches a terminal raw, whichever message quotes it.
Diagnostic make_diagnostic(std::string_view file, int line, int column, std::string_view message);

}  // namespace amf::config::detail
