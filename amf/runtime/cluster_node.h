#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/time.h"
#include "amf/director/director.h"
#include "amf/membership/election.h"
#include "amf/membership/membership.h"
#include "amf/model/notification.h"

// A node's part in a cluster of several nodes, sans-I/O: its membership (membership::Node),
// the director election (membership::Election), and what the node does with what they say.
// amfd hosts it over UDP, ZeroMQ and etcd (daemon::Cluster); the tests and the simulator over
// a network and a store of their own. membership/README.md has the safety argument; the rules
// this core adds to the two it hosts:
//
// - A controller stands for election only after listening for two membership timeouts: a
//   director starts its views from the lives it hears, and one that heard nobody yet (a
//   restarted director's node wins its next epoch at once) would install a view without them,
//   in which they stop acknowledging each other and fence themselves.
// - A winner leads the views, reads the admin states from the store and writes them back
//   against the revision read (a write of a deposed director still on its way then fails
//   instead of landing unseen), and takes over only once its node holds its lease, a majority
//   of the voters installed its first view, and a lease's length (with drift and fence) has
//   passed since: a life its stale view missed then holds no lease and has stopped its actives.
// - The takeover waits for every life of its view, every life it hears and its own, each node
//   in its newest life; a life the new views leave out is awaited until declared gone.
// - The director writes every admin-state change through to the store by a compare-and-swap
//   against the revision it last wrote or read; a swap that fails (a successor wrote) makes it
//   stand down. A retry that finds its own write already there counts as done.
// - A fence or an exclusion ends the node's life (EndLife): nothing after it is acted on.
// - Commands from the director are taken only while the node holds its lease
//   (accepts_commands()).
namespace amf::runtime {

struct ClusterNodeSettings {
  membership::Incarnate self;  // this life: higher than every earlier one (the host keeps it)
  std::vector<NodeId> nodes;   // every node of the cluster, this one included
  std::set<NodeId> voters;
  bool candidate = false;  // a controller: may become the director
  membership::Profile profile;
  std::string cluster;  // the cluster's name: the store's keys are under /amf/NAME/
};

// A director that cannot read its record for this long stops acting: ten membership timeouts,
// and at least a second. It does not bound a failover (that is the membership's timeout plus
// one swap).
Duration election_grace(const membership::Profile& p);

// How long the host waits for an answer of the store before it calls the request failed: half
// the grace (500 ms with the fast profile). A write waits for etcd's fsync, which on a loaded
// disk takes hundreds of milliseconds; not more than half, so that a director whose etcd member
// went silent can still read its record from the next member within its grace. amfd's etcd
// client and the simulator's model of it both use it.
Duration store_answer_timeout(const membership::Profile& p);

// The store (etcd): a get, or a put if the key's revision is still `expected` (0: if absent).
// The host answers each with answer(id, ...), at most once; an answer for an id the core no
// longer waits for (an earlier term's) is ignored.
namespace store {
struct Value {
  std::string value;
  std::int64_t mod_revision = 0;
};
struct Get {
  std::uint64_t id = 0;
  std::string key;
};
struct Put {
  std::uint64_t id = 0;
  std::string key;
  std::int64_t expected = 0;
  std::string value;
};
struct Got {
  std::optional<Value> value;  // none: the key is absent
};
struct Swapped {
  bool succeeded = false;
  std::int64_t revision = 0;     // the store's, after the call
  std::optional<Value> current;  // when it did not succeed: the key now (none: absent)
};
struct Failed {  // the store could not be asked (unreachable, timed out)
  std::string why;
};
using Answer = std::variant<Got, Swapped, Failed>;
}  // namespace store

// ---- effects, in the order the host must carry them out ----
// membership::Send: a datagram to another node's membership.
// This node is the director of `epoch` from now on: take over with the lives `up` (each awaited
// for its snapshot) and the admin states read from the store.
struct TakeOver {
  std::uint64_t epoch = 0;
  std::vector<director::NodeUp> up;
  director::AdminStates admin;
};
struct GiveUp {  // this node must stop acting as the director now
  std::string cause;
};
struct ToDirector {  // for this node's director: NodeUp or NodeDown
  director::Event event;
};
struct EndLife {  // fenced or taken out: every component stops now; the node comes back as a new
                  // life
  std::string cause;
};
struct Report {  // an error for the event log and amfctl
  model::NotificationKind kind = model::NotificationKind::kError;
  std::string entity;
  std::string cause;
};
struct Log {  // for the daemon's log only
  enum class Level { kDebug, kInfo, kWarning };
  Level level = Level::kInfo;
  std::string text;
};
// What a node knows of the store's health, from the answers to its own requests (a follower
// reads the director's record every few hundred milliseconds, so every node asks).
struct StoreHealth {
  std::optional<TimePoint> last_answer;    // the newest answer that was not a failure
  std::optional<TimePoint> failing_since;  // the first failure after it; none: not failing
  std::string failure;                     // the newest failure's reason
};

using ClusterEffect = std::variant<membership::Send, store::Get, store::Put, TakeOver, GiveUp,
                                   ToDirector, EndLife, Report, Log>;
std::string describe(const ClusterEffect& effect);

// Single-threaded. Every call may produce effects: take them after each.
class ClusterNode {
 public:
  ClusterNode(ClusterNodeSettings settings, TimePoint now);

  void receive(const membership::Message& message, TimePoint now);
  void answer(std::uint64_t id, const store::Answer& answer, TimePoint now);
  void tick(TimePoint now);
  // The director changed an admin state: written through to the store.
  void admin_state(const director::AdminStateChanged& change, TimePoint now);
  // Give up the director's role (the runtime cannot take it up).
  void resign(const std::string& cause, TimePoint now);

  std::optional<TimePoint> next_deadline() const;
  std::vector<ClusterEffect> take_effects() { return std::exchange(effects_, {}); }

  // The director's commands may be taken: this life holds its lease and is not over.
  bool accepts_commands() const { return unfenced_ && !ended_; }
  bool ended() const { return ended_; }
  // The newest director known (this node, once it won) and its epoch.
  const std::optional<membership::DirectorIs>& director() const { return director_; }
  bool leads() const { return leading_; }
  // While this node directs: the lives its director has as up (told NodeUp, not yet NodeDown).
  const std::set<membership::Incarnate>& told() const { return told_; }
  const membership::Node& membership() const { return node_; }
  // Null until the node stands for election.
  const membership::Election* election() const { return election_ ? &*election_ : nullptr; }
  const StoreHealth& store_health() const { return store_health_; }

 private:
  // What a store request was for.
  struct RecordRead {};
  struct RecordSwap {
    membership::Record next;
  };
  struct AdminRead {
    std::uint64_t term = 0;
  };
  struct AdminClaim {
    std::uint64_t term = 0;
    director::AdminStates admin;
    std::string text;
  };
  struct AdminWrite {
    std::uint64_t term = 0;
    std::string text;
  };
  using Purpose = std::variant<RecordRead, RecordSwap, AdminRead, AdminClaim, AdminWrite>;

  // Until nothing more comes: the membership's effects and the election's, each acted on.
  void settle(TimePoint now);
  void on_membership(membership::Effect effect, TimePoint now);
  void on_election(const membership::ElectionEffect& effect, TimePoint now);
  void on_record(const RecordRead&, const store::Answer& answer, TimePoint now);
  void on_record(const RecordSwap& swap, const store::Answer& answer, TimePoint now);
  void on_admin(const AdminRead& read, const store::Answer& answer, TimePoint now);
  void on_admin(AdminClaim& claim, const store::Answer& answer, TimePoint now);
  void on_admin(const AdminWrite& write, const store::Answer& answer, TimePoint now);
  void tell_election(TimePoint now);
  void take_office(std::uint64_t epoch, TimePoint now);
  void read_admin();
  void enter_office(TimePoint now);
  void leave_office(const std::string& cause);
  void forget_term();  // what a term kept: none of it carries over to the next
  void membership_event(const membership::Effect& effect);
  void write_admin();
  void get(Purpose purpose, const std::string& key);
  void put(Purpose purpose, const std::string& key, std::int64_t expected, std::string value);
  void report(const std::string& entity, const std::string& cause);
  void log(std::string text, Log::Level level = Log::Level::kInfo);

  ClusterNodeSettings settings_;
  membership::Node node_;
  std::optional<membership::Election> election_;
  TimePoint stand_at_;  // when the election starts (a controller's)
  std::string director_key_;
  std::string admin_key_;

  std::optional<membership::DirectorIs> director_;
  bool leading_ = false;
  // Between Won and the takeover (the admin states are being read): the views' events wait.
  bool taking_office_ = false;
  std::uint64_t term_ = 0;   // counts terms: a store answer for an earlier one is ignored
  std::uint64_t epoch_ = 0;  // this term's
  std::set<membership::Incarnate> start_;  // the lives this term's takeover awaits
  std::vector<membership::Effect> held_;
  // Won and the admin states read and claimed: waiting for the lease and the office wait.
  bool claimed_ = false;
  director::AdminStates claimed_admin_;
  bool unfenced_ = false;  // this node holds its lease (the membership said Unfence)
  bool ended_ = false;     // this life is over (fenced or taken out)
  // This term: when the keeper said its own life joined (a majority installed its first view).
  std::optional<TimePoint> installed_at_;
  std::optional<TimePoint> office_at_;    // the takeover waits until then
  std::optional<TimePoint> admin_retry_;  // a read (1 s) or write (100 ms) of the admin states
  std::set<membership::Incarnate> told_;  // the lives the director has as up
  // The admin states as this director last wrote or read them, and their revision.
  director::AdminStates admin_;
  std::int64_t admin_revision_ = 0;
  bool admin_writing_ = false;
  bool admin_dirty_ = false;

  StoreHealth store_health_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Purpose> asked_;  // store requests not answered yet
  std::vector<ClusterEffect> effects_;
};

}  // namespace amf::runtime
