#include "containers/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

ProcessLauncher::ProcessLauncher(boost::asio::io_context& io, ExitHandler on_exit)
    : io_(io), on_exit_(std::move(on_exit)) {}

ProcessLauncher::~ProcessLauncher() = default;

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

}  // namespace

Result<pid_t> ProcessLauncher::start(const ProcessSpec& spec) {
  auto program = resolve(spec.command);
  if (!program) return tl::unexpected(program.error());
  // A log file that is a symbolic link is refused: whoever can write to the log directory
  // must not be able to make amfd append to a file of its choice.
  const int log_fd = ::open(spec.log_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (log_fd < 0) return fail("cannot open log file " + spec.log_path + ": " + errno_text(errno));

  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv{const_cast<char*>(spec.command.c_str())};
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // clone3 rather than posix_spawn: only it can start the process inside its cgroup
  // (CLONE_INTO_CGROUP), so that not even a fork right after exec escapes, and it hands back
  // a pidfd with no window for the PID to be reused. CLONE_VFORK keeps posix_spawn's
  // contract: when it returns, the child has exec'd or failed. The child runs only
  // async-signal-safe calls; an exec failure comes back through a close-on-exec pipe.
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(log_fd);
    return fail("cannot run '" + spec.command + "': pipe: " + errno_text(err));
  }
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);  // no handler of amfd's runs in the child
  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_PIDFD | CLONE_VFORK | (spec.cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = spec.cgroup_fd >= 0 ? static_cast<std::uint64_t>(spec.cgroup_fd) : 0;
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) {
    // The child: default dispositions for what amfd handles or ignores, an empty mask, its
    // own process group, stdin from /dev/null, stdout and stderr to the log.
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(s, SIG_DFL);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::setpgid(0, 0);
    int err = 0;
    const int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(log_fd, STDOUT_FILENO) < 0 ||
        ::dup2(log_fd, STDERR_FILENO) < 0 ||
        (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0)) {
      err = errno;
    } else {
      ::execve(program->c_str(), argv.data(), envp.data());
      err = errno;
    }
    [[maybe_unused]] auto n = ::write(error_pipe[1], &err, sizeof err);
    ::_exit(127);
  }
  const int clone_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  ::close(log_fd);
  ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(error_pipe[0]);
    return fail("cannot run '" + spec.command + "': clone3: " + errno_text(clone_err));
  }
  int exec_err = 0;
  const bool failed = ::read(error_pipe[0], &exec_err, sizeof exec_err) == sizeof exec_err;
  ::close(error_pipe[0]);
  if (failed) {
    siginfo_t info{};
    ::waitid(static_cast<idtype_t>(P_PIDFD), pidfd, &info, WEXITED);
    ::close(pidfd);
    return fail("cannot run '" + spec.command + "': " + errno_text(exec_err));
  }
  auto watch = std::make_unique<Watch>(io_, pidfd);
  watch->pidfd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, pid](const boost::system::error_code& ec) {
                            if (!ec) on_readable(static_cast<pid_t>(pid));
                          });
  watches_[static_cast<pid_t>(pid)] = std::move(watch);
  return static_cast<pid_t>(pid);
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
  if (pid <= 1 || watches_.count(pid)) return fail("pid " + std::to_string(pid) + " cannot be adopted");
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
