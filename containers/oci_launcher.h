#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amf/core/result.h"
#include "containers/process_launcher.h"  // ExitStatus

namespace amf::containers {

// A host path made visible inside the container.
struct BindMount {
  enum class Access { kReadOnly, kReadWrite };
  std::string host_path;       // a directory or a file (e.g. a socket) that exists
  std::string container_path;  // absolute; created as a mount point when missing
  Access access = Access::kReadOnly;
};

// One component's container. Everything the container sees is spelled out here; nothing is
// inherited from amfd but what `rootfs = "host"` and `binds` name.
struct OciSpec {
  // The component's name. The container id is "amf-<name, sanitised>-<tag>-<n>" where tag is
  // a hash of the launcher's state directory (two amfd instances on one host never collide
  // in the cgroup tree) and n counts containers.
  std::string name;
  std::string command;  // absolute, or looked up on the container's PATH
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // whole environment; PATH defaults to the usual
  std::string working_dir = "/";           // inside the container
  std::string log_path;  // on the host: stdout and stderr are appended; stdin is /dev/null
  // kHostRootfs ("host"): the host's /usr and /etc bound read-only, the host's /bin, /sbin,
  // /lib* mirrored (same symlinks, or read-only binds where they are directories).
  // Otherwise the absolute path of a directory holding the root file system.
  // Either way / is read-only; /tmp and /run are writable tmpfs scratch.
  std::string rootfs = kHostRootfs;
  std::vector<BindMount> binds;
  enum class Network { kHost, kNone };  // kNone: own network namespace, loopback only
  Network network = Network::kHost;
  std::optional<std::uint64_t> memory_limit_bytes;  // applied when the cgroup setup allows
  std::optional<std::uint64_t> pids_limit;          // (see OciLauncher::start's warnings)
  std::string hostname;                             // default: the container id

  static constexpr const char* kHostRootfs = "host";
};

struct StartedContainer {
  std::string id;
  pid_t pid = 0;  // the container init, as seen from the host
  // Things asked for that could not be honoured, for the caller to log
  // ("memory limit not applied: no memory controller under /sys/fs/cgroup").
  std::vector<std::string> warnings;
};

// What cleanup_orphans() found and removed.
struct OrphanCleanup {
  std::vector<std::string> containers;  // ids killed and deleted from the runc root
  std::vector<std::string> bundles;     // other bundle directories removed (no container)
};

// Which resource limits the host's cgroup setup lets runc apply.
struct CgroupSupport {
  enum class Layout { kV1, kHybrid, kV2, kNone };
  Layout layout = Layout::kNone;
  bool memory = false;
  bool pids = false;
  std::string describe() const;  // "cgroup v1 + unified (hybrid): memory yes, pids yes"
};

// Runs components as OCI containers with runc, and reports each one's end the moment its
// init process dies: like ProcessLauncher, a pidfd per container init is watched by the Asio
// loop (no SIGCHLD handler, no polling).
//
// The container init is not our child: runc forks it and exits (`runc run --detach`). It is
// reparented to the nearest child subreaper, so the owning process MUST call
// become_child_subreaper() once at start (amfd: first thing in main), before any container is
// started; start() refuses otherwise. The owner then must not reap children it does not know
// (no waitpid(-1)): that would steal the init's exit status. Orphaned grandchildren of other
// components (a daemon forking and exiting) also become the owner's children as a subreaper;
// reap_stray_children() reaps those while leaving the ones a launcher watches alone.
//
// Layout under Options::state_dir (the caller's, e.g. <runtime-dir>/containers):
//   bundles/<id>/config.json, bundles/<id>/rootfs/, bundles/<id>/runc.log
//   runc/      private runc state root (`runc --root`): only our containers live there
//
// Threading: called on the io_context's thread; not thread-safe. Each runc invocation takes
// tens of milliseconds (tools/bench/oci_start measures them) and is bounded by
// Options::runc_timeout. start_async() and the removal of exited containers run runc on the
// launcher's one worker thread, so the loop never waits for runc; start(), cleanup_orphans()
// and remove_exited() run it on the calling thread (tests, start-up, exit).
//
// After an init dies, `runc delete` and the bundle's removal wait kRemovalDelay, so that they
// never compete with the failover the exit sets off; several exits share one removal.
// remove_exited() does them at once.
//
// Destroying the launcher stops watching and removes exited containers; it neither signals
// nor deletes running ones (the owner terminates components first; after a crash,
// cleanup_orphans() at the next start removes what is left).
class OciLauncher {
 public:
  struct Options {
    std::string state_dir;                          // created when missing; absolute
    std::string runc = "runc";                      // resolved on PATH when it has no '/'
    std::string cgroup_root = "/sys/fs/cgroup";     // where controller support is looked up
    std::chrono::milliseconds runc_timeout{10000};  // bound on every runc invocation
    // Told about problems nobody waits for (a container that could not be deleted after its
    // init died). May be empty.
    std::function<void(const std::string&)> on_warning;
    // Called on the io_context's thread when the runc work in flight is over (busy() has
    // turned false): a stray reaper reaps what it left alone meanwhile. May be empty.
    std::function<void()> on_idle;
  };
  // Called once per started container, after its init has been reaped and before the
  // container state and bundle are removed. The handler must not destroy the launcher.
  using ExitHandler = std::function<void(const std::string& id, pid_t pid, ExitStatus status)>;

  // Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER). Process-wide.
  static Result<void> become_child_subreaper();

  // Reaps every zombie child of this process for which `watched(pid)` is false, and returns
  // their pids. Non-blocking. For subreapers: call it on SIGCHLD (an asio::signal_set), and
  // pass a predicate that knows the pids every launcher watches.
  static std::vector<pid_t> reap_stray_children(const std::function<bool(pid_t)>& watched);

  // Looks at the cgroup tree under `cgroup_root` (statfs and the controller directories).
  static CgroupSupport detect_cgroups(const std::string& cgroup_root);

  OciLauncher(boost::asio::io_context& io, Options options, ExitHandler on_exit);
  ~OciLauncher();
  OciLauncher(const OciLauncher&) = delete;
  OciLauncher& operator=(const OciLauncher&) = delete;

  // Writes the bundle, runs `runc run --detach`, and starts watching the init. Fails, with
  // nothing left behind, when the rootfs is missing, runc is missing or fails (its message
  // included: a command not found inside the container is reported here), or this process is
  // not a child subreaper.
  Result<StartedContainer> start(const OciSpec& spec);
  // The same, with runc on the worker thread: `done` is called on the io_context's thread
  // once the container runs (it is watched from then on) or has failed, never from inside
  // this call, and not at all when the launcher is destroyed first (a container started
  // meanwhile is left to the next cleanup_orphans()). `done` must not destroy the launcher.
  // Returns the container's id ("" when refused before runc: `done` says why).
  using StartHandler = std::function<void(Result<StartedContainer>)>;
  std::string start_async(const OciSpec& spec, StartHandler done);
  // The init pid runc wrote for a container whose start_async() has not answered yet (its
  // processes may already talk to the owner); nullopt before runc has written it.
  std::optional<pid_t> starting_init_pid(const std::string& id) const;
  // runc work is under way on the worker (a start not yet answered, a removal): its runc
  // processes and a container init not yet watched are children of this process that only
  // the launcher may reap. A stray reaper (reap_stray_children) leaves every zombie alone
  // while this holds, and reaps them in Options::on_idle.
  bool busy() const { return in_flight_ > 0; }

  // Sends `signal` to the container's init through its pidfd (pidfd_send_signal: no runc
  // round trip, and never a recycled pid). The init is pid 1 of its namespace: the kernel
  // delivers SIGKILL always, other signals only when the init handles them (a shell without a
  // `trap` ignores SIGTERM). When the init dies the kernel kills the rest of the container.
  // Unknown or already reaped ids and pids are ignored.
  void signal(const std::string& id, int signal);
  void signal(pid_t pid, int signal);

  // Kills and deletes every container in our runc root that this launcher does not watch,
  // and removes every bundle without a watched container. amfd calls it at start, before
  // starting containers. A container init that is our child is reaped here.
  Result<OrphanCleanup> cleanup_orphans();

  // Deletes the containers whose init has died and their bundles now, instead of after
  // kRemovalDelay (amfd before it exits; tests).
  void remove_exited();
  static constexpr std::chrono::milliseconds kRemovalDelay{50};

  std::size_t running() const;
  const CgroupSupport& cgroups() const { return cgroups_; }
  const std::string& runc_root() const { return runc_root_; }
  std::string bundle_dir(const std::string& id) const;

 private:
  struct Watch;
  struct Prepared {
    OciSpec spec;
    StartedContainer started;  // its id and warnings; no pid yet
  };
  Result<Prepared> prepare(const OciSpec& spec);
  Result<std::pair<pid_t, int>> launch(const Prepared& prepared) const;
  StartedContainer watch(Prepared prepared, pid_t pid, int pidfd);
  void remove_exited_in_background();
  void work_done();  // one start or removal pass over, on the loop's thread
  void on_readable(const std::string& id);
  Result<void> remove_container(const std::string& id);
  std::string next_id(const std::string& name);

  boost::asio::io_context& io_;
  Options options_;
  ExitHandler on_exit_;
  CgroupSupport cgroups_;
  std::string bundles_dir_;
  std::string runc_root_;
  std::string tag_;
  std::uint64_t counter_ = 0;
  std::map<std::string, std::unique_ptr<Watch>> watches_;
  std::vector<std::string> exited_;  // inits reaped, containers not yet deleted
  boost::asio::steady_timer removal_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for work finishing late
  int in_flight_ = 0;  // starts not answered and removal passes not done (busy())
  std::optional<boost::asio::thread_pool> worker_;  // runc, one call at a time
};

// The container id part made from a component name: [A-Za-z0-9_.-] kept, the rest '-',
// at most 40 characters.
std::string sanitize_container_name(std::string_view name);

}  // namespace amf::containers
