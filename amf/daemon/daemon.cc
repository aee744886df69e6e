#include "amf/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "amf/core/assert.h"
#include "amf/daemon/durable_file.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

namespace fs = std::filesystem;

namespace {

// The checkpoint service as the configuration sets it: stored replicas with the file store.
checkpoint::ServiceSettings checkpoint_settings(const model::ClusterConfig& config) {
  checkpoint::ServiceSettings settings;
  settings.replica.recovery_wait = config.checkpoint_recovery_wait;
  return settings;
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::create(const Options& options,
                                               std::shared_ptr<const model::ClusterConfig> config,
                                               NodeId self, std::shared_ptr<spdlog::logger> log) {
  auto director = director::Director::create(config);
  if (!director) return tl::unexpected(director.error());
  Options with_state = options;
  if (with_state.state_dir.empty()) with_state.state_dir = with_state.runtime_dir;
  auto store = AdminStore::open(with_state.state_dir + "/admin-states.json");
  if (!store) return tl::unexpected(store.error());
  std::optional<director::Director> held;
  std::uint64_t incarnation = 0;
  std::uint64_t epoch = 1;
  std::error_code ec;
  fs::create_directories(with_state.state_dir, ec);
  if (config->nodes.size() == 1) {
    // The director's epoch is the number of this amfd's starts: the command ids, and so the
    // generations of the checkpoints' active replicas (which a file store keeps), only grow.
    auto starts = next_incarnation(with_state.state_dir + "/incarnation");
    if (!starts) return tl::unexpected(starts.error());
    epoch = *starts;
    // This amfd starts with no component running: what the amfd before it had set is
    // restored, and a shutdown that its stop cut short is complete (whatever it held is
    // gone): locked.
    director::AdminStates restored = store->states();
    for (auto& [entity, state] : restored) {
      if (state == model::AdminState::kShuttingDown) state = model::AdminState::kLocked;
    }
    director->restore_admin(restored, epoch, options.clock());
    held = std::move(*director);
  } else {
    // Several nodes: the director is whichever controller etcd elects (Cluster), and the
    // admin states are kept in etcd; this start of amfd is a new life of the node.
    auto life = next_incarnation(with_state.state_dir + "/incarnation");
    if (!life) return tl::unexpected(life.error());
    incarnation = *life;
  }
  std::unique_ptr<Daemon> daemon(new Daemon(with_state, std::move(config), std::move(self),
                                            std::move(held), std::move(*store), incarnation, epoch,
                                            std::move(log)));
  if (auto bound = daemon->bind(); !bound) return tl::unexpected(bound.error());
  return daemon;
}

Result<void> keep_incarnation(const std::string& path, std::uint64_t life) {
  return write_durably(path, std::to_string(life) + "\n", "the node's life number");
}

Result<std::uint64_t> next_incarnation(const std::string& path) {
  std::uint64_t last = 0;
  if (std::ifstream in(path); in) {
    std::string text;
    std::getline(in, text);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), last);
    if (ec != std::errc() || end != text.data() + text.size() ||
        last == std::numeric_limits<std::uint64_t>::max()) {
      return fail(path + " does not hold a node's life number ('" + text.substr(0, 40) +
                  "'); write in it a number above every earlier life of this node (amfctl "
                  "status showed it as 'life N'), or remove it while the whole cluster is down");
    }
  }
  if (auto kept = keep_incarnation(path, last + 1); !kept) return tl::unexpected(kept.error());
  return last + 1;
}

Daemon::Daemon(const Options& options, std::shared_ptr<const model::ClusterConfig> config,
               NodeId self, std::optional<director::Director> director, AdminStore store,
               std::uint64_t incarnation, std::uint64_t epoch, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      config_(config),
      self_(self),
      log_(std::move(log)),
      runtime_(config, self, std::move(director), *this, *this, options_.clock,
               runtime::Options{.incarnation = incarnation, .epoch = epoch}),
      store_(std::move(store)),
      incarnation_(incarnation) {}

Daemon::~Daemon() {
  cluster_.reset();  // nothing more from the other nodes
  // The adapters go while the runtime directory is still locked: what the process host sweeps
  // cannot race a new amfd's start.
  admin_.reset();
  checkpoints_.reset();
  components_.reset();
  processes_.reset();
  if (state_lock_fd_ >= 0) ::close(state_lock_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

// The runtime and log directories: owner rwx, group rx, nothing for others, whatever the
// umask; refused when they are symbolic links or belong to another user, since whoever can
// write there could plant sockets, or links for amfd to follow.
Result<void> Daemon::make_private_dirs() {
  for (const std::string& dir : {options_.runtime_dir, options_.log_dir, options_.state_dir}) {
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      std::error_code ec;
      fs::create_directories(dir, ec);  // missing parents: made as usual, then the leaf
      if (ec) return fail("cannot create directory " + dir + ": " + ec.message());
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
      return fail("cannot create directory " + dir + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) return fail(dir + " is a symbolic link; amfd needs a directory");
    if (!S_ISDIR(st.st_mode)) return fail(dir + " exists and is not a directory");
    if (st.st_uid != ::geteuid()) {
      return fail(dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to amfd's uid " +
                  std::to_string(::geteuid()) + "; remove it or choose another --runtime-dir");
    }
    if (::chmod(dir.c_str(), 0750) != 0) {
      return fail("cannot set the mode of " + dir + ": " + std::strerror(errno));
    }
  }
  return {};
}

Result<void> Daemon::bind() {
  if (auto made = make_private_dirs(); !made) return made;
  const std::string lock_path = options_.runtime_dir + "/amfd.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) return fail("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail("another amfd is running with runtime directory " + options_.runtime_dir);
  }
  if (fs::path(options_.state_dir) != fs::path(options_.runtime_dir)) {
    // Two amfds writing one store would each overwrite the other's changes.
    const std::string state_lock = options_.state_dir + "/amfd.lock";
    state_lock_fd_ = ::open(state_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (state_lock_fd_ < 0) return fail("cannot open " + state_lock + ": " + std::strerror(errno));
    if (::flock(state_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return fail("another amfd is running with state directory " + options_.state_dir);
    }
  }
  // We hold the lock: sockets left here are stale (a crashed amfd) and are replaced, and
  // whatever an earlier amfd on this directory left running is unsupervised.
  const auto now = options_.clock;
  components_ = std::make_unique<ComponentChannel>(
      io_, zmq_,
      ComponentChannel::Callbacks{
          .known = [this](const CompId& c) { return processes_->hosts(c); },
          .belongs = [this](const CompId& c, pid_t pid) { return processes_->belongs(c, pid); },
          .post = [this](node::Event e) { post(std::move(e)); },
          .record = [this](const model::Notification& n) { record(n); },
          .now = now,
          .checkpoint = [this](
                            node::PeerId peer,
                            const wire::CheckpointRequest& r) { checkpoints_->request(peer, r); }},
      log_);
  if (auto ok = components_->bind(options_.runtime_dir + "/components.sock"); !ok) return ok;
  std::unique_ptr<CheckpointStore> checkpoint_store;
  if (config_->checkpoint_store == model::CheckpointStorage::kFile) {
    auto opened = CheckpointStore::open(
        io_, options_.state_dir + "/checkpoints",
        [this](const checkpoint::CheckpointName& name, std::uint64_t record) {
          if (checkpoints_) checkpoints_->stored(name, record);
        },
        log_,
        [this](const checkpoint::CheckpointName& name) {
          if (checkpoints_) checkpoints_->store_broken(name);
        });
    if (!opened) return tl::unexpected(opened.error());
    checkpoint_store = std::move(*opened);
    log_->info("checkpoints: replicas kept in files under {}", checkpoint_store->dir());
  }
  checkpoints_ = std::make_unique<CheckpointHost>(
      io_, self_,
      CheckpointHost::Callbacks{
          .now = now,
          .reply = [this](node::PeerId peer,
                          const wire::ComponentMessage& m) { components_->send(peer, m); },
          .generation = [this](node::PeerId peer) -> std::optional<std::uint64_t> {
            const auto comp = runtime_.node().component_of(peer);
            if (!comp) return std::nullopt;
            return runtime_.node().active_since(*comp);
          },
          .replicas =
              [this](node::PeerId peer) {
                std::set<NodeId> nodes;
                const auto comp = runtime_.node().component_of(peer);
                const model::SgConfig* sg = comp ? config_->sg_of(*comp) : nullptr;
                if (sg) {
                  for (const auto& su : sg->sus) nodes.insert(su.node);
                }
                return nodes;
              },
          .send =
              [this](const NodeId& to, const checkpoint::Message& m) {
                if (cluster_) cluster_->send_checkpoint(to, m);
              }},
      log_, checkpoint_settings(*config_), std::move(checkpoint_store));
  admin_ = std::make_unique<AdminChannel>(
      io_, zmq_,
      AdminChannel::Callbacks{
          .status = [this] { return status(); },
          .forward_status =
              [this](std::uint64_t id) {
                // One node answers at once (status()); with several, the director gathers the
                // nodes' components (and may answer before this returns).
                if (!cluster_ || !runtime_.status(id)) return false;
                pump();
                return true;
              },
          .events = [this](std::uint64_t after,
                           std::size_t max) { return events_.read(after, max); },
          .start =
              [this](const director::AdminRequest& r) {
                // To the director here, or over the link to the one this node follows.
                if (!runtime_.admin(r)) return admin_->answer({r.id, false, no_director_here()});
                pump();
              },
          .refused =
              [this](const std::string& reason) {
                record(model::Notification{options_.clock(), model::NotificationKind::kError,
                                           self_.str(), "", "", "", reason});
              },
          .checkpoints = [this](const std::string& name) { return checkpoints_->list(name); }},
      log_);
  if (auto ok = admin_->bind(options_.runtime_dir + "/admin.sock"); !ok) return ok;
  if (!options_.remote_admin.empty()) {
    if (options_.cluster_key_file.empty()) {
      return fail("--remote-admin needs --cluster-key");  // main.cc says so before this
    }
    auto key = keys::ClusterKey::load(options_.cluster_key_file);
    if (!key) return tl::unexpected(key.error());
    if (auto ok = admin_->bind_remote("tcp://" + options_.remote_admin, *key); !ok) return ok;
  }
  processes_ = std::make_unique<ProcessHost>(
      io_, *config_,
      ProcessHost::Options{.runtime_dir = options_.runtime_dir,
                           .log_dir = options_.log_dir,
                           .component_endpoint = components_->endpoint(),
                           .use_cgroups = options_.use_cgroups,
                           .child_fd_limit = options_.child_fd_limit},
      ProcessHost::Callbacks{.post = [this](node::Event e) { post(std::move(e)); },
                             .record = [this](const model::Notification& n) { record(n); },
                             .process_gone =
                                 [this](const CompId& c) {
                                   if (!components_) return;  // amfd is going
                                   auto peer = components_->peer_of(c);
                                   if (peer && checkpoints_) checkpoints_->client_gone(*peer);
                                   components_->forget(c);
                                 },
                             .now = now},
      log_);
  if (auto opened = processes_->open(); !opened) return opened;
  if (auto opened = open_service_addresses(); !opened) return opened;
  return several_nodes() ? join_cluster() : Result<void>{};
}

Result<void> Daemon::open_service_addresses() {
  const auto addresses = ServiceAddresses::of_node(*config_, self_);
  if (addresses.empty()) return {};
  if (auto checked = ServiceAddresses::check(addresses); !checked) return checked;
  addresses_ = std::make_unique<ServiceAddresses>();
  announcements_ = std::make_unique<DeadlineTimer>(io_, [this] { announce_addresses(); });
  for (const auto& [si, address] : addresses) {
    auto present = addresses_->present(address);
    if (!present)
      return fail("service address of SI " + si.str() + ": " + present.error().message());
    if (!*present) continue;
    if (auto dropped = addresses_->drop(address); !dropped) {
      return fail("the service address of SI " + si.str() +
                  " is up on this host, left by an "
                  "earlier amfd, and cannot be taken down: " +
                  dropped.error().message());
    }
    log_->warn("service address {} of SI {} was up, left by an earlier amfd: taken down",
               address.str(), si.str());
    record(model::Notification{options_.clock(), model::NotificationKind::kLeftover, si.str(),
                               address.str(), "up", "down",
                               "left up by an earlier amfd; this life holds no assignment yet"});
  }
  return {};
}

void Daemon::float_address(const node::SetServiceAddress& e) {
  const char* from = e.up ? "down" : "up";
  const char* to = e.up ? "up" : "down";
  Result<void> done = addresses_ ? (e.up ? addresses_->raise(e.address, options_.clock())
                                         : addresses_->drop(e.address))
                                 : fail("this node has no service addresses to float");
  if (addresses_) announcements_->arm(addresses_->next_announcement());
  if (done) {
    record(model::Notification{options_.clock(), model::NotificationKind::kServiceAddress,
                               e.si.str(), e.address.str(), from, to,
                               e.up ? "active here" : "no longer active here"});
    return;
  }
  log_->error("service address {} of SI {} not brought {}: {}", e.address.str(), e.si.str(), to,
              done.error().message());
  record(model::Notification{options_.clock(), model::NotificationKind::kError, e.si.str(),
                             e.address.str(), from, to, done.error().message()});
  // Not up (an announcement that failed leaves it up: that is only said): the SI cannot be
  // served here, and goes to another SU. Not down: nothing to do but say so; the node that
  // raises it next takes it over by its announcements.
  if (!e.up) return;
  const Result<bool> up = addresses_ ? addresses_->present(e.address) : Result<bool>(false);
  if (!up || !*up) post(node::ServiceAddressFailed{e.si, done.error().message()});
}

void Daemon::announce_addresses() {
  for (const std::string& failed : addresses_->announce_due(options_.clock())) {
    log_->error("{}", failed);
    record(model::Notification{options_.clock(), model::NotificationKind::kError, self_.str(), "",
                               "", "", failed});
  }
  announcements_->arm(addresses_->next_announcement());
}

Result<void> Daemon::join_cluster() {
  Cluster::Settings settings{self_, incarnation_, std::nullopt};
  if (!options_.cluster_key_file.empty()) {
    auto key = keys::ClusterKey::load(options_.cluster_key_file);
    if (!key) return tl::unexpected(key.error());
    settings.key = *key;
  }
  auto cluster = Cluster::start(
      io_, *config_, settings,
      Cluster::Callbacks{
          .deliver =
              [this](const protocol::Envelope& e) {
                runtime_.receive(e);
                pump();
              },
          .won =
              [this](std::uint64_t epoch, std::vector<director::NodeUp> up,
                     director::AdminStates admin) {
                if (stopping_) {  // it would take over only to hand over again at once
                  log_->info("epoch {} won while amfd stops: not taking the director's role",
                             epoch);
                  return cluster_->resign("this node's amfd is stopping");
                }
                auto director = director::Director::create(config_);
                AMF_ASSERT(director.has_value());  // the same configuration created one before
                if (!runtime_.assume_director(std::move(*director), epoch)) {
                  log_->error("epoch {} won, but this node follows epoch {} already: not acting",
                              epoch, runtime_.followed_epoch());
                  return cluster_->resign("this node follows a newer epoch");
                }
                runtime_.take_over(up, std::move(admin));
                pump();
              },
          .lost =
              [this](const std::string&) {
                runtime_.resign();
                pump();
              },
          .to_director =
              [this](const director::Event& e) {
                if (!runtime_.has_director()) return;
                runtime_.to_director(e);
                pump();
              },
          .end_life = [this](const std::string& cause) { end_life(cause); },
          .record = [this](const model::Notification& n) { record(n); },
          .now = options_.clock,
          .checkpoint = [this](const checkpoint::Message& m) { checkpoints_->receive(m); },
          .members = [this](const std::set<NodeId>& up) { checkpoints_->members(up); }},
      log_);
  if (!cluster) return tl::unexpected(cluster.error());
  cluster_ = std::move(*cluster);
  return {};
}

// This node neither holds the director nor follows one yet: the election is still on, or the
// director elected has not reached this node yet (a node follows a director from its first
// command, the takeover's snapshot request or the greeting of a node that joins).
std::string Daemon::no_director_here() const {
  const auto director = cluster_ ? cluster_->director() : std::nullopt;
  if (!director) return "no director is known yet (the election is in progress); try again";
  if (director->director == self_) {
    return "this node won the director's role (epoch " + std::to_string(director->epoch) +
           ") and is still taking over (reading the admin states from etcd); try again";
  }
  return "node " + self_.str() + " does not follow the director yet (it is on node " +
         director->director.str() + ", epoch " + std::to_string(director->epoch) +
         ", and has sent this node no command); run amfctl on node " + director->director.str() +
         ", or try again";
}

// The lease ran out, or the director took this life out: whatever this node runs may already
// run elsewhere. Every component is killed at once, and amfd ends; started again, it is the
// node's next life, and the director brings its SUs back.
void Daemon::end_life(const std::string& cause) {
  if (life_ended_) return;
  life_ended_ = true;
  // An amfd asked to stop was ending its life anyway: its lease ran out while it waited for its
  // work to move (the director it followed had just stopped too, say). Its components are
  // killed all the same, and it exits as a stopped amfd does.
  exit_code_ = stopping_ ? 0 : kExitLifeEnded;
  log_->error("node {} life {} ends: {}; killing every component{}", self_.str(), incarnation_,
              cause, stopping_ ? " (amfd was stopping: it exits 0)" : "");
  record(model::Notification{options_.clock(), model::NotificationKind::kError, self_.str(), "", "",
                             "", "life " + std::to_string(incarnation_) + " ends: " + cause});
  // Its service addresses first: the standbys elsewhere may be promoted, and bring them up,
  // as soon as this life is over.
  if (addresses_) {
    for (const std::string& failed : addresses_->drop_all()) log_->error("{}", failed);
  }
  for (const auto& c : runtime_.node().components()) processes_->kill_now(c.id);
  // The replicas' claims (in service, active) were this life's.
  checkpoints_->life_ended();
  // A life taken out is followed by a newer one in the membership: the next start of amfd
  // must be newer still.
  if (const std::uint64_t now = cluster_->membership().member().self().incarnation;
      now > incarnation_) {
    if (auto kept = keep_incarnation(options_.state_dir + "/incarnation", now); !kept) {
      log_->error("{}", kept.error().message());
    }
  }
  io_.stop();
}

int Daemon::run() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [this, &on_signal](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (!stopping_) {
          begin_stop(signo);
        } else {
          log_->info("signal {} received again: terminating components now", signo);
          begin_shutdown();
        }
        signals_.async_wait(on_signal);
      };
  signals_.async_wait(on_signal);
  start();
  io_.run();
  if (life_ended_) return exit_code_;
  log_->info("all components terminated; amfd exits");
  return 0;
}

// One node: the director starts from the admin-state store.
void Daemon::restore_admin_store() {
  // The store holds from now on what differs from the configuration as restored: entries of
  // entities the configuration no longer has (reported as errors by the director) go, and a
  // shutdown cut short is written as the lock it became.
  if (const director::AdminStates kept = runtime_.director().admin_states();
      kept != store_.states()) {
    if (!store_.states().empty()) {
      log_->info(
          "admin states restored from {}: {} entries, {} of them kept (the rest are as "
          "configured, or of entities no longer configured)",
          store_.path(), store_.states().size(), kept.size());
    }
    if (auto written = store_.replace(kept); !written) log_->error("{}", written.error().message());
  } else if (!kept.empty()) {
    log_->info("admin states restored from {}: {} entities", store_.path(), kept.size());
  }
  runtime_.to_director(director::NodeUp{self_});
  pump();
  sd_notify(0, "READY=1\nSTATUS=supervising components");
}

void Daemon::start() {
  log_->info("amfd up on node {}: components at {}, admin at {}", self_.str(),
             components_->endpoint(), admin_->endpoint());
  if (several_nodes()) {
    // The director (wherever etcd elects it) brings this node in once the membership's view
    // has it.
    sd_notify(0, "READY=1\nSTATUS=supervising components");
    return;
  }
  restore_admin_store();
}

namespace {
// Whatever the admin socket takes at once, the director holds when this node forwards it.
static_assert(AdminChannel::kMaxOperations <= runtime::NodeRuntime::kMaxForwardedPerNode);
}  // namespace

void Daemon::begin_stop(int signo) {
  if (stopping_ || shutting_down_) return;
  stopping_ = true;
  if (!director_heard()) {
    // Nobody to move the assignments to other nodes: once this node has left the view, the
    // director that comes fails its SUs over.
    log_->info("node {} follows no director that it hears: terminating components", self_.str());
    return begin_shutdown();
  }
  log_->info(
      "signal {} received: moving the assignments of node {} to other nodes before "
      "terminating components",
      signo, self_.str());
  sd_notify(0, "STOPPING=1\nSTATUS=moving assignments to other nodes");
  stop_by_ = options_.clock() + node::leave_bound(*config_, self_);
  watch_stop();
  // The director (here, or the one this node follows) moves them as a lock of the node would,
  // without changing its admin state: the node comes back as the operator left it.
  post(node::Leave{"its amfd stops (signal " + std::to_string(signo) + ")"});
}

bool Daemon::director_heard() const {
  if (runtime_.has_director()) return true;
  const auto& followed = runtime_.followed();
  return followed && cluster_ && cluster_->membership().member().hears(followed->node);
}

// While the node leaves: it ends its components at the bound, or as soon as the director it
// follows is not heard any more (it died, or this node is cut off; its successor, if any, fails
// over whatever is left here once this node is gone). Evacuated, pump() ends them.
void Daemon::watch_stop() {
  stop_timer_.expires_after(std::chrono::milliseconds(50));
  stop_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || shutting_down_) return;
    if (options_.clock() >= stop_by_) {
      log_->warn(
          "node {} still holds assignments after {} ms: terminating components", self_.str(),
          std::chrono::duration_cast<std::chrono::milliseconds>(node::leave_bound(*config_, self_))
              .count());
      return begin_shutdown();
    }
    if (!director_heard()) {
      log_->warn("node {} no longer hears the director it follows: terminating components",
                 self_.str());
      return begin_shutdown();
    }
    watch_stop();
  });
}

void Daemon::begin_shutdown() {
  if (shutting_down_) return;
  stop_timer_.cancel();
  shutting_down_ = true;
  sd_notify(0, "STOPPING=1\nSTATUS=terminating components");
  post(node::Shutdown{});
  processes_->drop_held_starts();
}

// ---- routing: the node runtime carries the cores' effects here ----

void Daemon::post(node::Event event) {
  runtime_.post(std::move(event));
  pump();
}

// The runtime hands the cores at most its bound of events per call; the rest waits for the
// next turn of the loop (posted), so a start-up of thousands of SGs or a storm of exits never
// keeps amfd from its sockets, timers and process exits for long.
void Daemon::pump() {
  if (runtime_.pump() && !resume_posted_) {
    resume_posted_ = true;
    boost::asio::post(io_, [this] {
      resume_posted_ = false;
      pump();
    });
  }
  arm_timer();
  if (stopping_ && !shutting_down_ && !evacuated_ && runtime_.node().evacuated()) {
    evacuated_ = true;
    log_->info("node {} holds no assignment any more: terminating components", self_.str());
    // Not from within this pump's call chain (a host's effect may have called it).
    boost::asio::post(io_, [this] { begin_shutdown(); });
  }
  if (shutting_down_ && runtime_.node().stopped()) stop_when_clean();
}

// Every component has ended; a cleanup after a death may still be removing what one left
// (bounded by its cleanup timeout, after which it is killed).
void Daemon::stop_when_clean() {
  if (!processes_->cleaning_up()) return io_.stop();
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) stop_when_clean();
  });
}

void Daemon::send(const protocol::Envelope& envelope) {
  if (cluster_) return cluster_->transport().send(envelope);
  log_->error("message for node {} dropped: a cluster of one node has no other nodes",
              envelope.to.node.str());
}

void Daemon::deposed(std::uint64_t epoch) {
  log_->warn("this node's director no longer acts: the director of epoch {} does", epoch);
  // What it had not finished is not known to be done: the operator asks the new director.
  admin_->fail_all("the director on node " + self_.str() +
                   " stopped acting before the operation ended (another node directs from "
                   "epoch " +
                   std::to_string(epoch) + " on); check with amfctl status and try again");
}

void Daemon::admin_result(const director::AdminResult& result) { admin_->answer(result); }

void Daemon::notify(const model::Notification& n) { record(n); }

void Daemon::admin_state(const director::AdminStateChanged& change) {
  if (cluster_) return cluster_->admin_state(change);
  if (auto kept = store_.put(change); !kept) {
    log_->error("{}", kept.error().message());
    record(model::Notification{options_.clock(), model::NotificationKind::kError, change.entity, "",
                               "", std::string(model::to_string(change.state)),
                               kept.error().message() +
                                   " (the change holds until amfd restarts, and is written with "
                                   "the next one)"});
  }
}

void Daemon::carry_out(const node::Effect& effect) {
  struct Visitor {
    Daemon& d;
    void operator()(const node::StartProcess& e) { d.processes_->start(e); }
    void operator()(const node::SignalProcess& e) { d.processes_->signal(e.comp, e.signal); }
    void operator()(const node::SendRegisterReply& e) {
      d.components_->send(e.peer, wire::RegisterReply{e.ok, e.message});
      d.components_->registration_answered(e.peer, e.ok);
    }
    void operator()(const node::SendCsiSet& e) {
      d.components_->send(
          e.peer, wire::CsiSet{e.invocation, e.csi.str(), e.ha, e.reason, e.attributes, e.active});
    }
    void operator()(const node::SendCsiRemove& e) {
      d.components_->send(e.peer, wire::CsiRemove{e.invocation, e.csi.str()});
    }
    void operator()(const node::SendHealthcheck& e) {
      d.components_->send(e.peer, wire::HealthcheckCallback{e.invocation, e.key});
    }
    void operator()(const node::SendTerminate& e) {
      d.components_->send(e.peer, wire::TerminateCallback{e.invocation});
    }
    void operator()(const node::SendProtectionGroup& e) {
      d.components_->send(e.peer,
                          wire::ProtectionGroup{e.request, e.csi, e.members, e.refusal, e.error,
                                                static_cast<std::uint32_t>(e.size)});
    }
    void operator()(const node::RunHook& e) { d.processes_->run_hook(e); }
    void operator()(const node::RunProbe& e) { d.processes_->run_probe(e); }
    void operator()(const node::SetServiceAddress& e) { d.float_address(e); }
    void operator()(const node::ToDirector&) { AMF_ASSERT(!"the runtime routes reports"); }
    void operator()(const model::Notification& n) { d.record(n); }
  };
  std::visit(Visitor{*this}, effect);
}

void Daemon::arm_timer() {
  const std::optional<TimePoint> next = runtime_.next_deadline();
  if (!next) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    runtime_.tick();
    pump();
  });
}

void Daemon::record(const model::Notification& n) {
  const wire::EventRecord& e = events_.append(n);
  log_->info("#{} {} {}{}{} {} -> {}{}", e.sequence, e.kind, e.entity, e.related.empty() ? "" : " ",
             e.related, e.from.empty() ? "-" : e.from, e.to.empty() ? "-" : e.to,
             e.cause.empty() ? "" : " (" + e.cause + ")");
}

// Each component this node runs, by the name of its SU: the node director's view (assignments
// not yet acknowledged included).
std::map<std::string, std::vector<wire::ComponentStatus>> Daemon::local_components() const {
  std::map<std::string, std::vector<wire::ComponentStatus>> out;
  for (const auto& c : runtime_.node().components()) {
    wire::ComponentStatus comp{c.id.str(),
                               std::string(model::to_string(c.presence)),
                               processes_->pid_of(c.id),
                               c.registered,
                               {}};
    for (const auto& [csi, ha] : c.csis) {
      comp.csis.push_back({csi.str(), std::string(model::to_string(ha))});
    }
    out[c.su.str()].push_back(std::move(comp));
  }
  return out;
}

// Linear in the cluster's size: the views are grouped once by SG and by SU, not searched for
// each SG (a status of 5,000 SGs took seconds that way).
wire::ClusterStatus Daemon::status() const {
  if (!runtime_.has_director()) return local_status();
  const director::Director& director = runtime_.director();
  wire::ClusterStatus out{config_->name,
                          self_.str(),
                          {},
                          std::string(model::to_string(director.cluster_admin())),
                          {},
                          {}};
  if (cluster_) {
    out.director = self_.str();
    out.epoch = runtime_.epoch();
    out.incarnation = incarnation_;
  }
  add_nodes(out, [&](const NodeId& node) {
    return std::string(model::to_string(director.node_admin(node)));
  });
  for (const auto& app : config_->applications) {
    out.applications.push_back(
        {app.id.str(), std::string(model::to_string(director.app_admin(app.id)))});
  }
  const auto sus = director.service_units();
  std::map<SgId, std::vector<const director::Director::SuView*>> sus_of;
  for (const auto& su : sus) sus_of[su.sg].push_back(&su);
  auto comps_of = local_components();
  for (const model::SgConfig* sg : config_->service_groups()) {
    wire::ServiceGroupStatus s{sg->id.str(),
                               std::string(model::to_string(sg->redundancy)),
                               director.busy(sg->id),
                               {},
                               {},
                               std::string(model::to_string(director.sg_admin(sg->id)))};
    for (const director::Director::SuView* su : sus_of[sg->id]) {
      s.service_units.push_back(
          {su->id.str(), su->node.str(), std::string(model::to_string(su->own_admin)),
           std::string(model::to_string(su->oper)), std::string(model::to_string(su->presence)),
           std::string(model::to_string(su->readiness)), std::move(comps_of[su->id.str()])});
    }
    std::map<SiId, std::vector<wire::SiAssignmentStatus>> assigned;
    for (const auto& a : director.assignments(sg->id)) {
      assigned[a.si].push_back({a.su.str(), std::string(model::to_string(a.ha))});
    }
    for (const auto& si : sg->sis) {
      s.service_instances.push_back({si.id.str(),
                                     std::move(assigned[si.id]),
                                     std::string(model::to_string(director.si_admin(si.id))),
                                     "",
                                     {}});
      add_service_address(si, s.service_instances.back());
    }
    out.service_groups.push_back(std::move(s));
  }
  return out;
}

// A node that does not hold the director, on its own: its components, what they run and for
// which CSIs; the SGs' and SUs' states are the director's (merged_status()).
wire::ClusterStatus Daemon::local_status() const {
  wire::ClusterStatus out{config_->name, self_.str(), {}, "-", {}, {}};
  if (const auto director = cluster_ ? cluster_->director() : std::nullopt) {
    out.director = director->director.str();
    out.epoch = director->epoch;
  }
  out.incarnation = incarnation_;
  if (cluster_) out.partial = no_director_here();
  add_nodes(out, [](const NodeId&) { return std::string("-"); });
  auto comps_of = local_components();
  for (const model::SgConfig* sg : config_->service_groups()) {
    wire::ServiceGroupStatus s{
        sg->id.str(), std::string(model::to_string(sg->redundancy)), false, {}, {}, "-"};
    for (const auto& su : sg->sus) {
      if (su.node != self_) continue;
      s.service_units.push_back(
          {su.id.str(), su.node.str(), "-", "-", "-", "-", std::move(comps_of[su.id.str()])});
    }
    // The SIs whose address is up here (what the director shows needs this node's word).
    for (const auto& si : sg->sis) {
      wire::ServiceInstanceStatus row{si.id.str(), {}, "-", "", {}};
      add_service_address(si, row);
      if (!row.address_up_on.empty()) s.service_instances.push_back(std::move(row));
    }
    out.service_groups.push_back(std::move(s));
  }
  return out;
}

// The director's status as this node shows it: its SGs, SUs, SIs and admin states, with this
// node's own components (the director knows its own node's only) and this node's view of the
// membership and of the store.
wire::ClusterStatus Daemon::merged_status(wire::ClusterStatus from_director) const {
  wire::ClusterStatus out = std::move(from_director);
  out.node = self_.str();
  out.incarnation = incarnation_;
  std::map<std::string, std::string> admin;
  for (const auto& n : out.nodes) admin[n.name] = n.admin_state;
  out.nodes.clear();
  add_nodes(out, [&](const NodeId& node) {
    const auto it = admin.find(node.str());
    return it == admin.end() ? std::string("-") : it->second;
  });
  auto comps_of = local_components();
  for (auto& sg : out.service_groups) {
    for (auto& su : sg.service_units) {
      if (su.node == self_.str()) su.components = std::move(comps_of[su.name]);
    }
  }
  return out;
}

// The director's status with the other nodes' components: each node's part is its own status
// (local_status()), of which only the components of its own SUs are taken (a node that lies
// about another's is not believed).
Result<std::string> Daemon::director_status(const runtime::GatheredStatus& gathered) {
  wire::ClusterStatus out = status();
  std::map<std::string, wire::ServiceUnitStatus*> sus;      // by name
  std::map<std::string, wire::ServiceInstanceStatus*> sis;  // by name
  for (auto& sg : out.service_groups) {
    for (auto& su : sg.service_units) sus[su.name] = &su;
    for (auto& si : sg.service_instances) sis[si.name] = &si;
  }
  for (const auto& [node, bytes] : gathered.parts) {
    auto reply = wire::decode_admin_reply(bytes);
    if (!reply || !std::holds_alternative<wire::ClusterStatus>(*reply)) {
      out.components_missing.push_back(
          node.str() + ": its answer does not decode: " +
          (reply ? std::string("not a status") : reply.error().message()));
      continue;
    }
    for (auto& sg : std::get<wire::ClusterStatus>(*reply).service_groups) {
      for (auto& su : sg.service_units) {
        const auto it = sus.find(su.name);
        if (it == sus.end() || it->second->node != node.str()) continue;
        it->second->components = std::move(su.components);
      }
      for (const auto& si : sg.service_instances) {
        const auto it = sis.find(si.name);
        const bool here = std::find(si.address_up_on.begin(), si.address_up_on.end(), node.str()) !=
                          si.address_up_on.end();
        if (it != sis.end() && here && !it->second->service_address.empty()) {
          it->second->address_up_on.push_back(node.str());
        }
      }
    }
  }
  for (const auto& [node, why] : gathered.missing) {
    out.components_missing.push_back(node.str() + ": " + why);
  }
  if (!gathered.for_node) return wire::encode(wire::AdminReply{out});  // for this node's amfctl
  return encode_for_another_node(out, "its status takes");
}

Result<std::string> Daemon::status_part() {
  return encode_for_another_node(local_status(), "its components take");
}

Result<std::string> Daemon::encode_for_another_node(const wire::ClusterStatus& status,
                                                    const std::string& what) const {
  std::string bytes = wire::encode(wire::AdminReply{status});
  if (bytes.size() > kMaxStatusBytes) {
    return fail(what + " " + std::to_string(bytes.size()) + " bytes, more than the " +
                std::to_string(kMaxStatusBytes) + " bytes it sends to another node; run " +
                "amfctl status on node " + self_.str());
  }
  return bytes;
}

void Daemon::status_answer(std::uint64_t id, Result<std::string> bytes) {
  std::string why;
  if (bytes) {
    auto reply = wire::decode_admin_reply(*bytes);
    if (reply && std::holds_alternative<wire::ClusterStatus>(*reply)) {
      return admin_->status_answer(id, merged_status(std::get<wire::ClusterStatus>(*reply)));
    }
    why = "the director's status does not decode: " +
          (reply ? std::string("not a status") : reply.error().message());
  } else {
    why = bytes.error().message();
  }
  log_->warn("amfctl status: {}; showing this node's own part", why);
  wire::ClusterStatus out = local_status();
  out.partial = why;
  admin_->status_answer(id, out);
}

void Daemon::add_service_address(const model::SiConfig& si,
                                 wire::ServiceInstanceStatus& row) const {
  if (!si.service_address) return;
  row.service_address = si.service_address->str();
  if (addresses_ && addresses_->raised(*si.service_address))
    row.address_up_on.push_back(self_.str());
}

void Daemon::add_nodes(wire::ClusterStatus& out,
                       const std::function<std::string(const NodeId&)>& admin_of) const {
  const membership::Member* member = cluster_ ? &cluster_->membership().member() : nullptr;
  for (const auto& node : config_->nodes) {
    wire::NodeStatus row{node.id.str(), admin_of(node.id), "", 0};
    if (member != nullptr) {
      row.membership = member->standing_of(node.id);
      row.incarnation = member->incarnation_of(node.id);
    }
    out.nodes.push_back(std::move(row));
  }
  if (member == nullptr) return;
  out.view_epoch = member->view().id.epoch;
  out.view_number = member->view().id.number;
  const runtime::StoreHealth& store = cluster_->store_health();
  const TimePoint now = options_.clock();
  const auto since = [&](TimePoint then) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
  };
  out.store.state = store.failing_since ? "unreachable"
                    : store.last_answer ? "reachable"
                                        : "not asked yet";
  out.store.last_answer_ms = store.last_answer ? since(*store.last_answer) : -1;
  out.store.failing_ms = store.failing_since ? since(*store.failing_since) : 0;
  out.store.error = store.failure;
}

}  // namespace amf::daemon
