#include "amf/runtime/node_runtime.h"

#include <type_traits>

#include "amf/core/assert.h"

namespace amf::runtime {

NodeRuntime::NodeRuntime(std::shared_ptr<const model::ClusterConfig> config, NodeId self,
                         std::optional<director::Director> director, Host& host,
                         Transport& transport, Clock clock, Options options)
    : config_(config),
      self_(self),
      director_(std::move(director)),
      node_(std::in_place, std::move(config), self),
      host_(host),
      transport_(transport),
      clock_(std::move(clock)),
      options_(options) {
  AMF_ASSERT(options_.max_events_per_pump >= 1);
  // The director answers a forwarded status before the asking node gives up on it.
  AMF_ASSERT(options_.status_parts_within < options_.forwarded_status_within);
}

NodeRuntime::NodeRuntime(SeatTag, std::shared_ptr<const model::ClusterConfig> config, NodeId self,
                         director::Director director, Host& host, Transport& transport, Clock clock,
                         Options options)
    : config_(std::move(config)),
      self_(std::move(self)),
      director_(std::move(director)),
      host_(host),
      transport_(transport),
      clock_(std::move(clock)),
      options_(options) {
  AMF_ASSERT(options_.status_parts_within < options_.forwarded_status_within);
}

NodeRuntime NodeRuntime::director_seat(std::shared_ptr<const model::ClusterConfig> config,
                                       NodeId self, director::Director director, Host& host,
                                       Transport& transport, Clock clock, Options options) {
  return NodeRuntime(SeatTag{}, std::move(config), std::move(self), std::move(director), host,
                     transport, std::move(clock), options);
}

void NodeRuntime::post(node::Event event) {
  AMF_ASSERT(node_.has_value());  // a director's seat has no node director to hand it to
  queue_.push_back(std::move(event));
}

void NodeRuntime::to_director(const director::Event& event) {
  AMF_ASSERT(director_.has_value());
  membership(event);
  if (takeover_) {
    if (const auto* down = std::get_if<director::NodeDown>(&event)) {
      takeover_->awaited.erase(down->node);  // no snapshot coming: its SUs are down
    } else if (const auto* up = std::get_if<director::NodeUp>(&event)) {
      // A new life of an awaited node (its restart went unnoticed): the request went with the
      // old one, and the new one holds nothing; the NodeUp, handed over after, brings it in.
      // (The same life again changes nothing: its snapshot is still awaited.)
      const auto asked = takeover_->lives.find(up->node);
      if (asked != takeover_->lives.end() && asked->second != up->incarnation) {
        takeover_->awaited.erase(up->node);
      }
    }
  }
  // A greeting for a node that joins: a node follows a director from its first command, and
  // one with nothing to instantiate would get none, and refuse amfctl's operations for want of
  // a director. A snapshot request is that command; its answer is not needed (a new life holds
  // nothing) and goes to Host::snapshot. A node whose snapshot the takeover awaits was asked.
  if (const auto* up = std::get_if<director::NodeUp>(&event);
      up && up->node != self_ && !(takeover_ && takeover_->awaited.count(up->node))) {
    request_snapshot(up->node);
  }
  director_event(event);
  if (takeover_ && takeover_->awaited.empty()) finish_takeover();
}

void NodeRuntime::director_event(const director::Event& event) {
  if (takeover_) {
    takeover_->held.push_back(event);
  } else {
    director_->handle(event, clock_());
  }
}

void NodeRuntime::take_over(const std::vector<director::NodeUp>& up, director::AdminStates admin) {
  AMF_ASSERT(director_.has_value() && !takeover_);
  takeover_.emplace();
  takeover_->takeover.epoch = options_.epoch;
  takeover_->takeover.admin = std::move(admin);
  for (const director::NodeUp& node : up) {
    if (node.node == self_ && !node_) continue;  // a seat has no node director to ask
    membership(node);
    takeover_->awaited.insert(node.node);
    takeover_->lives[node.node] = node.incarnation;
  }
  if (takeover_->awaited.empty()) return finish_takeover();
  const std::set<NodeId> ask = takeover_->awaited;
  for (const NodeId& node : ask) takeover_->asked[node] = request_snapshot(node);
}

bool NodeRuntime::assume_director(director::Director director, std::uint64_t epoch) {
  AMF_ASSERT(!director_.has_value());
  if (epoch <= followed_epoch_) return false;
  fail_forwarded("this node took the director's role (epoch " + std::to_string(epoch) + ")");
  if (followed_) close_link(followed_->node);  // what it held was for the old director
  followed_.reset();
  followed_epoch_ = 0;
  options_.epoch = epoch;
  director_.emplace(std::move(director));
  return true;
}

void NodeRuntime::resign() {
  if (!director_) return;
  step_down(options_.epoch);
  followed_epoch_ = options_.epoch;  // no older director is followed from now on
}

void NodeRuntime::step_down(std::uint64_t epoch) {
  director_.reset();
  takeover_.reset();
  // What other nodes asked of it: they fail it once they follow the next director.
  forwarded_.clear();
  forwarded_from_.clear();
  // What this node's operator asked for fails; what other nodes asked, they fail themselves.
  const auto gathering = std::exchange(gathering_, {});
  for (const auto& [id, g] : gathering) {
    if (!g.asker) {
      host_.status_answer(g.request, fail("the director on this node stopped acting before it "
                                          "answered"));
    }
  }
  // Its links to the nodes were the director's; a node's next report goes to the new one.
  std::vector<NodeId> peers;
  for (const auto& [node, link] : links_) peers.push_back(node);
  for (const NodeId& node : peers) close_link(node);
  host_.deposed(epoch);
}

void NodeRuntime::finish_takeover() {
  PendingTakeover done = std::move(*takeover_);
  takeover_.reset();
  director_->take_over(done.takeover, clock_());
  host_.took_over();
  for (const director::Event& event : done.held) director_->handle(event, clock_());
}

void NodeRuntime::close_link(const NodeId& node) {
  auto it = links_.find(node);
  if (it == links_.end()) return;
  closed_duplicates_ += it->second.stats().duplicates;
  closed_retransmitted_ += it->second.stats().retransmitted;
  links_.erase(it);
  acks_due_.erase(node);
  unacked_.erase(node);
}

std::uint64_t NodeRuntime::epoch() const { return director_ ? options_.epoch : followed_epoch_; }

void NodeRuntime::membership(const director::Event& event) {
  if (const auto* up = std::get_if<director::NodeUp>(&event)) {
    if (up->node == self_) return;  // its own node director is reached directly
    close_link(up->node);
    links_.emplace(up->node,
                   protocol::Link({self_, options_.incarnation}, {up->node, up->incarnation},
                                  options_.retransmit_after));
    finish_gatherings(std::nullopt);  // a new life does not answer what the old one was asked
  } else if (const auto* down = std::get_if<director::NodeDown>(&event)) {
    close_link(down->node);
    finish_gatherings(std::nullopt);  // it sends no part any more
  }
}

void NodeRuntime::receive(const protocol::Envelope& e) {
  if (e.version != protocol::kEnvelopeVersion) {
    ++counters_.bad_version;
    return;
  }
  if (e.to.node != self_ || e.to.incarnation != options_.incarnation) {
    ++counters_.stale_incarnation;  // for an earlier life of this node (or misrouted)
    return;
  }
  const bool command = e.message && protocol::from_director(*e.message);
  if (director_ && !command) {
    // A node director's report, or an acknowledgement of a command.
    auto it = links_.find(e.from.node);
    if (it == links_.end()) {
      ++counters_.unknown_peer;
      return;
    }
    if (it->second.peer().incarnation != e.from.incarnation) {
      ++counters_.stale_incarnation;
      return;
    }
    if (e.epoch != options_.epoch) {
      ++counters_.stale_epoch;
      return;
    }
    const auto messages = it->second.receive(e);
    received(e, it->second);
    for (const auto& m : messages) {
      if (const auto* report = std::get_if<protocol::NodeReport>(&m)) {
        handle_report(e.from.node, *report);
      } else if (const auto* forward = std::get_if<protocol::AdminForward>(&m)) {
        take_forwarded(it->second, *forward);
      } else {
        if (const auto* part = std::get_if<protocol::StatusPart>(&m)) {
          take_part(e.from.node, *part);
        } else {
          gather_status(e.from, std::get<protocol::StatusForward>(m).request);
        }
      }
    }
    return;
  }
  if (!node_) {
    ++counters_.unknown_peer;
    return;
  }
  // A director's command, or an acknowledgement of a report. A runtime that hosts the director
  // of an epoch takes commands only from a newer one (its own director was deposed).
  if (e.epoch < followed_epoch_ || (director_ && e.epoch <= options_.epoch)) {
    ++counters_.stale_epoch;
    return;
  }
  if (!followed_ || e.epoch > followed_epoch_) {
    if (!command) {
      ++counters_.unknown_peer;  // an acknowledgement from a director this node never followed
      return;
    }
    if (director_) step_down(e.epoch);
    // What the old director's link held was for it alone.
    if (followed_) {
      fail_forwarded("node " + self_.str() + " follows the director on node " + e.from.node.str() +
                     " (epoch " + std::to_string(e.epoch) + ") now");
      close_link(followed_->node);
    }
    close_link(e.from.node);
    followed_ = e.from;
    followed_epoch_ = e.epoch;
    links_.emplace(e.from.node, protocol::Link({self_, options_.incarnation}, e.from,
                                               options_.retransmit_after));
  } else if (e.from != *followed_) {
    ++counters_.stale_incarnation;  // another life of the director's node, same epoch
    return;
  }
  if (e.message && !command) {
    // A report of the epoch this node follows, for a node that hosts no director of it: only a
    // peer that lies or is confused sends one (a report for a deposed director is older).
    ++counters_.misdirected;
    return;
  }
  protocol::Link& link = links_.at(e.from.node);
  for (const auto& m : link.receive(e)) {
    if (const auto* c = std::get_if<protocol::NodeCommand>(&m)) {
      queue_.push_back(node::to_event(*c));
    } else if (const auto* answer = std::get_if<protocol::AdminAnswer>(&m)) {
      if (forwarding_.erase(answer->request) == 0) {
        ++counters_.misdirected;  // not asked, or failed already
      } else {
        host_.admin_result({answer->request, answer->ok, answer->message});
      }
    } else if (const auto* ask = std::get_if<protocol::StatusPartAsk>(&m)) {
      auto part = host_.status_part();
      send_to(e.from.node, part
                               ? protocol::StatusPart{ask->request, true, *part}
                               : protocol::StatusPart{ask->request, false, part.error().message()});
    } else {
      const auto& status = std::get<protocol::StatusAnswer>(m);
      if (status_forwarding_.erase(status.request) == 0) {
        ++counters_.misdirected;
      } else if (status.ok) {
        host_.status_answer(status.request, status.status);
      } else {
        host_.status_answer(status.request, fail("the director on node " + e.from.node.str() +
                                                 " gave no status: " + status.status));
      }
    }
  }
  received(e, link);
}

bool NodeRuntime::admin(const director::AdminRequest& request) {
  AMF_ASSERT(request.id != 0 && request.id < kForwardedIds);
  if (director_) {
    to_director(request);
    return true;
  }
  if (!followed_) return false;
  const bool fresh =
      forwarding_.emplace(request.id, clock_() + options_.forwarded_answer_within).second;
  AMF_ASSERT(fresh);  // else the host used an id that is still outstanding
  send_to(followed_->node,
          protocol::AdminForward{request.id, std::string(to_string(request.op)),
                                 std::string(to_string(request.kind)), request.entity});
  return true;
}

bool NodeRuntime::status(std::uint64_t id) {
  if (director_) {
    gather_status(std::nullopt, id);
    return true;
  }
  if (!followed_) return false;
  const bool fresh =
      status_forwarding_.emplace(id, clock_() + options_.forwarded_status_within).second;
  AMF_ASSERT(fresh);  // else the host used an id that is still outstanding
  send_to(followed_->node, protocol::StatusForward{id});
  return true;
}

void NodeRuntime::gather_status(std::optional<protocol::Endpoint> asker, std::uint64_t request) {
  if (gathering_.size() >= kMaxGatherings) {
    const std::string busy =
        "the director gathers " + std::to_string(kMaxGatherings) + " statuses already; try again";
    if (!asker) return host_.status_answer(request, fail(busy));
    return send_to(asker->node, protocol::StatusAnswer{request, false, busy});
  }
  const std::uint64_t id = ++next_gathering_;
  Gathering& g = gathering_[id];
  if (asker) g.gathered.for_node = asker->node;
  g.asker = std::move(asker);
  g.request = request;
  g.due = clock_() + options_.status_parts_within;
  for (const auto& [node, link] : links_) {  // every node up but this one, in the life it has
    g.awaited.insert(node);
    g.lives[node] = link.peer().incarnation;
  }
  // Sent from a copy: g is not touched once a transport could hand an answer straight back.
  const std::set<NodeId> asked = g.awaited;
  for (const NodeId& node : asked) send_to(node, protocol::StatusPartAsk{id});
  finish_gatherings(std::nullopt);
}

void NodeRuntime::take_part(const NodeId& from, const protocol::StatusPart& part) {
  auto it = gathering_.find(part.request);
  if (it == gathering_.end() || it->second.awaited.erase(from) == 0) {
    ++counters_.misdirected;  // not asked, asked of another node, or answered already
    return;
  }
  if (part.ok) {
    it->second.gathered.parts[from] = part.part;
  } else {
    it->second.gathered.missing[from] = part.part;
  }
  finish_gatherings(std::nullopt);
}

void NodeRuntime::finish_gatherings(std::optional<TimePoint> now) {
  if (gathering_.empty()) return;  // the common case, at every tick
  const std::string waited = "did not answer within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                options_.status_parts_within)
                                                .count()) +
                             " ms";
  // The finished ones are taken out first and answered after: the host and the transport may
  // call back into this runtime (a status asked in an answer, an answer delivered at once).
  std::vector<Gathering> done;
  for (auto it = gathering_.begin(); it != gathering_.end();) {
    Gathering& g = it->second;
    // A node that left (its link closed) or came back as another life sends nothing more.
    for (auto node = g.awaited.begin(); node != g.awaited.end();) {
      const auto link = links_.find(*node);
      if (link != links_.end() && link->second.peer().incarnation == g.lives[*node]) {
        ++node;
        continue;
      }
      g.gathered.missing[*node] =
          link == links_.end()
              ? "left the cluster's view"
              : "came back as life " + std::to_string(link->second.peer().incarnation);
      node = g.awaited.erase(node);
    }
    if (!g.awaited.empty() && !(now && g.due <= *now)) {
      ++it;
      continue;
    }
    for (const NodeId& node : g.awaited) g.gathered.missing[node] = waited;
    done.push_back(std::move(g));
    it = gathering_.erase(it);
  }
  for (Gathering& g : done) {
    auto status = host_.director_status(g.gathered);
    if (!g.asker) {
      host_.status_answer(g.request, std::move(status));
      continue;
    }
    // To the life that asked; a later life of its node never did.
    const auto link = links_.find(g.asker->node);
    if (link == links_.end() || link->second.peer() != *g.asker) {
      ++counters_.unknown_peer;
      continue;
    }
    send_to(g.asker->node,
            status ? protocol::StatusAnswer{g.request, true, *status}
                   : protocol::StatusAnswer{g.request, false, status.error().message()});
  }
}

void NodeRuntime::take_forwarded(const protocol::Link& link, const protocol::AdminForward& m) {
  const NodeId& node = link.peer().node;
  const auto op = director::parse_admin_op(m.operation);
  const auto kind = director::parse_entity_kind(m.kind);
  std::string refused;
  if (!op) {
    refused = "unknown admin operation '" + m.operation + "'";
  } else if (!kind) {
    refused = "unknown entity kind '" + m.kind + "' (one of " + director::entity_kinds() + ")";
  } else if (forwarded_from_[node] >= kMaxForwardedPerNode) {
    refused = "the director holds " + std::to_string(kMaxForwardedPerNode) +
              " operations of node " + node.str() + " already; try again when one has ended";
  }
  if (!refused.empty()) {
    send_to(node, protocol::AdminAnswer{m.request, false, refused});
    return;
  }
  const std::uint64_t id = ++next_forwarded_;
  forwarded_[id] = {link.peer(), m.request};
  ++forwarded_from_[node];
  director_event(director::AdminRequest{id, *op, *kind, m.entity});
}

void NodeRuntime::admin_result(const director::AdminResult& result) {
  auto it = forwarded_.find(result.id);
  if (it == forwarded_.end()) return host_.admin_result(result);
  const Forwarded asked = it->second;
  forwarded_.erase(it);
  if (--forwarded_from_[asked.asker.node] == 0) forwarded_from_.erase(asked.asker.node);
  // To the life that asked; a later life of its node never did.
  const auto link = links_.find(asked.asker.node);
  if (link == links_.end() || link->second.peer() != asked.asker) {
    ++counters_.unknown_peer;
    return;
  }
  send_to(asked.asker.node, protocol::AdminAnswer{asked.request, result.ok, result.message});
}

std::string NodeRuntime::followed_director() const {
  return "the director on node " + (followed_ ? followed_->node.str() : std::string("?"));
}

std::string NodeRuntime::forwarded_failure(const std::string& what) const {
  return followed_director() + " (epoch " + std::to_string(followed_epoch_) + ") did not answer " +
         what +
         ": the operation may or may not have been carried out; check with amfctl status and "
         "try again";
}

void NodeRuntime::fail_forwarded(const std::string& what) {
  const auto statuses = std::exchange(status_forwarding_, {});
  for (const auto& [id, due] : statuses) {
    host_.status_answer(id, fail(followed_director() + " did not answer before " + what));
  }
  if (forwarding_.empty()) return;
  const std::string message = forwarded_failure("before " + what);
  const auto failed = std::move(forwarding_);
  forwarding_.clear();
  for (const auto& [id, due] : failed) host_.admin_result({id, false, message});
}

void NodeRuntime::expire_forwarded() {
  const TimePoint now = clock_();
  for (auto it = status_forwarding_.begin(); it != status_forwarding_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::uint64_t id = it->first;
    it = status_forwarding_.erase(it);
    host_.status_answer(id,
                        fail(followed_director() + " did not answer within " +
                             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                options_.forwarded_status_within)
                                                .count()) +
                             " ms"));
  }
  std::vector<std::uint64_t> overdue;
  for (const auto& [id, due] : forwarding_) {
    if (due <= now) overdue.push_back(id);
  }
  if (overdue.empty()) return;
  const std::string message =
      forwarded_failure("within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           options_.forwarded_answer_within)
                                           .count()) +
                        " s (it may have stopped acting)");
  for (const std::uint64_t id : overdue) {
    forwarding_.erase(id);
    host_.admin_result({id, false, message});
  }
}

void NodeRuntime::received(const protocol::Envelope& e, const protocol::Link& link) {
  if (e.message) acks_due_.insert(e.from.node);
  if (link.unacknowledged() == 0) unacked_.erase(e.from.node);
}

protocol::CommandId NodeRuntime::request_snapshot(const NodeId& node) {
  AMF_ASSERT(director_.has_value());
  const protocol::SnapshotRequest request{(options_.epoch << 32) | next_snapshot_++};
  if (node == self_ && node_) {
    queue_.push_back(request);
  } else {
    send_to(node, protocol::NodeCommand(request));
  }
  return request.id;
}

void NodeRuntime::send_to(const NodeId& node, protocol::Message message) {
  auto it = links_.find(node);
  if (it == links_.end()) {
    ++counters_.unknown_peer;  // not up: nothing of it runs, the director knows
    return;
  }
  acks_due_.erase(node);  // the message carries the acknowledgement
  unacked_.insert(node);
  transport_.send(it->second.send(std::move(message), epoch(), clock_()));
}

void NodeRuntime::send_acks() {
  for (const NodeId& node : acks_due_) {
    if (auto ack = links_.at(node).take_ack(epoch())) transport_.send(*ack);
  }
  acks_due_.clear();
}

void NodeRuntime::retransmit() {
  const TimePoint now = clock_();
  for (const NodeId& node : unacked_) {
    for (const auto& e : links_.at(node).retransmit(epoch(), now)) transport_.send(e);
  }
}

void NodeRuntime::handle_report(const NodeId& from, const protocol::NodeReport& report) {
  // A node speaks for itself and its own SUs only; an SU of no node is the director's to
  // refuse.
  const bool own = std::visit(
      [&](const auto& m) {
        if constexpr (requires { m.node; }) {  // a snapshot, a leaving
          return m.node == from;
        } else {
          const model::SuConfig* su = config_->find_su(m.su);
          return su == nullptr || su->node == from;
        }
      },
      report);
  if (!own) {
    ++counters_.misdirected;
    return;
  }
  std::visit(
      [&](const auto& m) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, protocol::NodeSnapshot>) {
          if (takeover_ && takeover_->awaited.count(m.node) > 0 &&
              takeover_->asked[m.node] == m.command) {
            takeover_->awaited.erase(m.node);
            takeover_->takeover.nodes.push_back(m);
            if (takeover_->awaited.empty()) finish_takeover();
          } else {
            host_.snapshot(m);  // for whoever asked (request_snapshot)
          }
        } else if (takeover_ && takeover_->awaited.count(from)) {
          // Sent before the node took the snapshot request (the link keeps order), so the
          // snapshot says it already; handed over later it would undo what the snapshot says.
        } else {
          director_event(m);
        }
      },
      report);
}

LinkCounters NodeRuntime::counters() const {
  LinkCounters c = counters_;
  c.duplicates = closed_duplicates_;
  c.retransmitted = closed_retransmitted_;
  for (const auto& [node, link] : links_) {
    c.duplicates += link.stats().duplicates;
    c.retransmitted += link.stats().retransmitted;
  }
  return c;
}

const protocol::Link* NodeRuntime::link(const NodeId& node) const {
  auto it = links_.find(node);
  return it == links_.end() ? nullptr : &it->second;
}

void NodeRuntime::tick() {
  retransmit();
  expire_forwarded();
  finish_gatherings(clock_());
  if (queue_.empty()) tick_cores();  // else the pump that empties the queue (rule 4)
}

void NodeRuntime::tick_cores() {
  const TimePoint now = clock_();
  if (node_) node_->tick(now);
  if (director_) director_->tick(now);
}

std::optional<TimePoint> NodeRuntime::next_deadline() const {
  std::optional<TimePoint> next = queue_.empty() ? cores_next_deadline() : std::nullopt;
  for (const NodeId& node : unacked_) {
    if (auto d = links_.at(node).next_deadline(); d && (!next || *d < *next)) next = d;
  }
  for (const auto* waiting : {&forwarding_, &status_forwarding_}) {
    for (const auto& [id, due] : *waiting) {  // at most the host's bound of them
      if (!next || due < *next) next = due;
    }
  }
  for (const auto& [id, g] : gathering_) {  // the askers' bounds of them
    if (!next || g.due < *next) next = g.due;
  }
  return next;
}

std::optional<TimePoint> NodeRuntime::cores_next_deadline() const {
  std::optional<TimePoint> next = node_ ? node_->next_deadline() : std::nullopt;
  if (director_) {
    if (auto d = director_->next_deadline(); d && (!next || *d < *next)) next = d;
  }
  return next;
}

bool NodeRuntime::carry_out_director_effects() {
  if (!director_) return false;
  auto effects = director_->take_effects();
  for (const auto& effect : effects) {
    struct Visitor {
      NodeRuntime& r;
      void operator()(const director::ToNode& e) {
        if (e.node == r.self_ && r.node_) {
          r.queue_.push_back(node::to_event(e.command));
        } else {
          r.send_to(e.node, e.command);
        }
      }
      void operator()(const director::AdminResult& e) { r.admin_result(e); }
      void operator()(const director::AdminStateChanged& e) { r.host_.admin_state(e); }
      void operator()(const model::Notification& n) { r.host_.notify(n); }
    };
    std::visit(Visitor{*this}, effect);
  }
  return !effects.empty();
}

bool NodeRuntime::carry_out_node_effects() {
  if (!node_) return false;
  auto effects = node_->take_effects();
  for (const auto& effect : effects) {
    if (const auto* report = std::get_if<node::ToDirector>(&effect)) {
      if (director_) {
        handle_report(self_, report->message);
      } else if (followed_) {
        send_to(followed_->node, report->message);
      } else {
        ++counters_.no_director;  // a director that takes over asks for a snapshot
      }
    } else if (const auto* n = std::get_if<model::Notification>(&effect)) {
      host_.notify(*n);
    } else {
      host_.carry_out(effect);
    }
  }
  return !effects.empty();
}

bool NodeRuntime::pump() {
  if (pumping_) return !queue_.empty();  // a host's effect posted: the running pump goes on
  pumping_ = true;
  std::size_t handled = 0;
  bool ticked = false;
  while (true) {
    if (carry_out_director_effects()) continue;
    if (carry_out_node_effects()) continue;
    // The queue is empty after handing over events: the deadlines that fell due meanwhile are
    // judged now (rule 4), once per pump.
    if (queue_.empty() && handled > 0 && !ticked) {
      ticked = true;
      if (const auto due = cores_next_deadline(); due && *due <= clock_()) {
        tick_cores();
        continue;
      }
    }
    if (queue_.empty() || handled == options_.max_events_per_pump) break;
    hand_over_one();
    ++handled;
  }
  send_acks();
  pumping_ = false;
  return !queue_.empty();
}

bool NodeRuntime::carry_out_effects() {
  bool any = false;
  while (carry_out_director_effects() || carry_out_node_effects()) any = true;
  send_acks();
  return any;
}

bool NodeRuntime::hand_over_one() {
  if (queue_.empty()) return false;
  node::Event event = std::move(queue_.front());
  queue_.pop_front();
  node_->handle(event, clock_());
  return true;
}

}  // namespace amf::runtime
