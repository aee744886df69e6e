#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "amf/model/config.h"

namespace amf::config {

// Loads the cluster's YAML configuration (schema and rules: config/README.md) into the typed
// model::ClusterConfig every core reads. The conversion happens once, at the boundary: either
// the whole file is valid and a complete configuration comes back, or nothing does and every
// problem found is reported, each with its position. Nothing is half-applied.
//
// Thread-safety: the functions are pure (no shared state) and may run concurrently.
// Errors: expected failures come back as diagnostics; nothing throws out of these functions.

// One problem in a configuration file. `file` and `message` are safe to print: control
// characters and bytes that are not UTF-8 in them, user text included, are escaped (\x1b, \n).
struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem is with the file as a whole (unreadable)
  int column = 0;  // 1-based; 0 when line is 0
  std::string message;

  // "file:line:column: message", or "file: message" when there is no position (line 0).
  std::string to_string() const;
};

// On failure: every problem found, in document order (by line, then column).
using LoadResult = tl::expected<model::ClusterConfig, std::vector<Diagnostic>>;

// Reads and loads `path`. An unreadable file gives one Diagnostic with line 0, column 0 and the
// operating system's reason. Only a regular file (or a symlink to one) is read: a directory, a
// FIFO or a device is refused without being read, and nothing here blocks. Files larger than
// 4 MiB are refused.
LoadResult load_file(const std::string& path);

// Loads YAML text; `file_name` is only used to label diagnostics.
LoadResult load_string(std::string_view yaml, const std::string& file_name);

// One line describing a configuration, e.g. "cluster 'demo': 1 node, 1 application,
// 1 service group (2n), 2 service units, 2 components, 1 service instance, 1 CSI". The cluster
// name is escaped as in Diagnostic.
std::string summary(const model::ClusterConfig& config);

}  // namespace amf::config
