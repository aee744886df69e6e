#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.h"

// Helpers shared by the configuration loader's tests.
namespace amf::config::testing_support {

// Loads YAML text that must fail and returns its diagnostics.
inline std::vector<Diagnostic> errors_of(std::string_view yaml) {
  LoadResult result = load_string(yaml, "test.yaml");
  EXPECT_FALSE(result.has_value()) << "the configuration loaded but should not have";
  return result.has_value() ? std::vector<Diagnostic>{} : result.error();
}

// Loads YAML text that must succeed.
inline model::ClusterConfig config_of(std::string_view yaml) {
  LoadResult result = load_string(yaml, "test.yaml");
  if (!result.has_value()) {
    for (const Diagnostic& d : result.error()) ADD_FAILURE() << d.to_string();
    return {};
  }
  return *result;
}

inline std::string dump(const std::vector<Diagnostic>& diags) {
  std::ostringstream out;
  for (const Diagnostic& d : diags) out << "  " << d.to_string() << "\n";
  return out.str();
}

// True when one diagnostic contains `text` at `line` (and `column`, unless it is 0).
inline testing::AssertionResult has_error(const std::vector<Diagnostic>& diags,
                                          std::string_view text, int line, int column = 0) {
  for (const Diagnostic& d : diags) {
    if (d.message.find(text) != std::string::npos && d.line == line &&
        (column == 0 || d.column == column)) {
      return testing::AssertionSuccess();
    }
  }
  return testing::AssertionFailure() << "no diagnostic containing \"" << text << "\" at line "
                                     << line << " column " << column << "; got:\n"
                                     << dump(diags);
}

struct Position {
  int line = 0;
  int column = 0;
};

// The 1-based position of the first occurrence of `needle` in `text`.
inline Position position_of(std::string_view text, std::string_view needle) {
  std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  Position p{1, 1};
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

inline testing::AssertionResult has_error_at(const std::vector<Diagnostic>& diags,
                                             std::string_view text, Position at) {
  return has_error(diags, text, at.line, at.column);
}

// Every file name and message is printable ASCII: no raw control character, no byte that is
// not UTF-8 (the tests that use this put no other non-ASCII text in their messages).
inline testing::AssertionResult printable_ascii(const std::vector<Diagnostic>& diags) {
  for (const Diagnostic& d : diags) {
    for (std::string_view text : {std::string_view(d.file), std::string_view(d.message)}) {
      for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f || c >= 0x80) {
          return testing::AssertionFailure() << "raw byte " << int(c) << " in: " << d.to_string();
        }
      }
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace amf::config::testing_support
