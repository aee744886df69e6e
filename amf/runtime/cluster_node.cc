#include "amf/runtime/cluster_node.h"

#include <algorithm>

#include "amf/core/assert.h"
#include "amf/runtime/cluster_store.h"

namespace amf::runtime {

Duration election_grace(const membership::Profile& p) {
  return std::max<Duration>(10 * p.timeout, std::chrono::seconds(1));
}

Duration store_answer_timeout(const membership::Profile& p) { return election_grace(p) / 2; }

namespace {

// A follower of a director it does not suspect reads the record a quarter of the grace apart
// (250 ms with the fast profile, 1.25 s with the default), not every membership timeout: the
// reads were most of an idle amfd's CPU (amf-cluster-bench --idle).
Duration follow_interval(const membership::Profile& p) {
  return std::max<Duration>(p.timeout, election_grace(p) / 4);
}

constexpr Duration kAdminReadRetry = std::chrono::seconds(1);
constexpr Duration kAdminWriteRetry = std::chrono::milliseconds(100);

}  // namespace

std::string describe(const ClusterEffect& effect) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, membership::Send>) {
          return "send to " + e.to.str() + ": " + membership::describe(e.message);
        } else if constexpr (std::is_same_v<T, store::Get>) {
          return "store get #" + std::to_string(e.id) + " " + e.key;
        } else if constexpr (std::is_same_v<T, store::Put>) {
          return "store put #" + std::to_string(e.id) + " " + e.key + " if revision " +
                 std::to_string(e.expected);
        } else if constexpr (std::is_same_v<T, TakeOver>) {
          return "take over as the director of epoch " + std::to_string(e.epoch) + " with " +
                 std::to_string(e.up.size()) + " node(s) and " + std::to_string(e.admin.size()) +
                 " admin state(s)";
        } else if constexpr (std::is_same_v<T, GiveUp>) {
          return "give up the director's role: " + e.cause;
        } else if constexpr (std::is_same_v<T, ToDirector>) {
          if (const auto* up = std::get_if<director::NodeUp>(&e.event)) {
            return "to the director: node " + up->node.str() + " up (life " +
                   std::to_string(up->incarnation) + ")";
          }
          if (const auto* down = std::get_if<director::NodeDown>(&e.event)) {
            return "to the director: node " + down->node.str() + " down: " + down->cause;
          }
          return "to the director";
        } else if constexpr (std::is_same_v<T, EndLife>) {
          return "end this life: " + e.cause;
        } else if constexpr (std::is_same_v<T, Report>) {
          return "report " + e.entity + ": " + e.cause;
        } else {
          return e.text;
        }
      },
      effect);
}

ClusterNode::ClusterNode(ClusterNodeSettings settings, TimePoint now)
    : settings_(std::move(settings)),
      node_(settings_.self, settings_.nodes, settings_.voters, settings_.profile, now),
      stand_at_(now + 2 * settings_.profile.timeout),
      director_key_(director_key(settings_.cluster)),
      admin_key_(admin_states_key(settings_.cluster)) {
  // A candidate is a controller, and controllers vote: a candidate that did not would hear no
  // other non-voter (they heartbeat to the voters only), and two such could depose each other.
  AMF_ASSERT(!settings_.candidate || settings_.voters.contains(settings_.self.node));
  settle(now);  // the first heartbeats
}

void ClusterNode::receive(const membership::Message& message, TimePoint now) {
  if (ended_) return;
  node_.receive(message, now);
  settle(now);
}

void ClusterNode::tick(TimePoint now) {
  if (ended_) return;
  node_.tick(now);
  if (!election_ && now >= stand_at_) {
    election_.emplace(
        membership::ElectionSettings{settings_.self.node, settings_.candidate,
                                     settings_.profile.timeout, election_grace(settings_.profile),
                                     follow_interval(settings_.profile)},
        now);
    tell_election(now);
  }
  if (election_) election_->tick(now);
  settle(now);  // a fence or a lost role comes before anything this node would do as director
  if (ended_) return;
  if (admin_retry_ && now >= *admin_retry_) {
    admin_retry_.reset();
    if (leading_ && taking_office_ && !claimed_) {
      read_admin();
    } else if (leading_) {
      write_admin();
    }
  }
  if (office_at_ && now >= *office_at_) {
    office_at_.reset();
    enter_office(now);
  }
  settle(now);
}

void ClusterNode::resign(const std::string& cause, TimePoint now) {
  if (ended_ || !election_) return;
  election_->resign(cause, now);
  settle(now);
}

std::optional<TimePoint> ClusterNode::next_deadline() const {
  if (ended_) return std::nullopt;
  std::optional<TimePoint> next = node_.next_deadline();
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(election_ ? election_->next_deadline() : std::optional<TimePoint>(stand_at_));
  consider(admin_retry_);
  consider(office_at_);
  return next;
}

// The election hears of each membership effect before the next one is acted on (a StepDown's
// Lost before the Fence that follows it: the runtime gives the director up before the life
// ends); what the election says may make the membership say more, acted on in turn.
void ClusterNode::settle(TimePoint now) {
  auto election_says = [&] {
    if (!election_) return;
    for (auto effects = election_->take_effects(); !effects.empty();
         effects = election_->take_effects()) {
      for (const membership::ElectionEffect& e : effects) on_election(e, now);
    }
  };
  election_says();
  for (auto effects = node_.take_effects(); !effects.empty(); effects = node_.take_effects()) {
    for (membership::Effect& e : effects) {
      on_membership(std::move(e), now);
      election_says();
    }
  }
}

void ClusterNode::report(const std::string& entity, const std::string& cause) {
  effects_.emplace_back(Report{model::NotificationKind::kError, entity, cause});
}

void ClusterNode::log(std::string text, Log::Level level) {
  effects_.emplace_back(Log{level, std::move(text)});
}

void ClusterNode::get(Purpose purpose, const std::string& key) {
  const std::uint64_t id = next_id_++;
  asked_.emplace(id, std::move(purpose));
  effects_.emplace_back(store::Get{id, key});
}

void ClusterNode::put(Purpose purpose, const std::string& key, std::int64_t expected,
                      std::string value) {
  const std::uint64_t id = next_id_++;
  asked_.emplace(id, std::move(purpose));
  effects_.emplace_back(store::Put{id, key, expected, std::move(value)});
}

void ClusterNode::tell_election(TimePoint now) {
  if (!election_ || ended_) return;
  const membership::Member& m = node_.member();
  // The election stands only after listening for two timeouts (stand_at_): by then a director's
  // node that is up has been heard. One never heard since this life started is suspected too,
  // though no Suspected says so (the membership suspects only the nodes it heard or its view
  // lists, and after a restart of every node no view lists any).
  const bool suspects =
      director_ && director_->director != settings_.self.node && !m.hears(director_->director);
  election_->membership({m.leased(now), m.hears_majority(), suspects}, now);
}

void ClusterNode::on_membership(membership::Effect effect, TimePoint now) {
  if (ended_) return;  // this life is over: nothing more is acted on
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, membership::Send>) {
          effects_.emplace_back(std::move(e));
        } else if constexpr (std::is_same_v<T, membership::Fence>) {
          unfenced_ = false;
          ended_ = true;
          effects_.emplace_back(EndLife{"fenced: " + e.cause});
        } else if constexpr (std::is_same_v<T, membership::Excluded>) {
          ended_ = true;
          effects_.emplace_back(EndLife{"this life is taken out of the view: " + e.cause});
        } else if constexpr (std::is_same_v<T, membership::StepDown>) {
          if (election_) election_->resign(e.cause, now);
        } else if constexpr (std::is_same_v<T, membership::NodeJoined> ||
                             std::is_same_v<T, membership::NodeLeft>) {
          if constexpr (std::is_same_v<T, membership::NodeJoined>) {
            if (leading_ && e.who == node_.member().self() && !installed_at_) {
              installed_at_ = now;  // a majority installed this term's first view
              enter_office(now);
            }
          }
          if (taking_office_) {
            held_.push_back(e);
          } else {
            membership_event(e);
          }
        } else if constexpr (std::is_same_v<T, membership::Suspected>) {
          report(e.who.node.str(),
                 "suspected (life " + std::to_string(e.who.incarnation) + "): " + e.cause);
        } else if constexpr (std::is_same_v<T, membership::Unfence>) {
          log("membership: lease granted (unfenced)");
          unfenced_ = true;
          enter_office(now);
        } else {
          log("membership: " + membership::describe(membership::Effect(e)), Log::Level::kDebug);
        }
      },
      effect);
  if (!ended_) tell_election(now);
}

// A view's NodeJoined and NodeLeft, for the director: each life told once.
void ClusterNode::membership_event(const membership::Effect& effect) {
  if (!leading_) return;
  if (const auto* joined = std::get_if<membership::NodeJoined>(&effect)) {
    if (told_.contains(joined->who)) return;  // the takeover had it already
    // A newer life of a node the director has up: the old one is over (it restarted), and
    // whatever it held with it; its NodeLeft, when it comes, finds nothing to tell.
    for (auto it = told_.begin(); it != told_.end();) {
      if (it->node != joined->who.node) {
        ++it;
        continue;
      }
      effects_.emplace_back(ToDirector{director::NodeDown{
          it->node, "restarted as life " + std::to_string(joined->who.incarnation)}});
      it = told_.erase(it);
    }
    told_.insert(joined->who);
    log("membership: node " + joined->who.node.str() + " life " +
        std::to_string(joined->who.incarnation) + " joined");
    effects_.emplace_back(ToDirector{director::NodeUp{joined->who.node, joined->who.incarnation}});
  } else if (const auto* left = std::get_if<membership::NodeLeft>(&effect)) {
    // A life the director never had needs no failover; a newer one of the node may be up.
    if (told_.erase(left->who) == 0) return;
    log("membership: node " + left->who.node.str() + " life " +
        std::to_string(left->who.incarnation) + " left: " + left->cause);
    effects_.emplace_back(ToDirector{director::NodeDown{left->who.node, left->cause}});
  }
}

void ClusterNode::on_election(const membership::ElectionEffect& effect, TimePoint now) {
  if (ended_) return;
  if (std::holds_alternative<membership::ReadRecord>(effect)) {
    get(RecordRead{}, director_key_);
  } else if (const auto* swap = std::get_if<membership::SwapRecord>(&effect)) {
    put(RecordSwap{swap->next}, director_key_, swap->expected, encode_record(swap->next));
  } else if (const auto* is = std::get_if<membership::DirectorIs>(&effect)) {
    if (!director_ || director_->director != is->director || director_->epoch != is->epoch) {
      log("election: the director is " + is->director.str() + " in epoch " +
          std::to_string(is->epoch));
    }
    director_ = *is;
  } else if (const auto* won = std::get_if<membership::Won>(&effect)) {
    director_ = membership::DirectorIs{settings_.self.node, won->epoch};
    take_office(won->epoch, now);
  } else if (const auto* lost = std::get_if<membership::Lost>(&effect)) {
    leave_office(lost->cause);
  }
  tell_election(now);
}

void ClusterNode::answer(std::uint64_t id, const store::Answer& answer, TimePoint now) {
  // Every answer says something of the store's health, a late one too.
  if (const auto* failed = std::get_if<store::Failed>(&answer)) {
    if (!store_health_.failing_since) store_health_.failing_since = now;
    store_health_.failure = failed->why;
  } else {
    store_health_.last_answer = now;
    store_health_.failing_since.reset();
    store_health_.failure.clear();
  }
  auto it = asked_.find(id);
  if (it == asked_.end() || ended_) return;
  Purpose purpose = std::move(it->second);
  asked_.erase(it);
  std::visit(
      [&](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, RecordRead> || std::is_same_v<T, RecordSwap>) {
          on_record(p, answer, now);
        } else {
          on_admin(p, answer, now);
        }
      },
      purpose);
  settle(now);
}

void ClusterNode::on_record(const RecordRead&, const store::Answer& answer, TimePoint now) {
  if (!election_) return;
  if (const auto* failed = std::get_if<store::Failed>(&answer)) {
    election_->store_failed(failed->why, now);
  } else if (const auto* got = std::get_if<store::Got>(&answer); got && !got->value) {
    election_->record(std::nullopt, now);
  } else if (got) {
    if (auto record = decode_record(got->value->value, got->value->mod_revision, director_key_)) {
      election_->record(*record, now);
    } else {
      election_->store_failed(record.error().message(), now);
    }
  } else {
    election_->store_failed("the store answered a read with a swap", now);
  }
}

void ClusterNode::on_record(const RecordSwap& swap, const store::Answer& answer, TimePoint now) {
  if (!election_) return;
  const auto* swapped = std::get_if<store::Swapped>(&answer);
  if (const auto* failed = std::get_if<store::Failed>(&answer)) {
    election_->store_failed(failed->why, now);
  } else if (swapped == nullptr) {
    election_->store_failed("the store answered a swap with a read", now);
  } else if (swapped->succeeded) {
    membership::Record stored = swap.next;
    stored.revision = swapped->revision;
    election_->swapped(stored, now);
  } else if (!swapped->current) {
    election_->record(std::nullopt, now);
  } else if (auto record = decode_record(swapped->current->value, swapped->current->mod_revision,
                                         director_key_)) {
    election_->record(*record, now);
  } else {
    election_->store_failed(record.error().message(), now);
  }
}

void ClusterNode::take_office(std::uint64_t epoch, TimePoint now) {
  log("election: this node won epoch " + std::to_string(epoch) +
      "; reading the admin states from etcd");
  // The lives the takeover waits for: every member of the view this node had installed, and
  // this life. Those the new views leave out are awaited until declared gone (NodeLeft: their
  // leases are over), so that no SI gets a new active while a node cut off from this one may
  // still be serving it; those they add join afterwards (NodeJoined).
  // And every life this node hears: a node that restarted (this one, or any) has an empty view,
  // yet the lives it hears may hold assignments from the director before; their snapshots say.
  // Of a node heard in a newer life than its view's, the newer only: its amfd started after
  // the old one ended (they share the node's lock), and the old life's NodeLeft, when it
  // comes, finds nothing to tell.
  const membership::Member& own = node_.member();
  std::map<NodeId, std::uint64_t> newest;
  auto consider = [&](const membership::Incarnate& who) {
    auto [it, added] = newest.try_emplace(who.node, who.incarnation);
    if (!added) it->second = std::max(it->second, who.incarnation);
  };
  for (const membership::Incarnate& who : own.view().members) consider(who);
  for (const membership::Incarnate& who : own.hearing()) consider(who);
  consider(own.self());
  start_.clear();
  for (const auto& [node, life] : newest) start_.insert({node, life});
  // Leading first: lead() may say at once that a life is gone (its lease long over), and that
  // must wait for the takeover, not be dropped.
  forget_term();
  ++term_;
  epoch_ = epoch;
  leading_ = true;
  taking_office_ = true;
  node_.lead(epoch, own.view(), now);
  read_admin();
}

// Until the admin states are read, the director does not act. A read that fails, or finds
// something that is not a store, is reported and tried again a second later: an operator's
// lock is never forgotten, and the director acts once the key is mended (or deleted).
void ClusterNode::read_admin() { get(AdminRead{term_}, admin_key_); }

void ClusterNode::on_admin(const AdminRead& read, const store::Answer& answer, TimePoint now) {
  if (read.term != term_ || !leading_) return;
  std::optional<std::string> problem;
  director::AdminStates admin;
  bool existed = false;
  admin_revision_ = 0;
  if (const auto* failed = std::get_if<store::Failed>(&answer)) {
    problem = "cannot read the admin states from etcd (" + failed->why + ")";
  } else if (const auto* got = std::get_if<store::Got>(&answer); got == nullptr) {
    problem = "the store answered a read with a swap";
  } else if (got->value) {
    if (auto parsed = parse_admin_states(got->value->value)) {
      admin = std::move(*parsed);
      admin_revision_ = got->value->mod_revision;
      existed = true;
    } else {
      problem = "etcd key " + admin_key_ + ": " + parsed.error().message() +
                "; mend it or delete it (a director then starts from the configured admin "
                "states)";
    }
  }
  if (problem) {
    report(settings_.self.node.str(),
           "the director of epoch " + std::to_string(epoch_) + " does not act yet: " + *problem);
    admin_retry_ = now + kAdminReadRetry;
    return;
  }
  // A shutdown that the director before did not live to finish is finished: locked.
  for (auto& [entity, state] : admin) {
    if (state == model::AdminState::kShuttingDown) state = model::AdminState::kLocked;
  }
  // The states just read are written back before this director acts, against the revision
  // read: a write of an earlier director still on its way (etcd clients retry) then fails
  // instead of landing after this read, unseen. If one landed first, they are read again.
  std::string text = admin_states_json(admin);
  put(AdminClaim{term_, std::move(admin), text}, admin_key_, existed ? admin_revision_ : 0, text);
}

void ClusterNode::on_admin(AdminClaim& claim, const store::Answer& answer, TimePoint now) {
  if (claim.term != term_ || !leading_) return;
  const auto* swapped = std::get_if<store::Swapped>(&answer);
  const bool mine =
      swapped != nullptr &&
      (swapped->succeeded || (swapped->current && swapped->current->value == claim.text));
  if (!mine) {
    const auto* failed = std::get_if<store::Failed>(&answer);
    log(failed != nullptr
            ? "cannot write the admin states back to etcd (" + failed->why + "): reading them again"
            : "admin states changed in etcd while this director read them: "
              "reading again");
    return read_admin();
  }
  admin_revision_ = swapped->succeeded ? swapped->revision : swapped->current->mod_revision;
  admin_ = claim.admin;
  claimed_admin_ = std::move(claim.admin);
  claimed_ = true;
  enter_office(now);
}

// A director acts only while its node holds its lease: a node cut off from the majority since
// it started may win an epoch (when etcd has no record, or names it), and must not assign an
// active that a majority's director could give to another node too.
//
// And only once a majority of the voters have installed a view of this term (the keeper says
// its own life joined), and a lease's length after: voters acknowledge no life outside the view
// they installed, so a life this node neither had in its view nor hears (its view was stale),
// which the takeover does not wait for, holds no lease by then and has stopped its actives.
void ClusterNode::enter_office(TimePoint now) {
  const membership::Member& own = node_.member();
  if (!taking_office_ || !claimed_ || !leading_ || !installed_at_ || !own.leased(now)) return;
  const membership::Profile& profile = own.profile();
  const auto bound = std::chrono::duration_cast<Duration>(
      (profile.lease / (1 - profile.drift) + profile.fence) * (1 + profile.drift));
  if (now < *installed_at_ + bound) {
    office_at_ = *installed_at_ + bound;
    return;
  }
  taking_office_ = false;
  claimed_ = false;
  office_at_.reset();
  std::vector<director::NodeUp> up;
  for (const membership::Incarnate& who : start_) {
    up.push_back({who.node, who.incarnation});
    told_.insert(who);
  }
  log("director of epoch " + std::to_string(epoch_) + " takes over with " +
      std::to_string(up.size()) + " node(s) and " + std::to_string(claimed_admin_.size()) +
      " admin state(s)");
  effects_.emplace_back(TakeOver{epoch_, std::move(up), std::exchange(claimed_admin_, {})});
  for (const membership::Effect& held : std::exchange(held_, {})) membership_event(held);
}

void ClusterNode::forget_term() {
  leading_ = false;
  taking_office_ = false;
  claimed_ = false;
  claimed_admin_.clear();
  installed_at_.reset();
  office_at_.reset();
  admin_retry_.reset();
  held_.clear();
  told_.clear();
  admin_dirty_ = false;
  admin_writing_ = false;
}

void ClusterNode::leave_office(const std::string& cause) {
  if (!leading_) return;
  log("election: this node stops acting as the director: " + cause, Log::Level::kWarning);
  forget_term();
  node_.stop_leading();
  effects_.emplace_back(GiveUp{cause});
}

void ClusterNode::admin_state(const director::AdminStateChanged& change, TimePoint now) {
  if (!leading_ || ended_) return;
  admin_[{change.kind, change.entity}] = change.state;
  admin_dirty_ = true;
  write_admin();
  settle(now);
}

// One write at a time, of everything changed since the last; against the revision this
// director last wrote or read, so that it never overwrites a successor's states.
void ClusterNode::write_admin() {
  if (admin_writing_ || !admin_dirty_ || !leading_ || taking_office_) return;
  admin_writing_ = true;
  admin_dirty_ = false;
  std::string text = admin_states_json(admin_);
  put(AdminWrite{term_, text}, admin_key_, admin_revision_, text);
}

void ClusterNode::on_admin(const AdminWrite& write, const store::Answer& answer, TimePoint now) {
  if (write.term != term_ || !leading_) return;
  admin_writing_ = false;
  if (const auto* failed = std::get_if<store::Failed>(&answer)) {
    admin_dirty_ = true;  // the store is unreachable: try again shortly
    log("admin states not written to etcd (" + failed->why + "); trying again",
        Log::Level::kWarning);
    admin_retry_ = now + kAdminWriteRetry;
    return;
  }
  const auto* swapped = std::get_if<store::Swapped>(&answer);
  if (swapped == nullptr) return;
  if (!swapped->succeeded && swapped->current && swapped->current->value == write.text &&
      !admin_dirty_) {
    // An earlier attempt of this very write landed (etcd answered late, and the client asked
    // again): done.
    admin_revision_ = swapped->current->mod_revision;
    return write_admin();
  }
  if (!swapped->succeeded) {
    report(settings_.self.node.str(),
           "the admin states in etcd were changed by another director: this one stands down");
    if (election_) election_->resign("another director wrote the admin states", now);
    return;
  }
  admin_revision_ = swapped->revision;
  write_admin();
}

}  // namespace amf::runtime
