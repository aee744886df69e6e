#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "amf/core/utf8.h"
#include "config/loader.h"

// Internal to config/: what the loader requires of text, and how it shows text it did not write.
namespace amf::config::detail {

// The UTF-8 rules are amf/core/utf8.h's (utf8_sequence_length, first_invalid_utf8).
using amf::first_invalid_utf8;
using amf::utf8_sequence_length;

// `text` made safe for a terminal: control characters are escaped (\n, \r, \t; other C0 and DEL
// as \xNN; C1 controls U+0080..U+009F as \u00NN), bytes that are not UTF-8 become \xNN, the rest
// (printable ASCII and other well-formed UTF-8) is kept. Backslashes are not doubled.
std::string printable(std::string_view text);

// The one way config/ makes a Diagnostic: its file name and message go through printable(),
// so no user text reaches a terminal raw, whichever message quotes it.
Diagnostic make_diagnostic(std::string_view file, int line, int column, std::string_view message);

}  // namespace amf::config::detail
