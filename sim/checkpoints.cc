// Options::checkpoints: the checkpoint service (amf/checkpoint/service.h, the core amfd hosts)
// on every node that is up, its replicas' messages over the simulated network, and a writer in
// every component that becomes active for a checkpointed SI: the demo counter. It opens the
// SI's checkpoint as amfd's component library does (a synchronous one, placed on the nodes of
// the SG's SUs, in the generation of its active assignment), waits until its replica has
// recovered, reads the counter, and then increments it, one synchronous write at a time. What
// it reads is judged by check_checkpoint_read, each acknowledgement by check_checkpoint_ack.
#include <algorithm>
#include <charconv>

#include "amf/core/assert.h"
#include "amf/core/overloaded.h"
#include "sim/format.h"
#include "sim/simulation.h"

namespace amf::sim {

namespace {

// One way between two nodes (as a membership datagram): replicas talk over the cluster's
// links, which deliver in order and may lose messages while a node is cut off.
constexpr LatencyRange kCheckpointWay{std::chrono::microseconds(50),
                                      std::chrono::microseconds(300)};
const checkpoint::SectionId kCounter("counter");
// A record to a node's disk, fdatasync included.
constexpr LatencyRange kDiskWrite{std::chrono::microseconds(100), std::chrono::milliseconds(2)};

checkpoint::Attributes counter_attributes() {
  checkpoint::Attributes a;
  a.mode = checkpoint::UpdateMode::kSynchronous;
  a.max_sections = 1;
  a.max_section_size = 32;
  return a;
}

std::uint64_t counter_of(const checkpoint::Sections& content) {
  const checkpoint::Section* s = content.find(kCounter);
  if (s == nullptr) return 0;
  std::uint64_t value = 0;
  std::from_chars(s->data.data(), s->data.data() + s->data.size(), value);
  return value;
}

}  // namespace

void Simulation::init_checkpoints() {
  for (const model::SgConfig* sg : config_->service_groups()) {
    if (sg->redundancy == model::RedundancyModel::kNWayActive) continue;  // several writers
    std::set<NodeId> placement;
    for (const auto& su : sg->sus) placement.insert(su.node);
    for (const auto& si : sg->sis) {
      if (si.csis.empty()) continue;
      std::string name = si.id.str();
      std::replace(name.begin(), name.end(), '/', '.');
      const CsiId& csi = si.csis.front().id;
      checkpointed_[csi] = CheckpointedSi{si.id, csi, checkpoint::CheckpointName(name), placement};
      checkpointed_csis_.insert(csi);
    }
  }
}

checkpoint::Service* Simulation::checkpoint_service(const NodeId& node) {
  auto n = nodes_.find(node);
  if (n == nodes_.end() || !n->second->checkpoints) return nullptr;
  return &*n->second->checkpoints;
}

void Simulation::drive_checkpoints() {
  for (auto& [id, n] : nodes_) checkpoint_members(id, *n);
  if (machines_.belief_changes() != writers_seen_) {
    writers_seen_ = machines_.belief_changes();
    for (auto it = writers_.begin(); it != writers_.end();) {
      Writer& w = it->second;
      const auto p = machines_.process(w.pid);
      if (!p) {
        // Its connection closed: it closes what it had open.
        if (checkpoint::Service* s = checkpoint_service(w.node); s && life_up(w.node, w.life)) {
          s->client_gone(w.peer);
          carry_out_checkpoints(w.node);
        }
        it = writers_.erase(it);
      } else if (auto b = p->beliefs.find(w.si->csi);
                 b == p->beliefs.end() || b->second != model::HaState::kActive) {
        it = writers_.erase(it);  // no longer active: it stops writing (and keeps it open)
      } else {
        ++it;
      }
    }
    for (const ProcessView& p : machines_.believers(checkpointed_csis_)) {
      if (!p.current || !p.registered || p.hung || p.stuck || p.peer == 0) continue;
      for (const auto& [csi, ha] : p.beliefs) {
        auto c = checkpointed_.find(csi);
        if (ha != model::HaState::kActive || c == checkpointed_.end()) continue;
        const auto key = std::pair(p.pid, c->second.si);
        if (writers_.contains(key)) continue;
        Writer w;
        w.pid = p.pid;
        w.node = p.node;
        w.life = incarnation_[p.node];
        w.comp = p.comp;
        w.peer = p.peer;
        w.si = &c->second;
        w.serial = next_writer_++;
        writers_.emplace(key, w);
      }
    }
  }
  for (auto& [key, w] : writers_) {
    if (w.state == Writer::State::kOpening) open_checkpoint(w);
    if (w.state == Writer::State::kRecovering) read_checkpoint(w);
  }
}

void Simulation::checkpoint_members(const NodeId& node, SimNode& n) {
  if (!n.checkpoints) return;
  // Read the lives again only when they may have changed: a view of another id, or (without the
  // membership) a node that crashed or booted.
  std::pair<std::uint64_t, std::uint64_t> key{0, nodes_changes_};
  const membership::View* view = nullptr;
  if (options_.membership) {
    auto m = members_.find(node);
    if (m == members_.end()) return;
    view = &m->second->membership().member().view();
    key = {view->id.epoch, view->id.number};
  }
  if (n.checkpoint_view == key) return;
  n.checkpoint_view = key;
  std::map<NodeId, std::uint64_t> lives;
  if (view != nullptr) {
    for (const membership::Incarnate& life : view->members) lives[life.node] = life.incarnation;
  } else {
    // Without the membership every node up is in the view (a cut-off node too: nothing takes
    // it out, so writes keep waiting for its replica).
    for (const auto& [id, up] : nodes_) lives[id] = incarnation_[id];
  }
  if (lives == n.checkpoint_members) return;
  // As amfd does (a renewed life is gone first, then back).
  const TimePoint at = local_time(node);
  for (const std::set<NodeId>& up : checkpoint::member_views(n.checkpoint_members, lives)) {
    n.checkpoints->members(up, at);
  }
  n.checkpoint_members = std::move(lives);
  carry_out_checkpoints(node);
}

template <class Act>
void Simulation::activating(const NodeId& node, const checkpoint::CheckpointName& name, Act act) {
  checkpoint::Service* service = checkpoint_service(node);
  const checkpoint::Replica* before = service->replica(name);
  const bool was_active = before != nullptr && before->active();
  // Its claim (Replica::in_service): it holds every acknowledged write, and does not recover.
  const bool was_in_service = before != nullptr && before->in_service();
  act();
  const checkpoint::Replica* after = service->replica(name);
  if (!was_active && after != nullptr && after->active()) {
    activations_[{node, name}] = Activation{was_in_service, {}};
  }
  carry_out_checkpoints(node);
}

void Simulation::open_checkpoint(Writer& w) {
  checkpoint::Service* service = checkpoint_service(w.node);
  auto n = nodes_.find(w.node);
  if (service == nullptr || !life_up(w.node, w.life) || !n->second->runtime.has_node()) return;
  const auto generation = n->second->runtime.node().active_since(w.comp);
  if (!generation) return;  // its node director has not recorded the assignment yet
  Result<void> opened;
  activating(w.node, w.si->name, [&] {
    opened = service->open(w.peer, checkpoint::OpenRequest{w.si->name, counter_attributes(), true},
                           w.si->placement, *generation, local_time(w.node));
  });
  if (!opened) {
    line("  ckpt " + w.node.str() + ": " + w.comp.str() + " cannot open '" + w.si->name.str() +
         "': " + opened.error().message());
    w.state = Writer::State::kRefused;
    return;
  }
  w.generation = *generation;
  w.state = Writer::State::kRecovering;
}

void Simulation::read_checkpoint(Writer& w) {
  checkpoint::Service* service = checkpoint_service(w.node);
  if (service == nullptr || !life_up(w.node, w.life)) return;
  const checkpoint::Replica* replica = service->replica(w.si->name);
  if (replica == nullptr) return;
  if (!replica->active()) {
    // A newer active replica elsewhere, or an assignment older than what the replica follows:
    // this writer never writes (its writes would be refused).
    if (replica->generation() > w.generation) w.state = Writer::State::kRefused;
    return;
  }
  if (service->recovering(w.si->name)) return;  // amfd holds the read back meanwhile
  w.value = counter_of(replica->content());
  w.generation = replica->generation();  // the active replica's (at least its assignment's)
  w.state = Writer::State::kWriting;
  ++stats_.checkpoint_reads;
  CheckpointLedger& ledger = checkpoint_ledger_[w.si->si];
  CheckpointRead read;
  read.checkpoint = w.si->name.str();
  read.reader = w.node;
  read.generation = w.generation;
  read.read = w.value;
  read.acked = ledger.acked;
  // The replicas that hold the newest acknowledged increment: at or past the position the
  // active replica had once it was acknowledged (positions order histories; a replica of a lost
  // history may show a higher counter and hold none of it). In memory, those on the nodes up in
  // the reader's view (others are gone or being fenced, their replicas with them); with files,
  // every node of the placement, from its replica if it is up (in whatever life) or else from its
  // disk: a recovery waits for those down too.
  read.durable = options_.checkpoint_files;
  const auto& view = nodes_.at(w.node)->checkpoint_members;
  for (const NodeId& node : w.si->placement) {
    if (node == w.node) continue;
    std::optional<checkpoint::Position> at;
    const bool in_view = view.contains(node) && life_up(node, view.at(node));
    if (in_view || (options_.checkpoint_files && nodes_.count(node))) {
      const checkpoint::Service* other = checkpoint_service(node);
      const checkpoint::Replica* r = other ? other->replica(w.si->name) : nullptr;
      if (r != nullptr) at = r->position();
    } else if (options_.checkpoint_files && !nodes_.count(node)) {
      auto disk = disks_.find(node);
      if (disk != disks_.end()) {
        auto kept = disk->second.find(w.si->name);
        if (kept != disk->second.end() && kept->second.content) at = kept->second.at;
      }
    }
    if (at && *at >= ledger.acked_at) read.holders.insert(node);
  }
  if (auto a = activations_.find({w.node, w.si->name}); a != activations_.end()) {
    read.in_service = a->second.in_service;
    read.silent.insert(a->second.silent.begin(), a->second.silent.end());
  }
  line("  ckpt " + w.node.str() + ": " + w.comp.str() + " is active (generation " +
       std::to_string(w.generation) + ") and reads " + std::to_string(w.value) + " in '" +
       read.checkpoint + "'; " + std::to_string(ledger.acked) + " was acknowledged");
  const CheckpointReadVerdict verdict = judge_checkpoint_read(read);
  if (verdict == CheckpointReadVerdict::kViolated) {
    violate("checkpoint", *check_checkpoint_read(read));
    return;
  }
  if (verdict != CheckpointReadVerdict::kHolds) {
    const bool gone = verdict == CheckpointReadVerdict::kLostWithReplicas;
    ++(gone ? stats_.checkpoint_lost_with_replicas : stats_.checkpoint_lost_silent);
    line("  ckpt: increments " + std::to_string(w.value + 1) + " to " +
         std::to_string(ledger.acked) + " are lost: " +
         (gone ? "every replica that held them is gone (in memory, with its node)"
               : "the recovery went on without the replicas that hold them"));
    ledger.acked = w.value;  // the counter goes on from what was read
    ledger.acked_at = replica->position();
  }
  auto [least, fresh] = ledger.reads.emplace(w.generation, w.value);
  if (!fresh) least->second = std::min(least->second, w.value);
  schedule(draw(options_.checkpoint_write_gap), CheckpointWrite{w.pid, w.si->si});
}

void Simulation::on(const CheckpointWrite& e) {
  auto it = writers_.find({e.pid, e.si});
  if (it == writers_.end()) return;
  Writer& w = it->second;
  checkpoint::Service* service = checkpoint_service(w.node);
  const auto p = machines_.process(w.pid);
  if (w.state != Writer::State::kWriting || w.writing || service == nullptr ||
      !life_up(w.node, w.life) || !p) {
    return;  // drive_checkpoints() forgets an ended one
  }
  if (p->hung || p->stuck) {  // it writes nothing while it hangs, and tries again later
    schedule(draw(options_.checkpoint_write_gap), CheckpointWrite{w.pid, w.si->si});
    return;
  }
  const auto generation = nodes_.at(w.node)->runtime.node().active_since(w.comp);
  const std::uint64_t value = w.value + 1;
  checkpoint::Operation op;
  if (service->replica(w.si->name)->content().find(kCounter) == nullptr) {
    op = checkpoint::CreateSection{kCounter, std::to_string(value)};
  } else {
    op = checkpoint::OverwriteSection{kCounter, std::to_string(value)};
  }
  const std::uint64_t request = next_write_request_++;
  writes_asked_[request] = WriteAsked{w.pid, w.si->si, w.si->name, value, 0, w.serial};
  w.writing = true;
  const NodeId node = w.node;
  const checkpoint::CheckpointName name = w.si->name;
  activating(node, name, [&] {
    service->write(w.peer, request, name, std::move(op), generation, local_time(node));
    // The generation of the active replica that numbered it (a component's assignment, which
    // names the generation, is its newest active one of any SI, so it may be older).
    if (auto asked = writes_asked_.find(request); asked != writes_asked_.end()) {
      asked->second.generation = service->replica(name)->generation();
    }
  });
}

void Simulation::answered_write(const NodeId& node, const checkpoint::Answer& answer) {
  auto asked = writes_asked_.find(answer.request);
  if (asked == writes_asked_.end()) return;
  const WriteAsked a = asked->second;
  writes_asked_.erase(asked);
  auto it = writers_.find({a.pid, a.si});
  Writer* w = it == writers_.end() || it->second.serial != a.writer ? nullptr : &it->second;
  if (answer.result) {
    ++stats_.checkpoint_acks;
    CheckpointLedger& ledger = checkpoint_ledger_[a.si];
    const checkpoint::Service* service = checkpoint_service(node);
    const checkpoint::CheckpointName& name = a.name;
    if (a.value >= ledger.acked) {
      ledger.acked = a.value;
      // The replica answers in order, one write of this writer at a time: its position now is
      // this write's.
      if (const checkpoint::Replica* r = service ? service->replica(name) : nullptr) {
        ledger.acked_at = std::max(ledger.acked_at, r->position());
      }
    }
    if (auto wrong = check_checkpoint_ack(name.str(), a.generation, a.value, ledger.reads)) {
      violate("checkpoint", *wrong);
      return;
    }
    if (w) w->value = a.value;
  } else {
    ++stats_.checkpoint_write_failures;
    line("  ckpt " + node.str() + ": increment " + std::to_string(a.value) +
         " failed: " + answer.result.error().message());
  }
  if (w) {
    w->writing = false;
    schedule(draw(options_.checkpoint_write_gap), CheckpointWrite{a.pid, a.si});
  }
}

void Simulation::carry_out_checkpoints(const NodeId& node) {
  for (;;) {
    auto n = nodes_.find(node);
    if (n == nodes_.end() || !n->second->checkpoints) return;
    checkpoint::Service* service = &*n->second->checkpoints;
    auto effects = service->take_effects();
    if (effects.empty()) {
      // Every call that changes the service is followed by this: its deadline is kept here.
      const auto due = service->next_deadline();
      n->second->checkpoint_due = due ? std::optional(global_time(node, *due)) : std::nullopt;
      return;
    }
    for (checkpoint::ServiceEffect& effect : effects) {
      std::visit(Overloaded{
                     [&](checkpoint::Send& e) {
                       if (cut_between(node, e.to) || !nodes_.count(e.to)) return;
                       if (faults_on_ && faults_.net.loss > 0 && chance() < faults_.net.loss)
                         return;
                       TimePoint& free = link_free_[{node, e.to}];
                       free = std::max(free, now_ + draw(kCheckpointWay));
                       schedule(free - now_, CheckpointDeliver{node, e.to, incarnation_[e.to],
                                                               std::move(e.message)});
                     },
                     [&](checkpoint::Answer& e) { answered_write(node, e); },
                     [&](checkpoint::Report& e) {
                       line("  ckpt " + node.str() + ": '" + e.checkpoint.str() + "': " + e.text);
                       if (!e.silent.empty()) activations_[{node, e.checkpoint}].silent = e.silent;
                     },
                     [&](checkpoint::Store& e) {
                       const checkpoint::Replica* r = service->replica(e.checkpoint);
                       TimePoint& free = disk_free_[node];
                       free = std::max(free, now_ + draw(kDiskWrite));
                       schedule(free - now_,
                                CheckpointStored{node, incarnation_[node], e.checkpoint,
                                                 r->content().attributes(), std::move(e.record)});
                     },
                 },
                 effect);
    }
  }
}

void Simulation::on(const CheckpointDeliver& e) {
  if (!life_up(e.to, e.life)) return;
  auto to = cuts_.find(e.to);
  if (to != cuts_.end() && to->second.from_director) return;
  checkpoint::Service* service = checkpoint_service(e.to);
  if (service == nullptr) return;
  service->receive(e.message, local_time(e.to));
  carry_out_checkpoints(e.to);
}

void Simulation::on(const CheckpointStored& e) {
  if (!life_up(e.node, e.life)) return;  // it died with the life that wrote it
  Disk& disk = disks_[e.node][e.name];
  const TimePoint at = local_time(e.node);
  if (!e.record.operation) {
    disk.content.emplace(e.attributes);
    AMF_ASSERT(disk.content->restore(e.record.image, at).has_value());
  } else {
    AMF_ASSERT(disk.content.has_value());  // a replica's first record is its whole content
    disk.content->apply(*e.record.operation, at);
  }
  disk.at = e.record.at;
  if (checkpoint::Service* service = checkpoint_service(e.node)) {
    service->stored(e.name, e.record.record, at);
    carry_out_checkpoints(e.node);
  }
}

void Simulation::restore_checkpoints(const NodeId& node, checkpoint::Service& service) {
  auto disk = disks_.find(node);
  if (disk == disks_.end()) return;
  for (const auto& [name, kept] : disk->second) {
    if (!kept.content) continue;
    AMF_ASSERT(service.restore(name, *kept.content, kept.at).has_value());
    line("  ckpt " + node.str() + ": '" + name.str() + "' restored from disk at " +
         checkpoint::to_string(kept.at) + ", holding " + std::to_string(counter_of(*kept.content)));
  }
  // (Its deadline is read at its first carry_out_checkpoints(), once the node is up.)
}

std::optional<TimePoint> Simulation::checkpoint_deadline() const {
  std::optional<TimePoint> next;
  for (const auto& [id, n] : nodes_) {
    if (n->checkpoint_due && (!next || *n->checkpoint_due < *next)) next = n->checkpoint_due;
  }
  return next;
}

void Simulation::tick_checkpoints() {
  for (auto& [id, n] : nodes_) {
    if (n->checkpoints && n->checkpoint_due && *n->checkpoint_due <= now_) {
      n->checkpoints->tick(local_time(id));
      carry_out_checkpoints(id);
    }
  }
}

}  // namespace amf::sim
