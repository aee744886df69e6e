// Checkpoint replication messages <-> checkpoint.proto.
#include <limits>
#include <set>

#include "amf/core/overloaded.h"
#include "amf/core/utf8.h"
#include "amf/wire/checkpoint_pb.h"
#include "amf/wire/codec.h"
#include "amf/wire/parse.h"

namespace amf::wire {
namespace {

namespace pb = ::amf::v1;
namespace ck = ::amf::checkpoint;

std::int64_t ns(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

void fill(pb::CheckpointAttributes& out, const ck::Attributes& in) {
  out.set_mode(in.mode == ck::UpdateMode::kSynchronous ? pb::CHECKPOINT_SYNCHRONOUS
                                                       : pb::CHECKPOINT_ASYNCHRONOUS);
  out.set_max_sections(in.max_sections);
  out.set_max_section_size(in.max_section_size);
  out.set_retention_ns(ns(in.retention));
}

Result<ck::Attributes> from_pb(const pb::CheckpointAttributes& in) {
  ck::Attributes out;
  switch (in.mode()) {
    case pb::CHECKPOINT_SYNCHRONOUS:
      out.mode = ck::UpdateMode::kSynchronous;
      break;
    case pb::CHECKPOINT_ASYNCHRONOUS:
      out.mode = ck::UpdateMode::kAsynchronous;
      break;
    default:
      return fail("unknown update mode " + std::to_string(static_cast<int>(in.mode())));
  }
  out.max_sections = in.max_sections();
  out.max_section_size = in.max_section_size();
  out.retention = std::chrono::nanoseconds(in.retention_ns());
  if (auto ok = ck::check(out); !ok) return tl::unexpected(ok.error());
  return out;
}

void fill(pb::CheckpointPosition& out, const ck::Position& in) {
  out.set_generation(in.generation);
  out.set_seq(in.seq);
}

ck::Position from_pb(const pb::CheckpointPosition& in) { return {in.generation(), in.seq()}; }

void fill(pb::CheckpointHeader& out, const ck::Header& in) {
  out.set_checkpoint(in.checkpoint.str());
  out.set_from(in.from.str());
  out.set_generation(in.generation);
}

Result<ck::Header> from_pb(const pb::CheckpointHeader& in) {
  ck::Header out{ck::CheckpointName(in.checkpoint()), NodeId(in.from()), in.generation()};
  if (auto ok = ck::check_name(out.checkpoint); !ok) return tl::unexpected(ok.error());
  if (out.from.empty()) return fail("it names no sending node");
  if (out.generation == 0) return fail("it has generation 0, which no active replica has");
  return out;
}

Result<ck::SectionId> section_id(const std::string& id) {
  if (id.empty()) return fail("a section id is empty");
  if (id.size() > ck::kMaxSectionIdSize) {
    return fail("a section id is " + std::to_string(id.size()) + " bytes, over " +
                std::to_string(ck::kMaxSectionIdSize));
  }
  return ck::SectionId(id);
}

Result<std::optional<Duration>> lifetime(bool has, std::int64_t expires_in_ns) {
  if (!has) return std::optional<Duration>();
  if (expires_in_ns <= 0) return fail("a section's lifetime is not positive");
  return std::optional<Duration>(std::chrono::nanoseconds(expires_in_ns));
}

void fill(pb::CheckpointCreateSection& out, const ck::SectionId& id, const std::string& data,
          const std::optional<Duration>& expires_in) {
  out.set_id(id.str());
  out.set_data(data);
  if (expires_in) out.set_expires_in_ns(ns(*expires_in));
}

void fill(pb::CheckpointOperation& out, const ck::Operation& in) {
  std::visit(Overloaded{
                 [&](const ck::CreateSection& o) {
                   fill(*out.mutable_create(), o.id, o.data, o.expires_in);
                 },
                 [&](const ck::DeleteSection& o) { out.mutable_delete_()->set_id(o.id.str()); },
                 [&](const ck::WriteSection& o) {
                   auto* b = out.mutable_write();
                   b->set_id(o.id.str());
                   b->set_offset(o.offset);
                   b->set_data(o.data);
                 },
                 [&](const ck::OverwriteSection& o) {
                   auto* b = out.mutable_overwrite();
                   b->set_id(o.id.str());
                   b->set_data(o.data);
                 },
                 [&](const ck::SetExpiration& o) {
                   auto* b = out.mutable_set_expiration();
                   b->set_id(o.id.str());
                   if (o.expires_in) b->set_expires_in_ns(ns(*o.expires_in));
                 },
             },
             in);
}

Result<ck::Sections::Image> from_pb(const pb::CheckpointCreateSection& in) {
  auto id = section_id(in.id());
  if (!id) return tl::unexpected(id.error());
  auto left = lifetime(in.has_expires_in_ns(), in.expires_in_ns());
  if (!left) return tl::unexpected(left.error());
  return ck::Sections::Image{*id, in.data(), *left};
}

Result<ck::Operation> from_pb(const pb::CheckpointOperation& in) {
  switch (in.body_case()) {
    case pb::CheckpointOperation::kCreate: {
      auto image = from_pb(in.create());
      if (!image) return tl::unexpected(image.error());
      return ck::CreateSection{image->id, image->data, image->expires_in};
    }
    case pb::CheckpointOperation::kDelete: {
      auto id = section_id(in.delete_().id());
      if (!id) return tl::unexpected(id.error());
      return ck::DeleteSection{*id};
    }
    case pb::CheckpointOperation::kWrite: {
      auto id = section_id(in.write().id());
      if (!id) return tl::unexpected(id.error());
      if (in.write().offset() > ck::kMaxSectionSize) {
        return fail("a write's offset is past the largest section there can be");
      }
      return ck::WriteSection{*id, in.write().offset(), in.write().data()};
    }
    case pb::CheckpointOperation::kOverwrite: {
      auto id = section_id(in.overwrite().id());
      if (!id) return tl::unexpected(id.error());
      return ck::OverwriteSection{*id, in.overwrite().data()};
    }
    case pb::CheckpointOperation::kSetExpiration: {
      const auto& b = in.set_expiration();
      auto id = section_id(b.id());
      if (!id) return tl::unexpected(id.error());
      auto left = lifetime(b.has_expires_in_ns(), b.expires_in_ns());
      if (!left) return tl::unexpected(left.error());
      return ck::SetExpiration{*id, *left};
    }
    case pb::CheckpointOperation::BODY_NOT_SET:
      break;
  }
  return fail("an operation has no body");
}

// A position the sender may name: not of a generation newer than its own, and not at the last
// sequence number there is (the next operation would have none).
Result<ck::Position> position(const pb::CheckpointPosition& in, const ck::Header& head,
                              const char* what) {
  const ck::Position at = from_pb(in);
  if (at.generation > head.generation) {
    return fail(std::string("checkpoint ") + what + ": a position of generation " +
                std::to_string(at.generation) + ", newer than its own " +
                std::to_string(head.generation));
  }
  if (at.seq == std::numeric_limits<std::uint64_t>::max()) {
    return fail(std::string("checkpoint ") + what +
                ": a position at the last sequence number there is");
  }
  return at;
}

template <class T>
Result<T> with_context(Result<T> r, const std::string& what) {
  if (!r) return tl::unexpected(r.error().with_context(what));
  return r;
}

// A whole content (a snapshot's sections, a store record's image), checked against the
// attributes it comes with: `what` names it in the errors.
Result<std::vector<ck::Sections::Image>> images(
    const google::protobuf::RepeatedPtrField<pb::CheckpointCreateSection>& sections,
    const ck::Attributes& attributes, const std::string& what) {
  if (static_cast<std::uint64_t>(sections.size()) > attributes.max_sections) {
    return fail(what + ": " + std::to_string(sections.size()) +
                " sections, over its max_sections of " + std::to_string(attributes.max_sections));
  }
  std::vector<ck::Sections::Image> out;
  std::set<std::string> seen;
  for (const auto& s : sections) {
    auto image = with_context(from_pb(s), what);
    if (!image) return tl::unexpected(image.error());
    if (image->data.size() > attributes.max_section_size) {
      return fail(what + ": section '" + image->id.str() + "' is " +
                  std::to_string(image->data.size()) + " bytes, over its max_section_size");
    }
    if (!seen.insert(image->id.str()).second) {
      return fail(what + ": section '" + image->id.str() + "' comes twice");
    }
    out.push_back(std::move(*image));
  }
  return out;
}

}  // namespace

// ---- the component channel's checkpoint requests ----

void fill(pb::CheckpointRequest& out, const CheckpointRequest& in) {
  out.set_request(in.request);
  out.set_checkpoint(valid_utf8(in.checkpoint.str()));
  std::visit(Overloaded{
                 [&](const CheckpointOpen& b) {
                   auto* o = out.mutable_open();
                   o->set_create(b.create.has_value());
                   if (b.create) fill(*o->mutable_attributes(), *b.create);
                   o->set_write(b.write);
                 },
                 [&](const CheckpointClose&) { out.mutable_close(); },
                 [&](const ck::Operation& b) { fill(*out.mutable_write(), b); },
                 [&](const CheckpointRead& b) {
                   auto* r = out.mutable_read();
                   r->set_section(b.section.str());
                   r->set_offset(b.offset);
                   r->set_size(b.size);
                 },
                 [&](const CheckpointSections&) { out.mutable_sections(); },
             },
             in.body);
}

Result<CheckpointRequest> from_pb(const pb::CheckpointRequest& in) {
  CheckpointRequest out{in.request(), ck::CheckpointName(in.checkpoint()), CheckpointClose{}};
  if (auto ok = ck::check_name(out.checkpoint); !ok) return tl::unexpected(ok.error());
  switch (in.body_case()) {
    case pb::CheckpointRequest::kOpen: {
      CheckpointOpen open{std::nullopt, in.open().write()};
      if (in.open().create()) {
        auto attributes = from_pb(in.open().attributes());
        if (!attributes) return tl::unexpected(attributes.error());
        open.create = *attributes;
      }
      out.body = open;
      return out;
    }
    case pb::CheckpointRequest::kClose:
      return out;
    case pb::CheckpointRequest::kWrite: {
      auto op = from_pb(in.write());
      if (!op) return tl::unexpected(op.error());
      out.body = std::move(*op);
      return out;
    }
    case pb::CheckpointRequest::kRead: {
      auto id = section_id(in.read().section());
      if (!id) return tl::unexpected(id.error());
      out.body = CheckpointRead{*id, in.read().offset(), in.read().size()};
      return out;
    }
    case pb::CheckpointRequest::kSections:
      out.body = CheckpointSections{};
      return out;
    case pb::CheckpointRequest::BODY_NOT_SET:
      break;
  }
  return fail("a checkpoint request asks for nothing");
}

void fill(pb::CheckpointReply& out, const CheckpointReply& in) {
  out.set_request(in.request);
  out.set_ok(in.ok);
  out.set_error(valid_utf8(in.error));
  out.set_data(in.data);
  for (const auto& s : in.sections) {
    auto* info = out.add_sections();
    info->set_id(s.id.str());
    info->set_size(s.size);
    if (s.expires_in) info->set_expires_in_ns(ns(*s.expires_in));
  }
}

Result<CheckpointReply> from_pb(const pb::CheckpointReply& in) {
  CheckpointReply out{in.request(), in.ok(), in.error(), in.data(), {}};
  for (const auto& s : in.sections()) {
    auto id = section_id(s.id());
    if (!id) return tl::unexpected(id.error());
    std::optional<Duration> left;
    if (s.has_expires_in_ns()) {
      if (s.expires_in_ns() < 0) return fail("a section's lifetime left is negative");
      left = std::chrono::nanoseconds(s.expires_in_ns());
    }
    out.sections.push_back(ck::SectionInfo{*id, s.size(), left});
  }
  return out;
}

// ---- amfctl ckpt ----

void fill(pb::CheckpointList& out, const CheckpointList& in) {
  out.set_node(valid_utf8(in.node));
  for (const CheckpointView& view : in.checkpoints) {
    const ck::CheckpointStatus& c = view.status;
    auto* row = out.add_checkpoints();
    row->set_name(valid_utf8(c.name.str()));
    fill(*row->mutable_attributes(), c.attributes);
    row->set_active(c.active);
    row->set_active_node(valid_utf8(c.active_node.str()));
    row->set_generation(c.generation);
    fill(*row->mutable_position(), c.position);
    row->set_in_service(c.in_service);
    row->set_recovering(c.recovering);
    row->set_sections(static_cast<std::uint32_t>(c.sections));
    row->set_bytes(c.bytes);
    row->set_opened_here(static_cast<std::uint32_t>(c.opened_here));
    for (const auto& p : c.peers) {
      auto* peer = row->add_peers();
      peer->set_node(valid_utf8(p.node.str()));
      fill(*peer->mutable_acked(), p.acked);
      peer->set_in_service(p.in_service);
    }
    for (const auto& section : view.sections) {
      auto* info = row->add_section_list();
      info->set_id(section.id.str());
      info->set_id_text(valid_utf8(section.id.str()));
      info->set_size(section.size);
      if (section.expires_in) info->set_expires_in_ns(ns(*section.expires_in));
    }
  }
}

Result<CheckpointList> from_pb(const pb::CheckpointList& in) {
  CheckpointList out{in.node(), {}};
  for (const auto& row : in.checkpoints()) {
    auto attributes = from_pb(row.attributes());
    if (!attributes) return tl::unexpected(attributes.error().with_context(row.name()));
    CheckpointView view;
    view.status = ck::CheckpointStatus{ck::CheckpointName(row.name()),
                                       *attributes,
                                       row.active(),
                                       NodeId(row.active_node()),
                                       row.generation(),
                                       from_pb(row.position()),
                                       row.in_service(),
                                       row.sections(),
                                       row.bytes(),
                                       row.opened_here(),
                                       {}};
    for (const auto& p : row.peers()) {
      view.status.peers.push_back({NodeId(p.node()), from_pb(p.acked()), p.in_service()});
    }
    view.status.recovering = row.recovering();
    for (const auto& s : row.section_list()) {
      std::optional<Duration> left;
      if (s.has_expires_in_ns()) left = std::chrono::nanoseconds(s.expires_in_ns());
      view.sections.push_back(ck::SectionInfo{ck::SectionId(s.id()), s.size(), left});
    }
    out.checkpoints.push_back(std::move(view));
  }
  return out;
}

std::string encode(const checkpoint::Message& message) {
  pb::CheckpointEnvelope env;
  env.set_protocol_version(kProtocolVersion);
  std::visit(Overloaded{
                 [&](const ck::Append& m) {
                   auto* b = env.mutable_append();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_prev(), m.prev);
                   fill(*b->mutable_operation(), m.operation);
                 },
                 [&](const ck::Probe& m) {
                   auto* b = env.mutable_probe();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_at(), m.at);
                   fill(*b->mutable_attributes(), m.attributes);
                   b->set_in_service(m.in_service);
                 },
                 [&](const ck::Ack& m) {
                   auto* b = env.mutable_ack();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_at(), m.at);
                   b->set_in_service(m.in_service);
                 },
                 [&](const ck::Resync& m) {
                   auto* b = env.mutable_resync();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_at(), m.at);
                 },
                 [&](const ck::Snapshot& m) {
                   auto* b = env.mutable_snapshot();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_at(), m.at);
                   b->set_chunk(m.chunk);
                   b->set_last(m.last);
                   fill(*b->mutable_attributes(), m.attributes);
                   for (const auto& s : m.sections) {
                     fill(*b->add_sections(), s.id, s.data, s.expires_in);
                   }
                 },
                 [&](const ck::InService& m) {
                   auto* b = env.mutable_in_service();
                   fill(*b->mutable_head(), m.head);
                   fill(*b->mutable_at(), m.at);
                 },
                 [&](const ck::Pull& m) { fill(*env.mutable_pull()->mutable_head(), m.head); },
             },
             message);
  return env.SerializeAsString();
}

Result<checkpoint::Message> decode_checkpoint_message(std::string_view bytes) {
  auto env = parse<pb::CheckpointEnvelope>(bytes, "checkpoint message");
  if (!env) return tl::unexpected(env.error());
  auto head = [](const pb::CheckpointHeader& h, const char* what) {
    return with_context(from_pb(h), std::string("checkpoint ") + what);
  };
  switch (env->body_case()) {
    case pb::CheckpointEnvelope::kAppend: {
      const auto& b = env->append();
      auto h = head(b.head(), "append");
      if (!h) return tl::unexpected(h.error());
      const ck::Position prev = from_pb(b.prev());
      if (prev.seq == std::numeric_limits<std::uint64_t>::max()) {
        return fail("checkpoint append: it follows the last sequence number there is");
      }
      if (prev.generation > h->generation) {
        return fail("checkpoint append: it follows generation " + std::to_string(prev.generation) +
                    ", newer than its own " + std::to_string(h->generation));
      }
      auto op = with_context(from_pb(b.operation()), "checkpoint append");
      if (!op) return tl::unexpected(op.error());
      return ck::Append{*h, prev, std::move(*op)};
    }
    case pb::CheckpointEnvelope::kProbe: {
      const auto& b = env->probe();
      auto h = head(b.head(), "probe");
      if (!h) return tl::unexpected(h.error());
      auto attributes = with_context(from_pb(b.attributes()), "checkpoint probe");
      if (!attributes) return tl::unexpected(attributes.error());
      auto at = position(b.at(), *h, "probe");
      if (!at) return tl::unexpected(at.error());
      return ck::Probe{*h, *at, *attributes, b.in_service()};
    }
    case pb::CheckpointEnvelope::kAck: {
      const auto& b = env->ack();
      auto h = head(b.head(), "acknowledgement");
      if (!h) return tl::unexpected(h.error());
      auto at = position(b.at(), *h, "acknowledgement");
      if (!at) return tl::unexpected(at.error());
      return ck::Ack{*h, *at, b.in_service()};
    }
    case pb::CheckpointEnvelope::kResync: {
      const auto& b = env->resync();
      auto h = head(b.head(), "resync");
      if (!h) return tl::unexpected(h.error());
      auto at = position(b.at(), *h, "resync");
      if (!at) return tl::unexpected(at.error());
      return ck::Resync{*h, *at};
    }
    case pb::CheckpointEnvelope::kSnapshot: {
      const auto& b = env->snapshot();
      auto h = head(b.head(), "snapshot");
      if (!h) return tl::unexpected(h.error());
      auto attributes = with_context(from_pb(b.attributes()), "checkpoint snapshot");
      if (!attributes) return tl::unexpected(attributes.error());
      auto at = position(b.at(), *h, "snapshot");
      if (!at) return tl::unexpected(at.error());
      auto sections = images(b.sections(), *attributes, "checkpoint snapshot");
      if (!sections) return tl::unexpected(sections.error());
      ck::Snapshot out{*h, *at, b.chunk(), b.last(), *attributes, std::move(*sections)};
      return out;
    }
    case pb::CheckpointEnvelope::kInService: {
      const auto& b = env->in_service();
      auto h = head(b.head(), "in-service notice");
      if (!h) return tl::unexpected(h.error());
      auto at = position(b.at(), *h, "in-service notice");
      if (!at) return tl::unexpected(at.error());
      return ck::InService{*h, *at};
    }
    case pb::CheckpointEnvelope::kPull: {
      auto h = head(env->pull().head(), "pull");
      if (!h) return tl::unexpected(h.error());
      return ck::Pull{*h};
    }
    case pb::CheckpointEnvelope::BODY_NOT_SET:
      break;
  }
  return fail("checkpoint message has no body");
}

std::string encode(const CheckpointRecord& in) {
  pb::CheckpointRecord out;
  out.set_protocol_version(kProtocolVersion);
  out.set_checkpoint(in.checkpoint.str());
  fill(*out.mutable_at(), in.record.at);
  fill(*out.mutable_attributes(), in.attributes);
  if (in.record.operation) {
    fill(*out.mutable_operation(), *in.record.operation);
  } else {
    for (const auto& s : in.record.image) fill(*out.add_image(), s.id, s.data, s.expires_in);
  }
  return out.SerializeAsString();
}

Result<CheckpointRecord> decode_checkpoint_record(std::string_view bytes) {
  auto in = parse<pb::CheckpointRecord>(bytes, "checkpoint record");
  if (!in) return tl::unexpected(in.error());
  CheckpointRecord out;
  out.checkpoint = ck::CheckpointName(in->checkpoint());
  if (auto ok = ck::check_name(out.checkpoint); !ok) return tl::unexpected(ok.error());
  auto attributes = with_context(from_pb(in->attributes()), "checkpoint record");
  if (!attributes) return tl::unexpected(attributes.error());
  out.attributes = *attributes;
  out.record.at = from_pb(in->at());
  if (in->has_operation()) {
    auto op = with_context(from_pb(in->operation()), "checkpoint record");
    if (!op) return tl::unexpected(op.error());
    out.record.operation = std::move(*op);
    return out;
  }
  auto image = images(in->image(), *attributes, "checkpoint record");
  if (!image) return tl::unexpected(image.error());
  out.record.image = std::move(*image);
  return out;
}

}  // namespace amf::wire
