#include "amf/checkpoint/service.h"

#include <algorithm>

#include "amf/core/overloaded.h"

namespace amf::checkpoint {

namespace {

std::string quoted(const CheckpointName& name) { return "checkpoint '" + name.str() + "'"; }

std::string describe(const Attributes& a) {
  return std::string(to_string(a.mode)) + ", " + std::to_string(a.max_sections) +
         " sections of at most " + std::to_string(a.max_section_size) + " bytes, retention " +
         ms_text(std::chrono::duration_cast<std::chrono::milliseconds>(a.retention));
}

}  // namespace

Service::Service(NodeId self, ServiceSettings settings)
    : self_(std::move(self)), settings_(settings) {}

std::vector<std::set<NodeId>> member_views(const std::map<NodeId, std::uint64_t>& before,
                                           const std::map<NodeId, std::uint64_t>& now) {
  std::set<NodeId> up;
  std::set<NodeId> renewed;
  for (const auto& [node, life] : now) {
    auto was = before.find(node);
    if (was != before.end() && was->second != life) {
      renewed.insert(node);
    } else {
      up.insert(node);
    }
  }
  std::vector<std::set<NodeId>> views;
  if (!renewed.empty()) views.push_back(up);
  up.insert(renewed.begin(), renewed.end());
  views.push_back(std::move(up));
  return views;
}

Result<void> Service::restore(const CheckpointName& name, Sections content, Position at) {
  if (auto ok = check_name(name); !ok) return ok;
  if (auto ok = check(content.attributes()); !ok) {
    return tl::unexpected(ok.error().with_context(quoted(name)));
  }
  if (held_.contains(name)) return fail(quoted(name) + " is held already");
  if (held_.size() >= settings_.max_checkpoints) {
    return fail("node " + self_.str() + " holds " + std::to_string(held_.size()) +
                " checkpoints, its maximum");
  }
  held_.emplace(name,
                Held{Replica(name, std::move(content), at, self_, settings_.replica), {}, {}});
  return {};
}

void Service::stored(const CheckpointName& name, std::uint64_t record, TimePoint now) {
  auto it = held_.find(name);
  if (it == held_.end()) return;
  it->second.replica.stored(record, now);
  collect(it->second);
}

bool Service::recovering(const CheckpointName& name) const {
  auto it = held_.find(name);
  return it != held_.end() && it->second.replica.recovering();
}

Result<void> Service::open(ClientId client, const OpenRequest& request,
                           const std::set<NodeId>& replicas,
                           std::optional<std::uint64_t> generation, TimePoint now) {
  if (auto ok = check_name(request.name); !ok) return ok;
  if (request.create) {
    if (auto ok = check(*request.create); !ok) {
      return tl::unexpected(ok.error().with_context(quoted(request.name)));
    }
  }
  auto& mine = opened_by_[client];
  if (!mine.contains(request.name) && mine.size() >= settings_.max_opens_per_client) {
    return fail("this component has " + std::to_string(mine.size()) +
                " checkpoints open, its maximum");
  }
  auto it = held_.find(request.name);
  if (it == held_.end()) {
    if (!request.create) {
      return fail(quoted(request.name) + " does not exist on node " + self_.str() +
                  " (open it with attributes to create it)");
    }
    if (held_.size() >= settings_.max_checkpoints) {
      return fail("node " + self_.str() + " holds " + std::to_string(held_.size()) +
                  " checkpoints, its maximum");
    }
    it =
        held_
            .emplace(request.name,
                     Held{Replica(request.name, *request.create, self_, settings_.replica), {}, {}})
            .first;
  } else if (request.create && *request.create != it->second.replica.content().attributes()) {
    return fail(quoted(request.name) + " exists with other attributes (" +
                describe(it->second.replica.content().attributes()) +
                "; asked: " + describe(*request.create) + ")");
  }
  Held& held = it->second;
  held.placement.insert(replicas.begin(), replicas.end());
  held.opens[client] = held.opens[client] || request.write;
  mine.insert(request.name);
  // An active component that opens it for writing makes this node's replica the active one at
  // once, not at its first write: the other replicas are synced from here even while it does
  // not write (a standby that comes back after a failover, say).
  if (request.write && generation && *generation > held.replica.generation()) {
    auto ok = activate(held, *generation, now);
    collect(held);
    if (!ok) return ok;
  }
  return {};
}

Result<void> Service::close(ClientId client, const CheckpointName& name) {
  auto it = held_.find(name);
  if (it == held_.end() || !it->second.opens.erase(client)) {
    return fail(quoted(name) + " is not open by this component");
  }
  opened_by_[client].erase(name);
  return {};
}

void Service::client_gone(ClientId client) {
  auto it = opened_by_.find(client);
  if (it != opened_by_.end()) {
    for (const CheckpointName& name : it->second) {
      if (auto h = held_.find(name); h != held_.end()) h->second.opens.erase(client);
    }
    opened_by_.erase(it);
  }
  std::erase_if(waiting_, [&](const auto& w) { return w.second.client == client; });
}

Result<const Service::Held*> Service::opened(ClientId client, const CheckpointName& name) const {
  auto it = held_.find(name);
  if (it == held_.end() || !it->second.opens.contains(client)) {
    return fail(quoted(name) + " is not open by this component");
  }
  return &it->second;
}

std::set<NodeId> Service::peers_of(const Held& held) const {
  std::set<NodeId> peers;
  for (const NodeId& node : held.placement) {
    if (node != self_ && (!members_known_ || up_.contains(node))) peers.insert(node);
  }
  return peers;
}

void Service::write(ClientId client, std::uint64_t request, const CheckpointName& name,
                    Operation op, std::optional<std::uint64_t> generation, TimePoint now) {
  auto refuse = [&](std::string why) {
    effects_.push_back(Answer{client, request, fail(std::move(why))});
  };
  auto found = opened(client, name);
  if (!found) return refuse(found.error().message());
  if (!(*found)->opens.at(client)) return refuse(quoted(name) + " is open for reading only");
  if (!generation) {
    return refuse(quoted(name) + ": only a component with an active assignment writes (this " +
                  "one holds none)");
  }
  Held& held = held_.at(name);
  Replica& replica = held.replica;
  if (*generation > replica.generation()) {
    if (auto ok = activate(held, *generation, now); !ok) return refuse(ok.error().message());
  } else if (!replica.active()) {
    return refuse(quoted(name) + ": its active replica is on node " + replica.active_node().str() +
                  ", in generation " + std::to_string(replica.generation()) +
                  ", newer than this component's assignment (" + std::to_string(*generation) + ")");
  }
  const std::uint64_t token = next_token_++;
  waiting_[token] = Waiting{client, request};
  replica.write(token, std::move(op), now);
  collect(held);
}

Result<void> Service::activate(Held& held, std::uint64_t generation, TimePoint now) {
  Replica& replica = held.replica;
  const CheckpointName& name = replica.name();
  const bool was_active = replica.active();
  // A replica that never heard of an active one and holds nothing has nothing to miss.
  const bool was_in_service =
      replica.in_service() || (replica.generation() == 0 && replica.position() == Position{});
  const NodeId earlier = replica.active_node();
  // With stores, one that recovers asks every replica, those on nodes not up too: after a
  // restart of the whole cluster the newest content may be on a node that is not up yet, and it
  // waits for it (recovery_wait) as for one that does not answer. (In memory, a node that is
  // down holds nothing any more.)
  std::set<NodeId> peers = peers_of(held);
  if (settings_.replica.durable && !was_active && !replica.in_service()) {
    for (const NodeId& node : held.placement) {
      if (node != self_) peers.insert(node);
    }
  }
  if (auto ok = replica.activate(generation, peers, now); !ok) return ok;
  if (was_active) return {};
  report(name, "the active replica from now on, in generation " + std::to_string(generation),
         false);
  if (!was_in_service) {
    report(name,
           "this replica was not in service when it became active (the earlier active replica " +
               (earlier.empty() ? std::string("is unknown") : "was on " + earlier.str()) +
               "): it takes the newest content among the replicas that answer" +
               (replica.recovering() ? "" : ", and none is up"),
           !replica.recovering());
  }
  return {};
}

Result<std::string> Service::read(ClientId client, const CheckpointName& name,
                                  const SectionId& section, std::uint64_t offset,
                                  std::uint64_t size) const {
  auto found = opened(client, name);
  if (!found) return tl::unexpected(found.error());
  auto data =
      (*found)->replica.content().read(section, offset, std::min(size, settings_.max_read_bytes));
  if (!data) return tl::unexpected(data.error().with_context(quoted(name)));
  return data;
}

Result<std::vector<SectionInfo>> Service::sections(ClientId client, const CheckpointName& name,
                                                   TimePoint now) const {
  if (auto found = opened(client, name); !found) return tl::unexpected(found.error());
  return section_list(name, now);
}

Result<std::vector<SectionInfo>> Service::section_list(const CheckpointName& name,
                                                       TimePoint now) const {
  auto it = held_.find(name);
  if (it == held_.end()) return fail("node " + self_.str() + " holds no " + quoted(name));
  std::vector<SectionInfo> out;
  for (const auto& [id, section] : it->second.replica.content().all()) {
    std::optional<Duration> left;
    if (section.expires_at) left = std::max(*section.expires_at - now, Duration::zero());
    out.push_back(SectionInfo{id, section.data.size(), left});
  }
  return out;
}

void Service::receive(const Message& message, TimePoint now) {
  const Header& head = header(message);
  auto it = held_.find(head.checkpoint);
  if (it == held_.end()) {
    // Only a message that carries the attributes can start a replica here; the active replica
    // probes again, so a lost one costs a retry.
    const Attributes* attributes = nullptr;
    if (const auto* p = std::get_if<Probe>(&message)) attributes = &p->attributes;
    if (const auto* s = std::get_if<Snapshot>(&message)) attributes = &s->attributes;
    if (!attributes) return;
    if (held_.size() >= settings_.max_checkpoints) {
      report(head.checkpoint,
             "no replica started for the active one on " + head.from.str() + ": this node holds " +
                 std::to_string(held_.size()) + " checkpoints, its maximum",
             true);
      return;
    }
    it = held_
             .emplace(head.checkpoint,
                      Held{Replica(head.checkpoint, *attributes, self_, settings_.replica), {}, {}})
             .first;
  }
  it->second.replica.receive(message, now);
  collect(it->second);
}

void Service::members(const std::set<NodeId>& up, TimePoint now) {
  up_ = up;
  members_known_ = true;
  for (auto& [name, held] : held_) {
    // (With stores, a recovering one waits for the replicas that are down as well,
    // recovery_wait at most: their nodes may come back with newer content.)
    if (!held.replica.active() || (settings_.replica.durable && held.replica.recovering())) {
      continue;
    }
    for (const NodeId& node : held.placement) {
      if (node == self_) continue;
      if (up_.contains(node)) {
        held.replica.add_peer(node, now);
      } else if (held.replica.peers().contains(node)) {
        held.replica.remove_peer(node, now);
        report(name, "no longer waits for the replica on " + node.str() + ": its node is gone",
               false);
      }
    }
    collect(held);
  }
}

void Service::life_ended() {
  for (const auto& [token, w] : waiting_) {
    effects_.push_back(Answer{w.client, w.request,
                              fail("this node's life ended (it fenced itself) before the write "
                                   "was done; it may or may not have reached the replicas")});
  }
  waiting_.clear();
  held_.clear();
  opened_by_.clear();
}

void Service::tick(TimePoint now) {
  for (auto& [name, held] : held_) {
    held.replica.tick(now);
    collect(held);
  }
}

std::optional<TimePoint> Service::next_deadline() const {
  std::optional<TimePoint> next;
  for (const auto& [name, held] : held_) {
    if (auto t = held.replica.next_deadline(); t && (!next || *t < *next)) next = t;
  }
  return next;
}

// Every call that touches a replica collects its effects (its batched acknowledgement too)
// before it returns, so nothing waits in the replicas here.
std::vector<ServiceEffect> Service::take_effects() { return std::exchange(effects_, {}); }

void Service::collect(Held& held) {
  const CheckpointName& name = held.replica.name();
  for (Effect& effect : held.replica.take_effects()) {
    std::visit(
        Overloaded{
            [&](Send& e) { effects_.push_back(std::move(e)); },
            [&](WriteDone& e) {
              auto it = waiting_.find(e.token);
              if (it == waiting_.end()) return;  // its component is gone
              effects_.push_back(
                  Answer{it->second.client, it->second.request, std::move(e.result)});
              waiting_.erase(it);
            },
            [&](ReplicaInService& e) {
              report(name,
                     "the replica on " + e.node.str() + " is in service at " + to_string(e.at),
                     false);
            },
            [&](Synced& e) {
              report(name, "this node's replica is in service at " + to_string(e.at), false);
            },
            [&](Superseded& e) {
              report(name,
                     "superseded by the active replica on " + e.by.str() + " in generation " +
                         std::to_string(e.generation),
                     false);
            },
            [&](ProtocolError& e) {
              report(name, "dropped what " + e.from.str() + " sent: " + e.what, true);
            },
            [&](Persist& e) {
              effects_.push_back(Store{name, std::move(e)});
            },
            [&](Recovered& e) {
              std::string text =
                  "recovered at " + to_string(e.at) +
                  (e.from.empty() ? std::string(", with its own content, the newest")
                                  : ", with the content of the replica on " + e.from.str());
              std::string silent;
              for (const NodeId& node : e.silent) {
                silent += (silent.empty() ? "" : ", ") + node.str();
              }
              if (!silent.empty()) {
                text += "; the replicas on " + silent + " did not answer and may hold newer writes";
              }
              report(name, std::move(text), !silent.empty(), std::move(e.silent));
            },
        },
        effect);
  }
}

void Service::report(const CheckpointName& name, std::string text, bool error,
                     std::vector<NodeId> silent) {
  effects_.push_back(Report{name, std::move(text), error, std::move(silent)});
}

std::vector<CheckpointStatus> Service::status() const {
  std::vector<CheckpointStatus> out;
  for (const auto& [name, held] : held_) {
    const Replica& r = held.replica;
    CheckpointStatus s{name,
                       r.content().attributes(),
                       r.active(),
                       r.active_node(),
                       r.generation(),
                       r.position(),
                       r.in_service(),
                       r.content().all().size(),
                       r.content().bytes(),
                       held.opens.size(),
                       {}};
    for (const auto& [node, peer] : r.peers())
      s.peers.push_back({node, peer.acked, peer.in_service});
    s.recovering = r.recovering();
    out.push_back(std::move(s));
  }
  return out;
}

const Replica* Service::replica(const CheckpointName& name) const {
  auto it = held_.find(name);
  return it == held_.end() ? nullptr : &it->second.replica;
}

}  // namespace amf::checkpoint
