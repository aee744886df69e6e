#include "amf/daemon/checkpoint_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

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

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> unhex(const std::string& s) {
  if (s.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

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

Result<std::unique_ptr<CheckpointStore>> CheckpointStore::open(
    boost::asio::io_context& io, std::string dir, Stored stored,
    std::shared_ptr<spdlog::logger> log) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create the checkpoint store " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    return fail("cannot write in the checkpoint store " + dir + ": " + errno_text());
  }
  return std::unique_ptr<CheckpointStore>(
      new CheckpointStore(io, std::move(dir), std::move(stored), std::move(log)));
}

CheckpointStore::CheckpointStore(boost::asio::io_context& io, std::string dir, Stored stored,
                                 std::shared_ptr<spdlog::logger> log)
    : io_(io),
      dir_(std::move(dir)),
      shared_(std::make_shared<Shared>(Shared{std::move(stored), 0})),
      log_(std::move(log)),
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
  return dir_ + "/" + hex(name.str()) + ".ckpt";
}

void CheckpointStore::append(const ck::CheckpointName& name, const ck::Attributes& attributes,
                             ck::Persist record) {
  Item item{name,
            attributes.mode == ck::UpdateMode::kSynchronous,
            !record.operation,
            record.record,
            shared_->epoch,
            wire::encode(wire::CheckpointRecord{name, attributes, std::move(record)})};
  if (item.image) {
    log_bytes_[name] = 0;
  } else {
    log_bytes_[name] += kFrameHeader + item.bytes.size();
  }
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
    auto done = write(batch);
    lock.lock();
    busy_ = false;
    if (!done.empty()) {
      boost::asio::post(io_, [shared = std::weak_ptr<Shared>(shared_), done = std::move(done)] {
        auto alive = shared.lock();
        if (!alive) return;
        for (const auto& [key, record] : done) {
          if (key.second == alive->epoch) alive->stored(key.first, record);
        }
      });
    }
    if (queue_.empty()) idle_.notify_all();
  }
  idle_.notify_all();
}

std::map<std::pair<ck::CheckpointName, std::uint64_t>, std::uint64_t> CheckpointStore::write(
    std::deque<Item>& batch) {
  std::map<std::pair<ck::CheckpointName, std::uint64_t>, std::uint64_t> newest;
  std::set<ck::CheckpointName> to_sync, failed;
  auto fail_on = [&](const ck::CheckpointName& name, const std::string& what) {
    if (failed.insert(name).second) {
      log_->error(
          "checkpoint '{}': the store cannot {}: {}; its writes are not stored and "
          "synchronous ones are not answered",
          name.str(), what, errno_text());
    }
  };
  for (Item& item : batch) {
    if (failed.contains(item.name)) continue;
    const std::string file = path(item.name);
    const std::string framed = frame_record(item.bytes);
    if (item.image) {
      // A new file, in place of the old one whole or not at all.
      if (auto it = files_.find(item.name); it != files_.end()) {
        ::close(it->second);
        files_.erase(it);
      }
      if (auto ok = write_durably(file, framed, "the checkpoint store"); !ok) {
        if (failed.insert(item.name).second) {
          log_->error(
              "checkpoint '{}': {}; its writes are not stored and synchronous ones are "
              "not answered",
              item.name.str(), ok.error().message());
        }
        continue;
      }
    } else {
      auto it = files_.find(item.name);
      if (it == files_.end()) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
          fail_on(item.name, "open " + file);
          continue;
        }
        it = files_.emplace(item.name, fd).first;
      }
      if (!write_all(it->second, framed)) {
        fail_on(item.name, "append to " + file);
        continue;
      }
      if (item.sync) to_sync.insert(item.name);
    }
    if (item.record) newest[{item.name, item.epoch}] = item.record;
  }
  for (const ck::CheckpointName& name : to_sync) {
    if (failed.contains(name)) continue;
    if (::fdatasync(files_.at(name)) != 0) fail_on(name, "fsync " + path(name));
  }
  std::erase_if(newest, [&](const auto& n) { return failed.contains(n.first.first); });
  return newest;
}

std::vector<CheckpointStore::Kept> CheckpointStore::load(TimePoint now) {
  shared_->epoch++;
  log_bytes_.clear();
  std::vector<Kept> out;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    const fs::path file = entry.path();
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
    const auto name = unhex(file.stem().string());
    if (!name || name->empty()) {
      set_aside("is not named by a checkpoint's name in hex");
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      set_aside("cannot be read");
      continue;
    }
    StoreFile parsed = parse_store_file(bytes, *name, now);
    std::optional<ck::Sections>& content = parsed.content;
    const ck::Position at = parsed.at;
    const std::size_t offset = parsed.whole;
    const std::string& cut = parsed.cut;
    if (!content) {
      set_aside(cut.empty() ? "holds no record" : "starts with " + cut);
      continue;
    }
    if (offset < bytes.size()) {
      log_->warn(
          "checkpoint '{}': cut {} bytes off its store file after the last whole record, "
          "at {}: {} (a crash during a write)",
          *name, bytes.size() - offset, ck::to_string(at), cut);
      if (::truncate(file.c_str(), static_cast<off_t>(offset)) != 0) {
        log_->error("checkpoint '{}': cannot cut {}: {}", *name, file.string(), errno_text());
      }
    }
    log_bytes_[ck::CheckpointName(*name)] = offset;
    out.push_back(Kept{ck::CheckpointName(*name), std::move(*content), at});
  }
  if (ec) log_->error("checkpoint store: cannot list {}: {}", dir_, ec.message());
  return out;
}

}  // namespace amf::daemon
