// Options::membership: each node's cluster core (runtime::ClusterNode, the one amfd hosts)
// over the simulated network, and a model of etcd's store. The cores decide when a node is
// declared gone (the director's NodeDown), when a node fences itself (its life ends: every
// process on it is killed, and it boots again as its next life, as amfd exits and systemd
// starts it again), and who directs in which epoch (the seat runs on the node that took over).
#include "amf/core/assert.h"
#include "amf/runtime/cluster_store.h"
#include "sim/duration.h"
#include "sim/format.h"
#include "sim/simulation.h"

namespace amf::sim {

namespace {

// One way through the simulated network, for a datagram; etcd answers a request in one to
// three milliseconds (a swap in a three-member cluster with fsync on this machine: 2-4 ms), and
// a request from a node cut off fails after amfd's store answer timeout (its connection to
// etcd is kept alive, so a cut shows as an answer that never comes).
constexpr LatencyRange kDatagram{std::chrono::microseconds(50), std::chrono::microseconds(300)};
constexpr LatencyRange kEtcdWay{std::chrono::microseconds(500), std::chrono::microseconds(1500)};

}  // namespace

NodeId Simulation::where(const NodeId& end) const {
  if (options_.membership && seat_ && end == seat_->self() && director_node_) {
    return *director_node_;
  }
  return end;
}

void Simulation::join_membership(const NodeId& node) {
  if (!options_.membership) return;
  auto profile = membership::profile_named(config_->membership_profile);
  AMF_ASSERT(profile.has_value());  // the loader checked it
  runtime::ClusterNodeSettings s;
  s.self = {node, incarnation_[node]};
  for (const auto& n : config_->nodes) s.nodes.push_back(n.id);
  for (const NodeId& v : config_->voters()) s.voters.insert(v);
  s.candidate = s.voters.contains(node) && !config_->find_node(node)->witness;
  s.profile = *profile;
  s.cluster = config_->name;
  members_[node] = std::make_unique<runtime::ClusterNode>(s, local_time(node));
  carry_out_membership(node);
}

std::optional<TimePoint> Simulation::membership_deadline() const {
  std::optional<TimePoint> next;
  for (const auto& [node, m] : members_) {
    if (auto d = m->next_deadline()) {
      const TimePoint at = global_time(node, *d);
      if (!next || at < *next) next = at;
    }
  }
  return next;
}

void Simulation::tick_membership() {
  std::vector<NodeId> due;
  for (const auto& [node, m] : members_) {
    if (auto d = m->next_deadline(); d && global_time(node, *d) <= now_) due.push_back(node);
  }
  for (const NodeId& node : due) {
    auto it = members_.find(node);
    if (it == members_.end()) continue;  // an earlier one's effects ended this life
    it->second->tick(local_time(node));
    carry_out_membership(node);
  }
}

void Simulation::carry_out_membership(const NodeId& node) {
  for (;;) {
    auto it = members_.find(node);
    if (it == members_.end()) return;
    auto effects = it->second->take_effects();
    if (effects.empty()) return;
    const std::uint64_t life = incarnation_[node];
    for (runtime::ClusterEffect& effect : effects) {
      if (!members_.count(node)) return;  // its life ended: nothing more of it is acted on
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, membership::Send>) {
              ++stats_.datagrams;
              if (cut_between(node, e.to)) return;
              if (faults_on_ && faults_.net.loss > 0 && chance() < faults_.net.loss) return;
              schedule(draw(kDatagram), Datagram{node, e.to, std::move(e.message)});
            } else if constexpr (std::is_same_v<T, runtime::store::Get> ||
                                 std::is_same_v<T, runtime::store::Put>) {
              // A node whose messages are cut cannot reach etcd: the client times out.
              if (auto cut = cuts_.find(node); cut != cuts_.end() && cut->second.to_director) {
                schedule(runtime::store_answer_timeout(it->second->membership().member().profile()),
                         StoreReply{node, life, e.id, runtime::store::Failed{"timed out"}});
                return;
              }
              schedule(draw(kEtcdWay), StoreAsk{node, life, e});
            } else if constexpr (std::is_same_v<T, runtime::TakeOver>) {
              take_office(node, e);
            } else if constexpr (std::is_same_v<T, runtime::GiveUp>) {
              line(header() + "election: " + node.str() +
                   " gives up the director's role: " + e.cause);
              if (director_up_ && director_node_ == node) lose_director("gives up its role");
            } else if constexpr (std::is_same_v<T, runtime::ToDirector>) {
              if (!director_up_ || director_node_ != node) return;
              line(header() + "membership: " + runtime::describe(runtime::ClusterEffect(e)));
              to_the_director(e.event);
            } else if constexpr (std::is_same_v<T, runtime::EndLife>) {
              end_life(node, e.cause);
            } else if constexpr (std::is_same_v<T, runtime::Report>) {
              line(header() + node.str() + ": " + e.entity + ": " + e.cause);
            } else if (e.level != runtime::Log::Level::kDebug) {
              line(header() + node.str() + ": " + e.text);
            }
          },
          effect);
    }
  }
}

void Simulation::take_office(const NodeId& node, const runtime::TakeOver& t) {
  if (director_up_) {
    // A deposed director that has not noticed yet (its next read of the record, or its node
    // following the newer epoch, would tell it): one seat at a time here, so it stops now.
    // Optimistic by those few milliseconds; nodes that follow the newer epoch reject its
    // commands in amfd either way.
    ++stats_.deposed;
    lose_director("is deposed by " + node.str() + ", which took over in epoch " +
                  std::to_string(t.epoch));
  }
  auto director = director::Director::create(config_);
  AMF_ASSERT(director.has_value());  // create() checked the configuration
  if (t.epoch <= director_epoch_ && director_life_ > 0) {
    violate("safety", "node " + node.str() + " took over in epoch " + std::to_string(t.epoch) +
                          ", not newer than epoch " + std::to_string(director_epoch_));
    return;
  }
  director_epoch_ = t.epoch;
  ++director_life_;
  director_node_ = node;
  std::string names;
  for (const auto& up : t.up) names += " " + up.node.str() + "#" + std::to_string(up.incarnation);
  line(header() + "election: " + node.str() + " takes over as the director of epoch " +
       std::to_string(t.epoch) + "; asks for the snapshots of" + names);
  seat_ = std::make_unique<runtime::NodeRuntime>(runtime::NodeRuntime::director_seat(
      config_, NodeId("director"), std::move(*director), seat_host_,
      static_cast<runtime::Transport&>(*this), [this] { return now_; },
      runtime::Options{.incarnation = director_life_, .epoch = director_epoch_}));
  director_up_ = true;
  took_over_ = false;
  disturbed();
  touched_all_ = true;
  seat_->take_over(t.up, t.admin);
}

void Simulation::end_life(const NodeId& node, const std::string& cause) {
  ++stats_.fences;
  line(header() + "membership: " + node.str() + " life " + std::to_string(incarnation_[node]) +
       " ends: " + cause);
  if (!crash_node(node, false)) return;
  schedule(draw(options_.latencies.node_boot), NodeBoots{node, incarnation_[node]});
}

bool Simulation::membership_settled() const {
  if (!options_.membership) return true;
  if (!director_up_ || !took_over_ || !director_node_) return nodes_.empty();
  auto d = members_.find(*director_node_);
  if (d == members_.end() || !d->second->leads()) return false;
  // The director has exactly the lives that are up (every NodeUp and NodeDown told).
  if (d->second->told().size() != members_.size()) return false;
  for (const auto& [node, m] : members_) {
    if (!m->accepts_commands()) return false;
    const auto& known = m->director();
    if (!known || known->director != *director_node_ || known->epoch != director_epoch_) {
      return false;
    }
    if (!d->second->told().contains({node, incarnation_.at(node)})) return false;
  }
  return true;
}

void Simulation::on(const Datagram& e) {
  auto to = cuts_.find(e.to);
  if (to != cuts_.end() && to->second.from_director) return;
  auto it = members_.find(e.to);
  if (it == members_.end()) return;  // the node is down
  it->second->receive(e.message, local_time(e.to));
  carry_out_membership(e.to);
}

void Simulation::on(const StoreAsk& e) {
  runtime::store::Answer answer;
  if (const auto* get = std::get_if<runtime::store::Get>(&e.request)) {
    auto it = etcd_.find(get->key);
    answer =
        it == etcd_.end()
            ? runtime::store::Got{}
            : runtime::store::Got{runtime::store::Value{it->second.value, it->second.mod_revision}};
    return reply(e, get->id, std::move(answer));
  }
  const auto& put = std::get<runtime::store::Put>(e.request);
  auto it = etcd_.find(put.key);
  const std::int64_t now = it == etcd_.end() ? 0 : it->second.mod_revision;
  if (now != put.expected) {
    runtime::store::Swapped no{false, etcd_revision_, std::nullopt};
    if (it != etcd_.end()) no.current = runtime::store::Value{it->second.value, now};
    answer = no;
  } else {
    etcd_[put.key] = EtcdKey{put.value, ++etcd_revision_};
    answer = runtime::store::Swapped{true, etcd_revision_, std::nullopt};
  }
  reply(e, put.id, std::move(answer));
}

// etcd answers; an answer to a node that cannot hear now is lost, and the client times out.
// A write stands all the same: the core must take a timeout on a write that landed.
void Simulation::reply(const StoreAsk& e, std::uint64_t id, runtime::store::Answer answer) {
  if (auto cut = cuts_.find(e.node); cut != cuts_.end() && cut->second.from_director) {
    const auto profile = membership::profile_named(config_->membership_profile);
    schedule(runtime::store_answer_timeout(*profile) - draw(kEtcdWay),
             StoreReply{e.node, e.life, id, runtime::store::Failed{"timed out"}});
    return;
  }
  schedule(draw(kEtcdWay), StoreReply{e.node, e.life, id, std::move(answer)});
}

void Simulation::on(const StoreReply& e) {
  auto it = members_.find(e.node);
  if (it == members_.end() || incarnation_[e.node] != e.life) return;  // that life is over
  it->second->answer(e.id, e.answer, local_time(e.node));
  carry_out_membership(e.node);
}

}  // namespace amf::sim
