#include "amf/checkpoint/replica.h"

#include <algorithm>

#include "amf/core/assert.h"
#include "amf/core/overloaded.h"

namespace amf::checkpoint {

namespace {

std::string ms(Duration d) {
  return ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

}  // namespace

std::string to_string(const Position& position) {
  return std::to_string(position.generation) + ":" + std::to_string(position.seq);
}

const Header& header(const Message& message) {
  return std::visit([](const auto& m) -> const Header& { return m.head; }, message);
}

std::string describe(const Message& message) {
  const Header& h = header(message);
  std::string about = " of checkpoint '" + h.checkpoint.str() + "' from " + h.from.str() +
                      " in generation " + std::to_string(h.generation);
  return std::visit(
      Overloaded{
          [&](const Append& m) {
            return "append (" + describe(m.operation) + ") after " + to_string(m.prev) + about;
          },
          [&](const Probe& m) {
            return "probe at " + to_string(m.at) + (m.in_service ? "" : " (not in service)") +
                   about;
          },
          [&](const Ack& m) { return "ack of " + to_string(m.at) + about; },
          [&](const Resync& m) { return "resync from " + to_string(m.at) + about; },
          [&](const Snapshot& m) {
            return "snapshot chunk " + std::to_string(m.chunk) + (m.last ? " (last)" : "") +
                   " at " + to_string(m.at) + about;
          },
          [&](const InService& m) { return "in service at " + to_string(m.at) + about; },
          [&](const Pull&) { return "pull" + about; },
      },
      message);
}

std::string describe(const Effect& effect) {
  return std::visit(
      Overloaded{
          [](const Send& e) { return "send to " + e.to.str() + ": " + describe(e.message); },
          [](const WriteDone& e) {
            return "write " + std::to_string(e.token) +
                   (e.result ? std::string(" done") : " failed: " + e.result.error().message());
          },
          [](const ReplicaInService& e) {
            return "the replica on " + e.node.str() + " is in service at " + to_string(e.at);
          },
          [](const Synced& e) { return "in service at " + to_string(e.at); },
          [](const Superseded& e) {
            return "superseded by the active replica on " + e.by.str() + " in generation " +
                   std::to_string(e.generation);
          },
          [](const ProtocolError& e) {
            return "protocol error from " + e.from.str() + ": " + e.what;
          },
          [](const Persist& e) {
            return "store record " + std::to_string(e.record) + " at " + to_string(e.at) + ": " +
                   (e.operation
                        ? describe(*e.operation)
                        : "the whole content, " + std::to_string(e.image.size()) + " sections");
          },
          [](const Recovered& e) {
            return "recovered at " + to_string(e.at) +
                   (e.from.empty() ? std::string(" with its own content")
                                   : " with the content of " + e.from.str());
          },
      },
      effect);
}

Replica::Replica(CheckpointName name, Attributes attributes, NodeId self, Settings settings)
    : name_(std::move(name)),
      self_(std::move(self)),
      settings_(settings),
      content_(attributes),
      stored_(Position{}) {}

Replica::Replica(CheckpointName name, Sections content, Position at, NodeId self, Settings settings)
    : name_(std::move(name)),
      self_(std::move(self)),
      settings_(settings),
      content_(std::move(content)),
      position_(at),
      generation_(at.generation),
      stored_(at),
      continues_store_(true) {}

// ---------------------------------------------------------------- the active replica

Result<void> Replica::activate(std::uint64_t generation, const std::set<NodeId>& peers,
                               TimePoint now) {
  if (generation <= generation_) {
    return fail("checkpoint '" + name_.str() + "': generation " + std::to_string(generation) +
                " is not newer than " + std::to_string(generation_) + ", known here");
  }
  // Whether this replica holds every write that may have been acknowledged: if not, it asks the
  // others where they stand before it takes writes.
  const bool held_all = active_ || in_service_;
  generation_ = generation;
  if (active_) {
    // Active already (another writer on this node, or a newer assignment of the same one):
    // nothing to fence here. The peers keep what they acknowledged and stay in service, and
    // pending writes still wait for them; they adopt the generation from the next message
    // (and are told again that they are in service, their acknowledgements say so).
    for (const NodeId& node : peers) add_peer(node, now);
    for (auto& [node, peer] : peers_) probe(node, peer, now);
    return {};
  }
  active_node_ = self_;
  active_ = true;
  staging_.reset();
  behind_ = false;
  ack_owed_ = false;
  // Whatever this replica holds may have been acknowledged by the active replica before: peers
  // come into service only once they hold all of it.
  committed_ = position_.seq;
  peers_.clear();
  recovering_.reset();
  for (const NodeId& node : peers) {
    if (node != self_) add_peer(node, now);
  }
  if (!held_all && !peers_.empty())
    recovering_ = Recovery{now + settings_.recovery_wait, {}, {}, {}, {}};
  return {};
}

void Replica::add_peer(const NodeId& node, TimePoint now) {
  if (!active_ || node == self_ || peers_.contains(node)) return;
  probe(node, peers_[node], now);
}

void Replica::remove_peer(const NodeId& node, TimePoint now) {
  if (!active_) return;
  peers_.erase(node);
  if (recovering_) return peer_left(node, now);
  complete(now);
}

void Replica::write(std::uint64_t token, Operation operation, TimePoint now) {
  auto refuse = [&](const std::string& why) {
    effects_.push_back(WriteDone{token, fail("checkpoint '" + name_.str() + "': " + why)});
  };
  if (!active_) {
    refuse(active_node_.empty() ? "this replica is not the active one"
                                : "this replica is not the active one (the active one is on " +
                                      active_node_.str() + ")");
    return;
  }
  const std::size_t waiting = pending_.size() + (recovering_ ? recovering_->writes.size() : 0);
  if (waiting >= settings_.max_pending_writes) {
    refuse(std::to_string(waiting) + " writes wait for the replicas already");
    return;
  }
  if (recovering_) {  // checked once the content is the newest the replicas have
    recovering_->writes.emplace_back(token, std::move(operation));
    return;
  }
  if (auto ok = content_.check(operation); !ok) {
    refuse(ok.error().message());
    return;
  }
  replicate(token, operation, now);
}

void Replica::replicate(std::optional<std::uint64_t> token, const Operation& operation,
                        TimePoint now) {
  const Position prev = position_;
  content_.apply(operation, now);
  position_ = Position{generation_, prev.seq + 1};
  persist(operation, now);
  for (const auto& [node, peer] : peers_) send(node, Append{head(), prev, operation});
  if (content_.attributes().mode == UpdateMode::kSynchronous) {
    pending_.push_back(Pending{position_.seq, token, now + settings_.write_timeout});
    complete(now);
  } else {
    committed_ = position_.seq;
    if (token) effects_.push_back(WriteDone{*token, {}});
  }
}

// Completes, in order, the pending writes that every peer in service holds.
void Replica::complete(TimePoint) {
  std::uint64_t held = position_.seq;
  if (gated()) held = stored_ ? std::min(held, stored_->seq) : 0;
  for (const auto& [node, peer] : peers_) {
    if (peer.in_service) held = std::min(held, peer.acked.seq);
  }
  while (!pending_.empty() && pending_.front().seq <= held) {
    committed_ = std::max(committed_, pending_.front().seq);
    if (pending_.front().token) effects_.push_back(WriteDone{*pending_.front().token, {}});
    pending_.pop_front();
  }
}

bool Replica::owes_answer(const Peer& peer) const {
  return !peer.in_service || peer.acked.seq < position_.seq;
}

void Replica::probe(const NodeId& node, Peer& peer, TimePoint now) {
  peer.probed = now;
  send(node, Probe{head(), position_, content_.attributes(), peer.in_service});
}

void Replica::send_snapshot(const NodeId& node, Peer& peer, TimePoint now) {
  peer.snapshot = now;
  peer.snapshot_sent = true;
  peer.probed = now;
  send_content(node, now);
}

void Replica::send_content(const NodeId& node, TimePoint now) {
  const Attributes& attributes = content_.attributes();
  Snapshot chunk{head(), position_, 0, false, attributes, {}};
  std::uint64_t bytes = 0;
  for (Sections::Image& image : content_.image(now)) {
    if (!chunk.sections.empty() && bytes + image.data.size() > settings_.chunk_bytes) {
      send(node, chunk);
      chunk.chunk++;
      chunk.sections.clear();
      bytes = 0;
    }
    bytes += image.data.size();
    chunk.sections.push_back(std::move(image));
  }
  chunk.last = true;
  send(node, std::move(chunk));
}

void Replica::fail_pending(const std::string& why) {
  for (const Pending& p : pending_) {
    if (p.token) {
      effects_.push_back(WriteDone{*p.token, fail("checkpoint '" + name_.str() + "': " + why)});
    }
  }
  pending_.clear();
  if (recovering_) {
    for (const auto& [token, operation] : recovering_->writes) {
      effects_.push_back(WriteDone{token, fail("checkpoint '" + name_.str() + "': " + why)});
    }
    recovering_.reset();
  }
}

void Replica::on(const Ack& m, TimePoint now) {
  auto it = peers_.find(m.head.from);
  if (it == peers_.end()) return;  // a peer removed meanwhile
  if (recovering_) return answered(m.head.from, m.at, now);
  if (m.at.seq > position_.seq || m.at > position_) {
    error(m.head.from,
          "acknowledged " + to_string(m.at) + ", past this replica's " + to_string(position_));
    return;
  }
  Peer& peer = it->second;
  if (m.at.seq < peer.acked.seq) {
    // Behind what it acknowledged before: a new process on that node (amfd restarted), which
    // holds nothing of it. It comes into service again once it holds `committed`.
    peer = Peer{m.at, false, peer.probed, peer.snapshot, peer.snapshot_sent};
  }
  peer.acked = std::max(peer.acked, m.at);
  if (!peer.in_service && peer.acked.seq >= committed_) {
    peer.in_service = true;
    effects_.push_back(ReplicaInService{m.head.from, peer.acked});
    send(m.head.from, InService{head(), peer.acked});
  } else if (peer.in_service && !m.in_service) {
    send(m.head.from, InService{head(), peer.acked});
  }
  complete(now);
}

void Replica::on(const Resync& m, TimePoint now) {
  auto it = peers_.find(m.head.from);
  if (it == peers_.end()) return;
  if (recovering_) return answered(m.head.from, m.at, now);
  Peer& peer = it->second;
  // One snapshot per `retry` at most: a replica that keeps asking cannot make this one send
  // the whole checkpoint without pause. It asks again after `retry` if it still needs one.
  if (peer.snapshot_sent && now < peer.snapshot + settings_.retry) return;
  send_snapshot(m.head.from, peer, now);
}

// A recovering active replica learns where a peer stands; once every peer answered, it takes
// the newest content.
void Replica::answered(const NodeId& from, const Position& at, TimePoint now) {
  Recovery& r = *recovering_;
  r.answers[from] = at;
  if (r.pulling) return;  // weighed once that content is in (a newer one is pulled next)
  for (const auto& [node, peer] : peers_) {
    if (!r.answers.contains(node)) return;
  }
  pull(now);
}

void Replica::peer_left(const NodeId& node, TimePoint now) {
  Recovery& r = *recovering_;
  r.answers.erase(node);
  if (r.pulling == node) {
    r.pulling.reset();
    pull(now);  // the next newest, if any
    return;
  }
  if (r.pulling) return;
  for (const auto& [other, peer] : peers_) {
    if (!r.answers.contains(other)) return;
  }
  pull(now);
}

// Asks the peer with the newest position for its content, or ends the recovery when none is
// newer than this replica's.
void Replica::pull(TimePoint now) {
  Recovery& r = *recovering_;
  if (!r.pulling) {
    const NodeId* newest = nullptr;
    Position best = position_;
    for (const auto& [node, at] : r.answers) {
      if (peers_.contains(node) && at > best) {
        best = at;
        newest = &node;
      }
    }
    if (!newest) return recovered(now, r.took_from);
    r.pulling = *newest;
  }
  r.pulled = now;
  staging_.reset();
  send(*r.pulling, Pull{head()});
}

void Replica::recovered(TimePoint now, NodeId from) {
  Recovery r = std::move(*recovering_);
  recovering_.reset();
  staging_.reset();
  Recovered done{std::move(from), position_, {}};
  for (const auto& [node, peer] : peers_) {
    if (!r.answers.contains(node)) done.silent.push_back(node);
  }
  effects_.push_back(std::move(done));
  // Whatever it holds now may have been acknowledged before: peers come into service once they
  // hold all of it.
  committed_ = position_.seq;
  for (auto& [node, peer] : peers_) probe(node, peer, now);
  for (auto& [token, operation] : r.writes) write(token, std::move(operation), now);
}

void Replica::persist(std::optional<Operation> operation, TimePoint now) {
  if (!settings_.durable) return;
  const std::uint64_t record = next_record_++;
  std::vector<Sections::Image> image;
  // The first record of a replica that the store did not give back is its whole content: it
  // replaces whatever the store held under that name (a checkpoint deleted and created again).
  if (!continues_store_) operation.reset();
  continues_store_ = true;
  if (!operation) {
    // A new history: nothing stored before it counts for this content.
    unstored_.clear();
    stored_.reset();
    image = content_.image(now);
  }
  unstored_.emplace_back(record, position_);
  effects_.push_back(Persist{record, position_, std::move(operation), std::move(image)});
}

bool Replica::gated() const {
  return settings_.durable && content_.attributes().mode == UpdateMode::kSynchronous;
}

std::optional<Position> Replica::ackable() const {
  if (!gated()) return position_;
  return stored_;
}

void Replica::stored(std::uint64_t record, TimePoint now) {
  bool moved = false;
  while (!unstored_.empty() && unstored_.front().first <= record) {
    stored_ = unstored_.front().second;
    unstored_.pop_front();
    moved = true;
  }
  if (!moved || !gated()) return;
  if (active_) {
    complete(now);
  } else if (!active_node_.empty() && !behind_ && !staging_) {
    owe_ack(now);  // not while it waits for a snapshot: its content is not the active's
  }
}

// ---------------------------------------------------------------- the other replicas

// Whether a message from an active replica is to be heeded, adopting a newer generation.
bool Replica::follow(const Header& h) {
  if (h.generation < generation_) return false;  // an older active replica's: stale
  if (h.generation == generation_) {
    if (h.from == active_node_ && !active_) return true;
    if (active_node_.empty() && !active_ && h.generation != 0) {
      // Restored from a store at a position of this generation: it follows whoever is active.
      active_node_ = h.from;
      return true;
    }
    error(h.from, "speaks as the active replica of generation " + std::to_string(h.generation) +
                      ", which is " + (active_node_.empty() ? "nobody" : active_node_.str()) +
                      "'s");
    return false;
  }
  if (active_) {
    fail_pending("superseded by the active replica on " + h.from.str() + " in generation " +
                 std::to_string(h.generation));
    effects_.push_back(Superseded{h.from, h.generation});
    active_ = false;
    peers_.clear();
  }
  generation_ = h.generation;
  active_node_ = h.from;
  in_service_ = false;
  staging_.reset();
  behind_ = false;
  ack_owed_ = false;
  acked_in_generation_ = false;
  return true;
}

void Replica::ask_resync(TimePoint now) {
  in_service_ = false;  // it cannot apply what it was sent: it may lack an acknowledged write
  if (behind_ && now < asked_ + settings_.retry) return;
  behind_ = true;
  asked_ = now;
  staging_.reset();
  send(active_node_, Resync{head(), position_});
}

void Replica::owe_ack(TimePoint now) {
  ack_owed_ = true;
  acked_at_ = now;
  acked_in_generation_ = true;
}

bool Replica::reacks() const {
  return !active_ && !in_service_ && !behind_ && !staging_ && !active_node_.empty();
}

void Replica::on(const Append& m, TimePoint now) {
  if (staging_) {  // a chunk of the snapshot was lost: the operations after it came
    ask_resync(now);
    return;
  }
  if (m.prev != position_) {
    ask_resync(now);
    return;
  }
  if (auto ok = content_.check(m.operation); !ok) {
    error(m.head.from, "sent an operation that cannot apply at " + to_string(position_) + ": " +
                           ok.error().message());
    ask_resync(now);
    return;
  }
  content_.apply(m.operation, now);
  position_ = Position{m.head.generation, m.prev.seq + 1};
  persist(m.operation, now);
  owe_ack(now);
}

void Replica::on(const Probe& m, TimePoint now) {
  // The active replica does not count this one: writes may have completed without it.
  if (!m.in_service) in_service_ = false;
  if (staging_) {  // sent after the whole snapshot, whose last chunk was lost
    ask_resync(now);
    return;
  }
  if (m.at == position_ && m.attributes == content_.attributes()) {
    behind_ = false;
    owe_ack(now);
    return;
  }
  ask_resync(now);
}

void Replica::on(const Snapshot& m, TimePoint now) {
  switch (stage(m, now)) {
    case Staged::kMore:
      return;
    case Staged::kBroken:
      ask_resync(now);
      return;
    case Staged::kInstalled:
      behind_ = false;
      owe_ack(now);
      return;
  }
}

// Takes a chunk of a snapshot; the last one installs the content.
Replica::Staged Replica::stage(const Snapshot& m, TimePoint now) {
  if (auto ok = check(m.attributes); !ok) {
    error(m.head.from, "sent a snapshot with attributes it may not have: " + ok.error().message());
    return Staged::kMore;  // dropped; the sender's next chunk finds the staging broken
  }
  if (m.chunk == 0) {
    staging_ = Staging{m.at, 0, m.attributes, {}};
  } else if (!staging_ || staging_->at != m.at || staging_->next_chunk != m.chunk ||
             staging_->attributes != m.attributes) {
    return Staged::kBroken;  // a chunk was lost, or belongs to another snapshot
  }
  Staging& s = *staging_;
  if (s.sections.size() + m.sections.size() > m.attributes.max_sections) {
    error(m.head.from, "sent a snapshot of more than " + std::to_string(m.attributes.max_sections) +
                           " sections");
    return Staged::kBroken;
  }
  for (const auto& image : m.sections) {
    if (image.data.size() > m.attributes.max_section_size) {
      error(m.head.from, "sent a snapshot with section '" + image.id.str() + "' of " +
                             std::to_string(image.data.size()) +
                             " bytes, over its max_section_size");
      return Staged::kBroken;
    }
  }
  s.sections.insert(s.sections.end(), m.sections.begin(), m.sections.end());
  s.next_chunk++;
  if (!m.last) return Staged::kMore;
  Sections fresh(s.attributes);
  if (auto ok = fresh.restore(s.sections, now); !ok) {
    error(m.head.from, "sent a snapshot that breaks its limits: " + ok.error().message());
    return Staged::kBroken;
  }
  content_ = std::move(fresh);
  position_ = s.at;
  staging_.reset();
  persist(std::nullopt, now);
  return Staged::kInstalled;
}

void Replica::on(const InService& m, TimePoint) {
  // Not earned by an acknowledgement of this process in this generation: meant for an earlier
  // process on this node (it restarted with the message on its way).
  if (in_service_ || !acked_in_generation_) return;
  if (m.at > position_) {
    error(m.head.from, "said this replica is in service at " + to_string(m.at) +
                           ", past its position " + to_string(position_));
    return;
  }
  in_service_ = true;
  effects_.push_back(Synced{position_});
}

void Replica::on(const Pull& m, TimePoint now) {
  // The new active replica found this one's content the newest: it takes all of it.
  send_content(m.head.from, now);
}

// ---------------------------------------------------------------- both

void Replica::receive(const Message& message, TimePoint now) {
  const Header& h = header(message);
  if (h.checkpoint != name_) {
    error(h.from,
          "sent a message of checkpoint '" + h.checkpoint.str() + "' to '" + name_.str() + "'");
    return;
  }
  if (h.from == self_) {
    error(h.from, "a message from this node itself");
    return;
  }
  if (const auto* s = std::get_if<Snapshot>(&message);
      s && active_ && s->head.generation == generation_) {
    // The content a recovering active replica pulled; nothing else sends one to it.
    if (!recovering_ || recovering_->pulling != s->head.from) return;
    switch (stage(*s, now)) {
      case Staged::kMore:
        recovering_->pulled = now;  // asked again only after `retry` without a chunk
        return;
      case Staged::kBroken:  // asked again after `retry`
        staging_.reset();
        return;
      case Staged::kInstalled: {
        // Taken; a peer that answered meanwhile with a newer position is pulled next.
        Recovery& r = *recovering_;
        r.took_from = s->head.from;
        r.answers[s->head.from] = position_;
        r.pulling.reset();
        pull(now);
        return;
      }
    }
  }
  std::visit(Overloaded{
                 // To the active replica: only in its own generation.
                 [&](const Ack& m) {
                   if (active_ && m.head.generation == generation_) on(m, now);
                 },
                 [&](const Resync& m) {
                   if (active_ && m.head.generation == generation_) on(m, now);
                 },
                 // From the active replica.
                 [&](const auto& m) {
                   if (follow(m.head)) on(m, now);
                 },
             },
             message);
}

void Replica::tick(TimePoint now) {
  if (!active_) {
    if (behind_ && now >= asked_ + settings_.retry) ask_resync(now);
    if (reacks() && now >= acked_at_ + settings_.retry) owe_ack(now);
    return;
  }
  if (recovering_) {
    Recovery& r = *recovering_;
    if (r.pulling && now >= r.pulled + settings_.retry) {
      if (now >= r.until + settings_.recovery_wait) {
        // The newest replica does not send its content: the next newest that answered is asked,
        // with a wait of its own; with none newer than this one, it goes on with its own.
        r.answers.erase(*r.pulling);
        r.pulling.reset();
        r.until = now;
        pull(now);
      } else {
        pull(now);
      }
    } else if (!r.pulling && now >= r.until) {
      pull(now);  // with the answers it has
    }
    for (auto& [node, peer] : peers_) {
      if (recovering_ && !recovering_->answers.contains(node) &&
          now >= peer.probed + settings_.retry) {
        probe(node, peer, now);
      }
    }
    if (recovering_) return;
  }
  while (!pending_.empty() && pending_.front().deadline <= now) {
    std::string missing;
    for (const auto& [node, peer] : peers_) {
      if (peer.in_service && peer.acked.seq < pending_.front().seq) {
        missing += (missing.empty() ? "" : ", ") + node.str();
      }
    }
    if (pending_.front().token) {
      effects_.push_back(WriteDone{
          *pending_.front().token,
          fail("checkpoint '" + name_.str() + "': write " + std::to_string(pending_.front().seq) +
               " not held by the replicas on " + missing + " within " +
               ms(settings_.write_timeout) + "; it may still reach them")});
    }
    pending_.pop_front();
  }
  for (const SectionId& id : content_.expired(now)) replicate(std::nullopt, DeleteSection{id}, now);
  // Peers that owe an answer: not in service yet, or behind this replica's position (a lost
  // append or acknowledgement; in asynchronous mode nothing else would ever ask again).
  for (auto& [node, peer] : peers_) {
    if (owes_answer(peer) && now >= peer.probed + settings_.retry) probe(node, peer, now);
  }
}

std::optional<TimePoint> Replica::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (!next || t < *next) next = t;
  };
  if (!active_) {
    if (behind_) consider(asked_ + settings_.retry);
    if (reacks()) consider(acked_at_ + settings_.retry);
    return next;
  }
  if (recovering_) {
    const Recovery& r = *recovering_;
    consider(r.pulling ? r.pulled + settings_.retry : r.until);
    for (const auto& [node, peer] : peers_) {
      if (!r.answers.contains(node)) consider(peer.probed + settings_.retry);
    }
    return next;
  }
  if (!pending_.empty()) consider(pending_.front().deadline);
  if (auto expiry = content_.next_expiry()) consider(*expiry);
  for (const auto& [node, peer] : peers_) {
    if (owes_answer(peer)) consider(peer.probed + settings_.retry);
  }
  return next;
}

std::vector<Effect> Replica::take_effects() {
  if (ack_owed_) {
    ack_owed_ = false;
    // Not before its content is stored (Settings::durable); stored() owes it again.
    if (auto at = ackable()) send(active_node_, Ack{head(), *at, in_service_});
  }
  return std::exchange(effects_, {});
}

void Replica::send(const NodeId& to, Message message) {
  effects_.push_back(Send{to, std::move(message)});
}

void Replica::error(const NodeId& from, std::string what) {
  effects_.push_back(ProtocolError{from, std::move(what)});
}

}  // namespace amf::checkpoint
