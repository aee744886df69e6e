#include "amf/checkpoint/sections.h"

#include <algorithm>

#include "amf/core/assert.h"
#include "amf/core/overloaded.h"
#include "amf/core/utf8.h"

namespace amf::checkpoint {

namespace {

std::string quoted(const SectionId& id) { return "section '" + id.str() + "'"; }

std::string bytes_text(std::uint64_t n) { return std::to_string(n) + " bytes"; }

std::optional<TimePoint> deadline(const std::optional<Duration>& expires_in, TimePoint now) {
  if (!expires_in) return std::nullopt;
  return now + *expires_in;
}

}  // namespace

std::string_view to_string(UpdateMode mode) {
  switch (mode) {
    case UpdateMode::kSynchronous:
      return "synchronous";
    case UpdateMode::kAsynchronous:
      return "asynchronous";
  }
  return "?";
}

Result<UpdateMode> update_mode_named(std::string_view name) {
  if (name == "synchronous") return UpdateMode::kSynchronous;
  if (name == "asynchronous") return UpdateMode::kAsynchronous;
  return fail("unknown update mode '" + std::string(name) +
              "' (expected synchronous or asynchronous)");
}

Result<void> check(const Attributes& a) {
  if (a.max_sections < 1 || a.max_sections > kMaxSections) {
    return fail("max_sections is " + std::to_string(a.max_sections) + ", must be 1 to " +
                std::to_string(kMaxSections));
  }
  if (a.max_section_size < 1 || a.max_section_size > kMaxSectionSize) {
    return fail("max_section_size is " + bytes_text(a.max_section_size) + ", must be 1 to " +
                bytes_text(kMaxSectionSize));
  }
  if (a.max_section_size * a.max_sections > kMaxCheckpointSize) {
    return fail("max_sections x max_section_size is " +
                bytes_text(a.max_section_size * a.max_sections) + ", over the bound of " +
                bytes_text(kMaxCheckpointSize) + " (every replica holds it in memory)");
  }
  if (a.retention < Duration::zero()) return fail("retention is negative");
  return {};
}

Result<void> check_name(const CheckpointName& name) {
  const std::string& s = name.str();
  if (s.empty()) return fail("a checkpoint name is empty");
  if (s.size() > kMaxNameSize) {
    return fail("checkpoint name '" + s.substr(0, 32) + "...' is " + bytes_text(s.size()) +
                ", over " + bytes_text(kMaxNameSize));
  }
  if (first_invalid_utf8(s)) {
    return fail("checkpoint name '" + valid_utf8(s) + "' is not UTF-8");
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '/') {
      return fail("checkpoint name '" + s + "' has a control character or '/'");
    }
  }
  return {};
}

std::string describe(const Operation& operation) {
  return std::visit(
      Overloaded{
          [](const CreateSection& o) {
            return "create " + quoted(o.id) + " (" + bytes_text(o.data.size()) + ")";
          },
          [](const DeleteSection& o) { return "delete " + quoted(o.id); },
          [](const WriteSection& o) {
            return "write " + bytes_text(o.data.size()) + " at " + std::to_string(o.offset) +
                   " of " + quoted(o.id);
          },
          [](const OverwriteSection& o) {
            return "overwrite " + quoted(o.id) + " (" + bytes_text(o.data.size()) + ")";
          },
          [](const SetExpiration& o) { return "set the expiration of " + quoted(o.id); },
      },
      operation);
}

Result<void> Sections::check_id(const SectionId& id) const {
  if (id.empty()) return fail("a section id is empty");
  if (id.str().size() > kMaxSectionIdSize) {
    return fail("a section id is " + bytes_text(id.str().size()) + ", over " +
                bytes_text(kMaxSectionIdSize));
  }
  return {};
}

Result<void> Sections::check_size(const SectionId& id, std::uint64_t size) const {
  if (size > attributes_.max_section_size) {
    return fail(quoted(id) + " would be " + bytes_text(size) +
                ", over the checkpoint's max_section_size of " +
                bytes_text(attributes_.max_section_size));
  }
  return {};
}

Result<void> Sections::check(const Operation& operation) const {
  auto expiry = [](const SectionId& id, const std::optional<Duration>& d) -> Result<void> {
    if (d && *d <= Duration::zero())
      return fail("the lifetime of " + quoted(id) + " is not positive");
    return {};
  };
  return std::visit(
      Overloaded{
          [&](const CreateSection& o) -> Result<void> {
            if (auto ok = check_id(o.id); !ok) return ok;
            if (sections_.contains(o.id)) return fail(quoted(o.id) + " exists already");
            if (sections_.size() >= attributes_.max_sections) {
              return fail("the checkpoint holds " + std::to_string(sections_.size()) +
                          " sections, its max_sections");
            }
            if (auto ok = check_size(o.id, o.data.size()); !ok) return ok;
            return expiry(o.id, o.expires_in);
          },
          [&](const DeleteSection& o) -> Result<void> {
            if (!sections_.contains(o.id)) return fail("there is no " + quoted(o.id));
            return {};
          },
          [&](const WriteSection& o) -> Result<void> {
            auto it = sections_.find(o.id);
            if (it == sections_.end()) return fail("there is no " + quoted(o.id));
            const auto size = it->second.data.size();
            if (o.offset > size) {
              return fail("offset " + std::to_string(o.offset) + " is past the end of " +
                          quoted(o.id) + " (" + bytes_text(size) + ")");
            }
            if (o.data.size() > attributes_.max_section_size)
              return check_size(o.id, o.data.size());
            return check_size(o.id, std::max<std::uint64_t>(size, o.offset + o.data.size()));
          },
          [&](const OverwriteSection& o) -> Result<void> {
            if (!sections_.contains(o.id)) return fail("there is no " + quoted(o.id));
            return check_size(o.id, o.data.size());
          },
          [&](const SetExpiration& o) -> Result<void> {
            if (!sections_.contains(o.id)) return fail("there is no " + quoted(o.id));
            return expiry(o.id, o.expires_in);
          },
      },
      operation);
}

void Sections::apply(const Operation& operation, TimePoint now) {
  AMF_ASSERT(check(operation).has_value());
  std::visit(Overloaded{
                 [&](const CreateSection& o) {
                   sections_.emplace(o.id, Section{o.data, deadline(o.expires_in, now)});
                   bytes_ += o.data.size();
                 },
                 [&](const DeleteSection& o) {
                   auto it = sections_.find(o.id);
                   bytes_ -= it->second.data.size();
                   sections_.erase(it);
                 },
                 [&](const WriteSection& o) {
                   std::string& data = sections_.at(o.id).data;
                   bytes_ -= data.size();
                   if (data.size() < o.offset + o.data.size())
                     data.resize(o.offset + o.data.size());
                   data.replace(o.offset, o.data.size(), o.data);
                   bytes_ += data.size();
                 },
                 [&](const OverwriteSection& o) {
                   std::string& data = sections_.at(o.id).data;
                   bytes_ -= data.size();
                   data = o.data;
                   bytes_ += data.size();
                 },
                 [&](const SetExpiration& o) {
                   sections_.at(o.id).expires_at = deadline(o.expires_in, now);
                 },
             },
             operation);
}

Result<std::string> Sections::read(const SectionId& id, std::uint64_t offset,
                                   std::uint64_t size) const {
  const Section* section = find(id);
  if (!section) return fail("there is no " + quoted(id));
  if (offset > section->data.size()) {
    return fail("offset " + std::to_string(offset) + " is past the end of " + quoted(id) + " (" +
                bytes_text(section->data.size()) + ")");
  }
  return section->data.substr(offset, size);
}

const Section* Sections::find(const SectionId& id) const {
  auto it = sections_.find(id);
  return it == sections_.end() ? nullptr : &it->second;
}

std::vector<SectionId> Sections::expired(TimePoint now) const {
  std::vector<SectionId> out;
  for (const auto& [id, section] : sections_) {
    if (section.expires_at && *section.expires_at <= now) out.push_back(id);
  }
  return out;
}

std::optional<TimePoint> Sections::next_expiry() const {
  std::optional<TimePoint> next;
  for (const auto& [id, section] : sections_) {
    if (section.expires_at && (!next || *section.expires_at < *next)) next = section.expires_at;
  }
  return next;
}

std::vector<Sections::Image> Sections::image(TimePoint now) const {
  std::vector<Image> out;
  out.reserve(sections_.size());
  for (const auto& [id, section] : sections_) {
    std::optional<Duration> left;
    // A section past its deadline that the active replica has not deleted yet keeps the
    // shortest lifetime an image can carry; the delete follows in order.
    if (section.expires_at) left = std::max<Duration>(*section.expires_at - now, Duration(1));
    out.push_back(Image{id, section.data, left});
  }
  return out;
}

Result<void> Sections::restore(const std::vector<Image>& image, TimePoint now) {
  Sections fresh(attributes_);
  for (const Image& section : image) {
    CreateSection create{section.id, section.data, section.expires_in};
    if (auto ok = fresh.check(create); !ok) return ok;
    fresh.apply(create, now);
  }
  *this = std::move(fresh);
  return {};
}

bool Sections::same_data(const Sections& other) const {
  if (attributes_ != other.attributes_ || sections_.size() != other.sections_.size()) return false;
  return std::equal(sections_.begin(), sections_.end(), other.sections_.begin(),
                    [](const auto& a, const auto& b) {
                      return a.first == b.first && a.second.data == b.second.data;
                    });
}

}  // namespace amf::checkpoint
