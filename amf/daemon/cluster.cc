#include "amf/daemon/cluster.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

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
EtcdClient::Timeouts etcd_timeouts(const membership::Profile& p) {
  return {std::max<Duration>(3 * p.timeout, std::chrono::milliseconds(250)),
          runtime::store_answer_timeout(p)};
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
      etcd_(std::make_unique<EtcdClient>(io, config.etcd,
                                         etcd_timeouts(core_.membership().member().profile()))),
      timer_(io, [this] {
        core_.tick(Clock::now());
        carry_out();
      }) {}

Cluster::~Cluster() {
  *alive_ = false;
  // The store first: its answers in flight must find no one.
  etcd_.reset();
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
  c.log_->info("node {} life {}: membership on {}, commands on {}, etcd {}", c.settings_.self.str(),
               c.settings_.incarnation, ms.endpoint, cs.endpoint, config.etcd.front());
  c.carry_out();  // the first heartbeats
  return cluster;
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
  timer_.arm(core_.next_deadline());
}

}  // namespace amf::daemon
