#include "amf/membership/membership.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "amf/core/assert.h"

namespace amf::membership {

using std::chrono::milliseconds;

namespace {

std::string text(const Incarnate& who) {
  return who.node.str() + "#" + std::to_string(who.incarnation);
}

std::string text(const ViewId& id) {
  return std::to_string(id.epoch) + "." + std::to_string(id.number);
}

std::string text(Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return std::to_string(us / 1000) + "." + std::to_string(std::abs(us % 1000) / 100) + " ms";
}

Duration scaled(Duration d, double factor) {
  return Duration(static_cast<Duration::rep>(static_cast<double>(d.count()) * factor));
}

}  // namespace

// ---- profiles ----

Profile fast_profile() {
  return {"fast", milliseconds(10), milliseconds(30), milliseconds(20), milliseconds(5)};
}

Profile default_profile() {
  return {"default", milliseconds(100), milliseconds(500), milliseconds(400), milliseconds(50)};
}

Result<Profile> profile_named(const std::string& name) {
  if (name == "fast") return fast_profile();
  if (name == "default") return default_profile();
  return fail("unknown membership profile '" + name + "' (expected fast or default)");
}

Result<void> check(const Profile& p) {
  const std::string where = "membership profile '" + p.name + "': ";
  if (p.interval <= Duration(0)) return fail(where + "the heartbeat interval must be positive");
  if (p.drift < 0 || p.drift >= 0.1) return fail(where + "the drift bound must be in [0, 0.1)");
  if (p.timeout < 2 * p.interval) {
    return fail(where + "the timeout (" + text(p.timeout) +
                ") must be at least two heartbeat intervals (" + text(2 * p.interval) +
                "), or one lost heartbeat is a failure");
  }
  if (p.lease <= p.interval) {
    return fail(where + "the lease (" + text(p.lease) + ") must be longer than the interval (" +
                text(p.interval) + "), or a node fences itself between two heartbeats");
  }
  const Duration worst = scaled(p.lease, 1.0 / (1.0 - p.drift)) + p.fence;
  if (worst > p.timeout) {
    return fail(where + "the lease with drift plus the fence time (" + text(worst) +
                ") must fit in the timeout (" + text(p.timeout) +
                "), or a crashed node's failover waits beyond its detection");
  }
  return {};
}

// ---- views and messages ----

bool View::contains(const Incarnate& who) const {
  return std::binary_search(members.begin(), members.end(), who);
}

bool View::taken_out(const Incarnate& who) const {
  auto it = std::lower_bound(out.begin(), out.end(), who.node,
                             [](const Incarnate& m, const NodeId& n) { return m.node < n; });
  return it != out.end() && it->node == who.node && it->incarnation >= who.incarnation;
}

void View::take_out(const Incarnate& who) {
  std::erase_if(members, [&](const Incarnate& m) { return m.node == who.node && m <= who; });
  std::erase_if(out, [&](const Incarnate& o) { return o.node == who.node; });
  out.insert(std::upper_bound(out.begin(), out.end(), who), who);
}

const Incarnate* View::find(const NodeId& node) const {
  auto it = std::lower_bound(members.begin(), members.end(), node,
                             [](const Incarnate& m, const NodeId& n) { return m.node < n; });
  return it != members.end() && it->node == node ? &*it : nullptr;
}

std::string describe(const Message& message) {
  struct Visitor {
    std::string operator()(const Heartbeat& m) const {
      return "Heartbeat " + text(m.from) + " seq " + std::to_string(m.seq) + " view " +
             text(m.view) + (m.hears_you ? " (hears you)" : "");
    }
    std::string operator()(const HeartbeatAck& m) const {
      return "HeartbeatAck " + text(m.from) + " -> " + text(m.to) + " seq " + std::to_string(m.seq);
    }
    std::string operator()(const ViewInstall& m) const {
      std::string out = "ViewInstall " + text(m.view.id) + " {";
      for (std::size_t i = 0; i < m.view.members.size(); ++i) {
        out += (i ? " " : "") + text(m.view.members[i]);
      }
      out += "}";
      if (!m.view.out.empty()) {
        out += " out {";
        for (std::size_t i = 0; i < m.view.out.size(); ++i) {
          out += (i ? " " : "") + text(m.view.out[i]);
        }
        out += "}";
      }
      return out + " (" + m.cause + ")";
    }
    std::string operator()(const ViewAck& m) const {
      std::string out = "ViewAck " + text(m.from) + " view " + text(m.view);
      for (const Incarnate& o : m.out) out += "; out " + text(o);
      for (const auto& [who, ago] : m.last_acked_ago) {
        out += "; last acked " + text(who) + " " + text(ago) + " ago";
      }
      return out;
    }
  };
  return std::visit(Visitor{}, message);
}

std::string describe(const Effect& effect) {
  struct Visitor {
    std::string operator()(const Send& e) const {
      return "send to " + e.to.str() + ": " + describe(e.message);
    }
    std::string operator()(const Suspected& e) const {
      return "suspected " + text(e.who) + " (" + e.cause + ")";
    }
    std::string operator()(const Heard& e) const { return "heard " + text(e.who); }
    std::string operator()(const Installed& e) const {
      return "installed view " + text(e.view.id) + " (" + e.cause + ")";
    }
    std::string operator()(const Fence& e) const { return "fence (" + e.cause + ")"; }
    std::string operator()(const Unfence&) const { return "unfence (the lease holds)"; }
    std::string operator()(const Excluded& e) const {
      return text(e.was) + " is over (" + e.cause + "): rejoining as " + text(e.now);
    }
    std::string operator()(const NodeLeft& e) const {
      return "node left: " + text(e.who) + " (" + e.cause + ")";
    }
    std::string operator()(const NodeJoined& e) const { return "node joined: " + text(e.who); }
    std::string operator()(const StepDown& e) const { return "step down (" + e.cause + ")"; }
  };
  return std::visit(Visitor{}, effect);
}

// ---- Member ----

Member::Member(Incarnate self, std::vector<NodeId> nodes, std::set<NodeId> voters, Profile profile,
               TimePoint now)
    : self_(std::move(self)),
      nodes_(std::move(nodes)),
      voters_(std::move(voters)),
      profile_(std::move(profile)),
      next_beat_(now),
      // An earlier process of this node may have acknowledged lives that this one knows
      // nothing of; it could not report them in its view acknowledgements. So it stays silent
      // (no acknowledgement of heartbeats or views) until every lease its predecessor could
      // have granted is surely over.
      quiet_until_(now +
                   scaled(scaled(profile_.lease, 1.0 / (1.0 - profile_.drift)) + profile_.fence,
                          1.0 + profile_.drift)) {
  // A node not heard since this one started is given one timeout more before it is suspected:
  // the connections to and from a node that just started take a moment to be made.
  for (const NodeId& n : nodes_) {
    if (n != self_.node) peers_[n].last_heard = now + profile_.timeout;
  }
  beat(now);
}

bool Member::sends_to(const NodeId& node) const {
  return node != self_.node && (voters_.count(self_.node) || voters_.count(node));
}

bool Member::suspects(const NodeId& node) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second.suspected;
}

std::vector<Incarnate> Member::hearing() const {
  std::vector<Incarnate> out;
  for (const auto& [node, p] : peers_) {
    if (p.incarnation && !p.suspected) out.push_back({node, *p.incarnation});
  }
  return out;
}

bool Member::hears(const NodeId& node) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second.incarnation && !it->second.suspected;
}

std::string_view Member::standing_of(const NodeId& node) const {
  const Incarnate* listed = view_.find(node);
  if (node == self_.node) {
    if (listed == nullptr || listed->incarnation != self_.incarnation) return "joining";
    return fenced_ ? "fenced" : "member";
  }
  if (listed != nullptr) return hears(node) ? "member" : "suspected";
  return hears(node) ? "joining" : "down";
}

std::uint64_t Member::incarnation_of(const NodeId& node) const {
  if (node == self_.node) return self_.incarnation;
  if (const Incarnate* listed = view_.find(node)) return listed->incarnation;
  auto it = peers_.find(node);
  return it != peers_.end() && it->second.incarnation ? *it->second.incarnation : 0;
}

bool Member::hears_majority() const {
  std::size_t heard = voters_.count(self_.node);
  for (const auto& [node, p] : peers_) {
    if (voters_.count(node) && p.incarnation && !p.suspected && p.hears_me) ++heard;
  }
  return heard >= majority();
}

void Member::beat(TimePoint now) {
  const std::uint64_t seq = next_seq_++;
  sent_at_[seq] = now;
  for (const NodeId& n : nodes_) {
    if (sends_to(n)) effects_.push_back(Send{n, Heartbeat{self_, seq, view_.id, hears(n)}});
  }
  next_beat_ = now + profile_.interval;
  // Heartbeats older than a lease can no longer renew it.
  while (!sent_at_.empty() && sent_at_.begin()->second + profile_.lease <= now) {
    sent_at_.erase(sent_at_.begin());
  }
  // A node with no other voter to ask (a single voter) holds its lease by itself.
  renew(now);
}

void Member::receive(const Message& message, TimePoint now) {
  std::visit([&](const auto& m) { on(m, now); }, message);
  check_lease(now);
}

void Member::on(const Heartbeat& m, TimePoint now) {
  if (m.from.node == self_.node) return;
  auto it = peers_.find(m.from.node);
  if (it == peers_.end()) return;  // not a node of this cluster
  Peer& p = it->second;
  if (p.incarnation && m.from.incarnation < *p.incarnation) return;  // an earlier life
  const bool new_life = !p.incarnation || m.from.incarnation > *p.incarnation;
  // A life's heartbeats count up: an older one (reordered, or replayed by someone who recorded
  // it) says nothing about the node now.
  if (!new_life && m.seq <= p.heard_seq) return;
  if (new_life) p.acked_seq = 0;
  p.heard_seq = m.seq;
  p.hears_me = m.hears_you;
  if (new_life || p.suspected) effects_.push_back(Heard{m.from});
  p.incarnation = m.from.incarnation;
  p.last_heard = now;
  p.suspected = false;
  // Acknowledge only a life of our view, and only while we are in it ourselves: a node taken
  // out of the view gets no acknowledgements, so its lease runs out.
  if (now >= quiet_until_ && view_.contains(self_) && view_.contains(m.from)) {
    last_acked_[m.from] = now;
    effects_.push_back(Send{m.from.node, HeartbeatAck{self_, m.from, m.seq}});
  }
}

void Member::on(const HeartbeatAck& m, TimePoint now) {
  if (m.to != self_ || !voters_.count(m.from.node)) return;
  auto it = peers_.find(m.from.node);
  if (it == peers_.end() || it->second.incarnation != m.from.incarnation) return;
  it->second.acked_seq = std::max(it->second.acked_seq, m.seq);
  renew(now);
}

// The lease: the newest heartbeat that a majority of the voters (this node included when it is
// one) acknowledged, plus the lease time from when it was sent.
void Member::renew(TimePoint now) {
  if (!view_.contains(self_)) return;
  std::vector<std::uint64_t> acked;
  for (const NodeId& v : voters_) {
    if (v == self_.node) {
      acked.push_back(next_seq_ - 1);  // this node acknowledges its own heartbeats
      continue;
    }
    auto p = peers_.find(v);
    const Incarnate* member = view_.find(v);
    if (p == peers_.end() || member == nullptr || p->second.incarnation != member->incarnation)
      continue;
    acked.push_back(p->second.acked_seq);
  }
  if (acked.size() < majority()) return;
  std::nth_element(acked.begin(), acked.begin() + static_cast<long>(majority() - 1), acked.end(),
                   std::greater<>());
  const std::uint64_t seq = acked[majority() - 1];
  auto sent = sent_at_.find(seq);
  if (seq == 0 || sent == sent_at_.end()) return;
  const TimePoint end = sent->second + profile_.lease;
  if (!lease_end_ || end > *lease_end_) lease_end_ = end;
  check_lease(now);
}

void Member::check_lease(TimePoint now) {
  const bool leased_now = leased(now);
  if (leased_now && fenced_) {
    fenced_ = false;
    effects_.push_back(Unfence{});
  } else if (!leased_now && !fenced_) {
    fenced_ = true;
    effects_.push_back(Fence{"no majority of the voters acknowledged a heartbeat of " +
                             text(self_) + " for " + text(profile_.lease)});
  }
}

void Member::on(const ViewInstall& m, TimePoint now) {
  if (m.view.id < view_.id) return;  // an older view, or a deposed director's
  if (m.view.id > view_.id) {
    // Lives taken out stay out, whatever a later view says: a new director may start from a
    // view older than this node's, and this node must never acknowledge such a life again (a
    // director may already have declared it gone on the strength of this node's word).
    View merged = m.view;
    for (const Incarnate& o : view_.out) {
      if (!merged.taken_out(o)) merged.take_out(o);
    }
    // Nor does a view that lists a life it also takes out bring it back: out wins. Nodes that
    // are not in this cluster have no place in it.
    const auto stranger = [&](const Incarnate& who) {
      return std::find(nodes_.begin(), nodes_.end(), who.node) == nodes_.end();
    };
    std::erase_if(merged.members,
                  [&](const Incarnate& who) { return merged.taken_out(who) || stranger(who); });
    std::erase_if(merged.out, stranger);
    view_ = std::move(merged);
    effects_.push_back(Installed{view_, m.cause});
    if (view_.taken_out(self_)) {
      // Taken out: whatever this life holds is void. Stop it and come back as a new life, which
      // the director will take in again. (A view that merely does not list this life yet, as
      // before it joined, is no reason to leave.)
      auto o = std::find_if(view_.out.begin(), view_.out.end(),
                            [&](const Incarnate& i) { return i.node == self_.node; });
      leave(*o, "view " + text(view_.id) + " takes " + text(self_) + " out");
    } else {
      renew(now);  // acknowledgements that came before the view may count now
    }
  }
  // Answer every install, a repeated one too (the first answer may have been lost), once this
  // process has been up long enough (the constructor says why); the director resends.
  if (now < quiet_until_) return;
  ViewAck ack{self_, view_.id, view_.out, {}};
  for (auto it = last_acked_.begin(); it != last_acked_.end();) {
    const Duration ago = now - it->second;
    if (ago > 4 * profile_.timeout + profile_.lease) {
      it = last_acked_.erase(it);  // its lease is long over: nothing to report
      continue;
    }
    if (!view_.contains(it->first)) ack.last_acked_ago.emplace_back(it->first, ago);
    ++it;
  }
  effects_.push_back(Send{m.from, ack});
}

void Member::leave(const Incarnate& out, const std::string& cause) {
  if (out.node != self_.node || out.incarnation < self_.incarnation) return;  // an older life
  // No life follows the last number: such a claim is not from a director of ours.
  if (out.incarnation == std::numeric_limits<std::uint64_t>::max()) return;
  if (!fenced_) {
    fenced_ = true;
    effects_.push_back(Fence{cause});
  }
  lease_end_.reset();
  const Incarnate old = self_;
  self_.incarnation = out.incarnation + 1;
  next_seq_ = 1;
  sent_at_.clear();
  for (auto& [node, p] : peers_) p.acked_seq = 0;
  effects_.push_back(Excluded{old, self_, cause});
}

void Member::tick(TimePoint now) {
  if (now >= next_beat_) beat(now);
  for (auto& [node, p] : peers_) {
    // A node never heard is suspected too once a view lists it (a life it had before this
    // node started).
    const Incarnate* listed = view_.find(node);
    if (p.suspected || (!p.incarnation && listed == nullptr)) continue;
    if (now - p.last_heard >= profile_.timeout) {
      p.suspected = true;
      effects_.push_back(Suspected{{node, p.incarnation ? *p.incarnation : listed->incarnation},
                                   "not heard for " + text(now - p.last_heard) + " (timeout " +
                                       text(profile_.timeout) + ")"});
    }
  }
  check_lease(now);
}

std::optional<TimePoint> Member::next_deadline() const {
  TimePoint next = next_beat_;
  for (const auto& [node, p] : peers_) {
    if (!p.suspected && (p.incarnation || view_.find(node))) {
      next = std::min(next, p.last_heard + profile_.timeout);
    }
  }
  if (lease_end_ && !fenced_) next = std::min(next, *lease_end_);
  return next;
}

// ---- ViewKeeper ----

ViewKeeper::ViewKeeper(const Member& own, std::uint64_t epoch, const View& start, TimePoint now)
    : self_(own.self()),
      epoch_(epoch),
      nodes_(own.nodes()),
      voters_(own.voters()),
      profile_(own.profile()),
      view_{{epoch, 0}, {}, {}} {
  if (steps_down(start.out, "the view it starts from")) return;
  for (const Incarnate& m : start.members) {
    if (m.node != self_.node) view_.members.push_back(m);
  }
  view_.members.push_back(self_);
  std::sort(view_.members.begin(), view_.members.end());
  for (const Incarnate& who : view_.members) joining_.push_back({who, {epoch, 1}, {}});
  for (const Incarnate& who : start.out) {
    if (!view_.taken_out(who)) take_out(who, "taken out under an earlier director");
  }
  for (const Incarnate& who : start.members) {
    if (who.node != self_.node && own.suspects(who.node)) {
      take_out(who, "not heard by the director of epoch " + std::to_string(epoch));
    }
  }
  for (const Incarnate& who : own.hearing()) admit(who);
  change(now, "director of epoch " + std::to_string(epoch) + " takes over");
}

bool ViewKeeper::known(const NodeId& node) const {
  return std::find(nodes_.begin(), nodes_.end(), node) != nodes_.end();
}

bool ViewKeeper::steps_down(const std::vector<Incarnate>& out, const std::string& source) {
  for (const Incarnate& o : out) {
    if (o.node == self_.node && o.incarnation >= self_.incarnation) {
      stepped_down_ = true;
      effects_.push_back(StepDown{
          o, "the director's own life " + text(self_) + " is taken out, as " + source + " says"});
      return true;
    }
  }
  return false;
}

// Out of the view for good (its node may rejoin as a newer life); declared gone once safe.
void ViewKeeper::take_out(const Incarnate& who, const std::string& cause) {
  view_.take_out(who);
  std::erase_if(joining_, [&](const Joining& j) { return j.who.node == who.node && j.who <= who; });
  leaving_.push_back({who, cause, {epoch_, view_.id.number + 1}, {}, std::nullopt});
}

void ViewKeeper::suspected(const Incarnate& who, const std::string& cause, TimePoint now) {
  if (stepped_down_ || !view_.contains(who)) return;
  take_out(who, cause);
  change(now, text(who) + " left: " + cause);
}

void ViewKeeper::heard(const Incarnate& who, TimePoint now) {
  if (stepped_down_) return;
  if (std::string cause = admit(who); !cause.empty()) change(now, cause);
}

// Takes a life in (for the next view); says why, or nothing when it is no news.
std::string ViewKeeper::admit(const Incarnate& who) {
  if (std::find(nodes_.begin(), nodes_.end(), who.node) == nodes_.end()) return {};
  const Incarnate* now_member = view_.find(who.node);
  if (now_member != nullptr && now_member->incarnation >= who.incarnation) return {};
  // A life taken out never comes back: its node rejoins as a new one.
  if (view_.taken_out(who)) return {};
  std::string cause = text(who) + " joins";
  if (now_member != nullptr) {
    // A new life of a member: the old one is over (its assignments are void).
    const Incarnate old = *now_member;
    take_out(old, "restarted as " + text(who));
    cause = text(old) + " restarted as " + text(who);
  }
  view_.members.insert(std::upper_bound(view_.members.begin(), view_.members.end(), who), who);
  joining_.push_back({who, {epoch_, view_.id.number + 1}, {}});
  return cause;
}

void ViewKeeper::change(TimePoint now, const std::string& cause) {
  ++view_.id.number;
  cause_ = cause;
  install(now);
  effects_.push_back(Installed{view_, cause});
}

void ViewKeeper::install(TimePoint now) {
  for (const NodeId& n : nodes_) {
    auto acked = acked_.find(n);
    if (acked == acked_.end() || acked->second < view_.id) {
      effects_.push_back(Send{n, ViewInstall{self_.node, view_, cause_}});
    }
  }
  next_resend_ = now + profile_.interval;
}

void ViewKeeper::receive(const ViewAck& ack, TimePoint now) {
  if (stepped_down_ || ack.view.epoch != epoch_ || !known(ack.from.node)) return;
  if (steps_down(ack.out, text(ack.from))) return;
  // A life some node knows to be taken out (by an earlier director, in a view this director's
  // node never installed) is out here too, and declared gone again once that is safe.
  std::string outs;
  for (const Incarnate& o : ack.out) {
    if (!known(o.node) || view_.taken_out(o)) continue;
    take_out(o, "taken out under an earlier director");
    outs += (outs.empty() ? "" : ", ") + text(o);
  }
  if (!outs.empty())
    change(now, outs + " taken out under an earlier director, as " + text(ack.from) + " reports");
  ViewId& newest = acked_[ack.from.node];
  newest = std::max(newest, ack.view);
  for (Leaving& l : leaving_) {
    // The gone life's own node does not count: its new life never acknowledged the old one.
    if (ack.view < l.removed_in || !voters_.count(ack.from.node) || ack.from.node == l.who.node ||
        l.bound_by.count(ack.from.node)) {
      continue;
    }
    // When this voter last acknowledged the gone life, and so how long (real time, the
    // voter's and the gone node's clocks drifting against us) the gone life's lease may last.
    Duration wait(0);
    const Duration lease = scaled(profile_.lease, 1.0 / (1.0 - profile_.drift)) + profile_.fence;
    // Any life of that node as new as the gone one counts: the node is declared gone, and a
    // newer life this director has not heard of may hold a lease too.
    for (const auto& [who, ago] : ack.last_acked_ago) {
      if (who.node == l.who.node && who.incarnation >= l.who.incarnation) {
        wait = std::max(wait, lease - scaled(ago, 1.0 / (1.0 + profile_.drift)));
      }
    }
    l.bound_by[ack.from.node] = now + scaled(wait, 1.0 + profile_.drift);
    if (!l.safe_at && l.bound_by.size() >= majority()) {
      TimePoint safe = now;
      for (const auto& [node, bound] : l.bound_by) safe = std::max(safe, bound);
      l.safe_at = safe;
    }
  }
  for (Joining& j : joining_) {
    if (ack.view >= j.added_in && voters_.count(ack.from.node))
      j.installed_by.insert(ack.from.node);
  }
  tick(now);
}

void ViewKeeper::tick(TimePoint now) {
  if (stepped_down_) return;
  for (auto it = leaving_.begin(); it != leaving_.end();) {
    if (it->safe_at && *it->safe_at <= now) {
      effects_.push_back(NodeLeft{it->who, it->cause});
      it = leaving_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = joining_.begin(); it != joining_.end();) {
    if (it->installed_by.size() >= majority()) {
      effects_.push_back(NodeJoined{it->who});
      it = joining_.erase(it);
    } else {
      ++it;
    }
  }
  if (now >= next_resend_) install(now);
}

std::optional<TimePoint> ViewKeeper::next_deadline() const {
  std::optional<TimePoint> next;
  if (stepped_down_) return next;
  bool waiting = false;
  for (const Leaving& l : leaving_) {
    if (l.safe_at) next = next ? std::min(*next, *l.safe_at) : *l.safe_at;
  }
  for (const auto& n : nodes_) {
    auto acked = acked_.find(n);
    if (acked == acked_.end() || acked->second < view_.id) waiting = true;
  }
  if (waiting) next = next ? std::min(*next, next_resend_) : next_resend_;
  return next;
}

// ---- Node ----

Node::Node(Incarnate self, std::vector<NodeId> nodes, std::set<NodeId> voters, Profile profile,
           TimePoint now)
    : member_(std::move(self), std::move(nodes), std::move(voters), std::move(profile), now) {
  route(now);
}

void Node::receive(const Message& message, TimePoint now) {
  if (const auto* ack = std::get_if<ViewAck>(&message)) {
    if (keeper_) keeper_->receive(*ack, now);
  } else {
    member_.receive(message, now);
  }
  route(now);
}

void Node::tick(TimePoint now) {
  member_.tick(now);
  if (keeper_) keeper_->tick(now);
  route(now);
}

std::optional<TimePoint> Node::next_deadline() const {
  std::optional<TimePoint> next = member_.next_deadline();
  if (keeper_) {
    if (auto k = keeper_->next_deadline()) next = next ? std::min(*next, *k) : *k;
  }
  return next;
}

void Node::lead(std::uint64_t epoch, const View& start, TimePoint now) {
  keeper_ = std::make_unique<ViewKeeper>(member_, epoch, start, now);
  route(now);
}

// Until both are quiet: each round hands over what the other must hear. Every hand-over
// either installs a newer view or answers one, so this ends; the bound says so if not.
void Node::route(TimePoint now) {
  const NodeId& self = member_.self().node;
  for (int round = 0;; ++round) {
    AMF_ASSERT(round < 1000);
    std::vector<Effect> from_member = member_.take_effects();
    std::vector<Effect> from_keeper = keeper_ ? keeper_->take_effects() : std::vector<Effect>{};
    if (from_member.empty() && from_keeper.empty()) return;
    for (Effect& e : from_member) {
      if (auto* s = std::get_if<Send>(&e); s && s->to == self) {
        if (keeper_ && std::holds_alternative<ViewAck>(s->message)) {
          keeper_->receive(std::get<ViewAck>(s->message), now);
        }
        continue;
      }
      if (keeper_) {
        if (auto* sus = std::get_if<Suspected>(&e)) keeper_->suspected(sus->who, sus->cause, now);
        if (auto* h = std::get_if<Heard>(&e)) keeper_->heard(h->who, now);
      }
      effects_.push_back(std::move(e));
    }
    for (Effect& e : from_keeper) {
      if (auto* s = std::get_if<Send>(&e); s && s->to == self) {
        member_.receive(s->message, now);
        continue;
      }
      if (auto* d = std::get_if<StepDown>(&e)) member_.leave(d->out, d->cause);
      effects_.push_back(std::move(e));
    }
    if (keeper_ && keeper_->stepped_down()) keeper_.reset();
  }
}

}  // namespace amf::membership
