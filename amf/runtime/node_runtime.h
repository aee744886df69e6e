#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"
#include "amf/director/director.h"
#include "amf/model/config.h"
#include "amf/node/node_director.h"
#include "amf/protocol/envelope.h"
#include "amf/protocol/link.h"

namespace amf::runtime {

// Where a node's runtime sends envelopes for the runtime of another node (envelope.to). The
// runtime numbers, acknowledges and resends them itself (protocol::Link), so a transport may
// lose, delay, reorder or duplicate them. Implementations: the tests' in-memory network, the
// simulator's network, and (with several nodes) the daemon's sockets. Calls are made from inside
// the runtime's calls; an implementation queues or hands the envelope to another runtime, never
// back into the calling one.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(const protocol::Envelope& envelope) = 0;
};

// A status that the director gathered (NodeRuntime::status): each other node's part, as that
// node's host gave it, the nodes whose part is missing, with why, and the node whose operator
// asked (none: this node's own).
struct GatheredStatus {
  std::optional<NodeId> for_node;
  std::map<NodeId, std::string> parts;
  std::map<NodeId, std::string> missing;
};

// The node's adapters: whatever a core's effect asks for that is not routing between cores.
class Host {
 public:
  virtual ~Host() = default;
  // Every node effect but ToDirector (the runtime routes those), in the order emitted.
  virtual void carry_out(const node::Effect& effect) = 0;
  virtual void admin_result(const director::AdminResult& result) = 0;
  virtual void notify(const model::Notification& notification) = 0;  // from either core
  // A node's snapshot, asked for with request_snapshot(), arrived.
  virtual void snapshot(const protocol::NodeSnapshot&) {}
  // The director changed an entity's admin state: a host with several nodes keeps it where the
  // next director reads it (take_over()).
  virtual void admin_state(const director::AdminStateChanged&) {}
  // The takeover begun with take_over() is over: the director acts from now on.
  virtual void took_over() {}
  // This runtime's director was deposed: a command of the newer `epoch` arrived. It no longer
  // acts (what it had not answered, the host fails) and the node follows the new director.
  virtual void deposed(std::uint64_t /*epoch*/) {}
  // As the director: the status that an operator asked for (amfctl status, on any node),
  // encoded as the host likes (the runtimes carry it without looking), with what the other
  // nodes gave; an error goes back as the answer.
  virtual Result<std::string> director_status(const GatheredStatus& /*gathered*/) {
    return fail("this host keeps no status for other nodes");
  }
  // As a node: its part of a status the director gathers (amfd: its own SUs' components),
  // encoded as the host likes; an error goes to the director as the reason it is missing.
  virtual Result<std::string> status_part() { return fail("this host keeps no status"); }
  // The answer to this node's status(id): the director's encoded status, or why none came.
  virtual void status_answer(std::uint64_t /*id*/, Result<std::string> /*status*/) {}
};

struct Options {
  // Events handed to the node director in one pump(); the rest wait for the next call, so a
  // host keeps serving its other inputs (sockets, timers) during a storm. Must be >= 1.
  std::size_t max_events_per_pump = 64;
  // This node's life: a new one every time its amfd starts. Envelopes for another life of the
  // node are dropped.
  std::uint64_t incarnation = 0;
  // The director's epoch, where this runtime holds the director (an election gives each
  // director a higher one).
  std::uint64_t epoch = 1;
  // An unacknowledged message is sent again after this long.
  Duration retransmit_after = std::chrono::milliseconds(50);
  // An admin request forwarded to the director and not answered within this fails (a director
  // answers within its operations' time limit, 60 s, unless it stopped acting meanwhile;
  // amfctl waits 75 s).
  Duration forwarded_answer_within = std::chrono::seconds(70);
  // A status request forwarded to the director and not answered within this fails (the
  // director answers within status_parts_within; this covers a lost link).
  Duration forwarded_status_within = std::chrono::seconds(2);
  // As the director: how long it waits for the nodes' parts of a status before it answers
  // without the parts still missing. Shorter than forwarded_status_within.
  Duration status_parts_within = std::chrono::milliseconds(500);
};

// What the runtime dropped or did to keep its links whole.
struct LinkCounters {
  std::uint64_t stale_epoch = 0;        // envelopes from an older director's epoch
  std::uint64_t stale_incarnation = 0;  // for or from another life of a node than the current
  std::uint64_t unknown_peer = 0;       // from a node not (yet) up, or to a node not up
  std::uint64_t bad_version = 0;        // another envelope layout
  // A report, of the epoch followed, for a node that hosts no director; or one about an SU (a
  // snapshot: a node) other than the sender's.
  std::uint64_t misdirected = 0;
  std::uint64_t no_director = 0;    // reports made while no director was known
  std::uint64_t duplicates = 0;     // (from the links) messages that had arrived already
  std::uint64_t retransmitted = 0;  // (from the links) envelopes sent again
};

// One node's cores and the order in which their effects are carried out: the director's (where
// this node holds the director role) and the node director's. amfd, the tests' local cluster
// and the simulator host it, so that one routing serves all three.
//
// Ordering rules, which every host relies on:
// 1. pump() first carries out the director's effects, then the node director's, until neither
//    has any; only then does it hand the next queued event to the node director.
// 2. A director command for this node is queued behind the events already queued; one for
//    another node goes over the link to that node. A node director's report goes to the local
//    director at once (handled before pump() moves on) or over the link to the director it
//    follows. Links hand messages on in the order they were sent, each once, whatever the
//    transport does to the envelopes (protocol::Link); what arrives is checked against the
//    lives of both nodes and the director's epoch (receive()).
// 3. Queued events are handed over in the order they were posted (FIFO).
// 4. Deadlines are judged only once the node director has seen every queued event: what is
//    queued has already happened (a process that started, a component that registered), and a
//    timeout must not fire because the evidence is still in this node's queue. While events
//    are queued, tick() waits; the pump() that hands over the last of them ticks if a deadline
//    is due by then. (amfd starting 5,000 SGs queues 10,000 instantiations; each component's
//    ProcessStarted queues behind them, and its instantiate timeout would otherwise run out.)
//    The price: a host whose queue never empties (inputs faster than the cores, for good)
//    holds every deadline off. Only the host's queue is seen: work a host keeps elsewhere
//    (the OCI launcher's runc worker) still counts against the timeouts.
//
// A runtime holds a node director (the node `self`), a director, or both. amfd and the local
// cluster give every node one with a node director and one of them the director; the
// simulator keeps its director in a seat of its own (a runtime without a node director), so
// that crashing any node leaves the director as it is (until the director moves between
// controllers, a node crash there stands for the director's node being replaced at once).
//
// Not thread-safe. Bounded: at most Options::max_events_per_pump events per pump(); the
// queue itself holds what the host posts (the host bounds its inputs).
class NodeRuntime {
 public:
  using Clock = std::function<TimePoint()>;

  // A node's runtime: its node director, and the director where it holds the role.
  NodeRuntime(std::shared_ptr<const model::ClusterConfig> config, NodeId self,
              std::optional<director::Director> director, Host& host, Transport& transport,
              Clock clock, Options options = {});
  // A director's seat: the director alone, every command through the transport. `self` names
  // the seat in what it sends.
  static NodeRuntime director_seat(std::shared_ptr<const model::ClusterConfig> config, NodeId self,
                                   director::Director director, Host& host, Transport& transport,
                                   Clock clock, Options options = {});

  const NodeId& self() const { return self_; }

  // An event for this node's node director (from its adapters, or a director command that
  // arrived through the transport): queued until pump().
  void post(node::Event event);
  // An event for the director (NodeUp, NodeDown, an admin request, or a node director's report
  // that arrived through the transport). Handled at once; its effects wait for pump(). This
  // node must hold the director.
  void to_director(const director::Event& event);
  // An envelope from another node's runtime (through the transport). It is checked (version,
  // this node's life, the sender's life and the director's epoch; what fails is dropped and
  // counted), its acknowledgement taken, and its messages handed on in order: a report to the
  // director at once, a command queued for the node director. A command from a director of a
  // higher epoch than the one followed so far makes this node follow that director.
  void receive(const protocol::Envelope& envelope);
  // An operator's admin request made on this node (amfctl there): handed to the director here,
  // or forwarded to the director this node follows, which answers over the link. Either way
  // exactly one Host::admin_result of the same id answers it: the director's result, or a
  // failure when this node follows another director (or takes the role itself) before the
  // answer came, or when none came within Options::forwarded_answer_within (the operation may
  // or may not have been carried out). False, and nothing sent,
  // when this node neither holds nor follows a director. Ids are the host's: below
  // kForwardedIds, and not used twice while one is outstanding.
  [[nodiscard]] bool admin(const director::AdminRequest& request);
  // An operator's status request made on this node: the director (here, or the one this node
  // follows, over the link) asks every other node that is up for its part (Host::status_part)
  // and, once each has answered or left or Options::status_parts_within has passed, has its
  // host encode its status with them (Host::director_status). Exactly one Host::status_answer
  // of the same id answers it: the director's status, or a failure (as for admin(); within
  // Options::forwarded_status_within when forwarded). False, and nothing sent, when this node
  // neither holds nor follows a director. Ids are the host's, not used twice while one is
  // outstanding.
  [[nodiscard]] bool status(std::uint64_t id);
  // The director's runtime numbers the requests it takes from other nodes from here up.
  static constexpr std::uint64_t kForwardedIds = std::uint64_t{1} << 63;
  // Admin requests from one node that the director holds at a time; more are refused with
  // "try again" (amfd's admin socket takes no more than this either).
  static constexpr std::size_t kMaxForwardedPerNode = 64;
  // Asks the node director of `node` (up, another node) for a snapshot; it arrives through
  // Host::snapshot. This node must hold the director.
  // Returns the request's id: this epoch's in its upper 32 bits, so that no id of an older
  // director's request is ever one of this director's.
  protocol::CommandId request_snapshot(const NodeId& node);
  // This runtime's director was just elected (its epoch is Options::epoch) and takes over from
  // an earlier one: every node in `up` (the membership's view, each with its life; this node
  // among them if it has a node director) is asked for a snapshot, and once each has answered
  // or left (NodeDown), the director takes over (Director::take_over) with the snapshots and
  // `admin`, the admin states the earlier directors left in the store; then Host::took_over.
  // Meanwhile every event for the director (reports, NodeUp, NodeDown, admin requests) waits,
  // in order, and is handed over after. Call it once, before anything else reaches the
  // director. The nodes follow this director from its first command, the snapshot request.
  void take_over(const std::vector<director::NodeUp>& up, director::AdminStates admin);
  // This node won the director's role in `epoch`: its runtime holds `director` from now on,
  // and its node director reports to it directly. take_over() follows. False, and nothing
  // changes, when the node already follows an epoch at least as new (a peer sent it one that
  // no election gave: the role is not taken up under an epoch that is already outdone).
  [[nodiscard]] bool assume_director(director::Director director, std::uint64_t epoch);
  bool taking_over() const { return takeover_.has_value(); }
  // This runtime's director stops acting (the election says another node or a newer epoch
  // holds the role, or it cannot tell): as when deposed (Host::deposed), and the node follows
  // whichever director commands it next.
  void resign();
  // Time passed: the links resend what has waited long enough for its acknowledgement, and
  // both cores look at their deadlines, now or, while events are queued, in the pump() that
  // empties the queue (rule 4). Effects wait for pump().
  void tick();

  // Carries out effects and hands over queued events (the rules above). Returns whether events
  // are still queued (call it again). Re-entrant calls (from a host's carry_out) return at once:
  // the running pump picks up what they posted.
  bool pump();

  // pump() in single steps, for a host that interleaves several runtimes in one global order
  // (the simulator delivers the events of every node first in, first out): carry_out_effects()
  // carries out both cores' effects until neither has any and says whether there were any;
  // hand_over_one() hands the next queued event to the node director (false: none queued);
  // its effects wait for carry_out_effects(). next_event() is the event it would hand over.
  bool carry_out_effects();
  bool hand_over_one();
  const node::Event* next_event() const { return queue_.empty() ? nullptr : &queue_.front(); }

  // When the host should call tick(): the earliest of the links' resends and the cores'
  // deadlines; the cores' count only while no events are queued (the pump that hands over the
  // last of them ticks when one is due; a host keeps pumping while pump() returns true).
  std::optional<TimePoint> next_deadline() const;
  bool idle() const { return queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }
  // The director this node's node director follows (its node, life and epoch), if any.
  const std::optional<protocol::Endpoint>& followed() const { return followed_; }
  std::uint64_t followed_epoch() const { return followed_epoch_; }
  LinkCounters counters() const;
  // The link to `node`, if there is one (tests).
  const protocol::Link* link(const NodeId& node) const;

  bool has_director() const { return director_.has_value(); }
  // The epoch this runtime's envelopes carry: its director's, or the one it follows.
  std::uint64_t epoch() const;
  bool has_node() const { return node_.has_value(); }
  director::Director& director() { return *director_; }
  const director::Director& director() const { return *director_; }
  node::NodeDirector& node() { return *node_; }
  const node::NodeDirector& node() const { return *node_; }

 private:
  bool carry_out_director_effects();
  void send_to(const NodeId& node, protocol::Message message);
  // Closes the link to `node` (its counts kept in the totals); nothing if there is none.
  void close_link(const NodeId& node);
  void send_acks();
  void retransmit();
  // A report from `from`'s node director (this runtime's own, or over a link).
  void handle_report(const NodeId& from, const protocol::NodeReport& report);
  // An admin request that the node at the other end of `link` forwarded to this director.
  void take_forwarded(const protocol::Link& link, const protocol::AdminForward& request);
  // The director's result of a request, for the node that forwarded it or for the host.
  void admin_result(const director::AdminResult& result);
  // This node no longer follows the director it forwarded requests to: each fails, with
  // `what` (what happened instead) in its message.
  void fail_forwarded(const std::string& what);
  // Fails the forwarded requests whose answer is overdue.
  void expire_forwarded();
  std::string forwarded_failure(const std::string& what) const;
  std::string followed_director() const;  // "the director on node N", for errors
  void received(const protocol::Envelope& e, const protocol::Link& link);
  // A director's NodeUp and NodeDown open and close its link to the node.
  void membership(const director::Event& event);
  bool carry_out_node_effects();
  std::optional<TimePoint> cores_next_deadline() const;
  void tick_cores();

  struct SeatTag {};
  NodeRuntime(SeatTag, std::shared_ptr<const model::ClusterConfig> config, NodeId self,
              director::Director director, Host& host, Transport& transport, Clock clock,
              Options options);

  std::shared_ptr<const model::ClusterConfig> config_;
  NodeId self_;
  std::optional<director::Director> director_;
  std::optional<node::NodeDirector> node_;  // none in a director's seat
  Host& host_;
  Transport& transport_;
  Clock clock_;
  Options options_;
  std::deque<node::Event> queue_;
  bool pumping_ = false;
  // One link per peer: as the director, to every node that is up; as a node director, to the
  // director it follows.
  std::map<NodeId, protocol::Link> links_;
  // The links that owe an acknowledgement, and those with messages not yet acknowledged:
  // what send_acks(), retransmit() and next_deadline() look at (not every link of a director
  // of a thousand nodes).
  std::set<NodeId> acks_due_;
  std::set<NodeId> unacked_;
  // A takeover in progress: the snapshots still awaited, those in, and the director's events
  // that wait for it.
  struct PendingTakeover {
    director::Takeover takeover;
    std::set<NodeId> awaited;
    std::map<NodeId, std::uint64_t> lives;  // the life of each node asked for its snapshot
    // The request each awaited node was sent: only its answer is the takeover's (an answer
    // to a greeting of an older epoch, queued behind that epoch's commands, is not).
    std::map<NodeId, protocol::CommandId> asked;
    std::vector<director::Event> held;
  };
  void director_event(const director::Event& event);
  void finish_takeover();
  // A command of a newer epoch reached this runtime: its director no longer acts.
  void step_down(std::uint64_t epoch);
  std::optional<PendingTakeover> takeover_;
  std::optional<protocol::Endpoint> followed_;
  std::uint64_t followed_epoch_ = 0;
  protocol::CommandId next_snapshot_ = 1;
  // As the director: the requests other nodes forwarded, by the id it gave each, until
  // answered (dropped when it stops acting: the nodes fail them when they follow another).
  struct Forwarded {
    protocol::Endpoint asker;
    std::uint64_t request = 0;  // the asker's id
  };
  std::map<std::uint64_t, Forwarded> forwarded_;
  // As the director: the statuses it gathers, by the number it gave each; for a node that
  // forwarded the request (asker) or for this node's host (none).
  struct Gathering {
    std::optional<protocol::Endpoint> asker;
    std::uint64_t request = 0;  // the asker's id, or the host's
    std::set<NodeId> awaited;
    std::map<NodeId, std::uint64_t> lives;  // the life of each node asked
    GatheredStatus gathered;
    TimePoint due{};
  };
  // Gatherings at once; more are refused with "try again" (each ends within
  // Options::status_parts_within).
  static constexpr std::size_t kMaxGatherings = 256;
  std::map<std::uint64_t, Gathering> gathering_;
  std::uint64_t next_gathering_ = 0;
  void gather_status(std::optional<protocol::Endpoint> asker, std::uint64_t request);
  void take_part(const NodeId& from, const protocol::StatusPart& part);
  // Answers the gatherings that await nobody, and at `now` those overdue.
  void finish_gatherings(std::optional<TimePoint> now);
  std::map<NodeId, std::size_t> forwarded_from_;  // how many of them each node has waiting
  std::uint64_t next_forwarded_ = kForwardedIds;
  // As a node: the requests sent to the director followed, not yet answered, by id, with the
  // time by which the answer is due; admin operations and status requests.
  std::map<std::uint64_t, TimePoint> forwarding_;
  std::map<std::uint64_t, TimePoint> status_forwarding_;
  LinkCounters counters_;
  // Link counters of the links closed so far, so counters() covers the whole run.
  std::uint64_t closed_duplicates_ = 0;
  std::uint64_t closed_retransmitted_ = 0;
};

}  // namespace amf::runtime
