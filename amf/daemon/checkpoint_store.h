#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "amf/checkpoint/replica.h"
#include "amf/core/result.h"

namespace amf::daemon {

// The file store of a node's checkpoint replicas (`checkpoint_store: file`): one file per
// checkpoint in a directory of its own, `<hex of the name>.ckpt`, a log of records (the
// replicas' Persist effects, amf/checkpoint/replica.h), each framed by its length and a CRC-32C.
// The first record of a file is the whole content; each later one an operation on top of the
// one before. A new whole content (a replica's first record, a cold sync, a compaction once the
// log outgrows the content) starts the file again.
//
// The writing is off the event loop: append() queues a record, a thread of the store writes the
// queue in batches, fsyncs the files of synchronous checkpoints (one fdatasync a file per
// batch), and then calls `stored` on the loop with each checkpoint's newest record. A new whole
// content goes to a temporary file that is fsync'd and renamed over the old one, so a crash
// leaves one or the other. load() reads the files at start: a torn or corrupt tail (a crash
// during a write) is cut off at the last whole record, and the log says so.
// One store file's bytes, read: the content of its longest prefix of whole, good records (nullopt
// when the first is not one), the position after it, how many bytes that prefix is, and why the
// rest (if any) was not taken. Lifetimes count from `now`. Pure: the fuzz target
// checkpoint_store_file runs it.
struct StoreFile {
  std::optional<checkpoint::Sections> content;
  checkpoint::Position at;
  std::size_t whole = 0;
  std::string cut;
};
StoreFile parse_store_file(std::string_view bytes, const std::string& name, TimePoint now);
// A record framed as the store writes it: length and CRC-32C, little-endian, then the bytes.
std::string frame_record(std::string_view bytes);

class CheckpointStore {
 public:
  using Stored = std::function<void(const checkpoint::CheckpointName&, std::uint64_t record)>;
  // A write of the checkpoint failed (disk full, an I/O error): none of its records is stored or
  // reported from then on until a whole content of it is written (append() one).
  using Broken = std::function<void(const checkpoint::CheckpointName&)>;

  // Creates `dir` if need be. The error says what cannot be done there. `max_queued_bytes`:
  // records that wait for the writer (the loop makes them faster than a slow disk takes them);
  // beyond it a checkpoint's operations are dropped, and it is Broken until its whole content is
  // written again.
  static Result<std::unique_ptr<CheckpointStore>> open(
      boost::asio::io_context& io, std::string dir, Stored stored,
      std::shared_ptr<spdlog::logger> log, Broken broken = {},
      std::uint64_t max_queued_bytes = std::uint64_t{64} << 20);
  ~CheckpointStore();  // writes what is queued, then stops the thread
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  struct Kept {
    checkpoint::CheckpointName name;
    checkpoint::Sections content;
    checkpoint::Position at;
  };
  // Every checkpoint the files hold, the lifetimes of sections counted from `now`. A file that
  // cannot be read at all is named in the log and set aside (renamed `.bad`), not deleted.
  std::vector<Kept> load(TimePoint now);

  // Queues a record of `name` (with its attributes, which every record carries). Record number
  // 0: a compaction's whole content, which answers nothing.
  void append(const checkpoint::CheckpointName& name, const checkpoint::Attributes& attributes,
              checkpoint::Persist record);
  // Bytes appended to the checkpoint's file since its last whole content: the host writes a new
  // whole content (compaction) once this outgrows it.
  std::uint64_t log_bytes(const checkpoint::CheckpointName& name) const;
  // Waits until everything queued is written (at the end of a node's life, before load()).
  void flush();

  const std::string& dir() const { return dir_; }

 private:
  CheckpointStore(boost::asio::io_context& io, std::string dir, Stored stored, Broken broken,
                  std::shared_ptr<spdlog::logger> log, std::uint64_t max_queued_bytes);
  struct Item {
    checkpoint::CheckpointName name;
    bool sync = false;
    bool image = false;
    std::uint64_t record = 0;
    std::uint64_t epoch = 0;
    std::string bytes;  // the encoded record, not framed
    bool gap = false;   // no record: the ones after it were dropped (a queue over its bound)
  };
  // What the writer's completions reach on the loop. load() starts a new epoch: the replicas
  // of before are gone, and their records' numbers mean nothing to the new ones.
  struct Shared {
    Stored stored;
    Broken broken;
    std::uint64_t epoch = 0;
  };
  // What a batch did: the newest record stored per checkpoint and epoch, and the checkpoints
  // whose writes failed.
  struct Written {
    std::map<std::pair<checkpoint::CheckpointName, std::uint64_t>, std::uint64_t> newest;
    std::set<std::pair<checkpoint::CheckpointName, std::uint64_t>> broken;
  };
  void run();
  Written write(std::deque<Item>& batch);
  std::string path(const checkpoint::CheckpointName& name) const;

  boost::asio::io_context& io_;
  std::string dir_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<spdlog::logger> log_;
  const std::uint64_t max_queued_bytes_;
  // On the loop.
  std::map<checkpoint::CheckpointName, std::uint64_t> log_bytes_;
  std::set<checkpoint::CheckpointName> gapped_;  // records dropped; none until a whole content
  std::atomic<std::uint64_t> queued_bytes_{0};   // of the records queue_ holds

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Item> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::map<checkpoint::CheckpointName, int> files_;  // the writer's open files
  std::set<checkpoint::CheckpointName> broken_;      // the writer's: see Broken
  std::thread thread_;
};

}  // namespace amf::daemon
