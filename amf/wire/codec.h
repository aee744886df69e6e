#pragma once

#include <string>
#include <string_view>

#include "amf/checkpoint/replica.h"
#include "amf/core/result.h"
#include "amf/membership/membership.h"
#include "amf/protocol/envelope.h"
#include "amf/wire/messages.h"

namespace amf::wire {

// Binary protobuf encoding of each channel's messages. Decoders never throw: malformed bytes,
// a missing body or another protocol version come back as an Error saying which.
std::string encode(const ComponentMessage& message);
Result<ComponentMessage> decode_component_message(std::string_view bytes);

std::string encode(const AdminRequest& request);
Result<AdminRequest> decode_admin_request(std::string_view bytes);

std::string encode(const AdminReply& reply);
Result<AdminReply> decode_admin_reply(std::string_view bytes);

// Between nodes' membership sockets. The decoder also refuses what the membership core must
// never see: an empty node name, a view whose lives are not in node order or name a node
// twice, a negative age.
std::string encode(const membership::Message& message);
Result<membership::Message> decode_membership_message(std::string_view bytes);

// Between the replicas of a checkpoint on different nodes (checkpoint_codec.cc). The decoder
// also refuses what the replica core must never see: a checkpoint name it would refuse, an
// empty sender, generation 0, attributes outside their bounds, a section id that is empty or
// too long, a lifetime that is not positive, a snapshot with more sections than its attributes
// allow or a section twice, and an append after the last sequence number there is.
std::string encode(const checkpoint::Message& message);
Result<checkpoint::Message> decode_checkpoint_message(std::string_view bytes);

// A record of a checkpoint's store on disk (amf/daemon/checkpoint_store.h). The decoder refuses
// what the service must never be given: a name or attributes it would refuse, an image that
// breaks its attributes' limits or names a section twice, an invalid operation.
struct CheckpointRecord {
  checkpoint::CheckpointName checkpoint;
  checkpoint::Attributes attributes;
  checkpoint::Persist record;  // its `record` number is not stored
};
std::string encode(const CheckpointRecord& record);
Result<CheckpointRecord> decode_checkpoint_record(std::string_view bytes);

// Between nodes' runtimes: the director's commands and the node directors' reports
// (amf/protocol), one envelope per message. The decoder also refuses what the cores must never
// see: an empty name, an unknown state, a numbered envelope without a message or a message
// numbered 0, a negative counter, a snapshot of another node than its sender, and a snapshot
// that lists an SU out of order or anything twice. The envelope's own version is left for the
// runtime to check (it counts what it drops).
std::string encode(const protocol::Envelope& envelope);
Result<protocol::Envelope> decode_node_envelope(std::string_view bytes);

// Protobuf logs every malformed string it is asked to parse on stderr, so any local peer could
// fill a daemon's log at will; our decoders already say what was wrong, once per message, in
// the daemon's own log. A daemon calls this once at start: protobuf's own log is dropped.
void silence_library_log();

// JSON for `amfctl -o json` (protobuf's canonical JSON mapping, field names as in amf.proto),
// and back, for tools and tests that read that output.
std::string to_json(const ClusterStatus& status);
std::string to_json(const EventList& events);
std::string to_json(const CheckpointList& list);
Result<ClusterStatus> status_from_json(std::string_view json);

}  // namespace amf::wire
