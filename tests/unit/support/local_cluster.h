#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "amf/core/assert.h"
#include "amf/director/director.h"
#include "amf/node/node_director.h"
#include "amf/runtime/node_runtime.h"

namespace amf::test {

// A cluster in memory: one node runtime per node (amf/runtime, the routing amfd uses), the
// first node holding the director, over an in-memory network that delivers in FIFO order,
// with pretend processes and components that register and answer at once unless told
// otherwise.
class LocalCluster : private runtime::Transport {
 public:
  explicit LocalCluster(std::shared_ptr<const model::ClusterConfig> config) {
    director_node_ = config->nodes.front().id;
    auto director = director::Director::create(config);
    for (const auto& node : config->nodes) {
      hosts_.emplace(node.id, std::make_unique<NodeHost>(*this, node.id));
      runtimes_.emplace(node.id, std::make_unique<runtime::NodeRuntime>(
                                     config, node.id,
                                     node.id == director_node_
                                         ? std::optional<director::Director>(std::move(*director))
                                         : std::nullopt,
                                     *hosts_.at(node.id), static_cast<runtime::Transport&>(*this),
                                     [this] { return now_; }));
    }
  }

  // Bring every node up and run until nothing is left to do.
  void start() {
    for (auto& [id, r] : runtimes_) to_the_director(director::NodeUp{id});
    run();
  }

  void kill(const CompId& comp, const std::string& status = "killed by signal 9") {
    if (!alive_[comp]) return;
    alive_[comp] = false;
    to_node(node_of(comp), node::ProcessExited{comp, status});
    run();
  }

  void advance(Duration d) {
    now_ += d;
    for (auto& [id, r] : runtimes_) r->tick();
    run();
  }

  // Queue an event for the node director of `node` (it is handed over by run()).
  void to_node(const NodeId& node, node::Event e) { runtimes_.at(node)->post(std::move(e)); }

  // An envelope from outside (a peer that got past the transport), to its addressee if it is
  // one of these nodes; then runs.
  void deliver(const protocol::Envelope& e) {
    auto it = runtimes_.find(e.to.node);
    if (it != runtimes_.end()) it->second->receive(e);
    run();
  }

  // Pumps every node and delivers what they send each other until nothing is left to do.
  void run() {
    for (int guard = 0; guard < 100000; ++guard) {
      bool busy = false;
      for (auto& [id, r] : runtimes_) busy |= r->pump();
      while (!network_.empty()) {
        protocol::Envelope e = std::move(network_.front());
        network_.pop_front();
        busy = true;
        // As a transport does, for a node it has no address of (a runtime follows whichever
        // sender's command carries the newest epoch, and answers it).
        auto to = runtimes_.find(e.to.node);
        if (to == runtimes_.end()) continue;
        to->second->receive(e);
      }
      if (!busy) return;
    }
    AMF_ASSERT(!"LocalCluster::run did not settle within 100000 rounds");
  }

  // Runs an admin operation to its end; the director's answer, if it gave one.
  std::optional<director::AdminResult> admin(director::AdminOp op, director::EntityKind kind,
                                             const std::string& entity) {
    const std::uint64_t id = next_admin_id_++;
    to_the_director(director::AdminRequest{id, op, kind, entity});
    run();
    for (const auto& r : results_) {
      if (r.id == id) return r;
    }
    return std::nullopt;
  }

  const std::vector<director::AdminResult>& results() const { return results_; }
  int healthchecks() const { return healthchecks_; }
  int terminate_callbacks() const { return terminate_callbacks_; }
  const std::vector<node::SendProtectionGroup>& protection_groups() const { return groups_; }
  // Every SetServiceAddress, with the node that carried it out, in order.
  const std::vector<std::pair<NodeId, node::SetServiceAddress>>& service_addresses() const {
    return addresses_;
  }
  // False once the director was deposed (its runtime heard a command of a newer epoch).
  bool has_director() const { return runtimes_.at(director_node_)->has_director(); }
  director::Director& director() {
    AMF_ASSERT(has_director());
    return runtimes_.at(director_node_)->director();
  }
  node::NodeDirector& node(const std::string& name) { return runtimes_.at(NodeId(name))->node(); }
  const std::vector<model::Notification>& notifications() const { return notes_; }
  int starts(const CompId& comp) { return starts_[comp]; }
  bool alive(const CompId& comp) { return alive_[comp]; }
  std::optional<node::PeerId> peer(const CompId& comp) {
    for (auto& [p, c] : peers_) {
      if (c == comp) return p;
    }
    return std::nullopt;
  }
  std::vector<node::SendCsiSet>& csi_sets() { return csi_sets_; }
  std::vector<node::RunHook>& hooks() { return hooks_; }

  bool auto_register = true;
  bool auto_respond = true;
  std::set<CompId> unkillable;  // processes that survive every signal

 private:
  // A node's adapters: pretend processes and components.
  struct NodeHost : runtime::Host {
    NodeHost(LocalCluster& c, NodeId id) : cluster(c), node(std::move(id)) {}
    void carry_out(const node::Effect& effect) override {
      std::visit([&](const auto& e) { cluster.on_effect(node, e); }, effect);
    }
    void admin_result(const director::AdminResult& r) override { cluster.results_.push_back(r); }
    void notify(const model::Notification& n) override { cluster.notes_.push_back(n); }
    LocalCluster& cluster;
    NodeId node;
  };

  // runtime::Transport: FIFO, delivered by run().
  void send(const protocol::Envelope& e) override { network_.push_back(e); }
  void to_the_director(const director::Event& e) { runtimes_.at(director_node_)->to_director(e); }

  NodeId node_of(const CompId& comp) {
    for (auto& [id, r] : runtimes_) {
      for (const auto& view : r->node().components()) {
        if (view.id == comp) return id;
      }
    }
    return NodeId();
  }

  void on_effect(const NodeId& id, const node::StartProcess& e) {
    ++starts_[e.comp];
    alive_[e.comp] = true;
    to_node(id, node::ProcessStarted{e.comp});
    if (auto_register) {
      const node::PeerId p = next_peer_++;
      peers_[p] = e.comp;
      to_node(id, node::ComponentRegister{p, e.comp.str()});
    }
  }
  void on_effect(const NodeId& id, const node::SignalProcess& e) {
    if (!alive_[e.comp] || unkillable.count(e.comp)) return;
    alive_[e.comp] = false;
    to_node(id,
            node::ProcessExited{e.comp, e.signal == node::Signal::kKill ? "killed by signal 9"
                                                                        : "exited with code 0"});
  }
  void on_effect(const NodeId&, const node::SendRegisterReply&) {}
  void on_effect(const NodeId& id, const node::SendCsiSet& e) {
    csi_sets_.push_back(e);
    if (auto_respond) to_node(id, node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on_effect(const NodeId& id, const node::SendCsiRemove& e) {
    if (auto_respond) to_node(id, node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on_effect(const NodeId&, const node::SendProtectionGroup& e) { groups_.push_back(e); }
  void on_effect(const NodeId& id, const node::SetServiceAddress& e) {
    addresses_.push_back({id, e});
  }
  // A component answers its terminate callback and exits, as for SIGTERM.
  void on_effect(const NodeId& id, const node::SendTerminate& e) {
    ++terminate_callbacks_;
    if (!auto_respond) return;
    to_node(id, node::ComponentResponse{e.peer, e.invocation, true});
    on_effect(id, node::SignalProcess{e.comp, node::Signal::kTerminate});
  }
  void on_effect(const NodeId& id, const node::SendHealthcheck& e) {
    ++healthchecks_;
    if (auto_respond) to_node(id, node::ComponentResponse{e.peer, e.invocation, true});
  }
  void on_effect(const NodeId& id, const node::RunHook& e) {
    hooks_.push_back(e);
    if (auto_respond) to_node(id, node::HookDone{e.comp, e.invocation, true, "exit 0"});
  }
  void on_effect(const NodeId& id, const node::RunProbe& e) {
    ++probes_;
    if (auto_respond) {
      to_node(id, node::ProbeDone{e.comp, e.invocation, probes_ok, "simulated"});
    }
  }
  void on_effect(const NodeId&, const node::ToDirector&) {
    AMF_ASSERT(!"the runtime routes reports");
  }
  void on_effect(const NodeId&, const model::Notification&) {
    AMF_ASSERT(!"the runtime hands notifications to notify()");
  }

  TimePoint now_{};
  NodeId director_node_;
  std::map<NodeId, std::unique_ptr<NodeHost>> hosts_;
  std::map<NodeId, std::unique_ptr<runtime::NodeRuntime>> runtimes_;
  std::deque<protocol::Envelope> network_;
  std::map<CompId, int> starts_;
  std::map<CompId, bool> alive_;
  std::map<node::PeerId, CompId> peers_;
  node::PeerId next_peer_ = 1;
  std::vector<model::Notification> notes_;
  std::vector<node::SendCsiSet> csi_sets_;
  std::vector<node::RunHook> hooks_;
  int probes_ = 0;

 public:
  bool probes_ok = true;  // what every probe answers

 private:
  std::vector<director::AdminResult> results_;
  std::uint64_t next_admin_id_ = 1;
  int healthchecks_ = 0;
  int terminate_callbacks_ = 0;
  std::vector<node::SendProtectionGroup> groups_;
  std::vector<std::pair<NodeId, node::SetServiceAddress>> addresses_;
};

}  // namespace amf::test
