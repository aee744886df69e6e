#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/time.h"

// Who is the director, and in which epoch: decided by a compare-and-swap on one record in
// etcd, never by a protocol of our own. Sans-I/O: the host reads and swaps the record
// (daemon::EtcdClient in amfd, a model of the store in tests and the simulator) and reports
// what came back; the core says when to read, when to swap, and when this node won or lost
// the role. README.md beside this file has the argument.
namespace amf::membership {

// The record in etcd: the director's node and its epoch (the fencing token), and the store's
// revision of it, which the next swap compares against.
struct Record {
  NodeId director;
  std::uint64_t epoch = 0;
  std::int64_t revision = 0;  // 0: there is no record yet
};

struct ElectionSettings {
  NodeId self;
  bool candidate = false;  // a controller: may become the director
  Duration check;          // how often the director and the followers read the record
  Duration grace;          // a director that cannot read the record for this long stops acting
  // How often a follower reads it while it follows another node's director that it does not
  // suspect (zero: every `check`). Nothing waits for that read: a candidate that comes to suspect
  // the director swaps against the revision it knows, and learns the record from a swap that fails;
  // reading then goes back to every `check`. Most of an idle cluster's reads were followers'
  // (amfd's idle CPU: amf-cluster-bench --idle).
  Duration follow{};
};

// ---- effects ----
struct ReadRecord {};
struct SwapRecord {  // put `next` if the record's revision is still `expected` (0: absent)
  std::int64_t expected = 0;
  Record next;
};
struct Won {  // this node is the director from now on, in `epoch`
  std::uint64_t epoch = 0;
};
struct Lost {  // this node must stop acting as the director now
  std::string cause;
};
struct DirectorIs {  // the newest director known (followers obey this epoch and no older one)
  NodeId director;
  std::uint64_t epoch = 0;
};
using ElectionEffect = std::variant<ReadRecord, SwapRecord, Won, Lost, DirectorIs>;
std::string describe(const ElectionEffect& effect);

// What membership says of this node, for the election.
struct Standing {
  bool leased = false;             // it holds its lease
  bool hears_majority = false;     // it hears a majority of the voters (see below)
  bool suspects_director = false;  // it suspects the director's node
};

class Election {
 public:
  Election(ElectionSettings settings, TimePoint now);

  // What the host learnt of the record: by a read, or as the current value after a swap that
  // did not succeed (nullopt: there is no record).
  void record(const std::optional<Record>& record, TimePoint now);
  void swapped(const Record& record, TimePoint now);  // the swap succeeded: `record` is stored
  void store_failed(const std::string& why, TimePoint now);
  // What membership says now.
  void membership(const Standing& standing, TimePoint now);
  void tick(TimePoint now);
  // The director's membership keeper stepped down (membership::StepDown: this node's life was
  // taken out under an earlier director). Stop leading; the node's new life takes the next
  // epoch, as a restarted node would.
  void resign(const std::string& cause, TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  std::vector<ElectionEffect> take_effects() { return std::exchange(effects_, {}); }

  bool leads() const { return leading_; }
  const std::optional<Record>& known() const { return known_; }

 private:
  Duration interval() const;  // until the next read: `check`, or `follow` while following
  void schedule_read(TimePoint now);
  void read();
  void consider(TimePoint now);
  void lose(const std::string& cause);

  ElectionSettings settings_;
  std::optional<Record> known_;  // the newest record read
  bool absent_ = false;          // the newest read found no record
  bool leading_ = false;
  bool ever_led_ = false;
  std::uint64_t led_epoch_ = 0;
  bool leased_since_won_ = false;  // a fresh director has no lease until its first view
  bool in_flight_ = false;         // a read or a swap is out
  bool leased_ = false;
  bool hears_majority_ = false;
  bool suspects_director_ = false;
  TimePoint next_read_;
  TimePoint read_base_;       // when next_read_ was set: the last answer of the store
  TimePoint last_read_ok_{};  // while leading: the last read that found this node's record
  std::string last_failure_;
  std::vector<ElectionEffect> effects_;
};

}  // namespace amf::membership
