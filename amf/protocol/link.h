#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "amf/core/time.h"
#include "amf/protocol/envelope.h"

namespace amf::protocol {

struct LinkStats {
  std::uint64_t sent = 0;           // messages (not acknowledgements)
  std::uint64_t delivered = 0;      // messages handed on, in order
  std::uint64_t duplicates = 0;     // messages that had arrived already
  std::uint64_t retransmitted = 0;  // envelopes sent again
  std::uint64_t held = 0;           // messages that arrived early and waited for a gap to fill
  std::uint64_t overflow = 0;       // early messages dropped (too far ahead; resent later)
};

// One end of a reliable, ordered link between two endpoints (a node's life each) over a network
// that may lose, delay, reorder and duplicate: every message is numbered, kept until the peer
// acknowledges it and sent again each `retransmit_after` until then; the receiving end hands
// messages on in order, each once, holding those that arrive early. What the runtime needs
// between the director and the node directors, whose cores assume that what one sends the
// other gets, in order (an AssignHa before the RemoveHa that follows it).
//
// A link lives for one life of each end: when either end restarts (a new incarnation) or the
// director changes, its owner replaces the link, and what the old one still held is dropped
// with it (it was for a life that is over; the new director asks for a snapshot instead).
//
// Sans-I/O: the owner sends the envelopes it returns and feeds in those that arrive. Not
// thread-safe.
class Link {
 public:
  // Early messages held at most this far beyond the next one expected.
  static constexpr std::uint64_t kWindow = 4096;

  Link(Endpoint self, Endpoint peer, Duration retransmit_after)
      : self_(std::move(self)), peer_(std::move(peer)), retransmit_after_(retransmit_after) {}

  const Endpoint& self() const { return self_; }
  const Endpoint& peer() const { return peer_; }

  // A message for the peer: the envelope to send now (it acknowledges what has arrived, too).
  Envelope send(Message message, std::uint64_t epoch, TimePoint now);
  // An envelope from the peer (the owner has checked that it is from this peer's life and
  // epoch): takes its acknowledgement, and returns the messages that can now be handed on, in
  // order, none twice.
  std::vector<Message> receive(const Envelope& envelope);
  // An acknowledgement owed for what arrived since the last envelope this end sent, if any.
  std::optional<Envelope> take_ack(std::uint64_t epoch);
  // The unacknowledged messages that have waited retransmit_after since they were last sent,
  // oldest first, to send again.
  std::vector<Envelope> retransmit(std::uint64_t epoch, TimePoint now);
  // When retransmit() has something to send again, if ever.
  std::optional<TimePoint> next_deadline() const;

  std::size_t unacknowledged() const { return unacked_.size(); }
  const LinkStats& stats() const { return stats_; }

 private:
  struct Outgoing {
    std::uint64_t seq;
    Message message;
    TimePoint last_sent;
  };
  Envelope envelope(std::uint64_t epoch, std::uint64_t seq, std::optional<Message> message);

  Endpoint self_;
  Endpoint peer_;
  Duration retransmit_after_;
  std::uint64_t next_seq_ = 1;
  std::deque<Outgoing> unacked_;  // in seq order
  std::uint64_t received_ = 0;    // every message of the peer up to this one was handed on
  std::map<std::uint64_t, Message> early_;
  bool ack_owed_ = false;
  LinkStats stats_;
};

}  // namespace amf::protocol
