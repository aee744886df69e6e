#include "containers/process_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>

namespace amf::containers {

struct ProcessLauncher::Watch {
  explicit Watch(boost::asio::io_context& io, int fd) : pidfd(io, fd) {}
  boost::asio::posix::stream_descriptor pidfd;
};

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

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

Result<pid_t> ProcessLauncher::start(const ProcessSpec& spec) {
  const int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return fail("cannot open log file " + spec.log_path + ": " + errno_text(errno));

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, log_fd, STDERR_FILENO);
  if (!spec.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&setup.actions, spec.working_dir.c_str());
  }
  // Own process group (so terminate and cleanup reach every process the component forks),
  // an empty signal mask, and default dispositions for what amfd itself handles.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);

  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv{const_cast<char*>(spec.command.c_str())};
  for (const auto& a : spec.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int err = posix_spawnp(&pid, spec.command.c_str(), &setup.actions, &setup.attr, argv.data(),
                               envp.data());
  ::close(log_fd);
  if (err != 0) return fail("cannot run '" + spec.command + "': " + errno_text(err));

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
