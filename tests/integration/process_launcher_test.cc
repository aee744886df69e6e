// The process launcher on real processes: exit codes, signals, process groups, output capture.
#include "containers/process_launcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "containers/cgroup.h"
#include "containers/proc_files.h"
#include "tests/integration/support.h"

namespace amf::containers {
namespace {

class ProcessLauncherTest : public ::testing::Test {
 protected:
  ProcessSpec spec(std::vector<std::string> args) {
    ProcessSpec s;
    s.command = "/bin/sh";
    s.args = {"-c"};
    for (auto& a : args) s.args.push_back(std::move(a));
    s.env = {{"PATH", "/usr/bin:/bin"}, {"GREETING", "hello"}};
    s.working_dir = dir_.path();
    s.log_path = dir_.path() + "/out.log";
    return s;
  }
  // Runs the loop until the launcher has reported `count` exits (bounded).
  void run_until_exits(std::size_t count) {
    boost::asio::steady_timer guard(io_, std::chrono::seconds(20));
    guard.async_wait([&](auto ec) {
      if (!ec) io_.stop();
    });
    while (exits_.size() < count && !io_.stopped()) io_.run_one();
    guard.cancel();
  }

  itest::TempDir dir_;
  boost::asio::io_context io_;
  std::vector<std::pair<pid_t, ExitStatus>> exits_;
  ProcessLauncher launcher_{io_, [this](pid_t pid, ExitStatus s) { exits_.emplace_back(pid, s); }};
};

TEST_F(ProcessLauncherTest, ReportsExitCodeAndCapturesOutputInWorkingDir) {
  auto pid = launcher_.start(spec({"echo $GREETING from $(pwd); echo oops >&2; exit 3"}));
  ASSERT_TRUE(pid) << pid.error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].first, *pid);
  EXPECT_EQ(exits_[0].second.code, 3);
  EXPECT_EQ(exits_[0].second.describe(), "exited with code 3");
  EXPECT_EQ(itest::slurp(dir_.path() + "/out.log"), "hello from " + dir_.path() + "\noops\n");
  EXPECT_EQ(launcher_.running(), 0u);
}

TEST_F(ProcessLauncherTest, KillReachesTheWholeProcessGroup) {
  // The shell forks a child that would outlive it; the group kill must take both.
  auto pid = launcher_.start(spec({"sleep 300 & echo $! > child.pid; wait"}));
  ASSERT_TRUE(pid);
  ASSERT_TRUE(itest::eventually([&] { return itest::fs::exists(dir_.path() + "/child.pid"); }));
  pid_t child = 0;
  ASSERT_TRUE(itest::eventually([&] {
    child = std::atoi(itest::slurp(dir_.path() + "/child.pid").c_str());
    return child > 0;
  }));
  launcher_.signal(*pid, SIGKILL);
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].second.signal, SIGKILL);
  EXPECT_EQ(exits_[0].second.describe(), "killed by signal 9 (Killed)");
  // The orphaned sleep is reaped by init; it must be gone (or a zombie on its way out).
  EXPECT_TRUE(itest::eventually([&] {
    return ::kill(child, 0) != 0 ||
           itest::slurp("/proc/" + std::to_string(child) + "/stat").find(") Z") !=
               std::string::npos;
  }));
}

// A started process holds stdin, stdout and stderr and nothing of amfd's: not a descriptor
// amfd forgot to mark close-on-exec, not the launcher's own slots. (The child builds a file
// table of only amfd's lowest descriptors, so that a start costs the same whatever amfd holds.)
TEST_F(ProcessLauncherTest, TheProcessHoldsOnlyItsStandardDescriptors) {
  const int null_fd = ::open("/dev/null", O_RDONLY);  // inheritable on purpose
  ASSERT_GE(null_fd, 0);
  const int high = ::fcntl(null_fd, F_DUPFD, 200);
  ASSERT_GE(high, 200);
  auto pid = launcher_.start(spec({"ls /proc/$$/fd"}));
  ::close(high);
  ::close(null_fd);
  ASSERT_TRUE(pid) << pid.error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].second.code, 0);
  EXPECT_EQ(itest::slurp(dir_.path() + "/out.log"), "0\n1\n2\n");
}

TEST_F(ProcessLauncherTest, MissingProgramIsAnErrorWithTheReason) {
  ProcessSpec s = spec({});
  s.command = "amf-no-such-program";
  s.args.clear();
  auto pid = launcher_.start(s);
  ASSERT_FALSE(pid);
  EXPECT_EQ(pid.error().message(), "cannot run 'amf-no-such-program': No such file or directory");
}

TEST_F(ProcessLauncherTest, UnwritableLogIsAnErrorAndNothingRuns) {
  ProcessSpec s = spec({"exit 0"});
  s.log_path = dir_.path() + "/no/such/dir/out.log";
  auto pid = launcher_.start(s);
  ASSERT_FALSE(pid);
  EXPECT_NE(pid.error().message().find("cannot open log file"), std::string::npos);
  EXPECT_EQ(launcher_.running(), 0u);
}

TEST_F(ProcessLauncherTest, SignalAfterExitIsIgnored) {
  auto pid = launcher_.start(spec({"exit 0"}));
  ASSERT_TRUE(pid);
  run_until_exits(1);
  launcher_.signal(*pid, SIGKILL);  // reaped already: must not touch a recycled pid
  EXPECT_EQ(exits_.size(), 1u);
}

TEST_F(ProcessLauncherTest, StartsInsideItsCgroupAndTheCgroupEndsEveryDescendant) {
  auto tree = CgroupTree::open(dir_.path());
  if (!tree) GTEST_SKIP() << "no cgroup here: " << tree.error().message();
  auto fd = tree->create("c.1");
  ASSERT_TRUE(fd) << fd.error().message();
  ProcessSpec s = spec({"sleep 600 & setsid sleep 600 & echo started; wait"});
  s.cgroup_procs_fd = *fd;
  auto pid = launcher_.start(s);
  ASSERT_TRUE(pid) << pid.error().message();
  EXPECT_TRUE(tree->contains("c.1", *pid));  // from its first instruction on
  ASSERT_TRUE(itest::eventually([&] { return tree->members("c.1").size() == 3; }));
  tree->kill("c.1");
  run_until_exits(1);
  EXPECT_TRUE(itest::eventually([&] { return tree->members("c.1").empty(); }));
  auto swept = tree->sweep();
  ASSERT_TRUE(swept) << swept.error().message();
  EXPECT_TRUE(swept->empty());
  EXPECT_FALSE(std::filesystem::exists(tree->path() + "/c.1"));
  ::rmdir(tree->path().c_str());
}

TEST_F(ProcessLauncherTest, SweepEndsAndNamesWhatAnEarlierOwnerLeftInTheTree) {
  auto tree = CgroupTree::open(dir_.path());
  if (!tree) GTEST_SKIP() << "no cgroup here: " << tree.error().message();
  auto fd = tree->create("left.1");
  ASSERT_TRUE(fd);
  ProcessSpec s = spec({});
  s.command = "/bin/sleep";
  s.args = {"600"};
  s.cgroup_procs_fd = *fd;
  auto pid = launcher_.start(s);
  ASSERT_TRUE(pid);
  // start() returns once the child is in execve; its command line is there a moment later.
  ASSERT_TRUE(itest::eventually(
      [&] { return !itest::slurp("/proc/" + std::to_string(*pid) + "/cmdline").empty(); }));
  // A new owner of the same tree (an amfd started again on the same runtime directory).
  auto again = CgroupTree::open(dir_.path());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->path(), tree->path());
  auto swept = again->sweep();
  ASSERT_TRUE(swept) << swept.error().message();
  ASSERT_EQ(swept->size(), 1u);
  EXPECT_EQ((*swept)[0].pid, *pid);
  EXPECT_EQ((*swept)[0].cgroup, "left.1");
  EXPECT_EQ((*swept)[0].command, "/bin/sleep 600");
  run_until_exits(1);
  EXPECT_EQ(exits_[0].second.signal, SIGKILL);
  ::rmdir(tree->path().c_str());
}

TEST(PathElementTest, DistinctNamesStayDistinct) {
  EXPECT_EQ(path_element("app/su-1/c"), "app%2Fsu-1%2Fc");
  EXPECT_NE(path_element("a%2Fb"), path_element("a/b"));
}

// CI once saw amfd end on an uncaught std::ios_base::failure: /proc/PID/stat of a component
// that exited between open and read fails with ESRCH, and a std::ifstream read through
// istreambuf_iterator throws that. A file that opens and then fails to read (a directory:
// EISDIR) is the same path, made on purpose.
TEST(ProcFilesTest, AFileThatOpensButFailsToReadIsEmptyAndThrowsNothing) {
  std::string text = "not read";
  EXPECT_NO_THROW(text = read_kernel_file("/proc/self"));
  EXPECT_EQ(text, "");
  EXPECT_EQ(read_kernel_file("/proc/self/no-such-file"), "");
  EXPECT_NE(read_kernel_file("/proc/self/status").find("Pid:"), std::string::npos);
}

// The command name may hold ") Z 1 (": the fields are taken after the last parenthesis. A
// zombie says Z until it is reaped, and a reaped process has no stat.
TEST(ProcFilesTest, StatOfALiveAZombieAndAReapedProcess) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::prctl(PR_SET_NAME, "x) Z 1 (y", 0, 0, 0);
    (void)!::write(ready[1], "r", 1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);

  const auto live = read_proc_stat(child);
  ASSERT_TRUE(live.has_value());
  EXPECT_NE(live->state, 'Z');
  EXPECT_EQ(live->ppid, ::getpid());

  ::kill(child, SIGKILL);
  EXPECT_TRUE(itest::eventually([&] {
    const auto stat = read_proc_stat(child);
    return stat && stat->state == 'Z';
  }));
  EXPECT_EQ(read_proc_stat(child)->ppid, ::getpid());

  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  EXPECT_FALSE(read_proc_stat(child).has_value());

  const auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->ppid, ::getppid());
}

}  // namespace
}  // namespace amf::containers
