#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "amf/core/id.h"
#include "amf/protocol/messages.h"

namespace amf::protocol {

// The envelope's layout; a receiver drops (and counts) an envelope of another version.
inline constexpr std::uint32_t kEnvelopeVersion = 1;

// One life of a node: its incarnation changes every time its amfd starts, so a message for or
// from an earlier life is told apart from one of this life.
struct Endpoint {
  NodeId node;
  std::uint64_t incarnation = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// What comes from the director (a command, an answer to a forwarded admin operation or status
// request, a request for a node's part of a status) and what goes to it (a report, an admin
// operation or status request forwarded, a node's part of a status).
using Message = std::variant<NodeCommand, NodeReport, AdminForward, AdminAnswer, StatusForward,
                             StatusAnswer, StatusPartAsk, StatusPart>;

// Whether the director sends `m` (else a node sends it to the director).
inline bool from_director(const Message& m) {
  return std::holds_alternative<NodeCommand>(m) || std::holds_alternative<AdminAnswer>(m) ||
         std::holds_alternative<StatusAnswer>(m) || std::holds_alternative<StatusPartAsk>(m);
}

// What travels between the nodes' runtimes. A message is numbered on its link (seq, from 1);
// an envelope with seq 0 carries only an acknowledgement. `ack` acknowledges every message of
// the receiver's up to that number.
struct Envelope {
  std::uint32_t version = kEnvelopeVersion;
  Endpoint from;
  Endpoint to;
  // The director's epoch: the director's own on what it sends, the one a node director follows
  // on what it sends. A message from an older epoch than the receiver knows is dropped.
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;
  std::optional<Message> message;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

}  // namespace amf::protocol
