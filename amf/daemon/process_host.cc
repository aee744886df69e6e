#include "amf/daemon/process_host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "amf/core/assert.h"
#include "amf/core/hex.h"
#include "amf/daemon/net_probe.h"
#include "containers/proc_files.h"

namespace amf::daemon {

namespace fs = std::filesystem;

namespace {

// The environment variable that marks every process of a component instance.
constexpr const char* kInstanceVariable = "AMF_COMPONENT_INSTANCE";

std::string log_name(const CompId& comp) {
  std::string name = comp.str();
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".log";
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    AMF_ASSERT(n > 0 || errno == EINTR);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return to_hex(raw);
}

// The parent of `pid` (0 when it is gone).
pid_t parent_of(pid_t pid) {
  const auto stat = containers::read_proc_stat(pid);
  return !stat || stat->state == 'Z' ? 0 : stat->ppid;
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

ProcessHost::ProcessHost(boost::asio::io_context& io, const model::ClusterConfig& config,
                         Options options, Callbacks callbacks, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      log_(std::move(log)),
      launcher_(io_, [this](pid_t pid, containers::ExitStatus s) { on_exit(pid, s); }) {
  launcher_.set_child_fd_limit(options_.child_fd_limit);
  for (const model::SgConfig* sg : config.service_groups()) {
    for (const auto& su : sg->sus) {
      for (const auto& comp : su.components) comp_config_[comp.id] = &comp;
    }
  }
}

ProcessHost::~ProcessHost() {
  for (const auto& [pid, hook] : hooks_) launcher_.signal(pid, SIGKILL);  // none outlives amfd
  for (const auto& [pid, probe] : probes_) launcher_.signal(pid, SIGKILL);
  for (const auto& [pid, clc] : clc_) launcher_.signal(pid, SIGKILL);
  // Nothing of a component outlives amfd: descendants that escaped the terminations end here.
  if (cgroups_) {
    if (auto ended = cgroups_->sweep(500); ended) {
      for (const auto& e : *ended) {
        log_->warn("ended process {} ({}) of {} at exit", e.pid, e.command, e.cgroup);
      }
    }
    ::rmdir(cgroups_->path().c_str());
  }
}

const model::ComponentConfig& ProcessHost::config_of(const CompId& comp) const {
  return *comp_config_.at(comp);
}

pid_t ProcessHost::pid_of(const CompId& comp) const {
  auto it = pid_by_comp_.find(comp);
  return it == pid_by_comp_.end() ? 0 : it->second;
}

Result<void> ProcessHost::open() {
  if (auto ended = end_leftovers(); !ended) return ended;
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
    oci.on_idle = [this] { reap_strays_now(); };
    oci_ = std::make_unique<containers::OciLauncher>(
        io_, oci,
        [this](const std::string&, pid_t pid, containers::ExitStatus s) { on_exit(pid, s); });
    // We hold the lock: containers left under our runtime directory are a crashed amfd's.
    auto orphans = oci_->cleanup_orphans();
    if (!orphans)
      return fail("cannot clean up containers of an earlier amfd: " + orphans.error().message());
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
  return {};
}

// amfd is the child subreaper of its containers' inits (main.cc); orphans of other components
// come to it too and are reaped here, never a child a launcher watches.
void ProcessHost::reap_strays() {
  reap_strays_now();
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) reap_strays();
  });
}

// While the OCI launcher has runc work in flight every zombie is left alone (runc's processes
// and an init not yet watched are its own); it calls this when that work is over.
void ProcessHost::reap_strays_now() {
  const auto reaped = containers::OciLauncher::reap_stray_children([this](pid_t pid) {
    return comp_by_pid_.count(pid) > 0 || hooks_.count(pid) > 0 || probes_.count(pid) > 0 ||
           clc_.count(pid) > 0 || daemonizing_.count(pid) > 0 || (oci_ && oci_->busy());
  });
  for (pid_t pid : reaped) log_->debug("reaped orphan process {}", pid);
}

Result<void> ProcessHost::end_leftovers() {
  auto tell = [this](pid_t pid, const std::string& instance, const std::string& command) {
    const std::string what = "ended process " + std::to_string(pid) + " (" + command +
                             ") of component instance " + instance +
                             ", left running by an earlier amfd on " + options_.runtime_dir;
    log_->warn("{}", what);
    callbacks_.record(model::Notification{callbacks_.now(), model::NotificationKind::kLeftover,
                                          instance, "", "running", "ended", what});
  };
  if (options_.use_cgroups) {
    auto tree = containers::CgroupTree::open(options_.runtime_dir);
    if (tree) {
      auto ended = tree->sweep();
      if (!ended)
        return fail("cannot end what an earlier amfd left running: " + ended.error().message());
      for (const auto& e : *ended) tell(e.pid, e.cgroup, e.command);
      log_->info("components are contained in cgroup {}", tree->path());
      cgroups_ = std::move(*tree);
    } else {
      log_->warn(
          "no cgroup for components ({}): a component's processes are found by their "
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
void ProcessHost::write_marks() const {
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

Result<ProcessHost::Instance> ProcessHost::new_instance(const CompId& comp) {
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

void ProcessHost::end_instance(const CompId& comp) {
  auto ended = instances_.extract(comp);
  if (!ended) return;
  if (auto pid = pid_by_comp_.find(comp); pid != pid_by_comp_.end()) {
    signalled_.insert(pid->second);  // its exit was asked for
  }
  write_marks();
  kill_instance(ended.mapped());
}

void ProcessHost::kill_instance(const Instance& instance) {
  if (cgroups_) {
    cgroups_->kill(instance.leaf);
    dying_leaves_.push_back(instance.leaf);
  } else {
    for (pid_t pid : containers::processes_with_mark(instance.mark)) ::kill(pid, SIGKILL);
  }
}

bool ProcessHost::belongs(const CompId& comp, pid_t pid) const {
  if (pid <= 0) return false;
  auto instance = instances_.find(comp);
  if (instance == instances_.end()) return false;
  if (cgroups_ && cgroups_->contains(instance->second.leaf, pid)) return true;
  std::vector<pid_t> roots;
  if (auto it = pid_by_comp_.find(comp); it != pid_by_comp_.end()) roots.push_back(it->second);
  // A container whose start has not been answered yet may register already: before runc has
  // written its init pid into the bundle (runc writes it after the program runs), only the
  // instance's secret in the process's environment says it is ours.
  if (auto it = starting_containers_.find(comp); it != starting_containers_.end() && oci_) {
    if (containers::process_has_mark(pid, instance->second.mark)) return true;
    if (auto init = oci_->starting_init_pid(it->second)) roots.push_back(*init);
  }
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

void ProcessHost::signal(const CompId& comp, node::Signal which) {
  const int signal = which == node::Signal::kKill ? SIGKILL : SIGTERM;
  auto it = pid_by_comp_.find(comp);
  if (it == pid_by_comp_.end()) return;
  signalled_.insert(it->second);
  auto config = comp_config_.find(comp);
  if (config != comp_config_.end()) {
    const model::ComponentConfig& c = *config->second;
    if (signal == SIGTERM && !c.terminate_command.empty()) {
      run_clc(comp, it->second, c.terminate_command, false, c.timeouts.terminate,
              {{"AMF_COMPONENT_PID", std::to_string(it->second)}});
      return;
    }
    if (signal == SIGKILL && !c.cleanup_command.empty()) {
      run_clc(comp, it->second, c.cleanup_command, true, c.timeouts.cleanup,
              {{"AMF_COMPONENT_PID", std::to_string(it->second)}});
      return;
    }
  }
  signal_process(comp, it->second, signal);
}

void ProcessHost::kill_now(const CompId& comp) {
  auto it = pid_by_comp_.find(comp);
  if (it == pid_by_comp_.end()) return;
  signalled_.insert(it->second);
  signal_process(comp, it->second, SIGKILL);
}

void ProcessHost::signal_process(const CompId& comp, pid_t pid, int signal) {
  auto it = pid_by_comp_.find(comp);
  if (it == pid_by_comp_.end() || it->second != pid) return;  // gone, or restarted since
  if (oci_ && config_of(comp).runtime == model::Runtime::kOci) {
    oci_->signal(pid, signal);
  } else {
    launcher_.signal(pid, signal);
    // Cleanup reaches every process of the component, also those outside its process group.
    if (signal == SIGKILL) {
      if (auto it = instances_.find(comp); it != instances_.end()) kill_instance(it->second);
    }
  }
}

containers::ProcessSpec ProcessHost::helper_spec(
    const CompId& comp, std::vector<std::string> argv,
    const std::map<std::string, std::string>& extra) const {
  containers::ProcessSpec spec;
  spec.command = argv.at(0);
  spec.args.assign(argv.begin() + 1, argv.end());
  spec.env = config_of(comp).env;
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_NAME"] = comp.str();
  if (!config_of(comp).dn.empty()) spec.env["SA_AMF_COMPONENT_NAME"] = config_of(comp).dn;
  for (const auto& [k, v] : extra) spec.env[k] = v;
  spec.working_dir = working_dir_of(comp);
  spec.log_path = options_.log_dir + "/" + log_name(comp);
  return spec;
}

std::string ProcessHost::working_dir_of(const CompId& comp) const {
  const fs::path runtime = fs::absolute(options_.runtime_dir);
  const std::string& configured = config_of(comp).working_dir;
  if (configured.empty()) return (runtime / "work" / comp.str()).lexically_normal().string();
  return (runtime / "work" / configured).lexically_normal().string();  // an absolute one replaces
}

Result<std::string> ProcessHost::prepare_working_dir(const CompId& comp) const {
  std::string dir = working_dir_of(comp);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create the working directory " + dir + ": " + ec.message());
  return dir;
}

void ProcessHost::start(const node::StartProcess& e) {
  if (cleaning_up_.count(e.comp)) {
    start_after_cleanup_.insert_or_assign(e.comp, e);  // clean_up_after_death
    return;
  }
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
    callbacks_.post(node::ProcessStartFailed{e.comp, ok.error().message()});
    return;
  }
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_SOCKET"] = options_.component_endpoint;
  spec.log_path = options_.log_dir + "/" + log_name(e.comp);
  auto start_failed = [&](const std::string& why) {
    log_->warn("component {}: {}", e.comp.str(), why);
    end_instance(e.comp);
    callbacks_.post(node::ProcessStartFailed{e.comp, why});
  };
  auto work = prepare_working_dir(e.comp);
  if (!work) return start_failed(work.error().message());
  spec.working_dir = *work;
  auto instance = new_instance(e.comp);
  if (!instance) return start_failed(instance.error().message());
  spec.env[kInstanceVariable] = instance->mark.substr(instance->mark.find('=') + 1);
  if (cgroups_) {
    auto fd = cgroups_->create(instance->leaf);
    if (!fd) return start_failed(fd.error().message());
    spec.cgroup_procs_fd = *fd;
  }
  auto pid = launcher_.start(spec);
  if (cgroups_) cgroups_->close_procs(instance->leaf);  // moved in (or failed): not needed
  if (!pid) return start_failed(pid.error().message());
  if (!config_of(e.comp).pid_file.empty()) {
    daemonizing_[*pid] = e.comp;  // started once it has left its daemon behind
    return;
  }
  pid_by_comp_[e.comp] = *pid;
  comp_by_pid_[*pid] = e.comp;
  callbacks_.post(node::ProcessStarted{e.comp});
}

// The instantiate command of a component with a pid_file ended: on success the daemon named
// in the file is adopted as the component's process.
void ProcessHost::daemonized(const CompId& comp, containers::ExitStatus status) {
  const std::string path = (fs::path(working_dir_of(comp)) / config_of(comp).pid_file).string();
  auto failed = [&](const std::string& why) {
    log_->warn("component {}: {}", comp.str(), why);
    end_instance(comp);  // whatever the command left behind goes with it
    callbacks_.post(node::ProcessStartFailed{comp, why});
  };
  if (status.signal != 0 || status.code != 0) {
    return failed("the instantiate command " + status.describe());
  }
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1)
    return failed("no PID in " + path + " after the instantiate command");
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
  callbacks_.post(node::ProcessStarted{comp});
}

// A component of runtime oci: the same command, environment and log, inside a container.
// The container sees the host's /usr and /etc (or its own rootfs), the component socket, the
// directory the program lives in when that is outside /usr (a build tree, say), and its
// working directory, at the same path.
void ProcessHost::start_container(const node::StartProcess& e, const model::ComponentConfig& comp) {
  auto failed = [&](const std::string& why) {
    log_->warn("component {}: {}", e.comp.str(), why);
    callbacks_.post(node::ProcessStartFailed{e.comp, why});
  };
  containers::OciSpec spec;
  spec.name = e.comp.str();
  spec.command = e.command;
  spec.args = e.args;
  spec.env = e.env;
  if (const char* path = std::getenv("PATH")) spec.env.emplace("PATH", path);
  spec.env["AMF_COMPONENT_SOCKET"] = options_.component_endpoint;
  if (auto ok = prepare_notify(e.comp, spec.env, &spec.binds); !ok)
    return failed(ok.error().message());
  auto work = prepare_working_dir(e.comp);  // before the instance, which a failure would leave
  if (!work) return failed(work.error().message());
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
  const std::string socket = options_.component_endpoint.substr(6);  // ipc://
  spec.binds.push_back({socket, socket, containers::BindMount::Access::kReadWrite});
  spec.binds.push_back({*work, *work, containers::BindMount::Access::kReadWrite});
  spec.working_dir = *work;
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
  // runc takes tens of milliseconds: on the launcher's worker, the loop goes on meanwhile. The
  // node director waits for ProcessStarted (or ProcessStartFailed) before it signals.
  const std::string id =
      oci_->start_async(spec, [this, comp = e.comp](Result<containers::StartedContainer> started) {
        starting_containers_.erase(comp);
        if (!started) {
          log_->warn("component {}: {}", comp.str(), started.error().message());
          end_instance(comp);
          callbacks_.post(node::ProcessStartFailed{comp, started.error().message()});
          return;
        }
        for (const auto& w : started->warnings) log_->warn("component {}: {}", comp.str(), w);
        log_->info("component {}: container {} (init pid {})", comp.str(), started->id,
                   started->pid);
        pid_by_comp_[comp] = started->pid;
        comp_by_pid_[started->pid] = comp;
        callbacks_.post(node::ProcessStarted{comp});
      });
  if (!id.empty()) starting_containers_[e.comp] = id;
}

Result<void> ProcessHost::prepare_notify(const CompId& comp,
                                         std::map<std::string, std::string>& env,
                                         std::vector<containers::BindMount>* binds) {
  const model::ComponentConfig* config = &config_of(comp);
  if (config->instantiated_when != model::InstantiatedWhen::kNotified) return {};
  auto path = notify_->open(comp);
  if (!path) return tl::unexpected(path.error());
  env["NOTIFY_SOCKET"] = *path;
  if (config->health_check) {
    const auto usec =
        std::chrono::duration_cast<std::chrono::microseconds>(config->health_check->period);
    env["WATCHDOG_USEC"] = std::to_string(usec.count());
  }
  if (binds != nullptr) binds->push_back({*path, *path, containers::BindMount::Access::kReadWrite});
  return {};
}

// A datagram on a component's NOTIFY_SOCKET. Only the component's own processes (a shell
// script's systemd-notify, say) may speak for it.
void ProcessHost::on_notify(const CompId& comp, pid_t sender,
                            const Result<NotifyMessage>& message) {
  auto pid = pid_by_comp_.find(comp);
  // belongs() knows a container whose start is not answered yet: it may say READY=1 first.
  const bool own = belongs(comp, sender);
  auto complain = [&](const std::string& why) {
    log_->warn("component {}: {}", comp.str(), why);
    callbacks_.record(model::Notification{callbacks_.now(), model::NotificationKind::kProtocolError,
                                          comp.str(), "", "", "", why});
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
  callbacks_.post(node::ComponentNotify{comp, message->ready, message->watchdog,
                                        message->watchdog_trigger, message->stopping,
                                        message->status});
}

// An HA-state hook: /bin/sh -c COMMAND on the node (also for a component in a container),
// with the component's environment, its output in the component's log. Killed when it
// outlives its timeout; the node director has given up on it by then.
void ProcessHost::run_hook(const node::RunHook& e) {
  auto pid = launcher_.start(helper_spec(e.comp, {"/bin/sh", "-c", e.command}, e.env));
  if (!pid) {
    callbacks_.post(
        node::HookDone{e.comp, e.invocation, false, "cannot run: " + pid.error().message()});
    return;
  }
  log_->debug("component {}: hook {} (pid {}): {}", e.comp.str(), e.invocation, *pid, e.command);
  Helper hook{e.comp, e.invocation, std::make_unique<boost::asio::steady_timer>(io_)};
  hook.deadline->expires_after(e.timeout + std::chrono::milliseconds(100));
  hook.deadline->async_wait([this, p = *pid](const boost::system::error_code& ec) {
    if (!ec && hooks_.count(p)) launcher_.signal(p, SIGKILL);
  });
  hooks_.emplace(*pid, std::move(hook));
}

std::optional<pid_t> ProcessHost::run_clc(const CompId& comp, pid_t pid, const std::string& command,
                                          bool kill_after, Duration limit,
                                          const std::map<std::string, std::string>& env) {
  auto kill_target = [this, comp, pid] { signal_process(comp, pid, SIGKILL); };
  auto started = launcher_.start(helper_spec(comp, {"/bin/sh", "-c", command}, env));
  if (!started) {
    log_->warn("component {}: cannot run '{}': {}", comp.str(), command, started.error().message());
    if (kill_after) kill_target();  // cleanup must happen regardless
    return std::nullopt;
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
  return *started;
}

void ProcessHost::drop_held_starts() {
  for (const auto& [comp, start] : std::exchange(start_after_cleanup_, {})) {
    callbacks_.post(node::ProcessStartFailed{comp, "not started: amfd is stopping"});
  }
}

bool ProcessHost::cleanup_due(const CompId& comp, pid_t pid) {
  const bool asked = signalled_.erase(pid) > 0;
  auto config = comp_config_.find(comp);
  if (asked || config == comp_config_.end() || config->second->cleanup_command.empty()) {
    return false;
  }
  cleaning_up_[comp] = 0;  // from now on a start waits: the core may restart it at once
  return true;
}

void ProcessHost::clean_up_after_death(const CompId& comp, pid_t pid,
                                       const containers::ExitStatus& status) {
  const model::ComponentConfig& c = config_of(comp);
  // Not AMF_COMPONENT_PID: a command written for a live process (kill -9 $AMF_COMPONENT_PID)
  // must not reach whatever process has the freed PID by now.
  if (auto helper = run_clc(comp, pid, c.cleanup_command, false, c.timeouts.cleanup,
                            {{"AMF_COMPONENT_DEAD_PID", std::to_string(pid)},
                             {"AMF_COMPONENT_EXIT", status.describe()}})) {
    cleaning_up_[comp] = *helper;
    return;
  }
  cleaning_up_.erase(comp);  // it could not run (logged): the next instance need not wait
  if (auto next = start_after_cleanup_.extract(comp)) start(next.mapped());
}

// A liveness probe: TCP and HTTP on the loop, exec as a process of its own (like a hook).
void ProcessHost::run_probe(const node::RunProbe& e) {
  const model::ProbeConfig& probe = *config_of(e.comp).probe;
  auto done = [this, comp = e.comp, inv = e.invocation](bool ok, const std::string& detail) {
    callbacks_.post(node::ProbeDone{comp, inv, ok, detail});
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
  Helper hook{e.comp, e.invocation, std::make_unique<boost::asio::steady_timer>(io_)};
  hook.deadline->expires_after(probe.timeout);
  hook.deadline->async_wait(
      [this, p = *pid, timeout = probe.timeout](const boost::system::error_code& ec) {
        auto it = probes_.find(p);
        if (ec || it == probes_.end()) return;
        callbacks_.post(node::ProbeDone{it->second.comp, it->second.invocation, false,
                                        "no answer within " + ms_text(timeout)});
        it->second.invocation = 0;  // answered; its exit is only reaped
        launcher_.signal(p, SIGKILL);
      });
  probes_.emplace(*pid, std::move(hook));
}

void ProcessHost::on_exit(pid_t pid, containers::ExitStatus status) {
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
    if (auto c = cleaning_up_.find(done.comp); c != cleaning_up_.end() && c->second == pid) {
      cleaning_up_.erase(c);
      if (auto next = start_after_cleanup_.extract(done.comp)) start(next.mapped());
    }
    return;
  }
  if (auto probe = probes_.find(pid); probe != probes_.end()) {
    if (probe->second.invocation != 0) {
      const bool ok = status.signal == 0 && status.code == 0;
      callbacks_.post(
          node::ProbeDone{probe->second.comp, probe->second.invocation, ok, status.describe()});
    }
    probes_.erase(probe);
    return;
  }
  if (auto hook = hooks_.find(pid); hook != hooks_.end()) {
    const bool ok = status.signal == 0 && status.code == 0;
    callbacks_.post(
        node::HookDone{hook->second.comp, hook->second.invocation, ok, status.describe()});
    hooks_.erase(hook);
    return;
  }
  auto it = comp_by_pid_.find(pid);
  if (it == comp_by_pid_.end()) return;
  const CompId comp = it->second;
  comp_by_pid_.erase(it);
  pid_by_comp_.erase(comp);
  callbacks_.process_gone(comp);  // its connection is of no further use
  // The rest of the component (children it forked, daemons it left) ends with it; after the
  // core has heard of the death, so that the failover is not held up.
  auto instance = instances_.extract(comp);
  if (instance) write_marks();
  // The cleanup is decided before the core hears of the death (it may start the next instance
  // from within the call, which must wait) and run after, so that it delays no failover.
  const bool cleanup = cleanup_due(comp, pid);
  callbacks_.post(node::ProcessExited{comp, status.describe()});
  if (instance) kill_instance(instance.mapped());
  if (cleanup) clean_up_after_death(comp, pid, status);
}

}  // namespace amf::daemon
