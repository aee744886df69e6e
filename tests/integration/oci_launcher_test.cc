// The OCI launcher on real containers (runc): namespaces, read-only root, scratch /tmp,
// binds, exit codes and signals, limits, errors, cleanup, orphans.
#include "containers/oci_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "tests/integration/support.h"

namespace amf::containers {
namespace {

namespace fs = std::filesystem;

// Why containers cannot run here at all (not root, no namespaces), or "" when they can.
// Missing runc is not a reason: tools/run installs it, so that is a failure.
std::string cannot_run_containers() {
  if (::geteuid() != 0)
    return "runc needs root to create namespaces and cgroups; running as uid " +
           std::to_string(::geteuid());
  auto probe = itest::run(
      {"/usr/bin/unshare", "--pid", "--mount", "--uts", "--ipc", "--net", "--fork", "/bin/true"});
  if (probe.exit_code != 0) {
    return "this kernel/sandbox does not let us create pid/mount/uts/ipc/net namespaces "
           "(unshare: " +
           probe.err + ")";
  }
  return "";
}

std::vector<pid_t> children_of_this_process() {
  std::vector<pid_t> out;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "children");
    pid_t pid = 0;
    while (in >> pid) out.push_back(pid);
  }
  return out;
}

// The cgroup directories of a running process (v1 controllers and the unified one).
std::vector<std::string> cgroup_dirs(pid_t pid) {
  std::vector<std::string> dirs;
  std::istringstream lines(itest::slurp("/proc/" + std::to_string(pid) + "/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    std::string controller = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (controller.rfind("name=", 0) == 0) controller = controller.substr(5);
    if (controller.empty()) controller = "unified";
    const std::string dir = "/sys/fs/cgroup/" + controller + path;
    if (fs::is_directory(dir)) dirs.push_back(dir);
  }
  return dirs;
}

class OciLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = cannot_run_containers(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(OciLauncher::become_child_subreaper());
    ASSERT_EQ(itest::run({"/bin/sh", "-c", "command -v runc"}).exit_code, 0)
        << "runc is not installed (Debian package runc; tools/run setup installs it)";
    fs::create_directories(out_dir());
    launcher_ = make_launcher();
  }
  void TearDown() override {
    if (!launcher_) return;
    // Whatever a failed test left running goes; then the state directory must be empty.
    auto cleanup = launcher_->cleanup_orphans();
    EXPECT_TRUE(cleanup) << cleanup.error().message();
    launcher_.reset();
    EXPECT_TRUE(children_of_this_process().empty()) << "a container init was not reaped";
  }

  std::unique_ptr<OciLauncher> make_launcher(OciLauncher::Options options = {}) {
    if (options.state_dir.empty()) options.state_dir = state_dir();
    options.on_warning = [this](const std::string& w) { warnings_.push_back(w); };
    return std::make_unique<OciLauncher>(io_, options,
                                         [this](const std::string& id, pid_t pid, ExitStatus s) {
                                           exits_.push_back({id, pid, s});
                                         });
  }
  std::string state_dir() const { return dir_.path() + "/state"; }
  std::string out_dir() const { return dir_.path() + "/out"; }

  // /bin/sh -c `script` on the host's root, with out_dir() bound read-write at /out.
  OciSpec spec(const std::string& script) {
    OciSpec s;
    s.name = "test/component 1";  // sanitised into the id
    s.command = "/bin/sh";
    s.args = {"-c", script};
    s.env = {{"GREETING", "hello"}};
    s.log_path = dir_.path() + "/container.log";
    s.binds.push_back({out_dir(), "/out", BindMount::Access::kReadWrite});
    return s;
  }

  // Runs the loop until `count` exits have been reported (bounded).
  void run_until_exits(std::size_t count,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    boost::asio::steady_timer guard(io_, limit);
    guard.async_wait([&](auto ec) {
      if (!ec) io_.stop();
    });
    while (exits_.size() < count && !io_.stopped()) io_.run_one();
    guard.cancel();
    io_.restart();
  }
  // Runs the loop for `d` (to show that nothing happens).
  void run_for(std::chrono::milliseconds d) {
    io_.run_for(d);
    io_.restart();
  }
  bool wait_for_file(const std::string& path) {
    return itest::eventually([&] { return fs::exists(path); });
  }

  // No runc state, no bundle, no mount, no cgroup directory left for `id`.
  void expect_nothing_left(const std::string& id, const std::vector<std::string>& cgroups = {}) {
    // Exited containers are deleted kRemovalDelay after their exit (off the failover path),
    // on the launcher's worker thread.
    run_for(OciLauncher::kRemovalDelay + std::chrono::milliseconds(200));
    EXPECT_TRUE(itest::eventually([&] { return !fs::exists(launcher_->runc_root() + "/" + id); }))
        << "runc state left for " << id;
    EXPECT_TRUE(itest::eventually([&] { return !fs::exists(launcher_->bundle_dir(id)); }))
        << "bundle left for " << id;
    EXPECT_EQ(itest::slurp("/proc/self/mountinfo").find(dir_.path()), std::string::npos)
        << "a mount under the test directory is left";
    for (const auto& dir : cgroups) EXPECT_FALSE(fs::exists(dir)) << "cgroup left: " << dir;
    std::string listed;
    EXPECT_TRUE(itest::eventually([&] {
      listed = itest::run({"/bin/sh", "-c",
                           "runc --root " + launcher_->runc_root() + " list --format json"})
                   .out;
      return listed == "null\n";
    })) << "runc still lists containers: "
        << listed;
  }

  struct Exit {
    std::string id;
    pid_t pid;
    ExitStatus status;
  };
  itest::TempDir dir_;
  boost::asio::io_context io_;
  std::vector<Exit> exits_;
  std::vector<std::string> warnings_;
  std::unique_ptr<OciLauncher> launcher_;
};

TEST_F(OciLauncherTest, RunsIsolatedWithReadOnlyRootWritableScratchAndReportsExitCode) {
  const std::string script = R"sh(
    exec 3>/out/result
    echo "pid=$$" >&3
    if touch /probe 2>/dev/null; then echo root=rw >&3; else echo root=ro >&3; fi
    touch /tmp/x && echo tmp=rw >&3
    touch /run/x && echo run=rw >&3
    echo "host=$(cat /proc/sys/kernel/hostname)" >&3
    echo "cwd=$(pwd)" >&3
    grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status | tr -d '\t' >&3
    echo "$GREETING from the container"
    echo "to stderr" >&2
    exit 7
  )sh";
  OciSpec s = spec(script);
  s.working_dir = "/tmp";
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  EXPECT_EQ(started->id.rfind("amf-test-component-1-", 0), 0u) << started->id;
  EXPECT_GT(started->pid, 0);
  EXPECT_TRUE(started->warnings.empty());
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].id, started->id);
  EXPECT_EQ(exits_[0].pid, started->pid);
  EXPECT_EQ(exits_[0].status.code, 7);
  EXPECT_EQ(exits_[0].status.signal, 0);
  EXPECT_EQ(itest::slurp(out_dir() + "/result"),
            "pid=1\nroot=ro\ntmp=rw\nrun=rw\nhost=test-component-1\ncwd=/tmp\n"
            "CapEff:0000000000000000\nCapBnd:0000000000000000\nNoNewPrivs:1\n");
  EXPECT_EQ(itest::slurp(dir_.path() + "/container.log"), "hello from the container\nto stderr\n");
  EXPECT_EQ(launcher_->running(), 0u);
  expect_nothing_left(started->id);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(OciLauncherTest, EnvironmentValuesSurviveJsonEscaping) {
  const std::string tricky =
      "quote\" backslash\\ \\\" newline\n tab\t cr\r bell\x07 esc\x1b "
      "unit\x1f del\x7f utf8 \xc3\xa9 braces {\"a\":[1]} =equals=";
  OciSpec s = spec("printf '%s' \"$TRICKY\" > /out/env");
  s.env["TRICKY"] = tricky;
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.code, 0);
  EXPECT_EQ(itest::slurp(out_dir() + "/env"), tricky);
}

TEST_F(OciLauncherTest, EnvironmentBytesThatAreNotUtf8BecomeReplacementCharacters) {
  // runc's (Go) JSON decoder would make U+FFFD of them; config.json carries U+FFFD itself.
  OciSpec s = spec("printf '%s' \"$RAW\" > /out/env");
  s.env["RAW"] = std::string("a\xff\xc3") + "b";  // a byte never in UTF-8, a sequence cut short
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.code, 0);
  EXPECT_EQ(itest::slurp(out_dir() + "/env"), std::string("a\xef\xbf\xbd\xef\xbf\xbd") + "b");
}

TEST(OciNameTest, SanitizesComponentNamesIntoContainerIds) {
  EXPECT_EQ(sanitize_container_name("app/sg-1 su.2_x"), "app-sg-1-su.2_x");
  EXPECT_EQ(sanitize_container_name(""), "container");
  EXPECT_EQ(sanitize_container_name(std::string(100, 'a')).size(), 40u);
}

TEST_F(OciLauncherTest, SigtermReachesAnInitThatHandlesIt) {
  auto started = launcher_->start(
      spec("trap 'echo got TERM; exit 143' TERM; touch /out/ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(started) << started.error().message();
  ASSERT_TRUE(wait_for_file(out_dir() + "/ready"));
  launcher_->signal(started->id, SIGTERM);
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.code, 143);
  EXPECT_NE(itest::slurp(dir_.path() + "/container.log").find("got TERM"), std::string::npos);
  expect_nothing_left(started->id);
}

TEST_F(OciLauncherTest, SigtermIgnoredByPidOneThenSigkillKillsTheWholeContainer) {
  // No trap: pid 1 of a namespace does not die of a signal it does not handle, except SIGKILL.
  auto started = launcher_->start(
      spec("sleep 300 & echo $! > /out/child; touch /out/ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(started) << started.error().message();
  ASSERT_TRUE(wait_for_file(out_dir() + "/ready"));
  const auto cgroups = cgroup_dirs(started->pid);
  EXPECT_FALSE(cgroups.empty());
  launcher_->signal(started->pid, SIGTERM);  // by pid, as amfd's daemon does
  run_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(exits_.empty()) << "pid 1 without a TERM handler must survive SIGTERM";
  EXPECT_EQ(launcher_->running(), 1u);
  launcher_->signal(started->id, SIGKILL);
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.signal, SIGKILL);
  EXPECT_EQ(exits_[0].status.describe(), "killed by signal 9 (Killed)");
  launcher_->signal(started->id, SIGKILL);  // reaped already: ignored
  expect_nothing_left(started->id, cgroups);
}

TEST_F(OciLauncherTest, MemoryAndPidsLimitsAreAppliedAndVisibleInside) {
  // The container reads its own limits through the cgroup tree (bound read-only for this test
  // only) and tries to start more processes than the pids limit allows.
  const std::string script = R"sh(
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
      p=$(sed -n 's/^0:://p' /proc/self/cgroup)
      cat /sys/fs/cgroup$p/memory.max > /out/memory
      cat /sys/fs/cgroup$p/pids.max > /out/pids
    else
      m=$(awk -F: '$2=="memory"{print $3}' /proc/self/cgroup)
      p=$(awk -F: '$2=="pids"{print $3}' /proc/self/cgroup)
      cat /sys/fs/cgroup/memory$m/memory.limit_in_bytes > /out/memory
      cat /sys/fs/cgroup/pids$p/pids.max > /out/pids
    fi
    # A subshell forks until it fails (dash gives up with status 2 on "Cannot fork").
    ( for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done ) 2>/dev/null
    echo $? > /out/fork_status
    # No fork from here on: the limit is reached. Count the processes, then end them.
    set -- /proc/[0-9]*
    echo $# > /out/processes
    kill -9 -1
    exit 0
  )sh";
  OciSpec s = spec(script);
  s.memory_limit_bytes = 48 * 1024 * 1024;
  s.pids_limit = 6;
  s.binds.push_back({"/sys/fs/cgroup", "/sys/fs/cgroup", BindMount::Access::kReadOnly});
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  const auto support = launcher_->cgroups();
  std::cerr << "cgroup setup: " << support.describe() << "\n";
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  if (!support.memory || !support.pids) {
    // Not a silent pass: the degraded start is what is checked, and it is said loudly.
    std::cerr << "\n*** LIMITS NOT CHECKED: this host's cgroup setup (" << support.describe()
              << ") cannot apply them; checking the start warnings instead ***\n\n";
    EXPECT_FALSE(started->warnings.empty());
    return;
  }
  EXPECT_TRUE(started->warnings.empty());
  EXPECT_EQ(exits_[0].status.code, 0) << itest::slurp(dir_.path() + "/container.log");
  EXPECT_EQ(std::stoull(itest::slurp(out_dir() + "/memory")), 48ull * 1024 * 1024);
  EXPECT_EQ(itest::slurp(out_dir() + "/pids"), "6\n");
  // The shell and the sleeps that could start: no more than the limit, of 13 asked for.
  EXPECT_LE(std::atoi(itest::slurp(out_dir() + "/processes").c_str()), 6);
  EXPECT_NE(itest::slurp(out_dir() + "/fork_status"), "0\n") << "12 forks within a limit of 6";
  expect_nothing_left(started->id);
}

TEST_F(OciLauncherTest, LimitsWithoutControllersStartWithAWarning) {
  itest::TempDir fake_cgroup_root;  // no controller directories at all
  launcher_ = make_launcher({.cgroup_root = fake_cgroup_root.path()});
  OciSpec s = spec("exit 0");
  s.memory_limit_bytes = 64 << 20;
  s.pids_limit = 10;
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  ASSERT_EQ(started->warnings.size(), 2u);
  EXPECT_EQ(
      started->warnings[0].rfind(
          "memory limit not applied: no memory controller under " + fake_cgroup_root.path(), 0),
      0u)
      << started->warnings[0];
  EXPECT_EQ(started->warnings[1].rfind("pids limit not applied", 0), 0u) << started->warnings[1];
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.code, 0);
}

TEST_F(OciLauncherTest, NetworkNoneHasOnlyLoopbackAndHostSharesTheHostsInterfaces) {
  OciSpec none = spec("ls /sys/class/net > /out/none");
  none.network = OciSpec::Network::kNone;
  auto a = launcher_->start(none);
  ASSERT_TRUE(a) << a.error().message();
  auto b = launcher_->start(spec("ls /sys/class/net > /out/host"));
  ASSERT_TRUE(b) << b.error().message();
  run_until_exits(2);
  ASSERT_EQ(exits_.size(), 2u);
  EXPECT_EQ(itest::slurp(out_dir() + "/none"), "lo\n");
  EXPECT_EQ(itest::slurp(out_dir() + "/host"), itest::run({"/bin/ls", "/sys/class/net"}).out);
  expect_nothing_left(a->id);
  expect_nothing_left(b->id);
}

TEST_F(OciLauncherTest, DirectoryRootfsIsUsedReadOnlyAndKept) {
  // A tiny root: merged-/usr symlinks, with the host's /usr bound in.
  const std::string root = dir_.path() + "/myroot";
  fs::create_directories(root + "/usr");
  fs::create_directories(root + "/out");
  for (const char* top : {"bin", "lib", "lib64", "sbin"}) {
    if (fs::is_symlink(std::string("/") + top)) {
      fs::create_symlink(fs::read_symlink(std::string("/") + top), root + "/" + top);
    }
  }
  std::ofstream(root + "/marker") << "mine\n";
  OciSpec s = spec("cat /marker > /out/marker; touch /marker 2>/dev/null && echo rw || echo ro");
  s.rootfs = root;
  s.binds.push_back({"/usr", "/usr", BindMount::Access::kReadOnly});
  auto started = launcher_->start(s);
  ASSERT_TRUE(started) << started.error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].status.code, 0);
  EXPECT_EQ(itest::slurp(out_dir() + "/marker"), "mine\n");
  EXPECT_NE(itest::slurp(dir_.path() + "/container.log").find("ro"), std::string::npos);
  EXPECT_EQ(itest::slurp(root + "/marker"), "mine\n") << "the caller's rootfs must be kept";
  expect_nothing_left(started->id);
}

TEST_F(OciLauncherTest, MissingRootfsDirectoryIsAnError) {
  OciSpec s = spec("exit 0");
  s.rootfs = dir_.path() + "/no-such-root";
  auto started = launcher_->start(s);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().message(), "container 'test/component 1': rootfs directory '" +
                                           dir_.path() + "/no-such-root' does not exist");
  EXPECT_EQ(launcher_->running(), 0u);
}

TEST_F(OciLauncherTest, CommandNotFoundInsideTheContainerIsAnErrorAndLeavesNothing) {
  OciSpec s = spec("");
  s.command = "/opt/amf-no-such-program";
  s.args.clear();
  auto started = launcher_->start(s);
  ASSERT_FALSE(started);
  const std::string& m = started.error().message();
  EXPECT_NE(m.find("runc run failed (exit code 1)"), std::string::npos) << m;
  EXPECT_NE(m.find("/opt/amf-no-such-program"), std::string::npos) << m;
  EXPECT_NE(m.find("no such file or directory"), std::string::npos) << m;
  EXPECT_EQ(launcher_->running(), 0u);
  EXPECT_TRUE(fs::is_empty(state_dir() + "/bundles"));
  expect_nothing_left("none");
}

// start_async: runc runs on the launcher's worker; the answer comes on the loop's thread,
// never from inside the call, a failure with the same message as start()'s.
TEST_F(OciLauncherTest, StartAsyncAnswersOnTheLoop) {
  std::vector<Result<StartedContainer>> answers;
  auto answer = [&](Result<StartedContainer> r) { answers.push_back(std::move(r)); };
  OciSpec no_root = spec("exit 0");
  no_root.rootfs = dir_.path() + "/no-such-root";
  launcher_->start_async(no_root, answer);
  launcher_->start_async(spec("echo started > /out/async; exit 4"), answer);
  OciSpec bad = spec("");
  bad.command = "/opt/amf-no-such-program";
  bad.args.clear();
  launcher_->start_async(bad, answer);
  EXPECT_TRUE(answers.empty());
  boost::asio::steady_timer guard(io_, std::chrono::seconds(20));
  guard.async_wait([&](auto ec) {
    if (!ec) io_.stop();
  });
  while (answers.size() < 3 && !io_.stopped()) io_.run_one();
  guard.cancel();
  io_.restart();
  ASSERT_EQ(answers.size(), 3u);
  ASSERT_FALSE(answers[0]);  // refused before runc
  EXPECT_EQ(answers[0].error().message(), "container 'test/component 1': rootfs directory '" +
                                              dir_.path() + "/no-such-root' does not exist");
  ASSERT_TRUE(answers[1]) << answers[1].error().message();  // runc calls run in order
  ASSERT_FALSE(answers[2]);
  EXPECT_NE(answers[2].error().message().find("runc run failed (exit code 1)"), std::string::npos)
      << answers[2].error().message();
  run_until_exits(1);
  ASSERT_EQ(exits_.size(), 1u);
  EXPECT_EQ(exits_[0].id, answers[1]->id);
  EXPECT_EQ(exits_[0].pid, answers[1]->pid);
  EXPECT_EQ(exits_[0].status.code, 4);
  EXPECT_EQ(itest::slurp(out_dir() + "/async"), "started\n");
  expect_nothing_left(answers[1]->id);  // removed on the worker too
}

// While runc works the loop goes on: here runc waits for a file that only a handler on the
// loop creates. A start that blocked the loop would run into the runc timeout instead.
TEST_F(OciLauncherTest, StartAsyncLeavesTheLoopFreeWhileRuncRuns) {
  const std::string go = dir_.path() + "/go";
  const std::string fake = dir_.file(
      "fake-runc", "#!/bin/sh\nwhile [ ! -e " + go +
                       " ]; do sleep 0.01; done\necho 'fake runc: done waiting' >&2\nexit 1\n");
  fs::permissions(fake, fs::perms::owner_all);
  launcher_ = make_launcher({.runc = fake, .runc_timeout = std::chrono::seconds(10)});
  std::optional<Result<StartedContainer>> answer;
  launcher_->start_async(spec("exit 0"), [&](Result<StartedContainer> r) { answer = r; });
  boost::asio::post(io_, [&] { std::ofstream(go).put('1'); });
  boost::asio::steady_timer guard(io_, std::chrono::seconds(20));
  guard.async_wait([&](auto ec) {
    if (!ec) io_.stop();
  });
  while (!answer && !io_.stopped()) io_.run_one();
  guard.cancel();
  io_.restart();
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(*answer);
  EXPECT_NE(answer->error().message().find("runc run failed (exit code 1)"), std::string::npos)
      << answer->error().message();
  launcher_ = make_launcher();
}

TEST_F(OciLauncherTest, MissingRuncIsAnError) {
  launcher_ = make_launcher({.runc = "/nonexistent/runc"});
  auto started = launcher_->start(spec("exit 0"));
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message().find(
                "cannot run runc '/nonexistent/runc': No such file or directory"),
            std::string::npos)
      << started.error().message();
  EXPECT_TRUE(fs::is_empty(state_dir() + "/bundles"));
  launcher_ = make_launcher();  // TearDown cleans up with a real runc
}

TEST_F(OciLauncherTest, RuncFailureIsReportedWithRuncsMessage) {
  OciSpec s = spec("exit 0");
  s.binds.push_back({dir_.path() + "/no-such-dir", "/data", BindMount::Access::kReadOnly});
  auto started = launcher_->start(s);
  ASSERT_FALSE(started);
  const std::string& m = started.error().message();
  EXPECT_EQ(m.rfind("container amf-test-component-1-", 0), 0u) << m;
  EXPECT_NE(m.find("runc run failed"), std::string::npos) << m;
  EXPECT_NE(m.find(dir_.path() + "/no-such-dir"), std::string::npos) << m;
  EXPECT_TRUE(fs::is_empty(state_dir() + "/bundles"));
  expect_nothing_left("none");
}

TEST_F(OciLauncherTest, HangingRuncIsKilledAfterTheTimeout) {
  const std::string fake = dir_.file("fake-runc", "#!/bin/sh\nexec sleep 30\n");
  fs::permissions(fake, fs::perms::owner_all);
  launcher_ = make_launcher({.runc = fake, .runc_timeout = std::chrono::milliseconds(300)});
  auto started = launcher_->start(spec("exit 0"));
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message().find("runc run did not finish within 300 ms (killed)"),
            std::string::npos)
      << started.error().message();
  launcher_ = make_launcher();
}

TEST_F(OciLauncherTest, RuncListOutputThatIsNotAListOfContainersIsAnError) {
  fs::create_directories(state_dir() + "/runc");  // a runc root: cleanup_orphans asks runc
  const std::string output = dir_.path() + "/list-output";
  const std::string fake = dir_.file("fake-runc", "#!/bin/sh\ncat " + output + "\n");
  fs::permissions(fake, fs::perms::owner_all);
  launcher_ = make_launcher({.runc = fake});
  for (const std::string bad : {"[{\"id\":\"amf-cut-1\",", "{\"id\":\"amf-object-1\"}",
                                "[\"amf-string-1\"]", "[{\"id\":7}]", ""}) {
    std::ofstream(output) << bad;
    auto report = launcher_->cleanup_orphans();
    ASSERT_FALSE(report) << bad;
    const std::string& m = report.error().message();
    EXPECT_EQ(m.rfind("listing orphaned containers: cannot parse runc list output (", 0), 0u) << m;
    EXPECT_NE(m.find("): " + bad), std::string::npos) << m;
  }
  launcher_ = make_launcher();  // TearDown cleans up with a real runc
}

TEST_F(OciLauncherTest, StartIsRefusedWhenNotASubreaper) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
  auto started = launcher_->start(spec("exit 0"));
  ASSERT_TRUE(OciLauncher::become_child_subreaper());
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message().find("not a child subreaper"), std::string::npos);
}

TEST_F(OciLauncherTest, CleanupOrphansRemovesWhatACrashedOwnerLeft) {
  // "amfd" starts a container and crashes: the launcher goes away without cleaning up.
  auto started = launcher_->start(spec("touch /out/ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(started) << started.error().message();
  ASSERT_TRUE(wait_for_file(out_dir() + "/ready"));
  const auto cgroups = cgroup_dirs(started->pid);
  const std::string orphan_id = started->id;
  const pid_t orphan_pid = started->pid;
  launcher_.reset();
  // And a bundle whose container state is gone.
  fs::create_directories(state_dir() + "/bundles/amf-stale-1/rootfs");
  ASSERT_TRUE(itest::process_exists(orphan_pid));

  // "amfd" restarts.
  launcher_ = make_launcher();
  auto report = launcher_->cleanup_orphans();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->containers, std::vector<std::string>{orphan_id});
  EXPECT_EQ(report->bundles, std::vector<std::string>{state_dir() + "/bundles/amf-stale-1"});
  EXPECT_FALSE(itest::process_exists(orphan_pid)) << "the orphaned init must be dead and reaped";
  EXPECT_TRUE(exits_.empty()) << "orphans are not reported as exits";
  expect_nothing_left(orphan_id, cgroups);
  EXPECT_TRUE(fs::is_empty(state_dir() + "/bundles"));

  auto again = launcher_->cleanup_orphans();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->containers.empty());
  EXPECT_TRUE(again->bundles.empty());
}

TEST_F(OciLauncherTest, CleanupOrphansRemovesAContainerStartedByRuncDirectly) {
  // The crash window between `runc run` and our watch: only runc knows the container.
  auto started = launcher_->start(spec("exit 0"));  // creates the state directories
  ASSERT_TRUE(started);
  run_until_exits(1);
  const std::string bundle = state_dir() + "/bundles/amf-direct-1";
  fs::create_directories(bundle);
  {
    // Reuse a real config: the one a start writes, for a long-running shell.
    OciSpec s = spec("while :; do sleep 0.05; done");
    auto keep = launcher_->start(s);
    ASSERT_TRUE(keep);
    fs::copy_file(launcher_->bundle_dir(keep->id) + "/config.json", bundle + "/config.json");
    fs::create_directories(bundle + "/rootfs");
    for (const char* top : {"bin", "lib", "lib64", "sbin"}) {
      std::error_code ec;
      fs::copy_symlink(launcher_->bundle_dir(keep->id) + "/rootfs/" + top,
                       bundle + "/rootfs/" + top, ec);
    }
    launcher_->signal(keep->id, SIGKILL);
    run_until_exits(2);
  }
  // The config names the other bundle's rootfs path: point it at this one.
  std::string config = itest::slurp(bundle + "/config.json");
  const auto at = config.find(state_dir() + "/bundles/");
  ASSERT_NE(at, std::string::npos);
  const auto end = config.find("/rootfs\"", at);
  config.replace(at, end - at, bundle);
  std::ofstream(bundle + "/config.json") << config;
  auto direct = itest::run({"/bin/sh", "-c",
                            "runc --root " + launcher_->runc_root() + " run --detach --bundle " +
                                bundle + " amf-direct-1 </dev/null >/dev/null"});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;

  auto report = launcher_->cleanup_orphans();
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->containers, std::vector<std::string>{"amf-direct-1"});
  expect_nothing_left("amf-direct-1");
  EXPECT_TRUE(fs::is_empty(state_dir() + "/bundles"));
}

TEST(OciReapTest, ReapsStrayZombiesButNotWatchedOnes) {
  const pid_t stray = itest::spawn({"/bin/true"}, {}, "/dev/null", "/dev/null");
  const pid_t watched = itest::spawn({"/bin/true"}, {}, "/dev/null", "/dev/null");
  ASSERT_GT(stray, 0);
  ASSERT_GT(watched, 0);
  auto zombie = [](pid_t pid) {
    return itest::slurp("/proc/" + std::to_string(pid) + "/stat").find(") Z ") != std::string::npos;
  };
  ASSERT_TRUE(itest::eventually([&] { return zombie(stray) && zombie(watched); }));
  EXPECT_EQ(OciLauncher::reap_stray_children([&](pid_t p) { return p == watched; }),
            std::vector<pid_t>{stray});
  EXPECT_TRUE(zombie(watched));
  EXPECT_EQ(::waitpid(watched, nullptr, 0), watched);
}

}  // namespace
}  // namespace amf::containers
