#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"

// A checkpoint's content, sans-I/O: its attributes, its named sections, and the operations that
// change them. Every replica of a checkpoint holds one `Sections` and applies the same
// operations in the same order (replica.h); the active replica checks an operation against the
// limits before it is given a sequence number, so every replica can apply it. README.md beside
// this file has the whole service.
namespace amf::checkpoint {

using CheckpointName = Id<struct CheckpointTag>;
using SectionId = Id<struct SectionTag>;

// SAF's SA_CKPT_WR_ALL_REPLICAS and SA_CKPT_WR_ACTIVE_REPLICA.
enum class UpdateMode {
  kSynchronous,   // a write returns once every in-service replica holds it
  kAsynchronous,  // a write returns once the active replica holds it; the rest follow behind
};
std::string_view to_string(UpdateMode mode);
Result<UpdateMode> update_mode_named(std::string_view name);

// Hard bounds on what a checkpoint may ask for ("put a limit on everything"): a checkpoint is
// held in memory on every replica, and sent whole to a replica that joins. A section travels in
// one message of a cold sync, which the checkpoint links take up to 16 MiB; a checkpoint's cold
// sync is a few hundred of them at most (ZeroMQ queues 1,000 for a peer).
inline constexpr std::uint32_t kMaxSections = 65536;
inline constexpr std::uint64_t kMaxSectionSize = 8ull << 20;       // 8 MiB
inline constexpr std::uint64_t kMaxCheckpointSize = 256ull << 20;  // max_sections x size
inline constexpr std::size_t kMaxSectionIdSize = 256;
inline constexpr std::size_t kMaxNameSize = 256;

// What a checkpoint is created with (SAF's SaCkptCheckpointCreationAttributesT).
struct Attributes {
  UpdateMode mode = UpdateMode::kSynchronous;
  std::uint32_t max_sections = 1;
  std::uint64_t max_section_size = 4096;
  Duration retention{};  // kept this long after its last close, then deleted everywhere
  friend bool operator==(const Attributes&, const Attributes&) = default;
};
// Refuses attributes outside the bounds above, saying which and why.
Result<void> check(const Attributes& attributes);
// Refuses an empty or over-long name, one that is not UTF-8, or one with a control character or
// '/'.
Result<void> check_name(const CheckpointName& name);

struct Section {
  std::string data;
  // When the active replica deletes it (on this replica's clock); nullopt: never. A replica
  // sets it from the lifetime left when the operation reached it, so it is never earlier than
  // the active replica's own deadline; only the active replica acts on it.
  std::optional<TimePoint> expires_at;
  friend bool operator==(const Section&, const Section&) = default;
};

// ---- operations (replicated in order; every replica applies each one) ----
struct CreateSection {
  SectionId id;
  std::string data;                      // initial content
  std::optional<Duration> expires_in{};  // lifetime; nullopt: forever
};
struct DeleteSection {
  SectionId id;
};
struct WriteSection {  // SAF's saCkptCheckpointWrite: `data` at `offset`, growing the section
  SectionId id;
  std::uint64_t offset = 0;
  std::string data;
};
struct OverwriteSection {  // SAF's saCkptSectionOverwrite: the whole section
  SectionId id;
  std::string data;
};
struct SetExpiration {
  SectionId id;
  std::optional<Duration> expires_in{};
};
using Operation =
    std::variant<CreateSection, DeleteSection, WriteSection, OverwriteSection, SetExpiration>;
std::string describe(const Operation& operation);

class Sections {
 public:
  explicit Sections(Attributes attributes) : attributes_(attributes) {}

  // Whether `operation` can be applied now: the section exists (or not, to create it), its id,
  // offset and size are within the attributes. The error says what and which section.
  Result<void> check(const Operation& operation) const;
  // Applies an operation that check() accepted (AMF_ASSERT otherwise: replicas apply only what
  // the active replica checked against the same content).
  void apply(const Operation& operation, TimePoint now);

  // Up to `size` bytes of a section from `offset` (SAF's saCkptCheckpointRead).
  Result<std::string> read(const SectionId& id, std::uint64_t offset, std::uint64_t size) const;
  const Section* find(const SectionId& id) const;
  const std::map<SectionId, Section>& all() const { return sections_; }
  // Sections whose expiry is at or before `now`, in id order.
  std::vector<SectionId> expired(TimePoint now) const;
  std::optional<TimePoint> next_expiry() const;
  std::uint64_t bytes() const { return bytes_; }
  const Attributes& attributes() const { return attributes_; }

  // A cold sync's image: every section with the lifetime it has left at `now`.
  struct Image {
    SectionId id;
    std::string data;
    std::optional<Duration> expires_in;
  };
  std::vector<Image> image(TimePoint now) const;
  // Replaces the whole content with an image (checked: a peer's image may break the limits).
  Result<void> restore(const std::vector<Image>& image, TimePoint now);

  friend bool operator==(const Sections& a, const Sections& b) {
    return a.attributes_ == b.attributes_ && a.sections_ == b.sections_;
  }
  // Equal ids and data (expiry deadlines differ between replicas by the replication delay).
  bool same_data(const Sections& other) const;

 private:
  Result<void> check_id(const SectionId& id) const;
  Result<void> check_size(const SectionId& id, std::uint64_t size) const;

  Attributes attributes_;
  std::map<SectionId, Section> sections_;
  std::uint64_t bytes_ = 0;
};

}  // namespace amf::checkpoint
