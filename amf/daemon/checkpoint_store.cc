#include "amf/daemon/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "amf/core/hex.h"
#include "amf/daemon/durable_file.h"
#include "amf/wire/codec.h"

namespace amf::daemon {

namespace fs = std::filesystem;
namespace ck = checkpoint;

namespace {

// A record is at most a whole checkpoint and its framing.
constexpr std::uint64_t kMaxRecordBytes = ck::kMaxCheckpointSize + (64ull << 20);
constexpr std::size_t kFrameHeader = 8;  // length, CRC-32C; little-endian

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

std::uint32_t crc32c(std::string_view bytes) {
  Crc32c crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

void put32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string frame_record(std::string_view bytes) {
  std::string out;
  out.reserve(kFrameHeader + bytes.size());
  put32(out, static_cast<std::uint32_t>(bytes.size()));
  put32(out, crc32c(bytes));
  out += bytes;
  return out;
}

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

StoreFile parse_store_file(std::string_view bytes, const std::string& name, TimePoint now) {
  StoreFile out;
  std::optional<ck::Sections>& content = out.content;
  std::size_t& offset = out.whole;
  std::string& cut = out.cut;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < kFrameHeader) {
      cut = "a torn record header";
      break;
    }
    const std::uint32_t length = get32(bytes.data() + offset);
    const std::uint32_t crc = get32(bytes.data() + offset + 4);
    if (length > kMaxRecordBytes || bytes.size() - offset - kFrameHeader < length) {
      cut = "a torn record";
      break;
    }
    const std::string_view body(bytes.data() + offset + kFrameHeader, length);
    if (crc32c(body) != crc) {
      cut = "a record whose CRC does not match";
      break;
    }
    auto record = wire::decode_checkpoint_record(body);
    if (!record) {
      cut = "a record that does not decode (" + record.error().message() + ")";
      break;
    }
    if (record->checkpoint.str() != name) {
      cut = "a record of checkpoint '" + record->checkpoint.str() + "'";
      break;
    }
    if (content && record->attributes != content->attributes()) {
      cut = "a record with other attributes";
      break;
    }
    if (record->record.operation) {
      if (!content) {  // a file starts with a whole content
        cut = "an operation, not a whole content";
        break;
      }
      if (record->record.at.seq != out.at.seq + 1) {
        cut = "an operation out of sequence (at " + ck::to_string(record->record.at) + " after " +
              ck::to_string(out.at) + ")";
        break;
      }
      if (auto ok = content->check(*record->record.operation); !ok) {
        cut = "an operation that cannot apply (" + ok.error().message() + ")";
        break;
      }
      content->apply(*record->record.operation, now);
    } else {
      ck::Sections fresh(record->attributes);
      if (auto ok = fresh.restore(record->record.image, now); !ok) {
        cut = "a content that breaks its limits (" + ok.error().message() + ")";
        break;
      }
      content = std::move(fresh);
    }
    out.at = record->record.at;
    offset += kFrameHeader + length;
  }
  return out;
}

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(boost::asio::io_context& io,
                                                               std::string dir, Stored stored,
                                                               std::shared_ptr<spdlog::logger> log,
                                                               Broken broken,
                                                               std::uint64_t max_queued_bytes) {
  std::error_code ec;
  if (fs::create_directories(dir, ec)) {
    // The new directory lasts once its parent is on disk.
    const int parent =
        ::open(fs::path(dir).parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0) {
      ::fsync(parent);
      ::close(parent);
    }
  }
  if (ec) return fail("cannot create the checkpoint store " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    return fail("cannot write in the checkpoint store " + dir + ": " + errno_text());
  }
  return std::unique_ptr<CheckpointStore>(new CheckpointStore(
      io, std::move(dir), std::move(stored), std::move(broken), std::move(log), max_queued_bytes));
}

CheckpointStore::CheckpointStore(boost::asio::io_context& io, std::string dir, Stored stored,
                                 Broken broken, std::shared_ptr<spdlog::logger> log,
                                 std::uint64_t max_queued_bytes)
    : io_(io),
      dir_(std::move(dir)),
      shared_(std::make_shared<Shared>(Shared{std::move(stored), std::move(broken), 0})),
      log_(std::move(log)),
      max_queued_bytes_(max_queued_bytes),
      thread_([this] { run(); }) {}

CheckpointStore::~CheckpointStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (const auto& [name, fd] : files_) ::close(fd);
  shared_.reset();  // what the thread posted last finds no store
}

std::string CheckpointStore::path(const ck::CheckpointName& name) const {
  return dir_ + "/" + to_hex(name.str()) + ".ckpt";
}

void CheckpointStore::append(const ck::CheckpointName& name, const ck::Attributes& attributes,
                             ck::Persist record) {
  const bool image = !record.operation;
  if (!image && gapped_.contains(name)) return;  // nothing goes on from a gap: see below
  if (!image && queued_bytes_.load() > max_queued_bytes_) {
    // The disk does not keep up: this record is dropped, and so is every later one of the
    // checkpoint until its whole content is written again (the writer says it broke).
    gapped_.insert(name);
    Item gap{name, false, false, 0, shared_->epoch, ""};
    gap.gap = true;
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(gap));
    wake_.notify_one();
    return;
  }
  if (image) gapped_.erase(name);
  Item item{
      name,           attributes.mode == ck::UpdateMode::kSynchronous,
      image,          record.record,
      shared_->epoch, wire::encode(wire::CheckpointRecord{name, attributes, std::move(record)})};
  if (item.image) {
    log_bytes_[name] = 0;
  } else {
    log_bytes_[name] += kFrameHeader + item.bytes.size();
  }
  queued_bytes_ += item.bytes.size();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

std::uint64_t CheckpointStore::log_bytes(const ck::CheckpointName& name) const {
  auto it = log_bytes_.find(name);
  return it == log_bytes_.end() ? 0 : it->second;
}

void CheckpointStore::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void CheckpointStore::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything is written
    std::deque<Item> batch;
    batch.swap(queue_);
    busy_ = true;
    lock.unlock();
    Written done = write(batch);
    lock.lock();
    busy_ = false;
    if (!done.newest.empty() || !done.broken.empty()) {
      boost::asio::post(io_, [shared = std::weak_ptr<Shared>(shared_), done = std::move(done)] {
        auto alive = shared.lock();
        if (!alive) return;
        for (const auto& [key, record] : done.newest) {
          if (key.second == alive->epoch) alive->stored(key.first, record);
        }
        for (const auto& [name, epoch] : done.broken) {
          if (epoch == alive->epoch && alive->broken) alive->broken(name);
        }
      });
    }
    if (queue_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

CheckpointStore::Written CheckpointStore::write(std::deque<Item>& batch) {
  Written out;
  std::set<ck::CheckpointName> to_sync;
  // The checkpoint's file may now hold a torn record or lack one: nothing after it is stored
  // (or reported) until a whole content starts the file again.
  auto break_on = [&](const Item& item, const std::string& what) {
    log_->error(
        "checkpoint '{}': the store cannot {}; its writes are not stored, and synchronous ones "
        "not answered, until its whole content is written again",
        item.name.str(), what);
    if (auto it = files_.find(item.name); it != files_.end()) {
      ::close(it->second);
      files_.erase(it);
    }
    broken_.insert(item.name);
    to_sync.erase(item.name);
    std::erase_if(out.newest, [&](const auto& n) { return n.first.first == item.name; });
    out.broken.insert({item.name, item.epoch});
  };
  for (Item& item : batch) {
    queued_bytes_ -= item.bytes.size();
    if (item.gap) {
      if (!broken_.contains(item.name)) {
        break_on(item, "keep up: over " + std::to_string(max_queued_bytes_) +
                           " bytes of records wait to be written");
      }
      continue;
    }
    const std::string file = path(item.name);
    const std::string framed = frame_record(item.bytes);
    if (item.image) {
      // A new file, in place of the old one whole or not at all (fsync'd, with its directory).
      if (auto it = files_.find(item.name); it != files_.end()) {
        ::close(it->second);
        files_.erase(it);
      }
      to_sync.erase(item.name);
      if (auto ok = write_durably(file, framed, "the checkpoint store"); !ok) {
        break_on(item, ok.error().message());
        continue;
      }
      broken_.erase(item.name);
    } else {
      if (broken_.contains(item.name)) {  // said again: the host may be a new life's
        out.broken.insert({item.name, item.epoch});
        continue;
      }
      auto it = files_.find(item.name);
      if (it == files_.end()) {
        // (The file exists: a whole content, written durably, starts every file.)
        const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0) {
          break_on(item, "open " + file + ": " + errno_text());
          continue;
        }
        it = files_.emplace(item.name, fd).first;
      }
      if (auto ok = write_all(it->second, framed); !ok) {
        break_on(item, "append to " + file + ": " + ok.error().message());
        continue;
      }
      if (item.sync) to_sync.insert(item.name);
    }
    if (item.record) out.newest[{item.name, item.epoch}] = item.record;
  }
  for (auto it = to_sync.begin(); it != to_sync.end();) {
    const ck::CheckpointName name = *it++;
    auto fd = files_.find(name);
    if (fd == files_.end() || ::fdatasync(fd->second) != 0) {
      const std::string why = errno_text();
      for (const Item& item : batch) {
        if (item.name == name) {
          break_on(item, "fsync " + path(name) + ": " + why);
          break;
        }
      }
    }
  }
  return out;
}

// Reads a whole file; nullopt (errno set) when it cannot, or reads less than its size.
static std::optional<std::string> read_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0) {
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got == bytes.size()) {
      out = std::move(bytes);
    } else if (errno == 0) {
      errno = EIO;  // shorter than its size
    }
  }
  ::close(fd);
  return out;
}

std::vector<CheckpointStore::Kept> CheckpointStore::load(TimePoint now) {
  shared_->epoch++;
  log_bytes_.clear();
  gapped_.clear();  // the replicas of the next life start from what the files hold
  std::vector<Kept> out;
  std::error_code list_error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, list_error)) {
    const fs::path file = entry.path();
    std::error_code ec;
    if (file.extension() == ".new") {  // a new file that a crash left half written
      fs::remove(file, ec);
      continue;
    }
    if (file.extension() != ".ckpt") continue;
    auto set_aside = [&](const std::string& why) {
      log_->error("checkpoint store: {} {}; set aside as {}.bad", file.string(), why,
                  file.filename().string());
      fs::rename(file, fs::path(file.string() + ".bad"), ec);
    };
    const auto name = from_hex(file.stem().string());
    if (!name || name->empty()) {
      set_aside("is not named by a checkpoint's name in hex");
      continue;
    }
    errno = 0;
    const std::optional<std::string> bytes = read_file(file);
    if (!bytes) {
      // Not set aside nor cut: what cannot be read now may be read at the next start.
      log_->error("checkpoint '{}': cannot read its store file {}: {}; not restored", *name,
                  file.string(), errno_text());
      continue;
    }
    StoreFile parsed = parse_store_file(*bytes, *name, now);
    if (!parsed.content) {
      set_aside(parsed.cut.empty() ? "holds no record" : "starts with " + parsed.cut);
      continue;
    }
    if (parsed.whole < bytes->size()) {
      // A torn or corrupt record is what a crash during a write leaves; anything else (a record
      // this build cannot take) is kept aside whole before the file is cut.
      const bool torn = parsed.cut == "a torn record header" || parsed.cut == "a torn record" ||
                        parsed.cut == "a record whose CRC does not match";
      if (!torn)
        fs::copy_file(file, file.string() + ".bad", fs::copy_options::overwrite_existing, ec);
      log_->warn(
          "checkpoint '{}': cut {} bytes off its store file after the last whole record, at {}: "
          "{}{}",
          *name, bytes->size() - parsed.whole, ck::to_string(parsed.at), parsed.cut,
          torn ? " (a crash during a write)"
               : "; the whole file is kept as " + file.filename().string() + ".bad");
      const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(parsed.whole)) != 0 || ::fsync(fd) != 0) {
        log_->error("checkpoint '{}': cannot cut {}: {}", *name, file.string(), errno_text());
      }
      if (fd >= 0) ::close(fd);
    }
    log_bytes_[ck::CheckpointName(*name)] = parsed.whole;
    out.push_back(Kept{ck::CheckpointName(*name), std::move(*parsed.content), parsed.at});
  }
  if (list_error) log_->error("checkpoint store: cannot list {}: {}", dir_, list_error.message());
  return out;
}

}  // namespace amf::daemon
