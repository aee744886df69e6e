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

namespace amf::test {

// The director and every node director of a cluster wired together in memory, with pretend
// processes and components that register and answer at once unless told otherwise. This is
// the routing amfd does, minus the I/O; the simulator of issue #4 grows out of it.
class LocalCluster {
 public:
  explicit LocalCluster(std::shared_ptr<const model::ClusterConfig> config)
      : director_(std::move(*director::Director::create(config))) {
    for (const auto& node : config->nodes) {
      nodes_.emplace(node.id, node::NodeDirector(config, node.id));
    }
  }

  // Bring every node up and run until nothing is left to do.
  void start() {
    for (auto& [id, nd] : nodes_) director_.handle(director::NodeUp{id}, now_);
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
    for (auto& [id, nd] : nodes_) nd.tick(now_);
    director_.tick(now_);
    run();
  }

  // Deliver an event to the node director hosting `comp` and run.
  void to_node(const NodeId& node, node::Event e) { queue_.push_back({node, std::move(e)}); }

  void run() {
    for (int guard = 0; guard < 100000; ++guard) {
      bool drained = drain_director();
      for (auto& [id, nd] : nodes_) drained |= drain_node(id, nd);
      if (drained) continue;
      if (queue_.empty()) return;
      auto [node, event] = std::move(queue_.front());
      queue_.pop_front();
      nodes_.at(node).handle(event, now_);
    }
    AMF_ASSERT(!"LocalCluster::run did not settle within 100000 steps");
  }

  // Runs an admin operation to its end; the director's answer, if it gave one.
  std::optional<director::AdminResult> admin(director::AdminOp op, const std::string& kind,
                                             const std::string& entity) {
    const std::uint64_t id = next_admin_id_++;
    director_.handle(director::AdminRequest{id, op, kind, entity}, now_);
    run();
    for (const auto& r : results_) {
      if (r.id == id) return r;
    }
    return std::nullopt;
  }

  const std::vector<director::AdminResult>& results() const { return results_; }
  int healthchecks() const { return healthchecks_; }
  director::Director& director() { return director_; }
  node::NodeDirector& node(const std::string& name) { return nodes_.at(NodeId(name)); }
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
  NodeId node_of(const CompId& comp) {
    for (auto& [id, nd] : nodes_) {
      for (const auto& view : nd.components()) {
        if (view.id == comp) return id;
      }
    }
    return NodeId();
  }

  bool drain_director() {
    auto effects = director_.take_effects();
    for (auto& effect : effects) {
      if (auto* cmd = std::get_if<director::ToNode>(&effect)) {
        queue_.push_back({cmd->node, node::to_event(cmd->command)});
      } else if (auto* result = std::get_if<director::AdminResult>(&effect)) {
        results_.push_back(*result);
      } else {
        notes_.push_back(std::get<model::Notification>(effect));
      }
    }
    return !effects.empty();
  }

  bool drain_node(const NodeId& id, node::NodeDirector& nd) {
    auto effects = nd.take_effects();
    for (auto& effect : effects) {
      std::visit([&](auto& e) { on_effect(id, e); }, effect);
    }
    return !effects.empty();
  }

  void on_effect(const NodeId& id, const node::StartProcess& e) {
    ++starts_[e.comp];
    alive_[e.comp] = true;
    queue_.push_back({id, node::ProcessStarted{e.comp}});
    if (auto_register) {
      const node::PeerId p = next_peer_++;
      peers_[p] = e.comp;
      queue_.push_back({id, node::ComponentRegister{p, e.comp.str()}});
    }
  }
  void on_effect(const NodeId& id, const node::SignalProcess& e) {
    if (!alive_[e.comp] || unkillable.count(e.comp)) return;
    alive_[e.comp] = false;
    queue_.push_back(
        {id, node::ProcessExited{e.comp, e.signal == node::Signal::kKill ? "killed by signal 9"
                                                                         : "exited with code 0"}});
  }
  void on_effect(const NodeId&, const node::SendRegisterReply&) {}
  void on_effect(const NodeId& id, const node::SendCsiSet& e) {
    csi_sets_.push_back(e);
    if (auto_respond) queue_.push_back({id, node::ComponentResponse{e.peer, e.invocation, true}});
  }
  void on_effect(const NodeId& id, const node::SendCsiRemove& e) {
    if (auto_respond) queue_.push_back({id, node::ComponentResponse{e.peer, e.invocation, true}});
  }
  void on_effect(const NodeId& id, const node::SendHealthcheck& e) {
    ++healthchecks_;
    if (auto_respond) queue_.push_back({id, node::ComponentResponse{e.peer, e.invocation, true}});
  }
  void on_effect(const NodeId& id, const node::RunHook& e) {
    hooks_.push_back(e);
    if (auto_respond) queue_.push_back({id, node::HookDone{e.comp, e.invocation, true, "exit 0"}});
  }
  void on_effect(const NodeId& id, const node::RunProbe& e) {
    ++probes_;
    if (auto_respond) {
      queue_.push_back({id, node::ProbeDone{e.comp, e.invocation, probes_ok, "simulated"}});
    }
  }
  void on_effect(const NodeId&, const node::ToDirector& e) {
    std::visit([&](const auto& m) { director_.handle(m, now_); }, e.message);
  }
  void on_effect(const NodeId&, const model::Notification& n) { notes_.push_back(n); }

  TimePoint now_{};
  director::Director director_;
  std::map<NodeId, node::NodeDirector> nodes_;
  std::deque<std::pair<NodeId, node::Event>> queue_;
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
};

}  // namespace amf::test
