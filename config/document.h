#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "config/loader.h"

// Internal to config/. A YAML document as a plain tree with 1-based source positions, so that
// the schema code works on our own types and yaml-cpp stays inside document.cc.
namespace amf::config::detail {

struct Mark {
  int line = 0;  // 1-based
  int column = 0;
};

struct MapEntry;

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind = Kind::kNull;
  Mark mark;
  std::string scalar;             // kScalar: the text, quotes removed
  std::vector<Node> items;        // kSequence
  std::vector<MapEntry> entries;  // kMapping, in document order; duplicates kept

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_mapping() const { return kind == Kind::kMapping; }
};

struct MapEntry {
  Node key;
  Node value;
};

// Bounds on what parse_document accepts. Aliases are expanded into copies, so the node bound
// also stops "billion laughs" documents; both bounds are far above any real configuration.
inline constexpr std::size_t kMaxDocumentNodes = 200'000;
inline constexpr int kMaxDocumentDepth = 64;

// Parses one YAML document (an empty text gives a kNull root). Syntax errors, a second
// document and the bounds above give one Diagnostic. Never throws.
tl::expected<Node, Diagnostic> parse_document(std::string_view text, const std::string& file);

}  // namespace amf::config::detail
