#include "containers/oci_launcher.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "containers/proc_files.h"

extern char** environ;

namespace amf::containers {

namespace fs = std::filesystem;

struct OciLauncher::Watch {
  Watch(boost::asio::io_context& io, int fd, pid_t p) : pidfd(io, fd), pid(p) {}
  boost::asio::posix::stream_descriptor pidfd;
  pid_t pid;
};

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Bounds on the scratch file systems (tmpfs pages also count against the memory limit).
constexpr const char* kTmpSize = "size=65536k";
constexpr const char* kRunSize = "size=16384k";

std::string errno_text(int err) { return std::strerror(err); }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// ---------------------------------------------------------------------------------------
// Running runc: posix_spawn, output into memfds, a wait bounded by a pidfd poll.

struct RuncRun {
  int exit_code = -1;  // 128 + signal when killed
  std::string out, err;
};

std::string read_memfd(int fd) {
  std::string text;
  char buf[4096];
  off_t off = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  return text;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// Waits for child `pid` at most `limit`; kills it when the limit passes.
Result<int> wait_child(pid_t pid, std::chrono::milliseconds limit, const std::string& what) {
  const int pfd = pidfd_open(pid);
  if (pfd >= 0) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{pfd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
      if (r > 0) break;
      if (r < 0 && errno == EINTR) continue;
      ::syscall(SYS_pidfd_send_signal, pfd, SIGKILL, nullptr, 0);
      siginfo_t info{};
      ::waitid(static_cast<idtype_t>(P_PIDFD), pfd, &info, WEXITED);
      ::close(pfd);
      return fail(what + " did not finish within " + std::to_string(limit.count()) +
                  " ms (killed)");
    }
  }
  siginfo_t info{};
  const int rc = pfd >= 0 ? ::waitid(static_cast<idtype_t>(P_PIDFD), pfd, &info, WEXITED)
                          : ::waitid(P_PID, pid, &info, WEXITED);
  const int wait_err = errno;
  if (pfd >= 0) ::close(pfd);
  if (rc != 0) return fail("waiting for " + what + ": " + errno_text(wait_err));
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

// Runs `runc <args>`. stdout/stderr go to `output_fd` when given (the container inherits them
// from `runc run --detach`), else they are captured.
Result<RuncRun> run_runc(const OciLauncher::Options& options, const std::vector<std::string>& args,
                         int output_fd = -1) {
  std::string what = "runc";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      ++i;  // every global option we pass takes a value
      continue;
    }
    what += " " + args[i];
    break;
  }
  int out_fd = output_fd, err_fd = output_fd;
  if (output_fd < 0) {
    out_fd = ::memfd_create("runc-stdout", MFD_CLOEXEC);
    err_fd = ::memfd_create("runc-stderr", MFD_CLOEXEC);
    if (out_fd < 0 || err_fd < 0) {
      const int e = errno;
      if (out_fd >= 0) ::close(out_fd);
      if (err_fd >= 0) ::close(err_fd);
      return fail("memfd_create for " + what + ": " + errno_text(e));
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  // The container init inherits these through runc: nothing blocked, default dispositions.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> argv{const_cast<char*>(options.runc.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, options.runc.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  RuncRun run;
  Result<int> code =
      err != 0 ? Result<int>(fail("cannot run runc '" + options.runc + "': " + errno_text(err) +
                                  " (Debian package runc: tools/run setup)"))
               : wait_child(pid, options.runc_timeout, what);
  if (output_fd < 0) {
    run.out = read_memfd(out_fd);
    run.err = trim(read_memfd(err_fd));
    ::close(out_fd);
    ::close(err_fd);
  }
  if (!code) return tl::unexpected(code.error());
  run.exit_code = *code;
  return run;
}

// The message of runc's last error in its JSON log (`--log-format json`): one object a line,
// {"level":"error","msg":"...","time":"..."}. Lines that are not such objects are skipped.
std::string last_runc_error(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line, message;
  while (std::getline(in, line)) {
    const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!entry.is_object()) continue;  // also a line that did not parse (is_discarded())
    const auto level = entry.find("level"), msg = entry.find("msg");
    if (level == entry.end() || msg == entry.end() || !level->is_string() || !msg->is_string())
      continue;
    if (*level == "error" || *level == "fatal") message = msg->get<std::string>();
  }
  return message;
}

// One container in `runc list --format json`.
struct ListedContainer {
  std::string id;
  pid_t pid = 0;       // 0 when runc gives none
  std::string status;  // "running", "stopped", ...
};

// `runc list --format json` prints `null` for no containers, else an array of objects.
// Members we do not use are ignored; an entry without an id is skipped.
Result<std::vector<ListedContainer>> parse_runc_list(const std::string& text) {
  try {
    const auto listed = nlohmann::json::parse(text);
    std::vector<ListedContainer> out;
    if (listed.is_null()) return out;
    if (!listed.is_array()) return fail("not an array");
    for (const auto& c : listed) {
      if (!c.is_object()) return fail("an entry that is not an object: " + c.dump());
      if (!c.contains("id")) continue;
      out.push_back({c.at("id").get<std::string>(), c.value("pid", pid_t{0}),
                     c.value("status", std::string())});
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return fail(e.what());
  }
}

bool has_mounts_under(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) return true;
  }
  return false;
}

bool is_child_of_this_process(pid_t pid) {
  const auto stat = read_proc_stat(pid);
  return stat && stat->ppid == ::getpid();
}

std::uint32_t fnv1a(std::string_view text) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

// ---------------------------------------------------------------------------------------
// config.json

// Key order as written (the OCI spec's order), not sorted: easier to read next to the spec.
using Json = nlohmann::ordered_json;

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
  Json json() const {
    return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
  }
};

// `kind` is "bind" or "rbind" (with the mounts beneath; read-only applies to the top one:
// runc 1.1 has no recursive read-only).
Mount bind_mount(const std::string& host, const std::string& container, bool read_only,
                 const char* kind = "bind") {
  std::vector<std::string> opts{kind, "nosuid", "nodev"};
  opts.push_back(read_only ? "ro" : "rw");
  return {container, "bind", host, opts};
}

Json config_json(const OciSpec& spec, const std::string& root_path,
                 const std::vector<Mount>& extra_mounts, bool memory, bool pids) {
  std::vector<std::string> env;
  bool has_path = false;
  for (const auto& [k, v] : spec.env) {
    env.push_back(k + "=" + v);
    has_path = has_path || k == "PATH";
  }
  if (!has_path) env.push_back(std::string("PATH=") + kDefaultPath);
  std::vector<std::string> args{spec.command};
  args.insert(args.end(), spec.args.begin(), spec.args.end());

  std::vector<Mount> mounts{
      {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
      {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"/dev/pts",
       "devpts",
       "devpts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
      {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
      // The default spec's "cgroup" mount is left out: it fails on hybrid hosts.
      {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
  };
  mounts.insert(mounts.end(), extra_mounts.begin(), extra_mounts.end());
  Json mounts_json = Json::array();
  for (const auto& m : mounts) mounts_json.push_back(m.json());

  const Json no_caps = Json::array();
  Json namespaces = Json::array();
  for (const char* type : {"pid", "mount", "uts", "ipc"}) {
    namespaces.push_back(Json::object({{"type", type}}));
  }
  if (spec.network == OciSpec::Network::kNone) {
    namespaces.push_back(Json::object({{"type", "network"}}));
  }
  Json resources = {
      {"devices", Json::array({Json::object({{"allow", false}, {"access", "rwm"}})})}};
  if (memory && spec.memory_limit_bytes) {
    resources["memory"] = {{"limit", *spec.memory_limit_bytes}};
  }
  if (pids && spec.pids_limit) resources["pids"] = {{"limit", *spec.pids_limit}};

  return {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", env},
        {"cwd", spec.working_dir.empty() ? "/" : spec.working_dir},
        {"capabilities",
         {{"bounding", no_caps},
          {"effective", no_caps},
          {"inheritable", no_caps},
          {"permitted", no_caps},
          {"ambient", no_caps}}},
        {"rlimits",
         Json::array({Json::object({{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}})})},
        {"noNewPrivileges", true}}},
      {"root", {{"path", root_path}, {"readonly", true}}},
      {"hostname", spec.hostname},
      {"mounts", mounts_json},
      {"linux",
       {{"resources", resources},
        {"namespaces", namespaces},
        {"maskedPaths",
         std::vector<std::string>{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                  "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                  "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", std::vector<std::string>{"/proc/bus", "/proc/fs", "/proc/irq",
                                                   "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

// The host's root made into a rootfs: /usr and /etc bound read-only; /bin, /sbin, /lib* the
// same symlinks as on the host (Debian's merged /usr) or read-only binds where directories.
Result<std::vector<Mount>> prepare_host_rootfs(const std::string& rootfs) {
  std::vector<Mount> mounts{bind_mount("/usr", "/usr", true), bind_mount("/etc", "/etc", true)};
  for (const char* top : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    const fs::path host = fs::path("/") / top;
    std::error_code ec;
    const auto st = fs::symlink_status(host, ec);
    if (ec || !fs::exists(st)) continue;
    if (fs::is_symlink(st)) {
      const auto target = fs::read_symlink(host, ec);
      if (!ec) fs::create_symlink(target, fs::path(rootfs) / top, ec);
      if (ec) return fail("creating symlink " + rootfs + "/" + top + ": " + ec.message());
    } else if (fs::is_directory(st)) {
      mounts.push_back(bind_mount(host.string(), host.string(), true));
    }
  }
  return mounts;
}

// Writes bundle/config.json (and bundle/rootfs for the host root).
Result<void> write_bundle(const OciSpec& spec, const std::string& bundle,
                          const CgroupSupport& cgroups) {
  const bool host_root = spec.rootfs == OciSpec::kHostRootfs;
  const std::string rootfs = host_root ? bundle + "/rootfs" : spec.rootfs;
  std::error_code ec;
  fs::create_directories(host_root ? rootfs : bundle, ec);
  if (ec) return fail("creating bundle " + bundle + ": " + ec.message());
  std::vector<Mount> mounts;
  if (host_root) {
    auto host = prepare_host_rootfs(rootfs);
    if (!host) return tl::unexpected(host.error());
    mounts = std::move(*host);
  }
  mounts.push_back({"/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", kTmpSize}});
  mounts.push_back({"/run", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=755", kRunSize}});
  for (const auto& b : spec.binds) {
    mounts.push_back(bind_mount(b.host_path, b.container_path,
                                b.access == BindMount::Access::kReadOnly, "rbind"));
  }
  OciSpec named = spec;
  if (named.hostname.empty()) named.hostname = sanitize_container_name(spec.name);
  std::ofstream config(bundle + "/config.json");
  // Bytes that are not UTF-8 (in an env value, say) become U+FFFD rather than an exception:
  // what runc's Go decoder makes of them anyway.
  config << config_json(named, rootfs, mounts, cgroups.memory, cgroups.pids)
                .dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace)
         << '\n';
  if (!config.flush()) return fail("cannot write " + bundle + "/config.json");
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string sanitize_container_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (out.size() == 40) break;
    out.push_back(
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ? c : '-');
  }
  return out.empty() ? "container" : out;
}

std::string CgroupSupport::describe() const {
  const char* layout_text = layout == Layout::kV1       ? "cgroup v1"
                            : layout == Layout::kHybrid ? "cgroup v1 + unified (hybrid)"
                            : layout == Layout::kV2     ? "cgroup v2 (unified)"
                                                        : "no cgroup controllers found";
  return std::string(layout_text) + ": memory " + (memory ? "yes" : "no") + ", pids " +
         (pids ? "yes" : "no");
}

CgroupSupport OciLauncher::detect_cgroups(const std::string& root) {
  CgroupSupport s;
  struct statfs st {};
  if (::statfs(root.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) {
    s.layout = CgroupSupport::Layout::kV2;
    std::ifstream in(root + "/cgroup.controllers");
    std::string word;
    while (in >> word) {
      s.memory = s.memory || word == "memory";
      s.pids = s.pids || word == "pids";
    }
    return s;
  }
  // v1 (or hybrid, where runc 1.1 uses the v1 controllers): one directory per controller.
  s.memory = fs::exists(root + "/memory/memory.limit_in_bytes");
  s.pids = fs::exists(root + "/pids/cgroup.procs");
  const bool any_v1 = s.memory || s.pids || fs::exists(root + "/cpu/cgroup.procs");
  if (any_v1) {
    s.layout = fs::exists(root + "/unified/cgroup.controllers") ? CgroupSupport::Layout::kHybrid
                                                                : CgroupSupport::Layout::kV1;
  }
  return s;
}

Result<void> OciLauncher::become_child_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return fail("prctl(PR_SET_CHILD_SUBREAPER): " + errno_text(errno));
  }
  return {};
}

std::vector<pid_t> OciLauncher::reap_stray_children(const std::function<bool(pid_t)>& watched) {
  std::vector<pid_t> reaped;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t pid = 0;
    while (in >> pid) {
      const auto stat = read_proc_stat(pid);
      const bool zombie = stat && stat->state == 'Z';
      if (zombie && !watched(pid) && ::waitpid(pid, nullptr, WNOHANG) == pid) {
        reaped.push_back(pid);
      }
    }
  }
  return reaped;
}

OciLauncher::OciLauncher(boost::asio::io_context& io, Options options, ExitHandler on_exit)
    : io_(io),
      options_(std::move(options)),
      on_exit_(std::move(on_exit)),
      cgroups_(detect_cgroups(options_.cgroup_root)),
      bundles_dir_(options_.state_dir + "/bundles"),
      runc_root_(options_.state_dir + "/runc"),
      removal_timer_(io) {
  // One worker thread for runc, which never takes a signal meant for the loop's thread.
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  worker_.emplace(1);
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  char tag[16];
  std::snprintf(tag, sizeof tag, "%08x", fnv1a(options_.state_dir));
  tag_ = tag;
}

OciLauncher::~OciLauncher() {
  worker_->join();  // a start or a removal under way finishes first
  alive_.reset();
  remove_exited();
}

void OciLauncher::remove_exited() {
  removal_timer_.cancel();
  for (const std::string& id : std::exchange(exited_, {})) {
    if (auto removed = remove_container(id); !removed && options_.on_warning) {
      options_.on_warning(removed.error().message());
    }
  }
}

std::string OciLauncher::bundle_dir(const std::string& id) const { return bundles_dir_ + "/" + id; }

std::string OciLauncher::next_id(const std::string& name) {
  for (;;) {
    std::string id =
        "amf-" + sanitize_container_name(name) + "-" + tag_ + "-" + std::to_string(++counter_);
    if (!watches_.count(id) && !fs::exists(bundle_dir(id))) return id;
  }
}

// The checks and the container's id, on the loop's thread: everything that needs no runc.
Result<OciLauncher::Prepared> OciLauncher::prepare(const OciSpec& spec) {
  int subreaper = 0;
  if (::prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) != 0 || subreaper == 0) {
    return fail("container '" + spec.name +
                "': this process is not a child subreaper, so it could not reap the "
                "container init (call OciLauncher::become_child_subreaper() at start)");
  }
  if (spec.command.empty()) return fail("container '" + spec.name + "': no command");
  if (!spec.working_dir.empty() && spec.working_dir[0] != '/') {
    return fail("container '" + spec.name + "': working directory '" + spec.working_dir +
                "' is not absolute");
  }
  const bool host_root = spec.rootfs == OciSpec::kHostRootfs;
  if (!host_root) {
    if (spec.rootfs.empty() || spec.rootfs[0] != '/') {
      return fail("container '" + spec.name + "': rootfs '" + spec.rootfs +
                  "' is neither \"host\" nor an absolute path");
    }
    std::error_code ec;
    if (!fs::is_directory(spec.rootfs, ec)) {
      return fail("container '" + spec.name + "': rootfs directory '" + spec.rootfs + "' " +
                  (fs::exists(spec.rootfs, ec) ? "is not a directory" : "does not exist"));
    }
  }
  for (const auto& b : spec.binds) {
    if (b.container_path.empty() || b.container_path[0] != '/') {
      return fail("container '" + spec.name + "': bind mount target '" + b.container_path +
                  "' is not absolute");
    }
  }
  std::error_code ec;
  fs::create_directories(bundles_dir_, ec);
  if (!ec) fs::create_directories(runc_root_, ec);
  if (ec) return fail("creating " + options_.state_dir + ": " + ec.message());

  Prepared prepared{spec, StartedContainer{next_id(spec.name), 0, {}}};
  if (spec.memory_limit_bytes && !cgroups_.memory) {
    prepared.started.warnings.push_back("memory limit not applied: no memory controller under " +
                                        options_.cgroup_root + " (" + cgroups_.describe() + ")");
  }
  if (spec.pids_limit && !cgroups_.pids) {
    prepared.started.warnings.push_back("pids limit not applied: no pids controller under " +
                                        options_.cgroup_root + " (" + cgroups_.describe() + ")");
  }
  return prepared;
}

// The bundle and `runc run --detach`: tens of milliseconds of runc, on any thread (it reads
// only what does not change after construction). Returns the init's pid and a pidfd on it;
// every failure removes what it made.
Result<std::pair<pid_t, int>> OciLauncher::launch(const Prepared& prepared) const {
  const OciSpec& spec = prepared.spec;
  const std::string& id = prepared.started.id;
  const std::string bundle = bundle_dir(id);
  auto context = [&](const std::string& what) {
    return "container " + id + " ('" + spec.name + "'): " + what;
  };
  auto abandon = [&](const std::string& message) {
    (void)run_runc(options_, {"--root", runc_root_, "delete", "--force", id});
    std::error_code ec;
    fs::remove_all(bundle, ec);
    return fail(context(message));
  };
  if (auto written = write_bundle(spec, bundle, cgroups_); !written) {
    return abandon(written.error().message());
  }
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    return abandon("cannot open log file " + spec.log_path + ": " + errno_text(errno));
  }
  const std::string runc_log = bundle + "/runc.log";
  const std::string pid_file = bundle + "/init.pid";
  auto run = run_runc(options_,
                      {"--root", runc_root_, "--log", runc_log, "--log-format", "json", "run",
                       "--detach", "--pid-file", pid_file, "--bundle", bundle, id},
                      log_fd);
  ::close(log_fd);
  if (!run) return abandon(run.error().message());
  if (run->exit_code != 0) {
    std::string why = last_runc_error(runc_log);
    if (why.empty()) why = "no message from runc (see " + spec.log_path + ")";
    return abandon("runc run failed (exit code " + std::to_string(run->exit_code) + "): " + why);
  }
  std::ifstream pid_in(pid_file);
  pid_t pid = 0;
  if (!(pid_in >> pid) || pid <= 0) return abandon("runc wrote no init pid to " + pid_file);

  // The init is our child now (runc has exited and we are a subreaper), so it stays a
  // zombie until we reap it: the pidfd cannot refer to a recycled pid.
  const int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    const int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return abandon("pidfd_open on init pid " + std::to_string(pid) + ": " + errno_text(err));
  }
  return std::pair{pid, pidfd};
}

// Back on the loop's thread: the init is watched from now on.
StartedContainer OciLauncher::watch(Prepared prepared, pid_t pid, int pidfd) {
  const std::string id = prepared.started.id;
  auto watch = std::make_unique<Watch>(io_, pidfd, pid);
  watch->pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, id](const boost::system::error_code& e) {
                            if (!e) on_readable(id);
                          });
  watches_[id] = std::move(watch);
  prepared.started.pid = pid;
  return std::move(prepared.started);
}

Result<StartedContainer> OciLauncher::start(const OciSpec& spec) {
  auto prepared = prepare(spec);
  if (!prepared) return tl::unexpected(prepared.error());
  auto launched = launch(*prepared);
  if (!launched) return tl::unexpected(launched.error());
  return watch(std::move(*prepared), launched->first, launched->second);
}

std::string OciLauncher::start_async(const OciSpec& spec, StartHandler done) {
  auto prepared = prepare(spec);
  if (!prepared) {
    boost::asio::post(
        io_, [done = std::move(done), error = prepared.error()] { done(tl::unexpected(error)); });
    return "";
  }
  std::string id = prepared->started.id;
  ++in_flight_;  // until the init is watched, on the loop's thread
  boost::asio::post(*worker_, [this, alive = std::weak_ptr<bool>(alive_),
                               prepared = std::move(*prepared), done = std::move(done)]() mutable {
    auto launched = launch(prepared);  // the worker's thread: runc
    boost::asio::post(io_, [this, alive, prepared = std::move(prepared),
                            launched = std::move(launched), done = std::move(done)]() mutable {
      if (alive.expired()) {  // the launcher is gone: the next cleanup_orphans() removes it
        if (launched) ::close(launched->second);
        return;
      }
      if (launched) {
        done(watch(std::move(prepared), launched->first, launched->second));
      } else {
        done(tl::unexpected(launched.error()));
      }
      work_done();  // after done(): the owner knows the init before its strays are reaped
    });
  });
  return id;
}

std::optional<pid_t> OciLauncher::starting_init_pid(const std::string& id) const {
  std::ifstream in(bundle_dir(id) + "/init.pid");
  pid_t pid = 0;
  if (in >> pid && pid > 0) return pid;
  return std::nullopt;
}

void OciLauncher::on_readable(const std::string& id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  const pid_t pid = it->second->pid;
  const ExitStatus status = reap(it->second->pidfd.native_handle());
  watches_.erase(it);  // closes the pidfd
  on_exit_(id, pid, status);
  exited_.push_back(id);
  if (exited_.size() == 1) {
    removal_timer_.expires_after(kRemovalDelay);
    removal_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) remove_exited_in_background();
    });
  }
}

// `runc delete` and the bundles' removal on the worker (its runc calls run one after the
// other), the warnings back on the loop's thread.
void OciLauncher::remove_exited_in_background() {
  ++in_flight_;  // until the pass is over (its runc deletes reaped on the worker)
  auto pass = [this, alive = std::weak_ptr<bool>(alive_), ids = std::exchange(exited_, {})] {
    std::vector<std::string> problems;
    for (const std::string& id : ids) {
      if (auto removed = remove_container(id); !removed) {
        problems.push_back(removed.error().message());
      }
    }
    boost::asio::post(io_, [this, alive, problems = std::move(problems)] {
      if (alive.expired()) return;
      if (options_.on_warning) {
        for (const auto& p : problems) options_.on_warning(p);
      }
      work_done();
    });
  };
  boost::asio::post(*worker_, std::move(pass));
}

void OciLauncher::work_done() {
  if (--in_flight_ == 0 && options_.on_idle) options_.on_idle();
}

Result<void> OciLauncher::remove_container(const std::string& id) {
  auto run = run_runc(options_, {"--root", runc_root_, "delete", "--force", id});
  std::string problem;
  if (!run) {
    problem = run.error().message();
  } else if (run->exit_code != 0 && run->err.find("does not exist") == std::string::npos) {
    problem = "runc delete failed: " + run->err;
  }
  const std::string bundle = bundle_dir(id);
  if (has_mounts_under(bundle)) {
    return fail("container " + id + ": not removing bundle " + bundle +
                ": something is mounted under it" + (problem.empty() ? "" : "; " + problem));
  }
  std::error_code ec;
  fs::remove_all(bundle, ec);
  if (ec) problem += (problem.empty() ? "" : "; ") + ("removing " + bundle + ": " + ec.message());
  if (!problem.empty()) return fail("container " + id + ": " + problem);
  return {};
}

void OciLauncher::signal(const std::string& id, int sig) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;  // reaped already
  ::syscall(SYS_pidfd_send_signal, it->second->pidfd.native_handle(), sig, nullptr, 0);
}

void OciLauncher::signal(pid_t pid, int sig) {
  for (const auto& [id, watch] : watches_) {
    if (watch->pid == pid) return signal(id, sig);
  }
}

std::size_t OciLauncher::running() const { return watches_.size(); }

Result<OrphanCleanup> OciLauncher::cleanup_orphans() {
  remove_exited();  // ours, merely not deleted yet: not orphans
  OrphanCleanup report;
  std::error_code ec;
  if (fs::exists(runc_root_, ec)) {
    auto list = run_runc(options_, {"--root", runc_root_, "list", "--format", "json"});
    if (!list) return tl::unexpected(list.error().with_context("listing orphaned containers"));
    if (list->exit_code != 0) {
      return fail("listing orphaned containers: runc list failed: " + list->err);
    }
    auto containers = parse_runc_list(list->out);
    if (!containers) {
      return fail("listing orphaned containers: cannot parse runc list output (" +
                  containers.error().message() + "): " + list->out);
    }
    for (const auto& [id, pid, status] : *containers) {
      if (watches_.count(id)) continue;
      // When the init is our own child (we started it and forgot it), we must reap it, or
      // `runc delete --force` would wait for a zombie that never goes away.
      if (status != "stopped" && pid > 0) {
        const bool ours = is_child_of_this_process(pid);
        (void)run_runc(options_, {"--root", runc_root_, "kill", id, "KILL"});
        if (ours) (void)wait_child(pid, options_.runc_timeout, "orphaned container init");
      }
      if (auto removed = remove_container(id); !removed) {
        return tl::unexpected(removed.error().with_context("removing orphaned container"));
      }
      report.containers.push_back(id);
    }
  }
  if (fs::exists(bundles_dir_, ec)) {
    for (const auto& entry : fs::directory_iterator(bundles_dir_, ec)) {
      const std::string id = entry.path().filename().string();
      if (watches_.count(id)) continue;
      const std::string bundle = entry.path().string();
      if (has_mounts_under(bundle)) {
        return fail("removing orphaned bundle " + bundle + ": something is mounted under it");
      }
      fs::remove_all(bundle, ec);
      if (ec) return fail("removing orphaned bundle " + bundle + ": " + ec.message());
      report.bundles.push_back(bundle);
    }
  }
  return report;
}

}  // namespace amf::containers
