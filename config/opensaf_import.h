#pragma once

#include <string>
#include <tl/expected.hpp>
#include <vector>

// `amfctl import opensaf`: OpenSAF IMM XML application configurations to an amf configuration.
namespace amf::config {

// One IMM XML file: its name (for messages) and its text.
struct ImportSource {
  std::string name;
  std::string text;
};

struct Imported {
  std::string yaml;                 // an amf configuration (config/README.md)
  std::vector<std::string> report;  // "FILE: DN: attribute: why it was not carried over"
};

// Reads the SaAmf objects of the files (applications, SGs, SUs, components, SIs, CSIs and
// their attributes, SI dependencies, component and SG types with their versions, health check
// types, nodes, node groups and software bundles), as `immcfg -f` would load them together, and
// writes the amf configuration they describe: component and SG types become `component_types`
// and `service_group_types`, instances name them with `type`. Everything that amf cannot carry
// over, or carries over differently, is one line of the report. An error (a file that is not
// well-formed XML or not IMM contents, an object without a DN) is returned instead, one message
// per problem, "FILE:LINE: what"; nothing is imported then. The YAML is not checked here: load
// it (config/loader.h) to see whether amf can run it.
tl::expected<Imported, std::vector<std::string>> import_opensaf(
    const std::vector<ImportSource>& sources);

// The same for files; a file that cannot be read is an error.
tl::expected<Imported, std::vector<std::string>> import_opensaf_files(
    const std::vector<std::string>& paths);

}  // namespace amf::config
