#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/checkpoint/replica.h"
#include "amf/core/id.h"
#include "amf/core/result.h"
#include "amf/core/time.h"

// A node's checkpoint service, sans-I/O: the replicas this node holds, which components have
// each open, and the checks on what they ask (README.md beside this file). amfd hosts it: it
// hands over the components' requests with what only it knows (the component's newest active
// assignment, the nodes that hold the checkpoint's replicas) and carries the replicas' messages
// to and from other nodes.
namespace amf::checkpoint {

// The host's name for a component's connection (amfd: the node director's peer id).
using ClientId = std::uint64_t;

struct ServiceSettings {
  Settings replica;
  std::size_t max_checkpoints = 1024;         // replicas this node holds; more are refused
  std::size_t max_opens_per_client = 64;      // checkpoints one component has open at once
  std::uint64_t max_read_bytes = 8ull << 20;  // one read's answer, at most
};

// What a component asks when it opens a checkpoint (SAF's saCkptCheckpointOpen).
struct OpenRequest {
  CheckpointName name;
  // Create it with these attributes if this node holds no replica of it yet; one that exists
  // must have the same attributes. nullopt: open an existing one only.
  std::optional<Attributes> create;
  bool write = false;  // SA_CKPT_CHECKPOINT_WRITE
};

struct SectionInfo {
  SectionId id;
  std::uint64_t size = 0;
  std::optional<Duration> expires_in;  // lifetime left (on the active replica: exact)
};

// ---- effects (besides the replicas' Send) ----
// The answer to write(request) of `client`.
struct Answer {
  ClientId client = 0;
  std::uint64_t request = 0;
  Result<void> result;
};
// Something an operator should see in the log: a replica came into service, was superseded, a
// peer sent what it may not, a message for a checkpoint this node does not hold was dropped.
struct Report {
  CheckpointName checkpoint;
  std::string text;
  bool error = false;  // a protocol error or a refusal, not a state change
  // A recovery that ended (Recovered): the nodes whose replicas did not answer in time, which
  // may hold newer writes (the simulator judges a new active's read by them).
  std::vector<NodeId> silent = {};
};
// A record for the store (ServiceSettings::replica.durable): stored() answers it.
struct Store {
  CheckpointName checkpoint;
  Persist record;
};
using ServiceEffect = std::variant<Send, Answer, Report, Store>;

// One checkpoint as this node holds it, for `amfctl ckpt`.
struct CheckpointStatus {
  CheckpointName name;
  Attributes attributes;
  bool active = false;
  NodeId active_node;
  std::uint64_t generation = 0;
  Position position;
  bool in_service = false;
  std::size_t sections = 0;
  std::uint64_t bytes = 0;
  std::size_t opened_here = 0;  // components of this node that have it open
  struct Peer {
    NodeId node;
    Position acked;
    bool in_service = false;
  };
  std::vector<Peer> peers;  // the active replica's peers (empty elsewhere)
  // Active, and still asking the other replicas for newer content before it takes writes
  // (amf/checkpoint/README.md, "Stored replicas and recovery").
  bool recovering = false;
};

// The views to hand Service::members(), in order, when the lives up (node -> incarnation, this
// node's included) change from `before` to `now`: a node whose life changed within one view (it
// restarted and rejoined before its old life was taken out in a view of its own) is gone first,
// then back, since its replicas hold nothing of the old life's and are synced again.
std::vector<std::set<NodeId>> member_views(const std::map<NodeId, std::uint64_t>& before,
                                           const std::map<NodeId, std::uint64_t>& now);

class Service {
 public:
  Service(NodeId self, ServiceSettings settings = {});

  // A replica a store kept (at the start of a life): its content at `at`, not in service. It
  // follows the active replica that speaks to it, and recovers if a local writer activates it.
  Result<void> restore(const CheckpointName& name, Sections content, Position at);
  // The store holds the checkpoint's records up to `record`.
  void stored(const CheckpointName& name, std::uint64_t record, TimePoint now);
  // Its replica here is active and asks the others where they stand: reads would see content
  // that may be replaced (the host holds them back until it is over).
  bool recovering(const CheckpointName& name) const;

  // `replicas`: the nodes that hold the checkpoint (those hosting the component's SG's SUs;
  // this node among them). `generation` as for write(): a component with an active assignment
  // that opens it for writing makes this node's replica the active one. The error says why it
  // cannot be opened.
  Result<void> open(ClientId client, const OpenRequest& request, const std::set<NodeId>& replicas,
                    std::optional<std::uint64_t> generation, TimePoint now);
  Result<void> close(ClientId client, const CheckpointName& name);
  // The component's connection is gone (it exited, or closed its handle): it closes everything.
  void client_gone(ClientId client);

  // A write of `client`, whose newest active (or quiescing) assignment came with director
  // command `generation` (nullopt: it holds none, and may not write). Answer{client, request}
  // follows: at once when refused, else as the replica's update mode says. The first write
  // after a failover makes this node's replica the active one, in that generation.
  void write(ClientId client, std::uint64_t request, const CheckpointName& name, Operation op,
             std::optional<std::uint64_t> generation, TimePoint now);
  Result<std::string> read(ClientId client, const CheckpointName& name, const SectionId& section,
                           std::uint64_t offset, std::uint64_t size) const;
  Result<std::vector<SectionInfo>> sections(ClientId client, const CheckpointName& name,
                                            TimePoint now) const;

  // A replica's message from another node (the host checked that `from` is that node).
  void receive(const Message& message, TimePoint now);
  // The nodes up (the membership's view, this one included): an active replica sends to the
  // ones among its checkpoint's replicas, and stops waiting for the others.
  void members(const std::set<NodeId>& up, TimePoint now);
  // This node's life is over (fenced, taken out): every replica's claims are void; the replicas
  // are dropped and come back by cold sync.
  void life_ended();

  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;
  std::vector<ServiceEffect> take_effects();

  std::vector<CheckpointStatus> status() const;
  // Every section of this node's replica, for an operator (no component needs it open).
  Result<std::vector<SectionInfo>> section_list(const CheckpointName& name, TimePoint now) const;
  const Replica* replica(const CheckpointName& name) const;

 private:
  struct Held {
    Replica replica;
    std::set<NodeId> placement;      // the nodes holding it, as a local opener said
    std::map<ClientId, bool> opens;  // local components that have it open: for writing?
  };
  Result<const Held*> opened(ClientId client, const CheckpointName& name) const;
  std::set<NodeId> peers_of(const Held& held) const;
  // Makes the replica the active one in `generation` (newer than its own), and reports it.
  Result<void> activate(Held& held, std::uint64_t generation, TimePoint now);
  void collect(Held& held);
  void report(const CheckpointName& name, std::string text, bool error,
              std::vector<NodeId> silent = {});

  NodeId self_;
  ServiceSettings settings_;
  std::map<CheckpointName, Held> held_;
  std::map<ClientId, std::set<CheckpointName>> opened_by_;
  std::set<NodeId> up_;
  bool members_known_ = false;  // until members() is called, every placement node counts as up
  std::uint64_t next_token_ = 1;
  struct Waiting {
    ClientId client = 0;
    std::uint64_t request = 0;
  };
  std::map<std::uint64_t, Waiting> waiting_;  // by the replica's write token
  std::vector<ServiceEffect> effects_;
};

}  // namespace amf::checkpoint
