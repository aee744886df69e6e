// load_file reads regular files only, and never blocks on what is not one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/support.h"

namespace amf::config {
namespace {

using testing_support::dump;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/amf-config-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Loads `path` on another thread; if that blocks (the bug), the test fails and the FIFO's
// writer end is opened and closed so the reader sees end of file and the test can finish.
LoadResult load_without_blocking(const std::string& path) {
  auto loading = std::async(std::launch::async, [&] { return load_file(path); });
  if (loading.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "load_file(" << path << ") blocked";
    int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  return loading.get();
}

TEST(ConfigFileTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.path() + "/cluster.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  LoadResult result = load_without_blocking(fifo);
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u) << dump(result.error());
  EXPECT_EQ(result.error()[0].to_string(),
            fifo + ": not a regular file (a FIFO); the configuration must be a regular file");
}

TEST(ConfigFileTest, DirectoryAndDeviceAreRefused) {
  TempDir dir;
  for (auto [path, kind] : {std::pair<std::string, std::string>{dir.path(), "a directory"},
                            {"/dev/zero", "a character device"}}) {
    LoadResult result = load_without_blocking(path);
    ASSERT_FALSE(result.has_value());
    ASSERT_EQ(result.error().size(), 1u) << dump(result.error());
    EXPECT_EQ(result.error()[0].line, 0);
    EXPECT_EQ(result.error()[0].message,
              "not a regular file (" + kind + "); the configuration must be a regular file");
  }
}

TEST(ConfigFileTest, OversizedFileIsRefusedBeforeReading) {
  TempDir dir;
  const std::string path = dir.path() + "/big.yaml";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 1LL << 40), 0);  // sparse: a terabyte that takes no space
  ::close(fd);
  LoadResult result = load_file(path);
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].message, "configuration file is larger than 4194304 bytes");
}

TEST(ConfigFileTest, RegularFileThroughASymlinkLoads) {
  TempDir dir;
  const std::string link = dir.path() + "/cluster.yaml";
  std::filesystem::create_symlink(AMF_SOURCE_DIR "/config/examples/demo.yaml", link);
  LoadResult result = load_file(link);
  EXPECT_TRUE(result.has_value()) << dump(result.error());
}

}  // namespace
}  // namespace amf::config
