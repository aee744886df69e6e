#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "amf/daemon/notify_socket.h"

namespace amf::daemon {
namespace {

TEST(NotifyParseTest, ReadsTheAssignmentsAmfUses) {
  auto m = parse_notify("READY=1\nSTATUS=serving 3 clients\nWATCHDOG=1\nX_CUSTOM=7\n");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->ready);
  EXPECT_TRUE(m->watchdog);
  EXPECT_FALSE(m->stopping);
  EXPECT_EQ(m->status, "serving 3 clients");
  EXPECT_EQ(m->other, std::vector<std::string>{"X_CUSTOM=7"});
  EXPECT_EQ(describe(*m), "READY=1, WATCHDOG=1, STATUS=serving 3 clients, X_CUSTOM=7");
  m = parse_notify("STOPPING=1\nERRNO=5\nMAINPID=42\nWATCHDOG=trigger");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->stopping);
  EXPECT_TRUE(m->watchdog_trigger);
  EXPECT_FALSE(m->watchdog);
  EXPECT_EQ(m->errno_value, 5);
  EXPECT_EQ(m->mainpid, 42);
}

TEST(NotifyParseTest, RefusesWhatTheProtocolDoesNotAllowAndSaysWhy) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty notification"},
      {std::string_view("READY=1\0", 8), "NUL byte"},
      {"READY", "line 1 'READY' is not VARIABLE=VALUE"},
      {"STATUS=x\nready=1", "line 2: 'ready' is not a variable name"},
      {"READY=yes", "READY=yes: only READY=1 means something"},
      {"WATCHDOG=2", "only WATCHDOG=1 or WATCHDOG=trigger means something"},
      {"ERRNO=abc", "ERRNO=abc is not a number"},
      {"MAINPID=-3", "MAINPID=-3 is not a PID"},
  };
  for (const auto& [text, why] : cases) {
    auto m = parse_notify(text);
    ASSERT_FALSE(m) << text;
    EXPECT_NE(m.error().message().find(why), std::string::npos)
        << text << " -> " << m.error().message();
  }
}

class NotifySocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amf-notify-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sockets_.emplace(io_, dir_ + "/notify", [this](const CompId& c, pid_t pid, const auto& m) {
      got_.push_back({c, pid, m ? describe(*m) : "error: " + m.error().message()});
    });
  }
  void TearDown() override {
    sockets_.reset();
    std::filesystem::remove_all(dir_);
  }
  static void send(const std::string& path, std::string_view text) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
  }
  // Runs the loop until `n` datagrams have arrived or 2 s have passed.
  void await(std::size_t n) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (got_.size() < n && std::chrono::steady_clock::now() < end) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(20));
    }
  }
  struct Got {
    CompId comp;
    pid_t pid;
    std::string text;
  };
  boost::asio::io_context io_;
  std::string dir_;
  std::optional<NotifySockets> sockets_;
  std::vector<Got> got_;
};

TEST_F(NotifySocketTest, EachDatagramArrivesWithItsSendersPid) {
  auto a = sockets_->open(CompId("app/su-1/server"));
  auto b = sockets_->open(CompId("app/su-2/server"));
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(*a, dir_ + "/notify/app_su-1_server.notify");
  send(*a, "READY=1\nSTATUS=up");
  const pid_t child = ::fork();
  if (child == 0) {
    send(*b, "WATCHDOG=1");
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  await(2);
  ASSERT_EQ(got_.size(), 2u);
  EXPECT_EQ(got_[0].comp, CompId("app/su-1/server"));
  EXPECT_EQ(got_[0].pid, ::getpid());
  EXPECT_EQ(got_[0].text, "READY=1, STATUS=up");
  EXPECT_EQ(got_[1].comp, CompId("app/su-2/server"));
  EXPECT_EQ(got_[1].pid, child);  // the kernel's word, not the sender's
  EXPECT_EQ(got_[1].text, "WATCHDOG=1");
}

TEST_F(NotifySocketTest, MalformedOrOversizedDatagramsAreReportedNotDropped) {
  auto a = sockets_->open(CompId("c"));
  ASSERT_TRUE(a);
  send(*a, "READY=maybe");
  send(*a, std::string(NotifySockets::kMaxDatagram + 10, 'A'));
  send(*a, "READY=1");  // and the socket goes on working
  await(3);
  ASSERT_EQ(got_.size(), 3u);
  EXPECT_EQ(got_[0].text, "error: READY=maybe: only READY=1 means something");
  EXPECT_EQ(got_[1].text, "error: notification longer than 4096 bytes");
  EXPECT_EQ(got_[2].text, "READY=1");
}

TEST_F(NotifySocketTest, ClosingRemovesTheSocketFile) {
  auto a = sockets_->open(CompId("c"));
  ASSERT_TRUE(a);
  EXPECT_TRUE(std::filesystem::exists(*a));
  sockets_->close(CompId("c"));
  EXPECT_FALSE(std::filesystem::exists(*a));
  auto again = sockets_->open(CompId("c"));
  ASSERT_TRUE(again);
  sockets_.reset();
  EXPECT_FALSE(std::filesystem::exists(*again));
}

TEST_F(NotifySocketTest, TooLongAPathIsRefusedWithTheReason) {
  NotifySockets deep(io_, dir_ + "/" + std::string(120, 'd'), [](auto&&...) {});
  auto a = deep.open(CompId("c"));
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("use a shorter runtime directory"), std::string::npos);
}

}  // namespace
}  // namespace amf::daemon
