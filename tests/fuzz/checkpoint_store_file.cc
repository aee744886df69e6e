// Fuzz target checkpoint_store_file: the bytes of a checkpoint store file (a disk that lies, a
// crash in the middle of a write, a file from elsewhere), through daemon::parse_store_file, as
// amfd's CheckpointStore::load reads it for checkpoint "counter-state". What it takes must be a
// prefix of whole records, within the content's limits, and read the same when only that
// prefix is there; what it does not take must say why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "amf/core/assert.h"
#include "amf/daemon/checkpoint_store.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amf;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string name = "counter-state";
  const TimePoint now{};
  const daemon::StoreFile file = daemon::parse_store_file(bytes, name, now);
  AMF_ASSERT(file.whole <= bytes.size());
  AMF_ASSERT((file.whole < bytes.size()) == !file.cut.empty());
  if (!file.content) {
    AMF_ASSERT(file.whole == 0);
    return 0;
  }
  const auto& content = *file.content;
  const auto& a = content.attributes();
  AMF_ASSERT(content.all().size() <= a.max_sections);
  std::uint64_t total = 0;
  for (const auto& [id, section] : content.all()) {
    AMF_ASSERT(section.data.size() <= a.max_section_size);
    total += section.data.size();
  }
  AMF_ASSERT(total == content.bytes());
  // The whole records alone read the same, and nothing is cut from them.
  const daemon::StoreFile prefix = daemon::parse_store_file(bytes.substr(0, file.whole), name, now);
  AMF_ASSERT(prefix.cut.empty() && prefix.whole == file.whole);
  AMF_ASSERT(prefix.content && *prefix.content == content && prefix.at == file.at);
  return 0;
}
