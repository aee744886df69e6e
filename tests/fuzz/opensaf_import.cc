// Fuzz target opensaf_import: bytes as an IMM XML file through config::import_opensaf, the path
// `amfctl import opensaf` takes after reading the file. Refused input must come back as
// messages; imported input must give a report whose lines are printable (no control
// character reaches the terminal) and YAML that the loader reads as YAML: refused, if at all,
// for what it says (a missing key, a bad value), never for its syntax or for not being text.
#include "config/opensaf_import.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "amf/core/assert.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto imported = amf::config::import_opensaf({{"fuzz.xml", text}});
  if (!imported) {
    AMF_ASSERT(!imported.error().empty());
    for (const std::string& error : imported.error()) AMF_ASSERT(!error.empty());
    return 0;
  }
  for (const std::string& line : imported->report) {
    for (char c : line) AMF_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  }
  amf::config::LoadResult loaded = amf::config::load_string(imported->yaml, "imported.yaml");
  if (!loaded) {
    for (const amf::config::Diagnostic& d : loaded.error()) {
      AMF_ASSERT(d.message.find("YAML syntax error") == std::string::npos);
      AMF_ASSERT(d.message.find("second YAML document") == std::string::npos);
      AMF_ASSERT(d.message.find("valid UTF-8") == std::string::npos);
    }
  }
  return 0;
}
