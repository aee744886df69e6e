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

  // Used by parse_document while it builds the tree; 0 in every tree it returns. `anchor`: the
  // YAML anchor (&a) this node defines; `alias`: for a kNull placeholder, the anchor it names.
  std::size_t anchor = 0;
  std::size_t alias = 0;
  bool merge_key = false;  // a plain (unquoted) `<<`: a YAML merge key, resolved by then too

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_mapping() const { return kind == Kind::kMapping; }
};

struct MapEntry {
  Node key;
  Node value;
};

// Bounds on what parse_document builds, all far above any real configuration. Aliases are
// expanded into copies, and the bounds count the copies, so a "billion laughs" document (aliases
// of aliases, or of one long value) is refused too. They are checked while yaml-cpp parses,
// event by event, before anything past them is built: a hostile file costs little memory.
inline constexpr std::size_t kMaxDocumentNodes = 200'000;
inline constexpr std::size_t kMaxDocumentTextBytes = 16 * 1024 * 1024;  // all scalars together
inline constexpr std::size_t kMaxScalarBytes = 64 * 1024;               // one scalar
inline constexpr int kMaxDocumentDepth = 64;  // collections around a node; the root is at 0

// Parses one YAML document (an empty text gives a kNull root), with aliases expanded and merge
// keys (`<<: *defaults`) applied: a mapping takes, from the mapping or mappings its `<<` names,
// every entry whose key it does not give itself (of several, the first to give a key wins).
// Syntax errors, a second document, a recursive alias, a merge key that names no mapping and
// the bounds above give one Diagnostic, at the node where the problem is. Never throws.
tl::expected<Node, Diagnostic> parse_document(std::string_view text, const std::string& file);

// The text of the file at `path`: a regular file (or a symlink to one) of at most 4 MiB, read
// without blocking (a FIFO or a device is refused unread); one Diagnostic (line 0) otherwise.
// load_file() and load_drill_file() read their files with it.
tl::expected<std::string, Diagnostic> read_config_file(const std::string& path);

}  // namespace amf::config::detail
