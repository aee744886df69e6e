// daemon::CheckpointHost with a file store: what amfd runs, on a loop of the test's, with the
// component's requests handed to it directly (as the component channel does).
#include "amf/daemon/checkpoint_host.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "amf/core/hex.h"

namespace amf::daemon {
namespace {

namespace fs = std::filesystem;
namespace ck = checkpoint;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const NodeId kSelf("a");
const ck::CheckpointName kName("counter");
constexpr node::PeerId kComponent = 1;

class CheckpointHostTest : public ::testing::Test {
 protected:
  CheckpointHostTest() {
    std::string pattern = (fs::temp_directory_path() / "amf-ckpt-host-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~CheckpointHostTest() override {
    host_.reset();
    fs::remove_all(dir_);
  }

  void start() {
    auto log = std::make_shared<spdlog::logger>("host", sink_);
    auto store = CheckpointStore::open(
        io_, dir_,
        [this](const ck::CheckpointName& name, std::uint64_t record) {
          host_->stored(name, record);
        },
        log, [this](const ck::CheckpointName& name) { host_->store_broken(name); });
    ASSERT_TRUE(store) << store.error().message();
    host_ = std::make_unique<CheckpointHost>(
        io_, kSelf,
        CheckpointHost::Callbacks{
            .now = [] { return Clock::now(); },
            .reply =
                [this](node::PeerId, const wire::ComponentMessage& m) {
                  reply_ = std::get<wire::CheckpointReply>(m);
                },
            .generation = [](node::PeerId) { return std::optional<std::uint64_t>(5); },
            .replicas = [](node::PeerId) { return std::set<NodeId>{kSelf}; },
            .send = [](const NodeId&, const ck::Message&) {}},
        log, ck::ServiceSettings{}, std::move(*store));
  }

  // Hands the host a request and runs the loop until it is answered (5 s at most).
  wire::CheckpointReply ask(decltype(wire::CheckpointRequest::body) body) {
    reply_.reset();
    host_->request(kComponent, wire::CheckpointRequest{++request_, kName, std::move(body)});
    const auto until = Clock::now() + 5s;
    while (!reply_ && Clock::now() < until) {
      io_.restart();
      io_.run_for(10ms);
    }
    EXPECT_TRUE(reply_) << "request " << request_ << " never answered";
    return reply_.value_or(wire::CheckpointReply{});
  }
  std::string file() const { return dir_ + "/" + to_hex(kName.str()) + ".ckpt"; }
  std::string logged() const {
    std::string out;
    for (const auto& line : sink_->last_formatted()) out += line;
    return out;
  }

  boost::asio::io_context io_;
  std::string dir_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  std::unique_ptr<CheckpointHost> host_;
  std::optional<wire::CheckpointReply> reply_;
  std::uint64_t request_ = 0;
};

ck::Operation overwrite(const std::string& data) {
  return ck::OverwriteSection{ck::SectionId("v"), data};
}

// A synchronous write the store could not make is not acknowledged; once the disk takes writes
// again, the host writes the whole content again and the next write is answered; amfd's next
// start finds every acknowledged write.
TEST_F(CheckpointHostTest, AfterAFailedStoreWriteTheWholeContentIsWrittenAgain) {
  start();
  ck::Attributes attributes;
  attributes.max_section_size = 16;
  ASSERT_TRUE(ask(wire::CheckpointOpen{attributes, true}).ok);
  ASSERT_TRUE(ask(ck::Operation{ck::CreateSection{ck::SectionId("v"), "1"}}).ok);
  ASSERT_TRUE(fs::exists(file()));

  fs::remove(file());
  fs::create_directory(file());  // the disk refuses: the store cannot append, nor rename over it
  const wire::CheckpointReply refused = ask(overwrite("2"));
  EXPECT_FALSE(refused.ok) << "acknowledged a write the store could not make";
  EXPECT_NE(logged().find("checkpoint 'counter': the store cannot"), std::string::npos) << logged();

  fs::remove(file());                   // the disk takes writes again
  std::this_thread::sleep_for(1100ms);  // the host writes the whole content once a second at most
  const wire::CheckpointReply again = ask(overwrite("3"));
  EXPECT_TRUE(again.ok) << again.error;
  EXPECT_NE(logged().find("checkpoint 'counter': the store writes it again"), std::string::npos)
      << logged();

  host_.reset();
  start();  // amfd's next start: the replica comes back from the file
  ASSERT_TRUE(ask(wire::CheckpointOpen{attributes, true}).ok);
  const wire::CheckpointReply read = ask(wire::CheckpointRead{ck::SectionId("v"), 0, 16});
  ASSERT_TRUE(read.ok) << read.error;
  EXPECT_EQ(read.data, "3");
}

}  // namespace
}  // namespace amf::daemon
