#include "amf/daemon/cluster.h"

#include <algorithm>
#include <map>

#include "amf/daemon/admin_store.h"

namespace amf::daemon {

namespace {

// A node's address as an endpoint's host: an IPv6 literal in brackets.
std::string host(const model::NodeConfig& node) {
  return node.address.find(':') == std::string::npos ? node.address : "[" + node.address + "]";
}

// etcd is asked with a timeout well above a fsync on a loaded disk (a request that outlives it
// is tried on the next member), and a director that cannot read its record for the grace stops
// acting. Neither bounds a failover: that is the membership's timeout plus one swap.
Duration etcd_timeout(const membership::Profile& p) {
  return std::max<Duration>(3 * p.timeout, std::chrono::milliseconds(250));
}
Duration election_grace(const membership::Profile& p) {
  return std::max<Duration>(10 * p.timeout, std::chrono::seconds(1));
}

}  // namespace

Cluster::Cluster(boost::asio::io_context& io, const model::ClusterConfig& config, Settings settings,
                 Callbacks callbacks, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      config_(config),
      settings_(std::move(settings)),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      director_key_("/amf/" + config.name + "/director"),
      admin_key_("/amf/" + config.name + "/admin-states"),
      admin_retry_(io),
      election_start_(io),
      office_wait_(io) {}

Cluster::~Cluster() {
  *alive_ = false;
  election_start_.cancel();
  office_wait_.cancel();
  // The election first: its answers in flight must find no one.
  election_.reset();
  commands_.reset();
  membership_.reset();
  etcd_.reset();
}

Result<std::unique_ptr<Cluster>> Cluster::start(boost::asio::io_context& io, zmq::context_t& zmq,
                                                const model::ClusterConfig& config,
                                                Settings settings, Callbacks callbacks,
                                                std::shared_ptr<spdlog::logger> log) {
  const model::NodeConfig* self = config.find_node(settings.self);
  if (self == nullptr) return fail("node '" + settings.self.str() + "' is not configured");
  if (config.etcd.empty()) {
    return fail(
        "a cluster of several nodes elects its director through etcd: list its members "
        "under cluster: etcd: [HOST:PORT, ...]");
  }
  auto profile = membership::profile_named(config.membership_profile);
  if (!profile) return tl::unexpected(profile.error());
  std::unique_ptr<Cluster> cluster(
      new Cluster(io, config, std::move(settings), std::move(callbacks), std::move(log)));
  Cluster& c = *cluster;

  MembershipService::Settings ms{
      {c.settings_.self, c.settings_.incarnation},
      "udp://" + host(*self) + ":" + std::to_string(self->membership_port),
      {},
      {},
      *profile,
      c.settings_.key};
  CommandTransport::Settings cs{
      c.settings_.self, "tcp://" + host(*self) + ":" + std::to_string(self->command_port), {}};
  for (const model::NodeConfig& node : config.nodes) {
    if (node.id == self->id) continue;
    ms.peers[node.id] = "udp://" + host(node) + ":" + std::to_string(node.membership_port);
    cs.peers[node.id] = "tcp://" + host(node) + ":" + std::to_string(node.command_port);
  }
  for (const NodeId& voter : config.voters()) ms.voters.insert(voter);

  c.etcd_ = std::make_unique<EtcdClient>(io, config.etcd, etcd_timeout(*profile));
  auto commands = CommandTransport::start(
      io, zmq, cs,
      [&c](const protocol::Envelope& e) {
        // Commands wait for this node's lease (the links send them again): no active is
        // assigned here before a majority of the voters hears this node.
        if (c.unfenced_) c.callbacks_.deliver(e);
      },
      [&c](const std::string& reason) {
        c.report(model::NotificationKind::kError, c.settings_.self.str(),
                 "command link: " + reason);
      });
  if (!commands) return tl::unexpected(commands.error());
  c.commands_ = std::move(*commands);
  auto service = MembershipService::start(
      io, ms, [&c](const membership::Effect& e, TimePoint at) { c.on_membership(e, at); },
      [&c](const std::string& reason) {
        c.report(model::NotificationKind::kError, c.settings_.self.str(), "membership: " + reason);
      });
  if (!service) return tl::unexpected(service.error());
  c.membership_ = std::move(*service);
  // The election waits until this node has listened for two membership timeouts: a director
  // starts its views from the lives it hears, and one that heard nobody yet (a restarted
  // director's node wins its next epoch at once) would install a view without them, in which
  // they stop acknowledging each other and fence themselves.
  c.election_start_.expires_after(2 * profile->timeout);
  c.election_start_.async_wait([&c, alive = c.alive_, controller = self->controller,
                                profile = *profile](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    c.election_ = std::make_unique<DirectorElection>(
        c.io_, *c.etcd_, c.director_key_,
        membership::ElectionSettings{c.settings_.self, controller, profile.timeout,
                                     election_grace(profile)},
        [&c](const membership::ElectionEffect& e, TimePoint at) { c.on_election(e, at); });
  });
  c.log_->info("node {} life {}: membership on {}, commands on {}, etcd {}", c.settings_.self.str(),
               c.settings_.incarnation, ms.endpoint, cs.endpoint, config.etcd.front());
  return cluster;
}

void Cluster::report(model::NotificationKind kind, const std::string& entity,
                     const std::string& cause) {
  callbacks_.record(model::Notification{callbacks_.now(), kind, entity, "", "", "", cause});
}

void Cluster::tell_election() {
  if (!election_ || !membership_) return;
  const membership::Member& m = membership_->node().member();
  const bool suspects =
      director_ && director_->director != settings_.self && m.suspects(director_->director);
  election_->membership(m.leased(Clock::now()), suspects);
}

void Cluster::on_membership(const membership::Effect& effect, TimePoint) {
  if (ended_) return;  // this life is over: nothing more is acted on
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, membership::Fence>) {
          unfenced_ = false;
          ended_ = true;
          callbacks_.end_life("fenced: " + e.cause);
        } else if constexpr (std::is_same_v<T, membership::Excluded>) {
          ended_ = true;
          callbacks_.end_life("this life is taken out of the view: " + e.cause);
        } else if constexpr (std::is_same_v<T, membership::StepDown>) {
          if (election_) election_->resign(e.cause);
        } else if constexpr (std::is_same_v<T, membership::NodeJoined> ||
                             std::is_same_v<T, membership::NodeLeft>) {
          if constexpr (std::is_same_v<T, membership::NodeJoined>) {
            if (leading_ && e.who == membership_->node().member().self() && !installed_at_) {
              installed_at_ = Clock::now();  // a majority installed this term's first view
              enter_office();
            }
          }
          if (taking_office_) {
            held_.push_back(effect);
          } else {
            membership_event(effect);
          }
        } else if constexpr (std::is_same_v<T, membership::Suspected>) {
          report(model::NotificationKind::kError, e.who.node.str(),
                 "suspected (life " + std::to_string(e.who.incarnation) + "): " + e.cause);
        } else if constexpr (std::is_same_v<T, membership::Unfence>) {
          log_->info("membership: lease granted (unfenced)");
          unfenced_ = true;
          enter_office();
        } else {
          log_->debug("membership: {}", membership::describe(effect));
        }
      },
      effect);
  if (!ended_) tell_election();
}

void Cluster::membership_event(const membership::Effect& effect) {
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
      callbacks_.to_director(director::NodeDown{
          it->node, "restarted as life " + std::to_string(joined->who.incarnation)});
      it = told_.erase(it);
    }
    told_.insert(joined->who);
    log_->info("membership: node {} life {} joined", joined->who.node.str(),
               joined->who.incarnation);
    callbacks_.to_director(director::NodeUp{joined->who.node, joined->who.incarnation});
  } else if (const auto* left = std::get_if<membership::NodeLeft>(&effect)) {
    // A life the director never had needs no failover; a newer one of the node may be up.
    if (told_.erase(left->who) == 0) return;
    log_->info("membership: node {} life {} left: {}", left->who.node.str(), left->who.incarnation,
               left->cause);
    callbacks_.to_director(director::NodeDown{left->who.node, left->cause});
  }
}

void Cluster::resign(const std::string& cause) {
  if (election_) election_->resign(cause);
}

void Cluster::on_election(const membership::ElectionEffect& effect, TimePoint) {
  if (ended_) return;
  if (const auto* is = std::get_if<membership::DirectorIs>(&effect)) {
    if (!director_ || director_->director != is->director || director_->epoch != is->epoch) {
      log_->info("election: the director is {} in epoch {}", is->director.str(), is->epoch);
    }
    director_ = *is;
  } else if (const auto* won = std::get_if<membership::Won>(&effect)) {
    director_ = membership::DirectorIs{settings_.self, won->epoch};
    take_office(won->epoch);
  } else if (const auto* lost = std::get_if<membership::Lost>(&effect)) {
    leave_office(lost->cause);
  }
  tell_election();
}

void Cluster::take_office(std::uint64_t epoch) {
  log_->info("election: this node won epoch {}; reading the admin states from etcd", epoch);
  // The lives the takeover waits for: every member of the view this node had installed, and
  // this life. Those the new views leave out are awaited until declared gone (NodeLeft: their
  // leases are over), so that no SI gets a new active while a node cut off from this one may
  // still be serving it; those they add join afterwards (NodeJoined).
  // And every life this node hears: a node that restarted (this one, or any) has an empty view,
  // yet the lives it hears may hold assignments from the director before; their snapshots say.
  // Of a node heard in a newer life than its view's, the newer only: its amfd started after
  // the old one ended (they share the node's lock), and the old life's NodeLeft, when it
  // comes, finds nothing to tell.
  const membership::Member& own = membership_->node().member();
  std::map<NodeId, std::uint64_t> newest;
  auto consider = [&](const membership::Incarnate& who) {
    auto [it, added] = newest.try_emplace(who.node, who.incarnation);
    if (!added) it->second = std::max(it->second, who.incarnation);
  };
  for (const membership::Incarnate& who : own.view().members) consider(who);
  for (const membership::Incarnate& who : own.hearing()) consider(who);
  consider(own.self());
  std::set<membership::Incarnate> start;
  for (const auto& [node, life] : newest) start.insert({node, life});
  // Leading first: lead() may say at once that a life is gone (its lease long over), and that
  // must wait for the takeover, not be dropped.
  leading_ = true;
  taking_office_ = true;
  installed_at_.reset();
  held_.clear();
  told_.clear();
  membership_->lead(epoch);
  read_admin(++office_, epoch, std::move(start));
}

// Until the admin states are read, the director does not act. A read that fails, or finds
// something that is not a store, is reported and tried again a second later: an operator's
// lock is never forgotten, and the director acts once the key is mended (or deleted).
void Cluster::read_admin(std::uint64_t term, std::uint64_t epoch,
                         std::set<membership::Incarnate> start) {
  etcd_->get(admin_key_, [this, alive = alive_, term, epoch, start = std::move(start)](
                             Result<std::optional<EtcdClient::KeyValue>> got) mutable {
    if (!*alive || term != office_ || !leading_) return;
    std::optional<std::string> problem;
    director::AdminStates admin;
    admin_revision_ = 0;
    if (!got) {
      problem = "cannot read the admin states from etcd (" + got.error().message() + ")";
    } else if (*got) {
      if (auto parsed = parse_admin_states((*got)->value)) {
        admin = std::move(*parsed);
        admin_revision_ = (*got)->mod_revision;
      } else {
        problem = "etcd key " + admin_key_ + ": " + parsed.error().message() +
                  "; mend it or delete it (a director then starts from the configured admin "
                  "states)";
      }
    }
    if (problem) {
      report(model::NotificationKind::kError, settings_.self.str(),
             "the director of epoch " + std::to_string(epoch) + " does not act yet: " + *problem);
      admin_retry_.expires_after(std::chrono::seconds(1));
      admin_retry_.async_wait([this, term, epoch, start = std::move(start)](
                                  const boost::system::error_code& ec) mutable {
        if (!ec) read_admin(term, epoch, std::move(start));
      });
      return;
    }
    // A shutdown that the director before did not live to finish is finished: locked.
    for (auto& [entity, state] : admin) {
      if (state == model::AdminState::kShuttingDown) state = model::AdminState::kLocked;
    }
    claim_admin(term, epoch, std::move(start), std::move(admin), got && *got);
  });
}

// The states just read are written back before this director acts, against the revision read:
// a write of an earlier director still on its way (etcd clients retry) then fails instead of
// landing after this read, unseen. If one landed first, the states are read again.
void Cluster::claim_admin(std::uint64_t term, std::uint64_t epoch,
                          std::set<membership::Incarnate> start, director::AdminStates admin,
                          bool existed) {
  const std::string text = admin_states_json(admin);
  etcd_->compare_and_put(
      admin_key_, existed ? admin_revision_ : 0, text,
      [this, alive = alive_, term, epoch, start = std::move(start), admin = std::move(admin),
       text](Result<EtcdClient::Swap> swap) mutable {
        if (!*alive || term != office_ || !leading_) return;
        const bool mine =
            swap && (swap->succeeded || (swap->current && swap->current->value == text));
        if (!mine) {
          log_->info("admin states changed in etcd while this director read them: reading again");
          return read_admin(term, epoch, std::move(start));
        }
        admin_revision_ = swap->succeeded ? swap->revision : swap->current->mod_revision;
        admin_ = admin;
        pending_ = Pending{epoch, std::move(start), std::move(admin)};
        enter_office();
      });
}

// A director acts only while its node holds its lease: a node cut off from the majority since
// it started may win an epoch (when etcd has no record, or names it), and must not assign an
// active that a majority's director could give to another node too.
//
// And only once a majority of the voters have installed a view of this term (the keeper says
// its own life joined), and a lease's length after: voters acknowledge no life outside the view
// they installed, so a life this node neither had in its view nor hears (its view was stale),
// which the takeover does not wait for, holds no lease by then and has stopped its actives.
void Cluster::enter_office() {
  const membership::Member& own = membership_->node().member();
  const TimePoint now = Clock::now();
  if (!pending_ || !leading_ || !installed_at_ || !own.leased(now)) return;
  const membership::Profile& profile = own.profile();
  const auto bound = std::chrono::duration_cast<Duration>(
      (profile.lease / (1 - profile.drift) + profile.fence) * (1 + profile.drift));
  if (now < *installed_at_ + bound) {
    office_wait_.expires_at(*installed_at_ + bound);
    office_wait_.async_wait([this, term = office_](const boost::system::error_code& ec) {
      if (!ec && term == office_) enter_office();
    });
    return;
  }
  Pending p = std::move(*pending_);
  pending_.reset();
  taking_office_ = false;
  std::vector<director::NodeUp> up;
  for (const membership::Incarnate& who : p.start) {
    up.push_back({who.node, who.incarnation});
    told_.insert(who);
  }
  log_->info("director of epoch {} takes over with {} node(s) and {} admin state(s)", p.epoch,
             up.size(), p.admin.size());
  callbacks_.won(p.epoch, std::move(up), std::move(p.admin));
  for (const membership::Effect& held : std::exchange(held_, {})) membership_event(held);
}

void Cluster::leave_office(const std::string& cause) {
  if (!leading_) return;
  log_->warn("election: this node stops acting as the director: {}", cause);
  leading_ = false;
  taking_office_ = false;
  pending_.reset();
  installed_at_.reset();
  office_wait_.cancel();
  held_.clear();
  told_.clear();
  admin_dirty_ = false;
  admin_retry_.cancel();
  membership_->stop_leading();
  callbacks_.lost(cause);
}

void Cluster::admin_state(const director::AdminStateChanged& change) {
  if (!leading_) return;
  admin_[{change.kind, change.entity}] = change.state;
  admin_dirty_ = true;
  write_admin();
}

// One write at a time, of everything changed since the last; against the revision this
// director last wrote or read, so that it never overwrites a successor's states.
void Cluster::write_admin() {
  if (admin_writing_ || !admin_dirty_ || !leading_) return;
  admin_writing_ = true;
  admin_dirty_ = false;
  const std::uint64_t term = office_;
  etcd_->compare_and_put(
      admin_key_, admin_revision_, admin_states_json(admin_),
      [this, alive = alive_, term](Result<EtcdClient::Swap> swap) {
        if (!*alive) return;
        admin_writing_ = false;
        if (term != office_ || !leading_) return;
        if (!swap) {
          admin_dirty_ = true;  // etcd unreachable: try again shortly
          log_->warn("admin states not written to etcd ({}); trying again", swap.error().message());
          admin_retry_.expires_after(std::chrono::milliseconds(100));
          admin_retry_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) write_admin();
          });
          return;
        }
        if (!swap->succeeded && swap->current &&
            swap->current->value == admin_states_json(admin_) && !admin_dirty_) {
          // An earlier attempt of this very write landed (etcd answered late, and the client
          // asked again): done.
          admin_revision_ = swap->current->mod_revision;
          return write_admin();
        }
        if (!swap->succeeded) {
          report(model::NotificationKind::kError, settings_.self.str(),
                 "the admin states in etcd were changed by another director: this one stands "
                 "down");
          return election_->resign("another director wrote the admin states");
        }
        admin_revision_ = swap->revision;
        write_admin();
      });
}

}  // namespace amf::daemon
