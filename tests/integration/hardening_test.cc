// The real amfd against what a crashed amfd leaves behind, components that escape, and hostile
// or unlucky local input: each test is one hole the hardening issue found, and fails without
// its fix.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <zmq.hpp>

#include "tests/integration/amfd_fixture.h"

namespace amf::itest {
namespace {

// One no-redundancy SU whose component is `sh -c SCRIPT`, instantiated when started; the SU
// restarts its component when it dies.
std::string shell_yaml(const std::string& script, const std::string& extra = "") {
  return "cluster: {name: itest}\n"
         "nodes: [{name: node-1, controller: true}]\n"
         "applications:\n  - name: app\n    service_groups:\n"
         "      - name: sg\n        redundancy: no-redundancy\n"
         "        su_template:\n          nodes: [node-1]\n"
         "          components:\n            - name: c\n"
         "              command: /bin/sh\n"
         "              args: [-c, '" +
         script +
         "']\n"
         "              cs_types: [t]\n"
         "              instantiated_when: started\n"
         "              recovery: component-restart\n" +
         extra + "        service_instances: [{name: si-1, csis: [{name: c, cs_type: t}]}]\n";
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

bool alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  // A zombie is dead: it only waits for its parent (init, for an orphan) to reap it.
  const auto stat = containers::read_proc_stat(pid);
  return stat && stat->state != 'Z';
}

// Both ways amfd contains components: cgroups where the host has them (root here), and
// process groups plus the instance mark in the environment everywhere else.
class ContainmentTest : public AmfdTest, public ::testing::WithParamInterface<bool> {
 protected:
  void start_contained(const std::string& yaml) {
    const std::string config = dir_.file("cluster.yaml", yaml);
    std::vector<std::string> args{bin("amfd"), "--config",    config, "--runtime-dir",
                                  runtime(),   "--log-level", "debug"};
    if (!GetParam()) args.push_back("--no-cgroups");
    amfd_ = spawn(args, {}, dir_.path() + "/amfd.out", dir_.path() + "/amfd.err");
    ASSERT_GT(amfd_, 0);
  }
  void kill_amfd() {
    ::kill(amfd_, SIGKILL);
    ::waitpid(amfd_, nullptr, 0);
    amfd_ = -1;
  }
};

// A child that leaves the component's process group (setsid) and ignores SIGTERM, and writes
// its PID to child.pid: what a careless daemon does.
constexpr const char* kEscapingChild =
    "setsid sh -c \"trap \\\"\\\" TERM; echo \\$\\$ > child.pid; exec sleep 600\" & "
    "exec sleep 600";

TEST_P(ContainmentTest, DescendantsThatLeaveTheProcessGroupEndWithTheirComponent) {
  start_contained(shell_yaml(kEscapingChild));
  const std::string child_file = work_dir("sg/su-1/c") + "/child.pid";
  ASSERT_TRUE(eventually([&] { return read_pid(child_file) > 0; }));
  const pid_t child = read_pid(child_file);
  std::optional<wire::ClusterStatus> s = status();
  ASSERT_TRUE(s);
  const pid_t component = pid_of(*s, "sg/su-1");
  ASSERT_GT(component, 0);
  ::unlink(child_file.c_str());
  ASSERT_EQ(::kill(component, SIGKILL), 0);
  // The component is restarted, and its escaped child does not outlive it.
  EXPECT_TRUE(eventually([&] { return !alive(child); })) << "pid " << child << " survived";
  EXPECT_TRUE(eventually([&] { return read_pid(child_file) > 0; }));
  const pid_t second = read_pid(child_file);
  // A clean stop ends the second one too.
  EXPECT_EQ(stop(), 0);
  EXPECT_FALSE(alive(second)) << "pid " << second << " outlived amfd";
}

TEST_P(ContainmentTest, WhatAKilledAmfdLeftRunningIsEndedBeforeAnythingStarts) {
  const int port = free_port();
  start_contained(cluster_yaml(port));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  auto s = status();
  ASSERT_TRUE(s);
  const pid_t old_active = pid_of(*s, active);
  const pid_t old_standby = pid_of(*s, standby);
  kill_amfd();
  ASSERT_TRUE(alive(old_active));  // unsupervised now
  ASSERT_TRUE(alive(old_standby));

  start_contained(cluster_yaml(port));
  auto after = settled_pair();
  ASSERT_FALSE(after.first.empty());
  EXPECT_FALSE(alive(old_active));
  EXPECT_FALSE(alive(old_standby));
  auto now = status();
  ASSERT_TRUE(now);
  EXPECT_NE(pid_of(*now, after.first), old_active);
  // It says what it ended, in its log and in the event log.
  const std::string log = slurp(dir_.path() + "/amfd.err");
  EXPECT_NE(log.find("ended process " + std::to_string(old_active)), std::string::npos) << log;
  EXPECT_NE(log.find("left running by an earlier amfd"), std::string::npos) << log;
  Output events = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
  EXPECT_NE(events.out.find("ended process " + std::to_string(old_standby)), std::string::npos)
      << events.out;
  // The one active serves: the new one, and not a survivor beside it.
  EXPECT_EQ(stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Containment, ContainmentTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "cgroup" : "marks"; });

// ---- pid_file ----

TEST_F(AmfdTest, PidFileNamingAProcessTheCommandDidNotStartIsNotAdopted) {
  // The instantiate command names this test's own process.
  start(shell_yaml("echo " + std::to_string(::getpid()) + " > daemon.pid",
                   "              pid_file: daemon.pid\n"));
  EXPECT_TRUE(eventually([&] {
    Output e = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return e.out.find(
               "which is not a process that the instantiate command started; not "
               "adopted") != std::string::npos;
  }));
  EXPECT_TRUE(alive(::getpid()));  // and it was never signalled (we would not be here)
}

// ---- the component socket ----

TEST_F(AmfdTest, ConnectionsThatComeAndGoDoNotFillAmfdsTables) {
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  // 1,500 connections that register (refused: not amfd's processes) or send anything, and go.
  for (int i = 0; i < 1500; ++i) {
    // A context per connection: each is closed for good before the next (file descriptors).
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 100);
    sock.connect("ipc://" + runtime() + "/components.sock");
    const wire::ComponentMessage m =
        i % 2 ? wire::ComponentMessage{wire::RegisterRequest{"counter/su-9/x", 1}}
              : wire::ComponentMessage{wire::Response{static_cast<std::uint64_t>(i), true, ""}};
    sock.send(zmq::buffer(wire::encode(m)), zmq::send_flags::none);
  }
  // A component that registers now is still heard: kill the standby, it comes back.
  auto s = status();
  ASSERT_TRUE(s);
  const pid_t old_standby = pid_of(*s, standby);
  ASSERT_EQ(::kill(old_standby, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] {
    auto now = status();
    return now && holder(*now, "standby") == standby && pid_of(*now, standby) != old_standby &&
           pid_of(*now, standby) > 0;
  }));
  EXPECT_EQ(slurp(dir_.path() + "/amfd.err").find("connections already known"), std::string::npos);
}

TEST_F(AmfdTest, MalformedStringsFromAPeerReachTheLogOnlyAsAmfdsOwnLine) {
  start(cluster_yaml(free_port()));
  ASSERT_FALSE(settled_pair().first.empty());
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 1000);
  sock.connect("ipc://" + runtime() + "/components.sock");
  // A registration whose name is not UTF-8: protobuf refuses to parse it, and used to say so
  // on amfd's stderr, once per message, as often as any local peer liked.
  const std::string bytes =
      wire::encode(wire::ComponentMessage{wire::RegisterRequest{"counter/\xff\xfe", 1}});
  for (int i = 0; i < 20; ++i) sock.send(zmq::buffer(bytes), zmq::send_flags::none);
  EXPECT_TRUE(eventually([&] {
    return slurp(dir_.path() + "/amfd.err").find("malformed component message") !=
           std::string::npos;
  }));
  EXPECT_EQ(slurp(dir_.path() + "/amfd.err").find("libprotobuf"), std::string::npos);
}

// ---- the admin socket ----

// amfctl only sends the kinds it knows; a peer of the admin socket may send any. amfd answers
// what it cannot parse itself, and the director never sees it.
TEST_F(AmfdTest, AnAdminOperationOnAnUnknownKindOfEntityIsRefusedWithTheKnownOnes) {
  start(cluster_yaml(free_port()));
  ASSERT_FALSE(settled_pair().first.empty());
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 100);
  sock.set(zmq::sockopt::rcvtimeo, 5000);
  sock.connect("ipc://" + runtime() + "/admin.sock");
  sock.send(
      zmq::buffer(wire::encode(wire::AdminRequest{wire::AdminOperation{"lock", "rack", "r1"}})),
      zmq::send_flags::none);
  zmq::message_t reply;
  ASSERT_TRUE(sock.recv(reply, zmq::recv_flags::none));
  auto decoded = wire::decode_admin_reply(reply.to_string_view());
  ASSERT_TRUE(decoded) << decoded.error().message();
  const auto* result = std::get_if<wire::AdminOperationResult>(&*decoded);
  ASSERT_NE(result, nullptr);
  EXPECT_FALSE(result->ok);
  EXPECT_EQ(result->message, "unknown entity kind 'rack' (su, comp, node, sg, app, cluster, si)");
  auto s = status();  // nothing changed, amfd serves on
  ASSERT_TRUE(s);
  EXPECT_FALSE(holder(*s, "active").empty());
}

long peak_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_F(AmfdTest, AHugeMessageIsRefusedOnEverySocketWithoutBeingHeld) {
  start(cluster_yaml(free_port()));
  auto [active, standby] = settled_pair();
  ASSERT_FALSE(active.empty());
  const long before = peak_rss_kb(amfd_);
  const std::string huge(300u << 20, 'x');  // 300 MiB
  zmq::context_t ctx(1);
  for (const char* socket : {"/components.sock", "/admin.sock"}) {
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 2000);
    sock.connect("ipc://" + runtime() + socket);
    sock.send(zmq::buffer(huge), zmq::send_flags::none);
  }
  // amfd still answers and its pair is unchanged; it never held the message.
  auto after = settled_pair();
  EXPECT_EQ(after.first, active);
  const long peak = peak_rss_kb(amfd_);
  EXPECT_LT(peak - before, 100 * 1024)
      << "amfd's peak RSS grew from " << before << " kB to " << peak << " kB";
}

// ---- files and permissions ----

TEST_F(AmfdTest, DirectoriesAndSocketsArePrivateWhateverTheUmask) {
  const mode_t saved = ::umask(0);  // amfd inherits it
  start(cluster_yaml(free_port()));
  ::umask(saved);
  ASSERT_FALSE(settled_pair().first.empty());
  auto mode = [](const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  };
  EXPECT_EQ(mode(runtime()), 0750u);
  EXPECT_EQ(mode(runtime() + "/log"), 0750u);
  EXPECT_EQ(mode(runtime() + "/components.sock"), 0660u);
  EXPECT_EQ(mode(runtime() + "/admin.sock"), 0660u);
  EXPECT_EQ(mode(runtime() + "/log/counter_su-1_server.log"), 0640u);
}

TEST_F(AmfdTest, ALogFileThatIsASymbolicLinkIsNotFollowed) {
  const std::string victim = dir_.file("victim", "root's file\n");
  fs::create_directories(runtime() + "/log");
  fs::create_symlink(victim, runtime() + "/log/counter_su-1_server.log");
  start(cluster_yaml(free_port()));
  EXPECT_TRUE(eventually([&] {
    Output e = run({bin("amfctl"), "--runtime-dir", runtime(), "events"});
    return e.out.find("Too many levels of symbolic links") != std::string::npos;
  }));
  EXPECT_EQ(slurp(victim), "root's file\n");
}

TEST_F(AmfdTest, AmfctlWithoutPermissionSaysSoAndExitsWithTheUsageCode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to run amfctl as another user";
  start(cluster_yaml(free_port()));
  ASSERT_FALSE(settled_pair().first.empty());
  Output o = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  bin("amfctl"), "--runtime-dir", runtime(), "status"});
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_NE(o.err.find("permission denied: " + runtime() + "/admin.sock"), std::string::npos)
      << o.err;
}

// ---- the demo counter ----

TEST_F(AmfdTest, DemoCounterDoesNotAcknowledgeAnIncrementItCouldNotStore) {
  // The counter keeps its value in a synchronous checkpoint: an increment is acknowledged only
  // once amfd says the write is done. amfd, stopped, says nothing: the increment is refused
  // after the counter's write timeout. It may still be applied once amfd runs again (as any
  // unacknowledged write may), and the counter reads the value back before it goes on.
  const int port = free_port();
  std::string yaml = cluster_yaml(port);
  const std::string attributes = "{port: \"" + std::to_string(port) + "\"}";
  yaml.replace(yaml.find(attributes), attributes.size(),
               "{port: \"" + std::to_string(port) + "\", write_timeout_ms: \"300\"}");
  start(yaml);
  ASSERT_FALSE(settled_pair().first.empty());
  ASSERT_EQ(ask(port, "INC"), "1\n");
  ASSERT_EQ(::kill(amfd_, SIGSTOP), 0);
  const std::string refused = ask(port, "INC");
  ASSERT_EQ(::kill(amfd_, SIGCONT), 0);
  EXPECT_EQ(refused, "ERR cannot save state\n");
  const std::string value = ask(port, "GET");
  EXPECT_TRUE(value == "1\n" || value == "2\n") << value;
  EXPECT_EQ(ask(port, "INC"), std::to_string(std::stol(value) + 1) + "\n");
}

}  // namespace
}  // namespace amf::itest
