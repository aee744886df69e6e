#include "amf/protocol/link.h"

#include <algorithm>

namespace amf::protocol {

Envelope Link::envelope(std::uint64_t epoch, std::uint64_t seq, std::optional<Message> message) {
  ack_owed_ = false;  // every envelope carries the acknowledgement
  return Envelope{kEnvelopeVersion, self_, peer_, epoch, seq, received_, std::move(message)};
}

Envelope Link::send(Message message, std::uint64_t epoch, TimePoint now) {
  const std::uint64_t seq = next_seq_++;
  unacked_.push_back({seq, message, now});
  ++stats_.sent;
  return envelope(epoch, seq, std::move(message));
}

std::vector<Message> Link::receive(const Envelope& e) {
  while (!unacked_.empty() && unacked_.front().seq <= e.ack) unacked_.pop_front();
  std::vector<Message> out;
  if (e.seq == 0 || !e.message) return out;  // an acknowledgement only
  ack_owed_ = true;  // a duplicate too: the peer resends because our acknowledgement was lost
  if (e.seq <= received_ || early_.count(e.seq)) {
    ++stats_.duplicates;
    return out;
  }
  if (e.seq != received_ + 1) {
    if (e.seq - received_ > kWindow) {
      ++stats_.overflow;
    } else {
      early_.emplace(e.seq, *e.message);
      ++stats_.held;
    }
    return out;
  }
  out.push_back(*e.message);
  received_ = e.seq;
  for (auto it = early_.begin(); it != early_.end() && it->first == received_ + 1;
       it = early_.erase(it)) {
    out.push_back(std::move(it->second));
    received_ = it->first;
  }
  stats_.delivered += out.size();
  return out;
}

std::optional<Envelope> Link::take_ack(std::uint64_t epoch) {
  if (!ack_owed_) return std::nullopt;
  return envelope(epoch, 0, std::nullopt);
}

std::vector<Envelope> Link::retransmit(std::uint64_t epoch, TimePoint now) {
  std::vector<Envelope> out;
  for (Outgoing& o : unacked_) {
    if (now < o.last_sent + retransmit_after_) continue;
    o.last_sent = now;
    out.push_back(envelope(epoch, o.seq, o.message));
    ++stats_.retransmitted;
  }
  return out;
}

std::optional<TimePoint> Link::next_deadline() const {
  std::optional<TimePoint> next;
  for (const Outgoing& o : unacked_) {
    const TimePoint due = o.last_sent + retransmit_after_;
    if (!next || due < *next) next = due;
  }
  return next;
}

}  // namespace amf::protocol
