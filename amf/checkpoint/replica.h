#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/checkpoint/sections.h"
#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"

// One replica of one checkpoint on one node, sans-I/O: messages in, effects out, time passed
// in (README.md beside this file has the protocol and its safety argument).
//
// One replica at a time is the active replica: the one on the node of the SG's active
// assignment, where the component writes. The host names it with a generation (a number that
// only grows, handed out by the director, whose own epoch fences it) and the other replicas
// follow the newest generation they have heard of. The active replica checks each operation,
// gives it the next sequence number, applies it and sends it to every other replica; a replica
// applies an operation only on top of the position it was sent after, and otherwise asks for a
// resync, which is a snapshot of the whole content (a cold sync) followed, in order on the
// same link, by the operations after it. A synchronous write completes once every replica in
// service holds it; a replica comes into service once it holds every write that may have
// completed. So every replica in service holds every acknowledged synchronous write, and says
// so (`in_service()`): that is the replica a new active component must read.
namespace amf::checkpoint {

// Where a replica's content stands: the generation of the active replica whose operation it
// applied last, and that operation's sequence number (numbers go on across generations). Two
// replicas at one position hold the same content: one active replica numbered it.
struct Position {
  std::uint64_t generation = 0;
  std::uint64_t seq = 0;
  friend auto operator<=>(const Position&, const Position&) = default;
};
std::string to_string(const Position& position);  // "3:42"

// ---- messages between the replicas of one checkpoint ----
struct Header {
  CheckpointName checkpoint;
  NodeId from;
  std::uint64_t generation = 0;  // of the active replica the message comes from or goes to
};
// Active -> replica: `operation`, to be applied on top of `prev`; the new position is
// {generation, prev.seq + 1}.
struct Append {
  Header head;
  Position prev;
  Operation operation;
};
// Active -> replica: where the active replica stands. A replica at `at` with the same
// attributes answers Ack; any other asks for a Resync. `in_service`: whether the active replica
// counts the receiver in service (writes wait for it); if not, it says it is not.
struct Probe {
  Header head;
  Position at;
  Attributes attributes;
  bool in_service = false;
};
// Replica -> active: it holds everything up to `at`, and whether it was told it is in service
// (a replica that restarted was not: the active replica tells it again).
struct Ack {
  Header head;
  Position at;
  bool in_service = false;
};
// Replica -> active: it cannot apply what it was sent (a gap, a divergent history, a lost
// chunk); it wants a snapshot.
struct Resync {
  Header head;
  Position at;
};
// Active -> replica: a cold sync, in chunks numbered from 0; the last one installs the content
// at `at`.
struct Snapshot {
  Header head;
  Position at;
  std::uint32_t chunk = 0;
  bool last = false;
  Attributes attributes;
  std::vector<Sections::Image> sections;
};
// Active -> replica: it counts for synchronous writes from now on (it acknowledged `at`).
struct InService {
  Header head;
  Position at;
};
// Active (recovering) -> replica: send your whole content, which is newer than mine (a snapshot
// at your position, in this generation's header).
struct Pull {
  Header head;
};
using Message = std::variant<Append, Probe, Ack, Resync, Snapshot, InService, Pull>;
const Header& header(const Message& message);
std::string describe(const Message& message);

// ---- effects ----
struct Send {
  NodeId to;
  Message message;
};
// The answer to write(token): done, or why not. A synchronous write that times out may still
// reach the replicas; the error says so.
struct WriteDone {
  std::uint64_t token = 0;
  Result<void> result;
};
// Active: a replica counts for synchronous writes from now on.
struct ReplicaInService {
  NodeId node;
  Position at;
};
// This replica was told it is in service (it holds every acknowledged write).
struct Synced {
  Position at;
};
// This replica was active and heard of a newer active replica: its pending writes failed and
// it follows the new one.
struct Superseded {
  NodeId by;
  std::uint64_t generation = 0;
};
// A message that could not be from a correct peer (dropped; the host logs and counts it).
struct ProtocolError {
  NodeId from;
  std::string what;
};
// What the replica applied, for the host to store (only with Settings::durable): records are
// numbered from 1 and must reach the store in order. `operation` applies on top of the record
// before; without one, `image` is the whole content (a cold sync installed here, or the first
// record of a replica that was not restored from the store).
struct Persist {
  std::uint64_t record = 0;
  Position at;  // the replica's position once it is applied
  std::optional<Operation> operation;
  std::vector<Sections::Image> image;
};
// Active: the recovery that its activation began is over. It holds the newest content among
// the replicas that answered (`from`: the node it took it from; empty: its own was the newest);
// `silent`: the peers that did not answer in time, which may hold newer writes.
struct Recovered {
  NodeId from;
  Position at;
  std::vector<NodeId> silent;
};
using Effect = std::variant<Send, WriteDone, ReplicaInService, Synced, Superseded, ProtocolError,
                            Persist, Recovered>;
std::string describe(const Effect& effect);

struct Settings {
  // A synchronous write that not every replica in service holds within this fails.
  Duration write_timeout = std::chrono::seconds(1);
  // How long a replica waits for the snapshot it asked for before asking again, and the active
  // replica for an answer to a probe (or an acknowledgement a pending write waits for) before
  // probing again. Also the least time between two snapshots sent to one replica.
  Duration retry = std::chrono::milliseconds(100);
  std::size_t max_pending_writes = 4096;  // more waiting synchronous writes are refused
  std::uint64_t chunk_bytes = 1 << 20;    // a snapshot chunk's section data, about
  // The host stores what the replica applies (Persist effects) and says when it is on disk
  // (stored()). In synchronous mode a write then completes, and a replica acknowledges a
  // position, only once it is stored: an acknowledged write survives the loss of every process.
  bool durable = false;
  // A replica that becomes active without being in service first asks the other replicas
  // where they stand and takes the newest content among them; it waits this long for their
  // answers at most (writes wait meanwhile).
  Duration recovery_wait = std::chrono::seconds(1);
};

class Replica {
 public:
  // A replica with empty content, following no active replica yet.
  Replica(CheckpointName name, Attributes attributes, NodeId self, Settings settings = {});
  // A replica with the content a store kept, at `at` (on disk already), not in service: it
  // follows whichever active replica speaks to it, and recovers when it is made active.
  Replica(CheckpointName name, Sections content, Position at, NodeId self, Settings settings = {});

  // ---- the active replica ----
  // This replica is the active one from now on, in `generation` (newer than any it has heard
  // of: refused otherwise), with the replicas on `peers`. Its content is the truth; the peers
  // are probed and come into service once they hold it. The host activates a replica only once
  // the writer at the old active replica is gone (the director's assignments see to that), and
  // should choose one that is in_service().
  Result<void> activate(std::uint64_t generation, const std::set<NodeId>& peers, TimePoint now);
  void add_peer(const NodeId& node, TimePoint now);
  // The peer's node is gone (its lease is over) or its SU was removed: writes stop waiting for
  // it. It comes back through add_peer, and into service once it holds the content again.
  void remove_peer(const NodeId& node, TimePoint now);
  // Checks `operation`, applies it here and sends it to the peers. WriteDone{token} follows: at
  // once when refused or in asynchronous mode, else once every peer in service holds it.
  void write(std::uint64_t token, Operation operation, TimePoint now);

  void receive(const Message& message, TimePoint now);
  // Settings::durable: the store holds every record up to `record` (fsync'd).
  void stored(std::uint64_t record, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  // Sends, in the order they must leave on each link, and everything else for the host.
  std::vector<Effect> take_effects();

  const CheckpointName& name() const { return name_; }
  const NodeId& self() const { return self_; }
  bool active() const { return active_; }
  std::uint64_t generation() const { return generation_; }
  // The node of the newest active replica heard of (this one's while active); empty: none.
  const NodeId& active_node() const { return active_node_; }
  const Position& position() const { return position_; }
  // Active: true. Otherwise: the active replica of this generation said it holds every write
  // that may have been acknowledged, and it has not been told otherwise since. A claim about
  // generation() only: a replica that has not heard of a newer generation still makes it (an
  // active replica cut off from its successor most of all), so whoever chooses the next active
  // replica counts only the claims of the newest generation it handed out.
  bool in_service() const { return active_ || in_service_; }
  // Active, and still asking the other replicas where they stand (writes wait).
  bool recovering() const { return recovering_.has_value(); }
  const Sections& content() const { return content_; }

  struct Peer {
    Position acked;  // the newest position it acknowledged in this generation
    bool in_service = false;
    TimePoint probed{};    // when last probed
    TimePoint snapshot{};  // when last sent a snapshot
    bool snapshot_sent = false;
  };
  // Active: the other replicas, by node.
  const std::map<NodeId, Peer>& peers() const { return peers_; }
  // Active: the newest sequence number that may have been acknowledged to a writer.
  std::uint64_t committed() const { return committed_; }
  std::size_t pending_writes() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t seq = 0;
    std::optional<std::uint64_t> token;  // nullopt: the active replica's own (an expiry)
    TimePoint deadline;
  };
  struct Staging {  // a snapshot being received
    Position at;
    std::uint32_t next_chunk = 0;
    Attributes attributes;
    std::vector<Sections::Image> sections;
  };
  struct Recovery {  // an active replica that was not in service asks where the others stand
    TimePoint until;
    std::map<NodeId, Position> answers;
    std::optional<NodeId> pulling;                           // asked for its content
    NodeId took_from;                                        // whose content it holds now
    TimePoint pulled{};                                      // when last asked
    std::deque<std::pair<std::uint64_t, Operation>> writes;  // waiting for the recovery
  };
  enum class Staged { kMore, kInstalled, kBroken };

  Header head() const { return Header{name_, self_, generation_}; }
  void send(const NodeId& to, Message message);
  void replicate(std::optional<std::uint64_t> token, const Operation& operation, TimePoint now);
  void complete(TimePoint now);
  bool owes_answer(const Peer& peer) const;
  void probe(const NodeId& node, Peer& peer, TimePoint now);
  void send_snapshot(const NodeId& node, Peer& peer, TimePoint now);
  void send_content(const NodeId& to, TimePoint now);
  Staged stage(const Snapshot& m, TimePoint now);
  void persist(std::optional<Operation> operation, TimePoint now);
  // The position an acknowledgement may name: the newest one stored (Settings::durable, in
  // synchronous mode), else the position.
  std::optional<Position> ackable() const;
  bool gated() const;
  void answered(const NodeId& from, const Position& at, TimePoint now);
  void peer_left(const NodeId& node, TimePoint now);
  void pull(TimePoint now);
  void recovered(TimePoint now, NodeId from = {});
  void fail_pending(const std::string& why);
  void error(const NodeId& from, std::string what);
  // Replica side.
  bool follow(const Header& head);
  void ask_resync(TimePoint now);
  void owe_ack(TimePoint now);
  bool reacks() const;
  void on(const Append& m, TimePoint now);
  void on(const Probe& m, TimePoint now);
  void on(const Ack& m, TimePoint now);
  void on(const Resync& m, TimePoint now);
  void on(const Snapshot& m, TimePoint now);
  void on(const InService& m, TimePoint now);
  void on(const Pull& m, TimePoint now);

  CheckpointName name_;
  NodeId self_;
  Settings settings_;
  Sections content_;
  Position position_;
  std::uint64_t generation_ = 0;
  NodeId active_node_;
  bool active_ = false;
  // Active replica.
  std::map<NodeId, Peer> peers_;
  std::deque<Pending> pending_;
  std::uint64_t committed_ = 0;
  std::optional<Recovery> recovering_;
  // Settings::durable: the records not known stored yet, with the position after each, and the
  // newest position known stored (nullopt: none of this content's history).
  std::uint64_t next_record_ = 1;
  std::deque<std::pair<std::uint64_t, Position>> unstored_;
  std::optional<Position> stored_;
  bool continues_store_ = false;  // its records go on from what the store holds
  // Other replicas.
  bool in_service_ = false;
  std::optional<Staging> staging_;
  bool behind_ = false;  // asked for a resync, waiting for the snapshot
  TimePoint asked_{};
  bool ack_owed_ = false;  // acknowledged at the next take_effects: one Ack per batch
  // When an Ack was last owed. A replica not in service acknowledges again every `retry`, so a
  // lost InService is sent again (one message per `retry`, while out of service).
  TimePoint acked_at_{};
  // It acknowledged something in this generation: an InService it did not earn so (one sent to
  // an earlier process on this node) is ignored.
  bool acked_in_generation_ = false;
  std::vector<Effect> effects_;
};

}  // namespace amf::checkpoint
