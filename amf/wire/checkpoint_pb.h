#pragma once

// Private to amf/wire: the checkpoint messages' protobuf conversions that both codecs use (the
// replicas' in checkpoint_codec.cc, the component channel's in codec.cc).
#include "amf/checkpoint/replica.h"
#include "amf/core/result.h"
#include "amf/wire/amf.pb.h"
#include "amf/wire/checkpoint.pb.h"
#include "amf/wire/messages.h"

namespace amf::wire {

void fill(v1::CheckpointRequest& out, const CheckpointRequest& in);
Result<CheckpointRequest> from_pb(const v1::CheckpointRequest& in);
void fill(v1::CheckpointReply& out, const CheckpointReply& in);
Result<CheckpointReply> from_pb(const v1::CheckpointReply& in);
void fill(v1::CheckpointList& out, const CheckpointList& in);
Result<CheckpointList> from_pb(const v1::CheckpointList& in);

}  // namespace amf::wire
