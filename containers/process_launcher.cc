#include "containers/process_launcher.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace amf::containers {

struct ProcessLauncher::Watch {
  explicit Watch(boost::asio::io_context& io, int fd) : pidfd(io, fd) {}
  boost::asio::posix::stream_descriptor pidfd;
};

namespace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

std::string ExitStatus::describe() const {
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  }
  return "exited with code " + std::to_string(code);
}

// The three lowest free descriptors: /dev/null and two copies of it, held for the life of the
// launcher (a launcher is made early, while amfd has few descriptors open).
Result<ProcessLauncher::Slots> ProcessLauncher::make_slots() {
  Slots s;
  s.null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (s.null_fd < 0) return fail("cannot open /dev/null: " + errno_text(errno));
  s.log_fd = ::fcntl(s.null_fd, F_DUPFD_CLOEXEC, 0);
  s.cgroup_fd = s.log_fd < 0 ? -1 : ::fcntl(s.null_fd, F_DUPFD_CLOEXEC, 0);
  if (s.cgroup_fd < 0) {
    const int err = errno;
    for (int fd : {s.null_fd, s.log_fd}) {
      if (fd >= 0) ::close(fd);
    }
    return fail("cannot reserve descriptors for started processes: " + errno_text(err));
  }
  s.keep_below = std::max({s.null_fd, s.log_fd, s.cgroup_fd}) + 1;
  return s;
}

ProcessLauncher::ProcessLauncher(boost::asio::io_context& io, ExitHandler on_exit)
    : io_(io), on_exit_(std::move(on_exit)), slots_(make_slots()) {}

ProcessLauncher::~ProcessLauncher() {
  if (slots_) {
    for (int fd : {slots_->null_fd, slots_->log_fd, slots_->cgroup_fd}) ::close(fd);
  }
}

namespace {

// The program to execute: `command` itself when it names a path, else the first executable
// of that name on amfd's PATH (as posix_spawnp and execvp look it up).
Result<std::string> resolve(const std::string& command) {
  if (command.empty()) return fail("no command");
  if (command.find('/') != std::string::npos) return command;
  const char* path = std::getenv("PATH");
  std::string_view dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + command;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return fail("cannot run '" + command + "': " + errno_text(ENOENT));
}

// What the child of start() needs, prepared by the parent; `error` is written by the child
// (the memory is shared until it execs).
struct Child {
  const char* program;
  char* const* argv;
  char* const* envp;
  int keep_below;           // the child's file table is amfd's descriptors below this one
  int null_fd;              // /dev/null, for stdin
  int log_fd;               // below keep_below
  const char* working_dir;  // or null
  int cgroup_procs_fd;      // below keep_below, or -1
  std::uint64_t fd_limit;   // soft RLIMIT_NOFILE, or 0 to keep amfd's
  int error;
};

constexpr std::size_t kChildStackBytes = 64 * 1024;

// The child between clone and exec: it shares amfd's memory and its file table, and runs on
// its own small stack, so it makes raw system calls only (no allocation, no libc state, no
// sanitizer interceptor), in this order: a file table of its own holding only amfd's lowest
// descriptors, into its cgroup, default signal dispositions and an empty mask, its own process
// group, stdin from /dev/null, stdout and stderr to the log, every other descriptor closed, its
// working directory, exec. Any failure is left in `error` for the parent.
//
// The file table: a child that copied amfd's whole table (one pidfd per component, a socket
// per connected component) and closed it again at exec made each start cost as much as amfd
// has descriptors, and starting 10,000 processes quadratic. close_range(CLOSE_RANGE_UNSHARE)
// copies only the descriptors below `keep_below`, where the launcher keeps the few the child
// needs (ProcessLauncher::slots_). Kernels before 5.9 lack it: then unshare(CLONE_FILES)
// copies the whole table and exec closes what is marked close-on-exec.
__attribute__((no_sanitize("address", "undefined"))) int run_child(void* arg) {
  auto* c = static_cast<Child*>(arg);
  constexpr unsigned long kSigsetBytes = 8;
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long mask;
  } dfl{SIG_DFL, 0, nullptr, 0};
  // Nothing may touch the file table before it is the child's own: it is amfd's until then.
  long rc = ::syscall(SYS_close_range, c->keep_below, ~0U, CLOSE_RANGE_UNSHARE);
  if (rc < 0) rc = ::syscall(SYS_unshare, CLONE_FILES);
  if (rc >= 0 && c->cgroup_procs_fd >= 0) rc = ::syscall(SYS_write, c->cgroup_procs_fd, "0", 1);
  if (rc >= 0 && c->fd_limit != 0) {
    struct rlimit64 limit {};
    rc = ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit);
    if (rc >= 0 && c->fd_limit < limit.rlim_cur) {
      limit.rlim_cur = c->fd_limit;
      rc = ::syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &limit, nullptr);
    }
  }
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) {
    if (rc >= 0) rc = ::syscall(SYS_rt_sigaction, s, &dfl, nullptr, kSigsetBytes);
  }
  const unsigned long empty = 0;
  if (rc >= 0) rc = ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, nullptr, kSigsetBytes);
  if (rc >= 0) rc = ::syscall(SYS_setpgid, 0, 0);
  // The slots come from the lowest free descriptors, /dev/null first, so stdin is set before
  // anything can overwrite its source, and the log before its own slot is overwritten.
  if (rc >= 0) rc = ::syscall(SYS_dup2, c->null_fd, STDIN_FILENO);
  if (rc >= 0) rc = ::syscall(SYS_dup2, c->log_fd, STDOUT_FILENO);
  if (rc >= 0) rc = ::syscall(SYS_dup2, c->log_fd, STDERR_FILENO);
  // dup2 onto itself keeps close-on-exec (a slot that is 0, 1 or 2 when amfd was started
  // with them closed): clear it on the three.
  for (int fd = 0; fd <= 2; ++fd) {
    if (rc >= 0) rc = ::syscall(SYS_fcntl, fd, F_SETFD, 0);
  }
  // The rest goes (close-on-exec would take all but what amfd forgot to mark). Without
  // close_range (before Linux 5.9, or refused by a seccomp policy) close-on-exec has to do.
  if (rc >= 0) (void)::syscall(SYS_close_range, 3, ~0U, 0);
  if (rc >= 0 && c->working_dir != nullptr) rc = ::syscall(SYS_chdir, c->working_dir);
  if (rc >= 0) ::syscall(SYS_execve, c->program, c->argv, c->envp);
  c->error = errno;
  ::syscall(SYS_exit_group, 127);
  return 127;
}

}  // namespace

Result<pid_t> ProcessLauncher::start(const ProcessSpec& spec) {
  auto program = resolve(spec.command);
  if (!program) return tl::unexpected(program.error());
  // A log file that is a symbolic link is refused: whoever can write to the log directory
  // must not be able to make amfd append to a file of its choice.
  const int log_fd =
      ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (log_fd < 0) return fail("cannot open log file " + spec.log_path + ": " + errno_text(errno));

  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv{const_cast<char*>(spec.command.c_str())};
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // Our own vfork-style clone rather than posix_spawn: only a child of our own can move
  // itself into its cgroup before it executes anything of the program, so that not even a
  // fork right after exec escapes. CLONE_VM | CLONE_VFORK as posix_spawn does (nothing is
  // copied, which keeps a start cheap however large amfd is); the parent waits until the
  // child has exec'd or failed, and reads the child's errno from the memory they share.
  // The descriptors the child needs go to the launcher's low slots, which its file table keeps.
  if (!slots_) return fail("cannot run '" + spec.command + "': " + slots_.error().message());
  const Slots& slots = *slots_;
  auto release_slots = [&] {  // the log and cgroup stay open only as long as they are needed
    ::dup3(slots.null_fd, slots.log_fd, O_CLOEXEC);
    ::dup3(slots.null_fd, slots.cgroup_fd, O_CLOEXEC);
  };
  if (::dup3(log_fd, slots.log_fd, O_CLOEXEC) < 0 ||
      (spec.cgroup_procs_fd >= 0 && ::dup3(spec.cgroup_procs_fd, slots.cgroup_fd, O_CLOEXEC) < 0)) {
    const int dup_err = errno;
    release_slots();
    ::close(log_fd);
    return fail("cannot run '" + spec.command + "': dup3: " + errno_text(dup_err));
  }
  Child child{program->c_str(),
              argv.data(),
              envp.data(),
              slots.keep_below,
              slots.null_fd,
              slots.log_fd,
              spec.working_dir.empty() ? nullptr : spec.working_dir.c_str(),
              spec.cgroup_procs_fd >= 0 ? slots.cgroup_fd : -1,
              child_fd_limit_,
              0};
  std::vector<char> stack(kChildStackBytes);
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);  // no handler of amfd's runs in the child
  const pid_t pid = ::clone(run_child, stack.data() + stack.size(),
                            CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &child);
  const int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  release_slots();
  ::close(log_fd);
  if (pid < 0) return fail("cannot run '" + spec.command + "': clone: " + errno_text(clone_err));
  if (child.error != 0) {
    ::waitpid(pid, nullptr, 0);
    return fail("cannot run '" + spec.command + "': " + errno_text(child.error));
  }
  // Our child, not reaped yet: its PID cannot have been reused.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Without a pidfd we could not see the process die: do not leave it unsupervised.
    const int open_err = errno;
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return fail("pidfd_open failed for '" + spec.command + "': " + errno_text(open_err));
  }
  auto watch = std::make_unique<Watch>(io_, pidfd);
  watch->pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, pid](const boost::system::error_code& ec) {
                            if (!ec) on_readable(pid);
                          });
  watches_[pid] = std::move(watch);
  return pid;
}

ExitStatus reap(int pidfd) {
  siginfo_t info{};
  ExitStatus status;
  if (::waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &info, WEXITED) == 0) {
    if (info.si_code == CLD_EXITED) {
      status.code = info.si_status;
    } else {
      status.signal = info.si_status;
    }
  }
  return status;
}

void ProcessLauncher::on_readable(pid_t pid) {
  auto it = watches_.find(pid);
  if (it == watches_.end()) return;
  const ExitStatus status = reap(it->second->pidfd.native_handle());
  watches_.erase(it);  // closes the pidfd
  on_exit_(pid, status);
}

Result<void> ProcessLauncher::adopt(pid_t pid) {
  if (pid <= 1 || watches_.count(pid))
    return fail("pid " + std::to_string(pid) + " cannot be adopted");
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return fail("no process " + std::to_string(pid) + ": " + errno_text(errno));
  auto watch = std::make_unique<Watch>(io_, pidfd);
  watch->pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, pid](const boost::system::error_code& ec) {
                            if (!ec) on_readable(pid);
                          });
  watches_[pid] = std::move(watch);
  return {};
}

void ProcessLauncher::signal(pid_t pid, int sig) {
  if (!watches_.count(pid)) return;  // reaped already: the pid may belong to someone else now
  if (::kill(-pid, sig) != 0) ::kill(pid, sig);  // an adopted daemon may lead no group
}

std::size_t ProcessLauncher::running() const { return watches_.size(); }

}  // namespace amf::containers
