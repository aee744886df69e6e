#include "amf/daemon/cluster.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "amf/checkpoint/service.h"
#include "amf/daemon/ip_port.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

namespace {

// A node's address as an endpoint's host: an IPv6 literal in brackets.
std::string host(const model::NodeConfig& node) {
  return node.address.find(':') == std::string::npos ? node.address : "[" + node.address + "]";
}

// Loopback, where the kernel alone carries the traffic: an IP address of 127.0.0.0/8 or ::1.
bool on_loopback(const std::string& address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  return !ec && ip.is_loopback();
}

// A member that does not take a connection within three membership timeouts (at least 250 ms)
// is taken for gone and the next one is asked. An answer may take the core's store answer
// timeout (half the election's grace): with 250 ms, every write failed on a CI machine whose
// disk had just taken a build, the claim of the admin states was made again and again, and no
// director ever took over.
// With this node's own member first (`own_first`), requests that went elsewhere while it was
// away go back to it a second later (EtcdClient::Timeouts::back_to_first).
EtcdClient::Timeouts etcd_timeouts(const membership::Profile& p, bool own_first) {
  return {std::max<Duration>(3 * p.timeout, std::chrono::milliseconds(250)),
          runtime::store_answer_timeout(p),
          own_first ? Duration(std::chrono::seconds(1)) : Duration::zero()};
}

// Whether the etcd member at `member` ("IP:PORT") runs on the node at `node_address`.
bool on_node(const std::string& member, const std::string& node_address) {
  auto ip_port = parse_ip_port(member, "etcd member");
  boost::system::error_code ec;
  const auto node = boost::asio::ip::make_address(node_address, ec);
  return !ec && ip_port && ip_port->first == node;
}

// An etcd answer for the core.
runtime::store::Answer got(const Result<std::optional<EtcdClient::KeyValue>>& r) {
  if (!r) return runtime::store::Failed{r.error().message()};
  if (!*r) return runtime::store::Got{};
  return runtime::store::Got{runtime::store::Value{(*r)->value, (*r)->mod_revision}};
}
runtime::store::Answer swapped(const Result<EtcdClient::Swap>& r) {
  if (!r) return runtime::store::Failed{r.error().message()};
  runtime::store::Swapped out{r->succeeded, r->revision, std::nullopt};
  if (r->current) out.current = runtime::store::Value{r->current->value, r->current->mod_revision};
  return out;
}

}  // namespace

Cluster::Cluster(boost::asio::io_context& io, const model::ClusterConfig& config,
                 runtime::ClusterNodeSettings core, Settings settings, Callbacks callbacks,
                 std::shared_ptr<spdlog::logger> log)
    : settings_(std::move(settings)),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      core_(std::move(core), Clock::now()),
      address_(config.find_node(settings_.self)->address),
      node_addresses_([&] {
        std::vector<std::pair<NodeId, std::string>> out;
        for (const auto& n : config.nodes) out.emplace_back(n.id, n.address);
        return out;
      }()),
      etcd_members_(own_member_first(config.etcd, address_)),
      etcd_(std::make_unique<EtcdClient>(io, etcd_members_,
                                         etcd_timeouts(core_.membership().member().profile(),
                                                       on_node(etcd_members_.front(), address_)))),
      etcd_own_(on_node(etcd_members_.front(), address_)
                    ? std::make_unique<EtcdClient>(
                          io, std::vector<std::string>{etcd_members_.front()},
                          etcd_timeouts(core_.membership().member().profile(), false))
                    : nullptr),
      etcd_leader_timer_(io),
      timer_(io, [this] {
        core_.tick(Clock::now());
        carry_out();
      }) {}

Cluster::~Cluster() {
  *alive_ = false;
  // The store first: its answers in flight must find no one.
  etcd_.reset();
  etcd_own_.reset();
  commands_.reset();
  membership_.reset();
}

Result<std::unique_ptr<Cluster>> Cluster::start(boost::asio::io_context& io,
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
  if (!settings.key) {
    for (const model::NodeConfig& node : config.nodes) {
      if (on_loopback(node.address)) continue;
      return fail("node '" + node.id.str() + "' has address " + node.address +
                  ", which is not on loopback: traffic between nodes off loopback is "
                  "authenticated with the cluster's key (and the command links encrypted); make "
                  "one with 'amfctl "
                  "keygen FILE', copy it to every node and give it to amfd with --cluster-key "
                  "FILE");
    }
  }

  runtime::ClusterNodeSettings core{
      {settings.self, settings.incarnation}, {}, {}, self->controller, *profile, config.name};
  MembershipSocket::Settings ms{
      "udp://" + host(*self) + ":" + std::to_string(self->membership_port), {}, settings.key};
  CommandTransport::Settings cs{settings.self,
                                "tcp://" + host(*self) + ":" + std::to_string(self->command_port),
                                {},
                                settings.key};
  for (const model::NodeConfig& node : config.nodes) {
    core.nodes.push_back(node.id);
    if (node.id == self->id) continue;
    ms.peers[node.id] = "udp://" + host(node) + ":" + std::to_string(node.membership_port);
    cs.peers[node.id] = "tcp://" + host(node) + ":" + std::to_string(node.command_port);
  }
  for (const NodeId& voter : config.voters()) core.voters.insert(voter);

  std::unique_ptr<Cluster> cluster(new Cluster(io, config, std::move(core), std::move(settings),
                                               std::move(callbacks), std::move(log)));
  Cluster& c = *cluster;
  auto commands = CommandTransport::start(
      io, cs,
      [&c](const protocol::Envelope& e) {
        // Commands wait for this node's lease (the links send them again): no active is
        // assigned here before a majority of the voters hears this node.
        if (c.core_.accepts_commands()) c.callbacks_.deliver(e);
      },
      [&c](const std::string& reason) {
        c.report(model::NotificationKind::kError, c.settings_.self.str(),
                 "command link: " + reason);
      });
  if (!commands) return tl::unexpected(commands.error());
  c.commands_ = std::move(*commands);
  PeerLinks::Settings ks{c.settings_.self,
                         "checkpoint socket",
                         "tcp://" + host(*self) + ":" + std::to_string(self->checkpoint_port),
                         {},
                         c.settings_.key};
  for (const model::NodeConfig& node : config.nodes) {
    if (node.id != self->id) {
      ks.peers[node.id] = "tcp://" + host(node) + ":" + std::to_string(node.checkpoint_port);
    }
  }
  auto checkpoint_links = PeerLinks::start(
      io, ks,
      [&c](const NodeId& from, std::string_view bytes) -> std::optional<std::string> {
        auto m = wire::decode_checkpoint_message(bytes);
        if (!m) return m.error().message();
        const NodeId& sender = checkpoint::header(*m).from;
        if (sender != from) return "a message that names " + sender.str() + " as its sender";
        // Replicas take nothing while this life is over or fenced: its claims are void.
        if (c.core_.accepts_commands() && c.callbacks_.checkpoint) c.callbacks_.checkpoint(*m);
        return std::nullopt;
      },
      [&c](const std::string& reason) {
        c.report(model::NotificationKind::kError, c.settings_.self.str(),
                 "checkpoint link: " + reason);
      });
  if (!checkpoint_links) return tl::unexpected(checkpoint_links.error());
  c.checkpoint_links_ = std::move(*checkpoint_links);
  auto socket = MembershipSocket::open(
      io, ms,
      [&c](const membership::Message& m) {
        c.core_.receive(m, Clock::now());
        c.carry_out();
      },
      [&c](const std::string& reason) {
        c.report(model::NotificationKind::kError, c.settings_.self.str(), "membership: " + reason);
      });
  if (!socket) return tl::unexpected(socket.error());
  c.membership_ = std::move(*socket);
  c.log_->info("node {} life {}: membership on {}, commands on {}, checkpoints on {}, etcd {}",
               c.settings_.self.str(), c.settings_.incarnation, ms.endpoint, cs.endpoint,
               ks.endpoint, c.etcd_members_.front());
  c.carry_out();  // the first heartbeats
  c.check_etcd_leader_later();
  return cluster;
}

void Cluster::send_checkpoint(const NodeId& to, const checkpoint::Message& m) {
  if (checkpoint_links_) checkpoint_links_->send(to, wire::encode(m));
}

void Cluster::report(model::NotificationKind kind, const std::string& entity,
                     const std::string& cause) {
  callbacks_.record(model::Notification{callbacks_.now(), kind, entity, "", "", "", cause});
}

void Cluster::admin_state(const director::AdminStateChanged& change) {
  core_.admin_state(change, Clock::now());
  carry_out();
}

void Cluster::resign(const std::string& cause) {
  core_.resign(cause, Clock::now());
  carry_out();
}

// While this node directs, etcd's leader should be a member on another node. When the
// director's node dies with etcd's leader on it, etcd must elect a leader before the new
// director's claim can be written, and the claim sent to a follower waits, forwarded to the dead
// leader, until the answer timeout (half a second with the fast profile) sends it to the next
// member: the three-node demo measured 350 to 560 ms of outage that way, against about 60 ms
// with etcd's leader elsewhere. So the director asks etcd (MoveLeader) to hand the role to
// another member when it wins an epoch and whenever a check, every half second while it
// directs, finds the leader on its own node. A node without an etcd member has nothing to do.
// It is not a safety matter: wherever etcd's leader is, the epoch's swap fences.
void Cluster::keep_etcd_leader_away() {
  if (!etcd_own_ || !core_.leads() || etcd_leader_checking_) return;
  etcd_leader_checking_ = true;
  auto done = [this](const std::string& why) {
    etcd_leader_checking_ = false;
    if (!why.empty()) log_->warn("etcd's leader: {}", why);
  };
  // Every question goes to this node's own member: it says who it is, and only the leader
  // takes a MoveLeader. Its trouble, if any, shows in the election's own requests.
  etcd_own_->status([this, alive = alive_, done](Result<EtcdClient::Status> status) {
    if (!*alive) return;
    if (!status || status->member == 0 || status->leader != status->member || !core_.leads()) {
      return done("");
    }
    const std::uint64_t own = status->member;
    etcd_own_->members([this, alive, done, own](Result<std::vector<EtcdClient::Member>> members) {
      if (!*alive) return;
      if (!members) return done("");
      // The first other member on a node in this node's view, but not the one a hand-over
      // failed to last: the next check tries the next.
      std::string own_name = std::to_string(own);
      const EtcdClient::Member* other = nullptr;
      for (const auto& m : *members) {
        if (m.id == own) own_name = m.name;
        const bool candidate = m.id != own && !m.client_urls.empty() && member_in_view(m);
        if (candidate && (other == nullptr || other->id == etcd_leader_refused_)) other = &m;
      }
      if (other == nullptr) return done("");  // a cluster of one member
      etcd_own_->move_leader(other->id, [this, alive, done, own_name, to = other->name,
                                         id = other->id](Result<void> moved) {
        if (!*alive) return;
        etcd_leader_refused_ = moved ? 0 : id;
        if (!moved) {
          return done("this node's member " + own_name +
                      " leads etcd while this node directs; handing the role to " + to +
                      " failed: " + moved.error().message());
        }
        log_->info(
            "etcd's leader was this node's member {}: handed to {}, so that losing the "
            "director's node does not cost an etcd election too",
            own_name, to);
        done("");
      });
    });
  });
}

bool Cluster::member_in_view(const EtcdClient::Member& m) const {
  const membership::View& view = core_.membership().member().view();
  for (const std::string& url : m.client_urls) {
    const auto slashes = url.find("//");
    const std::string host_port = slashes == std::string::npos ? url : url.substr(slashes + 2);
    for (const auto& [node, address] : node_addresses_) {
      if (on_node(host_port, address)) return view.find(node) != nullptr;
    }
  }
  return true;
}

void Cluster::check_etcd_leader_later() {
  etcd_leader_timer_.expires_after(std::chrono::milliseconds(500));
  etcd_leader_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    keep_etcd_leader_away();
    check_etcd_leader_later();
  });
}

void Cluster::carry_out() {
  if (carrying_out_ || !membership_) return;  // the loop in progress takes what was added
  carrying_out_ = true;
  for (auto effects = core_.take_effects(); !effects.empty(); effects = core_.take_effects()) {
    for (runtime::ClusterEffect& effect : effects) {
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, membership::Send>) {
              membership_->send(e);
            } else if constexpr (std::is_same_v<T, runtime::store::Get>) {
              etcd_->get(e.key, [this, alive = alive_, id = e.id](auto r) {
                if (!*alive) return;
                core_.answer(id, got(r), Clock::now());
                carry_out();
              });
            } else if constexpr (std::is_same_v<T, runtime::store::Put>) {
              etcd_->compare_and_put(e.key, e.expected, e.value,
                                     [this, alive = alive_, id = e.id](auto r) {
                                       if (!*alive) return;
                                       core_.answer(id, swapped(r), Clock::now());
                                       carry_out();
                                     });
            } else if constexpr (std::is_same_v<T, runtime::TakeOver>) {
              callbacks_.won(e.epoch, std::move(e.up), std::move(e.admin));
              keep_etcd_leader_away();
            } else if constexpr (std::is_same_v<T, runtime::GiveUp>) {
              callbacks_.lost(e.cause);
            } else if constexpr (std::is_same_v<T, runtime::ToDirector>) {
              // Not after `won` resigned at once (its GiveUp follows in this loop).
              if (core_.leads()) callbacks_.to_director(e.event);
            } else if constexpr (std::is_same_v<T, runtime::EndLife>) {
              callbacks_.end_life(e.cause);
            } else if constexpr (std::is_same_v<T, runtime::Report>) {
              report(e.kind, e.entity, e.cause);
            } else if (e.level == runtime::Log::Level::kWarning) {
              log_->warn("{}", e.text);
            } else if (e.level == runtime::Log::Level::kInfo) {
              log_->info("{}", e.text);
            } else {
              log_->debug("{}", e.text);
            }
          },
          effect);
    }
  }
  carrying_out_ = false;
  std::map<NodeId, std::uint64_t> members;
  for (const membership::Incarnate& life : core_.membership().member().view().members) {
    members[life.node] = life.incarnation;
  }
  if (members != members_ && callbacks_.members) {
    for (const std::set<NodeId>& up : checkpoint::member_views(members_, members)) {
      callbacks_.members(up);
    }
  }
  members_ = std::move(members);
  timer_.arm(core_.next_deadline());
}

}  // namespace amf::daemon
