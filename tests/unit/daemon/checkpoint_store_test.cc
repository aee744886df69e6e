#include "amf/daemon/checkpoint_store.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "amf/core/hex.h"
#include "amf/wire/codec.h"

namespace amf::daemon {
namespace {

namespace fs = std::filesystem;
namespace ck = checkpoint;
using namespace std::chrono_literals;

const TimePoint kNow = from_ns(1'000'000'000);

ck::Attributes attributes(ck::UpdateMode mode = ck::UpdateMode::kSynchronous) {
  return ck::Attributes{mode, 8, 64, {}};
}

ck::Operation create(const std::string& id, const std::string& data) {
  return ck::CreateSection{ck::SectionId(id), data, std::nullopt};
}
ck::Operation overwrite(const std::string& id, const std::string& data) {
  return ck::OverwriteSection{ck::SectionId(id), data};
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  CheckpointStoreTest() {
    std::string pattern = (fs::temp_directory_path() / "amf-ckpt-store-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~CheckpointStoreTest() override { fs::remove_all(dir_); }

  std::unique_ptr<CheckpointStore> open(std::uint64_t max_queued_bytes = 64 << 20) {
    auto store = CheckpointStore::open(
        io_, dir_,
        [this](const ck::CheckpointName& name, std::uint64_t record) {
          stored_[name.str()] = record;
        },
        std::make_shared<spdlog::logger>("store", sink_),
        [this](const ck::CheckpointName& name) { broken_.push_back(name.str()); },
        max_queued_bytes);
    EXPECT_TRUE(store) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }

  // Runs the loop until `done` (or 5 s pass).
  template <class F>
  void run_until(F done) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < until) {
      io_.restart();
      io_.run_for(10ms);
    }
  }
  // Runs the loop until the store reports `record` of `name` stored.
  void wait_stored(const std::string& name, std::uint64_t record) {
    run_until([&] { return stored_[name] >= record; });
    ASSERT_GE(stored_[name], record) << name;
  }

  // Appends the operations as a replica would: its first record the whole content.
  void write(CheckpointStore& store, const std::string& name, ck::Sections& content,
             std::vector<ck::Operation> ops, std::uint64_t& record, std::uint64_t& seq) {
    for (auto& op : ops) {
      ASSERT_TRUE(content.check(op));
      content.apply(op, kNow);
      ++seq;
      if (record == 0) {
        store.append(ck::CheckpointName(name), content.attributes(),
                     ck::Persist{++record, {1, seq}, std::nullopt, content.image(kNow)});
      } else {
        store.append(ck::CheckpointName(name), content.attributes(),
                     ck::Persist{++record, {1, seq}, op, {}});
      }
    }
  }

  // A whole content (a compaction's with record 0), as the host appends one.
  void append_whole(CheckpointStore& store, const std::string& name, const ck::Sections& content,
                    std::uint64_t record, std::uint64_t seq) {
    store.append(ck::CheckpointName(name), content.attributes(),
                 ck::Persist{record, {1, seq}, std::nullopt, content.image(kNow)});
  }

  // What amfd's next start finds: `content` at `at`.
  void expect_kept(const std::string& name, const ck::Sections& content, ck::Position at) {
    auto store = open();
    auto kept = load(*store);
    ASSERT_EQ(kept.count(name), 1u) << name;
    EXPECT_EQ(kept.at(name).content, content);
    EXPECT_EQ(kept.at(name).at, at);
  }

  std::string file(const std::string& name) const { return dir_ + "/" + to_hex(name) + ".ckpt"; }

  std::string logged() const {
    std::string out;
    for (const auto& line : sink_->last_formatted()) out += line;
    return out;
  }

  std::map<std::string, CheckpointStore::Kept> load(CheckpointStore& store) {
    std::map<std::string, CheckpointStore::Kept> out;
    for (auto& kept : store.load(kNow)) out.emplace(kept.name.str(), std::move(kept));
    return out;
  }

  boost::asio::io_context io_;
  std::string dir_;
  std::map<std::string, std::uint64_t> stored_;
  std::vector<std::string> broken_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
};

TEST_F(CheckpointStoreTest, WhatIsStoredComesBackAfterARestart) {
  ck::Sections content(attributes());
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "counter", content,
          {create("a", "1"), create("b", "2"), overwrite("a", "3"),
           ck::DeleteSection{ck::SectionId("b")}},
          record, seq);
    wait_stored("counter", 4);
    EXPECT_GT(store->log_bytes(ck::CheckpointName("counter")), 0u);
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.at("counter").content, content);
  EXPECT_EQ(kept.at("counter").at, (ck::Position{1, 4}));
  EXPECT_EQ(kept.at("counter").content.find(ck::SectionId("a"))->data, "3");
}

TEST_F(CheckpointStoreTest, AsynchronousCheckpointsAreStoredToo) {
  ck::Sections content(attributes(ck::UpdateMode::kAsynchronous));
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "async", content, {create("a", "x"), overwrite("a", "y")}, record, seq);
    store->flush();
    wait_stored("async", 2);
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("async"), 1u);
  EXPECT_EQ(kept.at("async").content, content);
}

TEST_F(CheckpointStoreTest, ATornTailIsCutAtTheLastWholeRecord) {
  ck::Sections content(attributes());
  std::uint64_t whole = 0;
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "torn", content, {create("a", "1"), overwrite("a", "2")}, record, seq);
    store->flush();
    whole = fs::file_size(file("torn"));
  }
  {  // half a record, as a crash in the middle of a write leaves it
    std::ofstream out(file("torn"), std::ios::binary | std::ios::app);
    out.write("\x30\x00\x00\x00\x12\x34", 6);
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("torn"), 1u);
  EXPECT_EQ(kept.at("torn").content, content);
  EXPECT_EQ(kept.at("torn").at, (ck::Position{1, 2}));
  EXPECT_EQ(fs::file_size(file("torn")), whole);
  EXPECT_NE(logged().find("cut 6 bytes off its store file"), std::string::npos) << logged();
  EXPECT_NE(logged().find("a torn record header"), std::string::npos) << logged();
}

TEST_F(CheckpointStoreTest, ARecordWhoseCrcDoesNotMatchIsCutWithEverythingAfterIt) {
  ck::Sections content(attributes());
  std::uint64_t first = 0;
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "crc", content, {create("a", "1")}, record, seq);
    store->flush();
    first = fs::file_size(file("crc"));
    ck::Sections later = content;
    write(*store, "crc", later, {overwrite("a", "2"), overwrite("a", "3")}, record, seq);
    store->flush();
  }
  {  // one bit of the second record's body flips
    std::fstream io(file("crc"), std::ios::binary | std::ios::in | std::ios::out);
    io.seekg(static_cast<std::streamoff>(first + 8 + 2));
    char c = 0;
    io.read(&c, 1);
    io.seekp(static_cast<std::streamoff>(first + 8 + 2));
    c = static_cast<char>(c ^ 0x01);
    io.write(&c, 1);
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("crc"), 1u);
  EXPECT_EQ(kept.at("crc").content, content);  // the first record only
  EXPECT_EQ(kept.at("crc").at, (ck::Position{1, 1}));
  EXPECT_EQ(fs::file_size(file("crc")), first);
  EXPECT_NE(logged().find("a record whose CRC does not match"), std::string::npos) << logged();
}

// A whole record that this build cannot take (here, of other attributes) is no crash's doing:
// the file is cut after the last record it can take, and kept whole aside first.
TEST_F(CheckpointStoreTest, ARecordThatCannotBeTakenIsCutAndTheWholeFileKeptAside) {
  ck::Sections content(attributes());
  std::uint64_t whole = 0;
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "other", content, {create("a", "1")}, record, seq);
    store->flush();
    whole = fs::file_size(file("other"));
  }
  {
    ck::Attributes other = attributes();
    other.max_sections = 2;
    std::ofstream out(file("other"), std::ios::binary | std::ios::app);
    out << frame_record(wire::encode(wire::CheckpointRecord{
        ck::CheckpointName("other"), other, ck::Persist{2, {1, 2}, overwrite("a", "2"), {}}}));
  }
  const std::uintmax_t before = fs::file_size(file("other"));
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("other"), 1u);
  EXPECT_EQ(kept.at("other").content, content);
  EXPECT_EQ(fs::file_size(file("other")), whole);
  ASSERT_TRUE(fs::exists(file("other") + ".bad"));
  EXPECT_EQ(fs::file_size(file("other") + ".bad"), before);
  EXPECT_NE(logged().find("a record with other attributes; the whole file is kept as"),
            std::string::npos)
      << logged();
}

TEST_F(CheckpointStoreTest, AFileThatCannotBeReadIsSetAsideNotDeleted) {
  {
    std::ofstream(dir_ + "/not-hex.ckpt") << "whatever";
    std::ofstream(file("garbage"), std::ios::binary) << "this is no record at all";
    std::ofstream(file("half") + ".new") << "a new file that a crash cut short";
    std::ofstream(dir_ + "/README") << "not the store's";
  }
  auto store = open();
  auto kept = load(*store);
  EXPECT_TRUE(kept.empty());
  EXPECT_TRUE(fs::exists(dir_ + "/not-hex.ckpt.bad"));
  EXPECT_TRUE(fs::exists(file("garbage") + ".bad"));
  EXPECT_FALSE(fs::exists(file("garbage")));
  EXPECT_FALSE(fs::exists(file("half") + ".new"));
  EXPECT_TRUE(fs::exists(dir_ + "/README"));
  EXPECT_NE(logged().find("is not named by a checkpoint's name in hex"), std::string::npos)
      << logged();
  EXPECT_NE(logged().find("starts with a torn record"), std::string::npos) << logged();
}

TEST_F(CheckpointStoreTest, AWholeContentStartsTheFileAgain) {
  ck::Sections content(attributes());
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "big", content, {create("a", "")}, record, seq);
    for (int i = 0; i < 50; ++i) {
      write(*store, "big", content, {overwrite("a", std::string(60, char('a' + i % 26)))}, record,
            seq);
    }
    store->flush();
    const std::uint64_t logged_bytes = store->log_bytes(ck::CheckpointName("big"));
    EXPECT_GT(logged_bytes, 50u * 60u);
    EXPECT_GT(fs::file_size(file("big")), logged_bytes);  // the first whole content, then the log
    // A compaction: the whole content, answering no write.
    append_whole(*store, "big", content, 0, seq);
    EXPECT_EQ(store->log_bytes(ck::CheckpointName("big")), 0u);
    store->flush();
    EXPECT_LT(fs::file_size(file("big")), 200u);
    write(*store, "big", content, {overwrite("a", "after")}, record, seq);
    wait_stored("big", record);
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("big"), 1u);
  EXPECT_EQ(kept.at("big").content, content);
  EXPECT_EQ(kept.at("big").content.find(ck::SectionId("a"))->data, "after");
  EXPECT_EQ(kept.at("big").at, (ck::Position{1, 52}));
}

TEST_F(CheckpointStoreTest, ANewReplicaReplacesWhatTheStoreHeldUnderItsName) {
  {
    auto store = open();
    ck::Sections old(attributes());
    std::uint64_t record = 0, seq = 0;
    write(*store, "again", old, {create("old", "1"), create("older", "2")}, record, seq);
    store->flush();
  }
  ck::Sections content(attributes());
  {
    auto store = open();
    ASSERT_EQ(load(*store).size(), 1u);
    // The checkpoint was deleted and created again: its first record is its whole content.
    std::uint64_t record = 0, seq = 0;
    write(*store, "again", content, {create("new", "3"), overwrite("new", "4")}, record, seq);
    store->flush();
  }
  auto store = open();
  auto kept = load(*store);
  ASSERT_EQ(kept.count("again"), 1u);
  EXPECT_EQ(kept.at("again").content, content);
  EXPECT_EQ(kept.at("again").content.find(ck::SectionId("old")), nullptr);
}

// A synchronous checkpoint's operations and a compaction in one batch of the writer (the host
// queues the compaction right after the operations of a turn): the whole content replaces the
// file, which is fsync'd already; the operations after it go on from it.
TEST_F(CheckpointStoreTest, OperationsAndAWholeContentInOneBatchAreWrittenInOrder) {
  ck::Sections content(attributes());
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "batch", content, {create("a", "0")}, record, seq);
    for (int round = 0; round < 20; ++round) {
      write(*store, "batch", content, {overwrite("a", std::to_string(round))}, record, seq);
      append_whole(*store, "batch", content, 0, seq);
      write(*store, "batch", content, {overwrite("a", "after " + std::to_string(round))}, record,
            seq);
    }
    wait_stored("batch", record);
  }
  expect_kept("batch", content, {1, 41});
}

// A write the store cannot make (here the file is taken away) is never reported stored, nor is
// any later one, until a whole content is written again; the host is told each time.
TEST_F(CheckpointStoreTest, AFailedWriteStopsTheReportsUntilAWholeContentIsWritten) {
  ck::Sections content(attributes());
  {
    auto store = open();
    std::uint64_t record = 0, seq = 0;
    write(*store, "broken", content, {create("a", "1")}, record, seq);
    wait_stored("broken", 1);
    fs::remove(file("broken"));
    fs::create_directory(file("broken"));  // the next append cannot open it
    write(*store, "broken", content, {overwrite("a", "2")}, record, seq);
    store->flush();
    write(*store, "broken", content, {overwrite("a", "3")}, record, seq);
    store->flush();
    run_until([&] { return broken_.size() >= 2; });
    EXPECT_EQ(stored_["broken"], 1u) << "records the store could not write were reported";
    ASSERT_EQ(broken_.size(), 2u) << "one report for the failure, one for the record skipped";
    EXPECT_NE(logged().find("checkpoint 'broken': the store cannot open"), std::string::npos)
        << logged();
    fs::remove(file("broken"));
    append_whole(*store, "broken", content, record, seq);
    wait_stored("broken", record);
    write(*store, "broken", content, {overwrite("a", "4")}, record, seq);
    wait_stored("broken", record);
  }
  expect_kept("broken", content, {1, 4});
}

// Records come faster than the disk takes them (here the bound is 1 byte): operations are
// dropped, and every later one of the checkpoint, until its whole content is written again;
// none of them is reported stored, and the host is told.
TEST_F(CheckpointStoreTest, OperationsOverTheQueuesBoundAreDroppedUntilAWholeContent) {
  ck::Sections content(attributes());
  {
    auto store = open(1);
    std::uint64_t record = 0, seq = 0;
    write(*store, "fast", content, {create("a", "0")}, record, seq);
    for (int i = 1; i <= 1000; ++i) {
      write(*store, "fast", content, {overwrite("a", std::to_string(i))}, record, seq);
    }
    store->flush();
    run_until([&] { return !broken_.empty(); });
    ASSERT_FALSE(broken_.empty()) << "1,000 records never found the writer busy";
    EXPECT_LT(stored_["fast"], record) << "a record after a dropped one was reported stored";
    EXPECT_NE(logged().find("checkpoint 'fast': the store cannot keep up"), std::string::npos)
        << logged();
    append_whole(*store, "fast", content, record, seq);
    wait_stored("fast", record);
  }
  expect_kept("fast", content, {1, 1001});
}

TEST_F(CheckpointStoreTest, RecordsOfALifeBeforeTheLastLoadAreNotReported) {
  auto store = open();
  ck::Sections content(attributes());
  std::uint64_t record = 0, seq = 0;
  write(*store, "epoch", content, {create("a", "1"), overwrite("a", "2")}, record, seq);
  store->flush();
  load(*store);  // a new life: the replicas that wrote those records are gone
  io_.restart();
  io_.run_for(50ms);
  EXPECT_EQ(stored_.count("epoch"), 0u);
}

TEST_F(CheckpointStoreTest, AStoreThatCannotBeCreatedSaysWhere) {
  std::ofstream(dir_ + "/file") << "x";
  auto store = CheckpointStore::open(
      io_, dir_ + "/file/checkpoints", [](auto&&...) {},
      std::make_shared<spdlog::logger>("store", sink_));
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("cannot create the checkpoint store " + dir_ +
                                         "/file/checkpoints"),
            std::string::npos)
      << store.error().message();
}

}  // namespace
}  // namespace amf::daemon
