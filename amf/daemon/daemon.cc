#include "amf/daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/post.hpp>

#include "amf/core/assert.h"
#include "amf/daemon/net_probe.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

namespace fs = std::filesystem;

namespace {

// The largest message amfd reads on each socket; a longer one closes that connection (ZeroMQ's
// maxmsgsize), so a peer cannot make amfd hold a frame of any size it declares. A CSI set is
// what components receive, not send; what they send is a few names and numbers.
constexpr std::int64_t kMaxComponentMessageBytes = 64 * 1024;
constexpr std::int64_t kMaxAdminMessageBytes = 64 * 1024;
// Events handed to the cores in one turn of the event loop (Daemon::pump).
constexpr std::size_t kMaxEventsPerPump = 64;
// The environment variable that marks every process of a component instance.
constexpr const char* kInstanceVariable = "AMF_COMPONENT_INSTANCE";
// Admin operations waiting for their result; more are refused with "try again".
constexpr std::size_t kMaxAdminOperations = 64;

std::string log_name(const CompId& comp) {
  std::string name = comp.str();
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".log";
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::create(const Options& options,
                                               std::shared_ptr<const model::ClusterConfig> config,
                                               NodeId self, std::shared_ptr<spdlog::logger> log) {
  auto director = director::Director::create(config);
  if (!director) return tl::unexpected(director.error());
  std::unique_ptr<Daemon> daemon(new Daemon(options, std::move(config), std::move(self),
                                            std::move(*director), std::move(log)));
  if (auto bound = daemon->bind(); !bound) return tl::unexpected(bound.error());
  return daemon;
}

Daemon::Daemon(const Options& options, std::shared_ptr<const model::ClusterConfig> config,
               NodeId self, director::Director director, std::shared_ptr<spdlog::logger> log)
    : options_(options),
      config_(config),
      self_(self),
      log_(std::move(log)),
      launcher_(io_, [this](pid_t pid, containers::ExitStatus s) { on_process_exit(pid, s); }),
      director_(std::move(director)),
      node_(config, self) {
  for (const model::SgConfig* sg : config_->service_groups()) {
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) comp_config_[comp.id] = &comp;
    }
  }
}

// amfd is the child subreaper of its containers' inits (main.cc); orphans of other components
// come to it too and are reaped here, never a child a launcher watches.
void Daemon::reap_strays() {
  const auto reaped = containers::OciLauncher::reap_stray_children(
      [this](pid_t pid) {
        return comp_by_pid_.count(pid) > 0 || hooks_.count(pid) > 0 || probes_.count(pid) > 0 ||
               clc_.count(pid) > 0 || daemonizing_.count(pid) > 0;
      });
  for (pid_t pid : reaped) log_->debug("reaped orphan process {}", pid);
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) reap_strays();
  });
}

Daemon::~Daemon() {
  for (const auto& [pid, hook] : hooks_) launcher_.signal(pid, SIGKILL);  // none outlives amfd
  for (const auto& [pid, probe] : probes_) launcher_.signal(pid, SIGKILL);
  for (const auto& [pid, clc] : clc_) launcher_.signal(pid, SIGKILL);
  component_watch_.reset();
  admin_watch_.reset();
  component_socket_.close();
  admin_socket_.close();
  for (const std::string& endpoint : {component_endpoint_, admin_endpoint_}) {
    if (endpoint.rfind("ipc://", 0) == 0) ::unlink(endpoint.substr(6).c_str());
  }
  // Nothing of a component outlives amfd: descendants that escaped the terminations end here.
  if (cgroups_) {
    if (auto ended = cgroups_->sweep(500); ended) {
      for (const auto& e : *ended) {
        log_->warn("ended process {} ({}) of {} at exit", e.pid, e.command, e.cgroup);
      }
    }
    ::rmdir(cgroups_->path().c_str());
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

// The runtime and log directories: owner rwx, group rx, nothing for others, whatever the
// umask; refused when they are symbolic links or belong to another user, since whoever can
// write there could plant sockets, or links for amfd to follow.
Result<void> Daemon::make_private_dirs() {
  for (const std::string& dir : {options_.runtime_dir, options_.log_dir}) {
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

namespace {

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    AMF_ASSERT(n > 0 || errno == EINTR);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

// The parent of `pid` (0 when it is gone).
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(text.substr(paren + 1));
  char state = 0;
  pid_t ppid = 0;
  rest >> state >> ppid;
  return state == 'Z' ? 0 : ppid;
}

bool gone(pid_t pid) { return ::kill(pid, 0) != 0 || parent_of(pid) == 0; }

// SIGKILLs `pids` and waits (at most 2 s) until they are gone, so that what they held (a port,
// a lock) is free before anything new starts.
void kill_and_wait(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (pid_t pid : pids) {
    while (!gone(pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

}  // namespace

Result<void> Daemon::end_leftovers() {
  auto tell = [this](pid_t pid, const std::string& instance, const std::string& command) {
    const std::string what = "ended process " + std::to_string(pid) + " (" + command +
                             ") of component instance " + instance +
                             ", left running by an earlier amfd on " + options_.runtime_dir;
    log_->warn("{}", what);
    record(model::Notification{Clock::now(), "leftover", instance, "", "running", "ended", what});
  };
  if (options_.use_cgroups) {
    auto tree = containers::CgroupTree::open(options_.runtime_dir);
    if (tree) {
      auto ended = tree->sweep();
      if (!ended) return fail("cannot end what an earlier amfd left running: " +
                              ended.error().message());
      for (const auto& e : *ended) tell(e.pid, e.cgroup, e.command);
      log_->info("components are contained in cgroup {}", tree->path());
      cgroups_ = std::move(*tree);
    } else {
      log_->warn("no cgroup for components ({}): a component's processes are found by their "
                 "process group and the {} mark in their environment instead",
                 tree.error().message(), kInstanceVariable);
    }
  }
  // Instances that an earlier amfd recorded by their mark (it ran without cgroups, or the
  // marked processes moved out of the tree).
  std::ifstream in(options_.runtime_dir + "/instances");
  std::string mark, comp;
  while (in >> mark >> comp) {
    const std::vector<pid_t> pids =
        containers::processes_with_mark(std::string(kInstanceVariable) + "=" + mark);
    for (pid_t pid : pids) tell(pid, comp, containers::command_line(pid));
    kill_and_wait(pids);
  }
  ::unlink((options_.runtime_dir + "/instances").c_str());
  return {};
}

// The marks of the running instances, for the next amfd should this one die without ending
// them. Only without cgroups: the cgroup tree is the record otherwise.
void Daemon::write_marks() const {
  if (cgroups_) return;
  const std::string path = options_.runtime_dir + "/instances";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    log_->warn("cannot write {}: {}", tmp, std::strerror(errno));
    return;
  }
  std::string text;
  for (const auto& [comp, instance] : instances_) {
    text += instance.mark.substr(instance.mark.find('=') + 1) + " " + comp.str() + "\n";
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    log_->warn("cannot write {}: {}", path, std::strerror(errno));
  }
}

Result<Daemon::Instance> Daemon::new_instance(const CompId& comp) {
  end_instance(comp);  // a component has one instance at a time
  Instance instance;
  instance.mark = std::string(kInstanceVariable) + "=" + random_hex(16);
  if (cgroups_) {
    // Leaves of ended instances whose processes have died by now.
    for (const std::string& leaf : dying_leaves_) cgroups_->remove(leaf);
    dying_leaves_.clear();
    instance.leaf = containers::path_element(comp.str()) + "." + std::to_string(next_instance_++);
  }
  instances_[comp] = instance;
  write_marks();
  return instance;
}

void Daemon::end_instance(const CompId& comp) {
  auto ended = instances_.extract(comp);
  if (!ended) return;
  write_marks();
  kill_instance(ended.mapped());
}

void Daemon::kill_instance(const Instance& instance) {
  if (cgroups_) {
    cgroups_->kill(instance.leaf);
    dying_leaves_.push_back(instance.leaf);
  } else {
    for (pid_t pid : containers::processes_with_mark(instance.mark)) ::kill(pid, SIGKILL);
  }
}

bool Daemon::belongs(const CompId& comp, pid_t pid) const {
  if (pid <= 0) return false;
  auto instance = instances_.find(comp);
  if (instance == instances_.end()) return false;
  if (cgroups_ && cgroups_->contains(instance->second.leaf, pid)) return true;
  std::vector<pid_t> roots;
  if (auto it = pid_by_comp_.find(comp); it != pid_by_comp_.end()) roots.push_back(it->second);
  for (const auto& [p, c] : daemonizing_) {
    if (c == comp) roots.push_back(p);
  }
  // A descendant (a container's processes descend from its init); bounded walk up.
  pid_t at = pid;
  for (int depth = 0; at > 1 && depth < 64; ++depth, at = parent_of(at)) {
    if (std::find(roots.begin(), roots.end(), at) != roots.end()) return true;
  }
  if (cgroups_) return false;  // the cgroup is the authority where there is one
  const auto marked = containers::processes_with_mark(instance->second.mark);
  return std::find(marked.begin(), marked.end(), pid) != marked.end();
}

Result<void> Daemon::bind() {
  if (auto made = make_private_dirs(); !made) return made;
  const std::string lock_path = options_.runtime_dir + "/amfd.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd_ < 0) return fail("cannot open " + lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail("another amfd is running with runtime directory " + options_.runtime_dir);
  }
  // We hold the lock: whatever an earlier amfd on this directory left running is unsupervised.
  if (auto ended = end_leftovers(); !ended) return ended;
  // We hold the lock, so sockets left here are stale (a crashed amfd): replace them.
  const std::string component_path = options_.runtime_dir + "/components.sock";
  const std::string admin_path = options_.runtime_dir + "/admin.sock";
  ::unlink(component_path.c_str());
  ::unlink(admin_path.c_str());
  // The sockets are created with no access for others (no window in which the umask decides),
  // then opened to the group: owner and group only, as for the admin socket.
  const mode_t umask_before = ::umask(0077);
  try {
    for (zmq::socket_t* s : {&component_socket_, &admin_socket_}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::router_mandatory, true);
    }
    component_socket_.set(zmq::sockopt::maxmsgsize, kMaxComponentMessageBytes);
    admin_socket_.set(zmq::sockopt::maxmsgsize, kMaxAdminMessageBytes);
    component_endpoint_ = "ipc://" + component_path;
    admin_endpoint_ = "ipc://" + admin_path;
    component_socket_.bind(component_endpoint_);
    admin_socket_.bind(admin_endpoint_);
  } catch (const zmq::error_t& e) {
    ::umask(umask_before);
    return fail(std::string("cannot bind sockets in ") + options_.runtime_dir + ": " + e.what());
  }
  ::umask(umask_before);
  ::chmod(component_path.c_str(), 0660);
  // The admin socket is guarded by file permissions: owner and group only.
  ::chmod(admin_path.c_str(), 0660);
  const bool containers = std::any_of(comp_config_.begin(), comp_config_.end(), [](const auto& c) {
    return c.second->runtime == model::Runtime::kOci;
  });
  const bool daemons = std::any_of(comp_config_.begin(), comp_config_.end(),
                                   [](const auto& c) { return !c.second->pid_file.empty(); });
  if (daemons && !containers) {  // orphaned daemons come to amfd (main.cc): reap the rest
    sigchld_.add(SIGCHLD);
    reap_strays();
  }
  if (containers) {
    containers::OciLauncher::Options oci;
    oci.state_dir = fs::absolute(options_.runtime_dir).string() + "/containers";
    oci.on_warning = [this](const std::string& w) { log_->warn("containers: {}", w); };
    oci_ = std::make_unique<containers::OciLauncher>(
        io_, oci, [this](const std::string&, pid_t pid, containers::ExitStatus s) {
          on_process_exit(pid, s);
        });
    // We hold the lock: containers left under our runtime directory are a crashed amfd's.
    auto orphans = oci_->cleanup_orphans();
    if (!orphans) return fail("cannot clean up containers of an earlier amfd: " +
                              orphans.error().message());
    for (const auto& id : orphans->containers) log_->warn("removed orphan container {}", id);
    for (const auto& b : orphans->bundles) log_->warn("removed orphan container bundle {}", b);
    log_->info("containers: runc state in {}; {}", oci.state_dir, oci_->cgroups().describe());
    sigchld_.add(SIGCHLD);
    reap_strays();
  }
  notify_ = std::make_unique<NotifySockets>(
      io_, fs::absolute(options_.runtime_dir).string() + "/notify",
      [this](const CompId& comp, pid_t sender, const Result<NotifyMessage>& m) {
        on_notify(comp, sender, m);
      });
  component_watch_ = std::make_unique<ZmqWatch>(
      io_, component_socket_, [this](auto& frames) { on_component_frames(frames); });
  admin_watch_ = std::make_unique<ZmqWatch>(io_, admin_socket_,
                                            [this](auto& frames) { on_admin_frames(frames); });
  return {};
}

void Daemon::run() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [this, &on_signal](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        log_->info("signal {} received: terminating components", signo);
        begin_shutdown();
        signals_.async_wait(on_signal);
      };
  signals_.async_wait(on_signal);
  start();
  io_.run();
  log_->info("all components terminated; amfd exits");
}

void Daemon::start() {
  log_->info("amfd up on node {}: components at {}, admin at {}", self_.str(), component_endpoint_,
             admin_endpoint_);
  director_.handle(director::NodeUp{self_}, Clock::now());
  pump();
  sd_notify(0, "READY=1\nSTATUS=supervising components");
}

void Daemon::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  sd_notify(0, "STOPPING=1\nSTATUS=terminating components");
  post(node::Shutdown{});
}

// ---- routing ----

void Daemon::post(node::Event event) {
  queue_.push_back(std::move(event));
  pump();
}

// Hands queued events to the cores and carries out their effects, in order. At most
// kMaxEventsPerPump events per turn of the loop: the rest waits for the next turn (posted to
// the loop), so a start-up of thousands of SGs or a storm of exits never keeps amfd from its
// sockets, timers and process exits for long. Order is kept: the queue is FIFO and a turn
// always finishes carrying out the effects it took.
void Daemon::pump() {
  if (pumping_) return;  // an effect posted an event: the running pump picks it up
  pumping_ = true;
  std::size_t handled = 0;
  while (true) {
    bool carried = false;
    for (const auto& e : director_.take_effects()) {
      carried = true;
      carry_out(e);
    }
    for (const auto& e : node_.take_effects()) {
      carried = true;
      carry_out(e);
    }
    if (carried) continue;
    if (queue_.empty() || handled == kMaxEventsPerPump) break;
    node::Event event = std::move(queue_.front());
    queue_.pop_front();
    node_.handle(event, Clock::now());
    ++handled;
  }
  pumping_ = false;
  if (!queue_.empty() && !resume_posted_) {
    resume_posted_ = true;
    boost::asio::post(io_, [this] {
      resume_posted_ = false;
      pump();
    });
  }
  arm_timer();
  if (shutting_down_ && node_.stopped()) io_.stop();
}

void Daemon::carry_out(const director::Effect& effect) {
  struct Visitor {
    Daemon& d;
    void operator()(const director::ToNode& e) {
      if (e.node == d.self_) {
        d.queue_.push_back(node::to_event(e.command));
      } else {
        d.log_->error("director command for node {} dropped: no transport to other nodes yet",
                      e.node.str());
      }
    }
    void operator()(const director::AdminResult& e) { d.answer_admin(e); }
    void operator()(const model::Notification& n) { d.record(n); }
  };
  std::visit(Visitor{*this}, effect);
}

void Daemon::carry_out(const node::Effect& effect) {
  struct Visitor {
    Daemon& d;
    void operator()(const node::StartProcess& e) { d.start_process(e); }
    void operator()(const node::SignalProcess& e) {
      d.signal_component(e.comp, e.signal == node::Signal::kKill ? SIGKILL : SIGTERM);
    }
    void operator()(const node::SendRegisterReply& e) {
      d.send_to_component(e.peer, wire::RegisterReply{e.ok, e.message});
      d.registration_answered(e.peer, e.ok);
    }
    void operator()(const node::SendCsiSet& e) {
      d.send_to_component(e.peer,
                          wire::CsiSet{e.invocation, e.csi.str(), e.ha, e.reason, e.attributes});
    }
    void operator()(const node::SendCsiRemove& e) {
      d.send_to_component(e.peer, wire::CsiRemove{e.invocation, e.csi.str()});
    }
    void operator()(const node::SendHealthcheck& e) {
      d.send_to_component(e.peer, wire::HealthcheckCallback{e.invocation, e.key});
    }
    void operator()(const node::RunHook& e) { d.run_hook(e); }
    void operator()(const node::RunProbe& e) { d.run_probe(e); }
    void operator()(const node::ToDirector& e) {
      std::visit([&](const auto& m) { d.director_.handle(m, Clock::now()); }, e.message);
    }
    void operator()(const model::Notification& n) { d.record(n); }
  };
  std::visit(Visitor{*this}, effect);
}

void Daemon::arm_timer() {
  std::optional<TimePoint> next = node_.next_deadline();
  if (auto d = director_.next_deadline(); d && (!next || *d < *next)) next = d;
  if (!next) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(*next);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or cancelled
    const TimePoint now = Clock::now();
    node_.tick(now);
    director_.tick(now);
    pump();
  });
}

void Daemon::record(const model::Notification& n) {
  const wire::EventRecord& e = events_.append(n);
  log_->info("#{} {} {}{}{} {} -> {}{}", e.sequence, e.kind, e.entity, e.related.empty() ? "" : " ",
             e.related, e.from.empty() ? "-" : e.from, e.to.empty() ? "-" : e.to,
             e.cause.empty() ? "" : " (" + e.cause + ")");
}

// ---- processes ----

void Daemon::signal_component(const CompId& comp, int signal) {
  auto it = pid_by_comp_.find(comp);
  if (it == pid_by_comp_.end()) return;
  auto config = comp_config_.find(comp);
  if (config != comp_config_.end()) {
    const model::ComponentConfig& c = *config->second;
    if (signal == SIGTERM && !c.terminate_command.empty()) {
      return run_clc(comp, it->second, c.terminate_command, false, c.timeouts.terminate);
    }
    if (signal == SIGKILL && !c.cleanup_command.empty()) {
      return run_clc(comp, it->second, c.cleanup_command, true, c.timeouts.cleanup);
    }
  }
  signal_process(comp, it->second, signal);
}

void Daemon::signal_process(const CompId& comp, pid_t pid, int signal) {
  auto it = pid_by_comp_.find(comp);
  if (it == pid_by_comp_.end() || it->second != pid) return;  // gone, or restarted since
  if (oci_ && comp_config_.at(comp)->runtime == model::Runtime::kOci) {
    oci_->signal(pid, signal);
  } else {
    launcher_.signal(pid, signal);
    // Cleanup reaches every process of the component, also those outside its process group.
    if (signal == SIGKILL) {
      if (auto it = instances_.find(comp); it != instances_.end()) kill_instance(it->second);
    }
  }
}

containers::ProcessSpec Daemon::helper_spec(const CompId& comp, std::vector<std::string> argv,
                                            const std::map<std::string, std::string>& extra) const {
  containers::ProcessSpec spec;
  spec.command = argv.at(0);
  spec.args.assign(argv.begin() + 1, argv.end());
  spec.env = comp_config_.at(comp)->env;
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_NAME"] = comp.str();
  for (const auto& [k, v] : extra) spec.env[k] = v;
  spec.working_dir = options_.runtime_dir;
  spec.log_path = options_.log_dir + "/" + log_name(comp);
  return spec;
}

void Daemon::start_process(const node::StartProcess& e) {
  if (auto config = comp_config_.find(e.comp);
      config != comp_config_.end() && config->second->runtime == model::Runtime::kOci) {
    return start_container(e, *config->second);
  }
  containers::ProcessSpec spec;
  spec.command = e.command;
  spec.args = e.args;
  spec.env = e.env;
  if (auto ok = prepare_notify(e.comp, spec.env, nullptr); !ok) {
    log_->warn("component {}: {}", e.comp.str(), ok.error().message());
    queue_.push_back(node::ProcessStartFailed{e.comp, ok.error().message()});
    return;
  }
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_SOCKET"] = component_endpoint_;
  spec.working_dir = options_.runtime_dir;
  spec.log_path = options_.log_dir + "/" + log_name(e.comp);
  auto start_failed = [&](const std::string& why) {
    log_->warn("component {}: {}", e.comp.str(), why);
    end_instance(e.comp);
    queue_.push_back(node::ProcessStartFailed{e.comp, why});
  };
  auto instance = new_instance(e.comp);
  if (!instance) return start_failed(instance.error().message());
  spec.env[kInstanceVariable] = instance->mark.substr(instance->mark.find('=') + 1);
  if (cgroups_) {
    auto fd = cgroups_->create(instance->leaf);
    if (!fd) return start_failed(fd.error().message());
    spec.cgroup_procs_fd = *fd;
  }
  auto pid = launcher_.start(spec);
  if (!pid) return start_failed(pid.error().message());
  if (!comp_config_.at(e.comp)->pid_file.empty()) {
    daemonizing_[*pid] = e.comp;  // started once it has left its daemon behind
    return;
  }
  pid_by_comp_[e.comp] = *pid;
  comp_by_pid_[*pid] = e.comp;
  queue_.push_back(node::ProcessStarted{e.comp});
}

// The instantiate command of a component with a pid_file ended: on success the daemon named
// in the file is adopted as the component's process.
void Daemon::daemonized(const CompId& comp, containers::ExitStatus status) {
  const std::string path = (fs::path(options_.runtime_dir) / comp_config_.at(comp)->pid_file).string();
  auto failed = [&](const std::string& why) {
    log_->warn("component {}: {}", comp.str(), why);
    end_instance(comp);  // whatever the command left behind goes with it
    post(node::ProcessStartFailed{comp, why});
  };
  if (status.signal != 0 || status.code != 0) {
    return failed("the instantiate command " + status.describe());
  }
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return failed("no PID in " + path + " after the instantiate command");
  // Only a process the instantiate command started may become the component: a PID file can
  // name any process on the node, and amfd would signal whatever it adopted.
  if (!belongs(comp, static_cast<pid_t>(pid))) {
    return failed(path + " names pid " + std::to_string(pid) +
                  ", which is not a process that the instantiate command started; not adopted");
  }
  if (auto adopted = launcher_.adopt(static_cast<pid_t>(pid)); !adopted) {
    return failed(path + ": " + adopted.error().message());
  }
  log_->info("component {}: daemon pid {} (from {})", comp.str(), pid, path);
  pid_by_comp_[comp] = static_cast<pid_t>(pid);
  comp_by_pid_[static_cast<pid_t>(pid)] = comp;
  post(node::ProcessStarted{comp});
}

// A component of runtime oci: the same command, environment and log, inside a container.
// The container sees the host's /usr and /etc (or its own rootfs), the component socket, the
// directory the program lives in when that is outside /usr (a build tree, say), and
// RUNTIME_DIR/work as its working directory, shared by the node's containers.
void Daemon::start_container(const node::StartProcess& e, const model::ComponentConfig& comp) {
  auto failed = [&](const std::string& why) {
    log_->warn("component {}: {}", e.comp.str(), why);
    queue_.push_back(node::ProcessStartFailed{e.comp, why});
  };
  containers::OciSpec spec;
  spec.name = e.comp.str();
  spec.command = e.command;
  spec.args = e.args;
  spec.env = e.env;
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_SOCKET"] = component_endpoint_;
  if (auto ok = prepare_notify(e.comp, spec.env, &spec.binds); !ok) return failed(ok.error().message());
  // Contained by its own pid namespace; the instance still has a mark, for registration.
  auto instance = new_instance(e.comp);
  if (!instance) return failed(instance.error().message());
  spec.env[kInstanceVariable] = instance->mark.substr(instance->mark.find('=') + 1);
  spec.log_path = options_.log_dir + "/" + log_name(e.comp);
  spec.rootfs = comp.container.rootfs;
  spec.network = comp.container.own_network ? containers::OciSpec::Network::kNone
                                            : containers::OciSpec::Network::kHost;
  if (comp.container.memory_limit_mb) {
    spec.memory_limit_bytes = static_cast<std::uint64_t>(*comp.container.memory_limit_mb) << 20;
  }
  if (comp.container.pids_limit) {
    spec.pids_limit = static_cast<std::uint64_t>(*comp.container.pids_limit);
  }
  const std::string socket = component_endpoint_.substr(6);  // ipc://
  spec.binds.push_back({socket, socket, containers::BindMount::Access::kReadWrite});
  const std::string work = fs::absolute(options_.runtime_dir).string() + "/work";
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return failed("cannot create " + work + ": " + ec.message());
  spec.binds.push_back({work, work, containers::BindMount::Access::kReadWrite});
  spec.working_dir = work;
  // With the host's root, a program outside /usr (found on amfd's PATH) is mounted in.
  if (spec.rootfs == containers::OciSpec::kHostRootfs) {
    std::string program = e.command;
    if (program.find('/') == std::string::npos) {
      if (const char* path = std::getenv("PATH")) {
        std::string_view dirs(path);
        while (!dirs.empty()) {
          const std::string dir(dirs.substr(0, dirs.find(':')));
          dirs = dirs.find(':') == std::string_view::npos ? "" : dirs.substr(dirs.find(':') + 1);
          if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) {
            program = dir + "/" + program;
            break;
          }
        }
      }
    }
    const std::string dir = fs::path(program).parent_path().string();
    if (program.find('/') != std::string::npos && !dir.starts_with("/usr/") && dir != "/usr" &&
        fs::is_directory(dir)) {
      spec.binds.push_back({dir, dir, containers::BindMount::Access::kReadOnly});
      spec.command = program;
    }
  }
  auto started = oci_->start(spec);
  if (!started) {
    end_instance(e.comp);
    return failed(started.error().message());
  }
  for (const auto& w : started->warnings) log_->warn("component {}: {}", e.comp.str(), w);
  log_->info("component {}: container {} (init pid {})", e.comp.str(), started->id, started->pid);
  pid_by_comp_[e.comp] = started->pid;
  comp_by_pid_[started->pid] = e.comp;
  queue_.push_back(node::ProcessStarted{e.comp});
}

Result<void> Daemon::prepare_notify(const CompId& comp, std::map<std::string, std::string>& env,
                                    std::vector<containers::BindMount>* binds) {
  const model::ComponentConfig* config = comp_config_.at(comp);
  if (config->instantiated_when != model::InstantiatedWhen::kNotified) return {};
  auto path = notify_->open(comp);
  if (!path) return tl::unexpected(path.error());
  env["NOTIFY_SOCKET"] = *path;
  if (config->health_check) {
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
        config->health_check->period);
    env["WATCHDOG_USEC"] = std::to_string(usec.count());
  }
  if (binds != nullptr) binds->push_back({*path, *path, containers::BindMount::Access::kReadWrite});
  return {};
}

// A datagram on a component's NOTIFY_SOCKET. Only the component's own processes (a shell
// script's systemd-notify, say) may speak for it.
void Daemon::on_notify(const CompId& comp, pid_t sender, const Result<NotifyMessage>& message) {
  auto pid = pid_by_comp_.find(comp);
  const bool own = pid != pid_by_comp_.end() && belongs(comp, sender);
  auto complain = [&](const std::string& why) {
    log_->warn("component {}: {}", comp.str(), why);
    record(model::Notification{Clock::now(), "protocol-error", comp.str(), "", "", "", why});
  };
  if (!own) {
    return complain("sd_notify from pid " + std::to_string(sender) + ", which is not " +
                    (pid == pid_by_comp_.end() ? std::string("a running process of it")
                                               : "its process " + std::to_string(pid->second) +
                                                     " or one of its descendants") +
                    ": ignored");
  }
  if (!message) return complain("malformed sd_notify message: " + message.error().message());
  log_->debug("component {}: sd_notify {}", comp.str(), describe(*message));
  post(node::ComponentNotify{comp, message->ready, message->watchdog, message->watchdog_trigger,
                             message->stopping, message->status});
}

// An HA-state hook: /bin/sh -c COMMAND on the node (also for a component in a container),
// with the component's environment, its output in the component's log. Killed when it
// outlives its timeout; the node director has given up on it by then.
void Daemon::run_hook(const node::RunHook& e) {
  auto pid = launcher_.start(helper_spec(e.comp, {"/bin/sh", "-c", e.command}, e.env));
  if (!pid) {
    post(node::HookDone{e.comp, e.invocation, false, "cannot run: " + pid.error().message()});
    return;
  }
  log_->debug("component {}: hook {} (pid {}): {}", e.comp.str(), e.invocation, *pid, e.command);
  Hook hook{e.comp, e.invocation, std::make_unique<boost::asio::steady_timer>(io_)};
  hook.deadline->expires_after(e.timeout + std::chrono::milliseconds(100));
  hook.deadline->async_wait([this, p = *pid](const boost::system::error_code& ec) {
    if (!ec && hooks_.count(p)) launcher_.signal(p, SIGKILL);
  });
  hooks_.emplace(*pid, std::move(hook));
}

void Daemon::run_clc(const CompId& comp, pid_t pid, const std::string& command, bool kill_after,
                     Duration limit) {
  auto kill_target = [this, comp, pid] { signal_process(comp, pid, SIGKILL); };
  auto started = launcher_.start(helper_spec(comp, {"/bin/sh", "-c", command},
                                             {{"AMF_COMPONENT_PID", std::to_string(pid)}}));
  if (!started) {
    log_->warn("component {}: cannot run '{}': {}", comp.str(), command, started.error().message());
    if (kill_after) kill_target();  // cleanup must happen regardless
    return;
  }
  log_->info("component {}: running '{}' (pid {})", comp.str(), command, *started);
  Clc clc{comp, pid, kill_after, std::make_unique<boost::asio::steady_timer>(io_)};
  clc.deadline->expires_after(limit);
  clc.deadline->async_wait([this, p = *started, kill_target](const boost::system::error_code& ec) {
    auto it = clc_.find(p);
    if (ec || it == clc_.end()) return;
    launcher_.signal(p, SIGKILL);  // the command itself overran
    if (it->second.kill_after) kill_target();
  });
  clc_.emplace(*started, std::move(clc));
}

// A liveness probe: TCP and HTTP on the loop, exec as a process of its own (like a hook).
void Daemon::run_probe(const node::RunProbe& e) {
  const model::ProbeConfig& probe = *comp_config_.at(e.comp)->probe;
  auto done = [this, comp = e.comp, inv = e.invocation](bool ok, const std::string& detail) {
    post(node::ProbeDone{comp, inv, ok, detail});
  };
  switch (probe.kind) {
    case model::ProbeConfig::Kind::kTcp:
      return probe_tcp(io_, probe.port, probe.timeout, done);
    case model::ProbeConfig::Kind::kHttp:
      return probe_http(io_, probe.port, probe.path, probe.timeout, done);
    case model::ProbeConfig::Kind::kExec:
      break;
  }
  auto pid = launcher_.start(helper_spec(e.comp, probe.command));
  if (!pid) return done(false, "cannot run: " + pid.error().message());
  Hook hook{e.comp, e.invocation, std::make_unique<boost::asio::steady_timer>(io_)};
  hook.deadline->expires_after(probe.timeout);
  hook.deadline->async_wait([this, p = *pid, timeout = probe.timeout](const boost::system::error_code& ec) {
    auto it = probes_.find(p);
    if (ec || it == probes_.end()) return;
    post(node::ProbeDone{it->second.comp, it->second.invocation, false,
                         "no answer within " + ms_text(timeout)});
    it->second.invocation = 0;  // answered; its exit is only reaped
    launcher_.signal(p, SIGKILL);
  });
  probes_.emplace(*pid, std::move(hook));
}

void Daemon::on_process_exit(pid_t pid, containers::ExitStatus status) {
  if (auto d = daemonizing_.find(pid); d != daemonizing_.end()) {
    const CompId comp = d->second;
    daemonizing_.erase(d);
    return daemonized(comp, status);
  }
  if (auto clc = clc_.find(pid); clc != clc_.end()) {
    if (status.signal != 0 || status.code != 0) {
      log_->warn("component {}: CLC-CLI command {}", clc->second.comp.str(), status.describe());
    }
    const Clc done = std::move(clc->second);
    clc_.erase(clc);
    if (done.kill_after) signal_process(done.comp, done.target, SIGKILL);
    return;
  }
  if (auto probe = probes_.find(pid); probe != probes_.end()) {
    if (probe->second.invocation != 0) {
      const bool ok = status.signal == 0 && status.code == 0;
      post(node::ProbeDone{probe->second.comp, probe->second.invocation, ok, status.describe()});
    }
    probes_.erase(probe);
    return;
  }
  if (auto hook = hooks_.find(pid); hook != hooks_.end()) {
    const bool ok = status.signal == 0 && status.code == 0;
    post(node::HookDone{hook->second.comp, hook->second.invocation, ok, status.describe()});
    hooks_.erase(hook);
    return;
  }
  auto it = comp_by_pid_.find(pid);
  if (it == comp_by_pid_.end()) return;
  const CompId comp = it->second;
  comp_by_pid_.erase(it);
  pid_by_comp_.erase(comp);
  // The connection of a dead component is of no further use.
  if (auto peer = peer_by_component_.find(comp.str()); peer != peer_by_component_.end()) {
    if (auto rid = routing_id_by_peer_.find(peer->second); rid != routing_id_by_peer_.end()) {
      peer_by_routing_id_.erase(rid->second);
      routing_id_by_peer_.erase(rid);
    }
    peer_by_component_.erase(peer);
  }
  // The rest of the component (children it forked, daemons it left) ends with it; after the
  // core has heard of the death, so that the failover is not held up.
  auto instance = instances_.extract(comp);
  if (instance) write_marks();
  post(node::ProcessExited{comp, status.describe()});
  if (instance) kill_instance(instance.mapped());
}

// ---- component socket ----

namespace {

// The PID of the process that opened the connection a message came on: the kernel's
// SO_PEERCRED, which ZeroMQ appends to an ipc peer's address (":uid:gid:pid"). 0 if unknown.
pid_t peer_pid(zmq::message_t& message) {
  try {
    const std::string address = message.gets("Peer-Address");
    const auto colon = address.rfind(':');
    if (colon == std::string::npos) return 0;
    return static_cast<pid_t>(std::strtol(address.c_str() + colon + 1, nullptr, 10));
  } catch (const zmq::error_t&) {
    return 0;
  }
}

}  // namespace

// Connections are known only once registered: a message from any other connection is dropped,
// so the tables hold at most one connection per component (plus the one being registered),
// whatever connects and leaves.
void Daemon::on_component_frames(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) {
    log_->warn("component socket: dropped a message of {} frames (expected 2)", frames.size());
    return;
  }
  const std::string routing_id = frames[0].to_string();
  auto decoded = wire::decode_component_message(frames[1].to_string_view());
  if (!decoded) {
    log_->warn("component socket: {}", decoded.error().message());
    return;
  }
  auto known = peer_by_routing_id_.find(routing_id);
  if (const auto* reg = std::get_if<wire::RegisterRequest>(&*decoded)) {
    const pid_t sender = peer_pid(frames[1]);
    const CompId comp(reg->component_name);
    // Only the process amfd started for the component, or one of its descendants, may
    // register as it; anyone else would be handed the component's CSI assignments.
    if (comp_config_.count(comp) && !belongs(comp, sender)) {
      const std::string why =
          "registration as " + reg->component_name + " refused: process " +
          std::to_string(sender) + " is not one that amfd started for this component";
      log_->warn("component socket: {}", why);
      record(model::Notification{Clock::now(), "error", reg->component_name, "", "", "", why});
      return send_to_routing_id(routing_id, wire::RegisterReply{false, why});
    }
    node::PeerId peer = 0;
    if (known != peer_by_routing_id_.end()) {
      peer = known->second;
    } else {
      peer = next_peer_++;
      routing_id_by_peer_[peer] = routing_id;
      peer_by_routing_id_[routing_id] = peer;
    }
    registering_[peer] = reg->component_name;
    post(node::ComponentRegister{peer, reg->component_name});
    return;
  }
  if (known == peer_by_routing_id_.end()) {
    log_->debug("component socket: message from a connection that has not registered; dropped");
    return;
  }
  const node::PeerId peer = known->second;
  if (const auto* resp = std::get_if<wire::Response>(&*decoded)) {
    post(node::ComponentResponse{peer, resp->invocation, resp->ok});
  } else if (const auto* report = std::get_if<wire::ErrorReport>(&*decoded)) {
    post(node::ComponentErrorReport{peer, report->recommended_recovery, report->reason});
  } else if (const auto* confirm = std::get_if<wire::HealthcheckConfirm>(&*decoded)) {
    post(node::ComponentHealthcheckConfirm{peer, confirm->key});
  } else {
    log_->warn("component socket: connection {} sent a message only amfd may send", peer);
  }
}

// The node director answered a registration: an accepted connection is the component's from
// now on; a refused one that holds no other registration is forgotten.
void Daemon::registration_answered(node::PeerId peer, bool ok) {
  auto it = registering_.find(peer);
  if (it == registering_.end()) return;
  const std::string name = it->second;
  registering_.erase(it);
  if (ok) {
    peer_by_component_[name] = peer;
    return;
  }
  for (const auto& [comp, p] : peer_by_component_) {
    if (p == peer) return;
  }
  if (auto rid = routing_id_by_peer_.find(peer); rid != routing_id_by_peer_.end()) {
    peer_by_routing_id_.erase(rid->second);
    routing_id_by_peer_.erase(rid);
  }
}

void Daemon::send_to_component(node::PeerId peer, const wire::ComponentMessage& message) {
  auto it = routing_id_by_peer_.find(peer);
  if (it == routing_id_by_peer_.end()) return;
  send_to_routing_id(it->second, message);
}

void Daemon::send_to_routing_id(const std::string& routing_id,
                                const wire::ComponentMessage& message) {
  const std::string bytes = wire::encode(message);
  try {
    component_socket_.send(zmq::buffer(routing_id),
                           zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    component_socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    // Gone (EHOSTUNREACH) or not keeping up: the callback timeout turns silence into a fault.
    log_->warn("component connection: send failed: {}", e.what());
  }
  component_watch_->kick();
}

// ---- admin socket ----

void Daemon::on_admin_frames(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) {
    log_->warn("admin socket: dropped a message of {} frames (expected 2)", frames.size());
    return;
  }
  const std::string routing_id = frames[0].to_string();
  auto request = wire::decode_admin_request(frames[1].to_string_view());
  if (!request) {
    return send_admin_reply(routing_id,
                            wire::AdminError{"bad request: " + request.error().message()});
  }
  struct Visitor {
    Daemon& d;
    const std::string& routing_id;
    void operator()(const wire::StatusRequest&) { d.send_admin_reply(routing_id, d.status()); }
    void operator()(const wire::EventsRequest& r) {
      d.send_admin_reply(routing_id,
                         wire::EventList{d.events_.read(r.after_sequence, r.max_events)});
    }
    void operator()(const wire::AdminOperation& op) { d.start_admin_operation(routing_id, op); }
  };
  std::visit(Visitor{*this, routing_id}, *request);
}

void Daemon::start_admin_operation(const std::string& routing_id, const wire::AdminOperation& op) {
  const auto parsed = director::parse_admin_op(op.operation);
  if (!parsed) {
    return send_admin_reply(
        routing_id, wire::AdminOperationResult{false, "unknown operation '" + op.operation +
                                                          "' (lock, unlock, lock-instantiation, "
                                                          "unlock-instantiation, shutdown, "
                                                          "repair, si-swap, adjust)"});
  }
  if (admin_waiting_.size() >= kMaxAdminOperations) {
    return send_admin_reply(routing_id, wire::AdminOperationResult{
                                            false, "too many operations in progress; try again"});
  }
  const std::uint64_t id = next_admin_id_++;
  admin_waiting_[id] = routing_id;
  log_->info("admin operation {} {} {} (#{})", op.operation, op.entity_kind, op.entity, id);
  director_.handle(director::AdminRequest{id, *parsed, op.entity_kind, op.entity}, Clock::now());
  pump();
}

void Daemon::answer_admin(const director::AdminResult& result) {
  auto it = admin_waiting_.find(result.id);
  if (it == admin_waiting_.end()) return;
  log_->info("admin operation #{}: {}{}", result.id,
             result.ok ? "done" : "failed: ", result.message);
  send_admin_reply(it->second, wire::AdminOperationResult{result.ok, result.message});
  admin_waiting_.erase(it);
}

void Daemon::send_admin_reply(const std::string& routing_id, const wire::AdminReply& reply) {
  const std::string bytes = wire::encode(reply);
  try {
    admin_socket_.send(zmq::buffer(routing_id),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    admin_socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    log_->warn("admin socket: reply not sent (client gone?): {}", e.what());
  }
  admin_watch_->kick();
}

wire::ClusterStatus Daemon::status() const {
  wire::ClusterStatus out{config_->name, self_.str(), {}};
  const auto sus = director_.service_units();
  const auto comps = node_.components();
  for (const model::SgConfig* sg : config_->service_groups()) {
    wire::ServiceGroupStatus s{sg->id.str(),
                               std::string(model::to_string(sg->redundancy)),
                               director_.busy(sg->id),
                               {},
                               {}};
    for (const auto& su : sus) {
      if (su.sg != sg->id) continue;
      wire::ServiceUnitStatus u{su.id.str(),
                                su.node.str(),
                                std::string(model::to_string(su.admin)),
                                std::string(model::to_string(su.oper)),
                                std::string(model::to_string(su.presence)),
                                std::string(model::to_string(su.readiness)),
                                {}};
      for (const auto& c : comps) {
        if (c.su != su.id) continue;
        auto pid = pid_by_comp_.find(c.id);
        u.components.push_back({c.id.str(), std::string(model::to_string(c.presence)),
                                pid == pid_by_comp_.end() ? 0 : pid->second, c.registered});
      }
      s.service_units.push_back(std::move(u));
    }
    const auto assignments = director_.assignments(sg->id);
    for (const auto& si : sg->sis) {
      wire::ServiceInstanceStatus i{si.id.str(), {}};
      for (const auto& a : assignments) {
        if (a.si == si.id)
          i.assignments.push_back({a.su.str(), std::string(model::to_string(a.ha))});
      }
      s.service_instances.push_back(std::move(i));
    }
    out.service_groups.push_back(std::move(s));
  }
  return out;
}

}  // namespace amf::daemon
