#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"

// Cluster membership, sans-I/O (README.md beside this file has the safety argument).
//
// Every node runs a Member: it sends heartbeats, answers the heartbeats of the nodes in its
// view with acknowledgements, suspects a node it has not heard for the profile's timeout, and
// holds a lease: the send time of its newest heartbeat that a majority of the voters
// acknowledged, plus the profile's lease. When the lease runs out the node must stop its
// active assignments (fence itself); a node cut off from the majority therefore stops serving
// on its own, in bounded time, without hearing from anyone.
//
// The director's node also runs the ViewKeeper: the one authority over views. It takes a node
// out of the view when the director's Member suspects it, and declares it gone (NodeLeft: the
// director may now fail over its SUs) only once a majority of the voters have installed the new
// view and, by what they report, the gone node's lease must have run out. It takes a node in
// when it is heard, and declares it joined once a majority have installed the view with it (so
// its lease can be granted).
namespace amf::membership {

// How often, how patient. The lease must run out before the timeout (lease / (1 - drift) +
// fence <= timeout) so that a crashed node's failover waits for detection only.
struct Profile {
  std::string name;
  Duration interval;    // between heartbeats
  Duration timeout;     // a node not heard for this long is suspected
  Duration lease;       // from the send time of a heartbeat a majority acknowledged
  Duration fence;       // bound on stopping the actives once the lease is out (SIGKILL and reap)
  double drift = 1e-3;  // bound on any node clock's rate error (1000 ppm)
};
// 10 ms / 30 ms: loopback and namespaces on one machine, the telecom budget.
Profile fast_profile();
// 100 ms / 500 ms: ordinary networks (README.md says why).
Profile default_profile();
Result<Profile> profile_named(const std::string& name);
// Refuses a profile whose numbers cannot work (says which and why).
Result<void> check(const Profile& profile);

// One life of a node: a restarted node, or one taken out of the view, comes back with a
// higher incarnation; whatever its earlier life held is void.
struct Incarnate {
  NodeId node;
  std::uint64_t incarnation = 0;
  friend auto operator<=>(const Incarnate&, const Incarnate&) = default;
};

// Views are ordered by the director's epoch, then by their number within it.
struct ViewId {
  std::uint64_t epoch = 0;
  std::uint64_t number = 0;
  friend auto operator<=>(const ViewId&, const ViewId&) = default;
};

struct View {
  ViewId id;
  std::vector<Incarnate> members;  // sorted by node
  // The newest life of each node that a director took out (sorted by node): it never comes
  // back; its node rejoins as a newer life. Carried from view to view and from one director to
  // the next.
  std::vector<Incarnate> out;
  bool contains(const Incarnate& who) const;
  const Incarnate* find(const NodeId& node) const;
  // True when `who` is, or is older than, a life taken out.
  bool taken_out(const Incarnate& who) const;
  // Takes `who` (and any older life of its node) out of the members and records it in `out`.
  void take_out(const Incarnate& who);
};

// ---- wire messages ----
struct Heartbeat {
  Incarnate from;
  std::uint64_t seq = 0;  // from 1, per incarnation
  ViewId view;            // the sender's newest view
  // The sender hears a life of the receiving node within the timeout: with it, a node without
  // a lease can tell that a majority of the voters and it hear each other (hears_majority).
  bool hears_you = false;
};
struct HeartbeatAck {
  Incarnate from;
  Incarnate to;
  std::uint64_t seq = 0;  // the heartbeat acknowledged
};
struct ViewInstall {
  NodeId from;  // the director's node, which the acknowledgement goes to
  View view;
  std::string cause;
};
struct ViewAck {
  Incarnate from;
  ViewId view;
  std::vector<Incarnate> out;  // the lives this node knows to be taken out (its view's `out`)
  // For every node life this node has acknowledged and that is not in the view: how long ago
  // (on this node's clock) it last acknowledged a heartbeat of it.
  std::vector<std::pair<Incarnate, Duration>> last_acked_ago;
};
using Message = std::variant<Heartbeat, HeartbeatAck, ViewInstall, ViewAck>;
std::string describe(const Message& message);

// ---- effects ----
struct Send {
  NodeId to;
  Message message;
};
struct Suspected {  // not heard for the timeout
  Incarnate who;
  std::string cause;
};
struct Heard {  // heard for the first time, again after a suspicion, or in a new life
  Incarnate who;
};
struct Installed {  // this node installed a newer view
  View view;
  std::string cause;
};
struct Fence {  // the lease ran out: stop every active assignment now
  std::string cause;
};
struct Unfence {  // the lease holds again: actives may be assigned to this node
};
struct Excluded {  // this node life is taken out: it rejoins as a new one
  Incarnate was;
  Incarnate now;
  std::string cause;
};
// The ViewKeeper's: the director may act on these.
struct NodeLeft {
  Incarnate who;
  std::string cause;
};
struct NodeJoined {
  Incarnate who;
};
// The director's own node life is taken out (an earlier director did it, in a view this one
// had not seen): this director must stop acting; its node rejoins as a new life and may stand
// for election again.
struct StepDown {
  Incarnate out;  // the life taken out: the director node's Member leaves it
  std::string cause;
};
using Effect = std::variant<Send, Suspected, Heard, Installed, Fence, Unfence, Excluded, NodeLeft,
                            NodeJoined, StepDown>;
std::string describe(const Effect& effect);

// Membership as one node sees it. Voters are the nodes whose acknowledgements count towards a
// lease (the system controllers, and a witness); every node heartbeats to the voters, and a
// voter to every node. Single-threaded.
class Member {
 public:
  // `self.incarnation` must exceed every earlier life of this node, across restarts too (the
  // host keeps it). `nodes` includes this one.
  Member(Incarnate self, std::vector<NodeId> nodes, std::set<NodeId> voters, Profile profile,
         TimePoint now);

  void receive(const Message& message, TimePoint now);
  void tick(TimePoint now);
  // `out` (this node's life, or a later one taken out) is over: fence, and rejoin as a newer
  // life. Views that take this node out call it; so does the host when its ViewKeeper steps
  // down with StepDown::out.
  void leave(const Incarnate& out, const std::string& cause);
  std::optional<TimePoint> next_deadline() const;
  std::vector<Effect> take_effects() { return std::exchange(effects_, {}); }

  const Incarnate& self() const { return self_; }
  const View& view() const { return view_; }
  // True while a majority of the voters acknowledged a heartbeat sent less than a lease ago.
  bool leased(TimePoint now) const { return lease_end_ && now < *lease_end_; }
  std::optional<TimePoint> lease_end() const { return lease_end_; }
  bool suspects(const NodeId& node) const;
  // Some life of `node` was heard within the timeout. Not the opposite of suspects(): a node
  // never heard that no view lists is neither heard nor suspected.
  bool hears(const NodeId& node) const;
  // The newest life of every node heard within the timeout.
  std::vector<Incarnate> hearing() const;
  // This node and a majority of the voters hear each other within the timeout (this node, a
  // voter, counts itself; a voter counts when it is heard and its newest heartbeat said it
  // hears this node). Whether or not any view lists this life: it is on the majority's side.
  bool hears_majority() const;
  // How this member sees `node`, for operators: "member" (in the view and heard), "suspected"
  // (in the view, not heard within the timeout), "joining" (heard, not in the view yet) or
  // "down" (neither); itself, "member", "fenced" (in the view, without its lease: it runs no
  // active) or "joining".
  std::string_view standing_of(const NodeId& node) const;
  // The life of `node` that the view lists, else the newest heard; 0: none.
  std::uint64_t incarnation_of(const NodeId& node) const;
  const std::vector<NodeId>& nodes() const { return nodes_; }
  const std::set<NodeId>& voters() const { return voters_; }
  const Profile& profile() const { return profile_; }

 private:
  struct Peer {
    std::optional<std::uint64_t> incarnation;  // the newest life heard
    TimePoint last_heard{};
    bool suspected = false;
    std::uint64_t acked_seq = 0;  // the newest of our heartbeats it acknowledged (this life)
    std::uint64_t heard_seq = 0;  // the newest of its heartbeats heard (its newest life)
    bool hears_me = false;        // its newest heartbeat said it hears this node
  };
  void beat(TimePoint now);
  void on(const Heartbeat& m, TimePoint now);
  void on(const HeartbeatAck& m, TimePoint now);
  void on(const ViewInstall& m, TimePoint now);
  void on(const ViewAck&, TimePoint) {}  // the ViewKeeper's
  void renew(TimePoint now);
  void check_lease(TimePoint now);
  bool sends_to(const NodeId& node) const;
  std::size_t majority() const { return voters_.size() / 2 + 1; }

  Incarnate self_;
  std::vector<NodeId> nodes_;
  std::set<NodeId> voters_;
  Profile profile_;
  View view_;
  std::map<NodeId, Peer> peers_;
  std::uint64_t next_seq_ = 1;
  TimePoint next_beat_;
  std::map<std::uint64_t, TimePoint> sent_at_;  // recent heartbeats' send times
  std::optional<TimePoint> lease_end_;
  bool fenced_ = true;                         // no lease yet: nothing may be active here
  std::map<Incarnate, TimePoint> last_acked_;  // every life we acknowledged, when last
  TimePoint quiet_until_;                      // no acknowledgements before (see the constructor)
  std::vector<Effect> effects_;
};

// The director's authority over views (see the top of this file). It lives beside the
// director's own Member and hears its suspicions and what it heard.
class ViewKeeper {
 public:
  // `own`: the director node's Member (its life is always a member; what it hears joins).
  // `start`: the view to carry on from, normally `own.view()`: its members that `own` does not
  // suspect are installed again under the new epoch, and its lives taken out are declared gone
  // again under it (an earlier director may have taken them out without living to declare
  // them gone). Lives other nodes know to be out are learnt from their acknowledgements.
  ViewKeeper(const Member& own, std::uint64_t epoch, const View& start, TimePoint now);

  void suspected(const Incarnate& who, const std::string& cause, TimePoint now);
  void heard(const Incarnate& who, TimePoint now);
  void receive(const ViewAck& ack, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  std::vector<Effect> take_effects() { return std::exchange(effects_, {}); }
  const View& view() const { return view_; }
  bool stepped_down() const { return stepped_down_; }

 private:
  struct Leaving {
    Incarnate who;
    std::string cause;
    ViewId removed_in;
    // A voter's report: when (on the director's clock) the gone life's lease may last until,
    // by that voter's acknowledgements.
    std::map<NodeId, TimePoint> bound_by;
    std::optional<TimePoint> safe_at;  // once a majority reported
  };
  struct Joining {
    Incarnate who;
    ViewId added_in;
    std::set<NodeId> installed_by;
  };
  void take_out(const Incarnate& who, const std::string& cause);
  std::string admit(const Incarnate& who);
  bool steps_down(const std::vector<Incarnate>& out, const std::string& source);
  bool known(const NodeId& node) const;
  void change(TimePoint now, const std::string& cause);
  void install(TimePoint now);
  std::size_t majority() const { return voters_.size() / 2 + 1; }

  Incarnate self_;
  std::uint64_t epoch_;
  std::vector<NodeId> nodes_;
  std::set<NodeId> voters_;
  Profile profile_;
  View view_;
  std::string cause_;               // of the newest view
  std::map<NodeId, ViewId> acked_;  // the newest view each node acknowledged
  TimePoint next_resend_{};
  std::vector<Leaving> leaving_;
  std::vector<Joining> joining_;
  bool stepped_down_ = false;
  std::vector<Effect> effects_;
};

// One node's membership: its Member and, while etcd says this node is the director, the
// ViewKeeper, with the routing between the two (suspicions and what is heard go to the keeper;
// the keeper's views and the member's acknowledgements of them go to each other without
// leaving the node). Hosts (amfd, the tests, the simulator) carry out the rest.
class Node {
 public:
  Node(Incarnate self, std::vector<NodeId> nodes, std::set<NodeId> voters, Profile profile,
       TimePoint now);

  void receive(const Message& message, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  // This node won the director's epoch: keep the views from `start` (normally its own view).
  void lead(std::uint64_t epoch, const View& start, TimePoint now);
  // This node lost the role (or its keeper stepped down): stop keeping views.
  void stop_leading() { keeper_.reset(); }
  bool leads() const { return keeper_ != nullptr; }
  // Sends to other nodes, and everything else for the host to act on or record.
  std::vector<Effect> take_effects() { return std::exchange(effects_, {}); }
  const Member& member() const { return member_; }
  const ViewKeeper* keeper() const { return keeper_.get(); }

 private:
  void route(TimePoint now);

  Member member_;
  std::unique_ptr<ViewKeeper> keeper_;
  std::vector<Effect> effects_;
};

}  // namespace amf::membership
