#include "amf/daemon/admin_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace amf::daemon {
namespace {

namespace fs = std::filesystem;
using director::AdminStateChanged;
using director::EntityKind;
using model::AdminState;

class AdminStoreTest : public ::testing::Test {
 protected:
  AdminStoreTest() {
    std::string pattern = (fs::temp_directory_path() / "amf-admin-store-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~AdminStoreTest() override { fs::remove_all(dir_); }
  std::string path() const { return dir_ + "/admin-states.json"; }
  std::string slurp() const {
    std::ifstream in(path());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string dir_;
};

TEST_F(AdminStoreTest, AMissingFileIsAnEmptyStore) {
  auto store = AdminStore::open(path());
  ASSERT_TRUE(store) << store.error().message();
  EXPECT_TRUE(store->states().empty());
  EXPECT_FALSE(fs::exists(path()));  // nothing written until something changes
}

TEST_F(AdminStoreTest, WhatIsPutIsReadBackByTheNextOpen) {
  auto store = AdminStore::open(path());
  ASSERT_TRUE(store);
  const std::vector<AdminStateChanged> changes = {
      {EntityKind::kSu, "app/su-1", AdminState::kLocked},
      {EntityKind::kSu, "app/su-1", AdminState::kLockedInstantiation},  // replaces the first
      {EntityKind::kNode, "node-1", AdminState::kLocked},
      {EntityKind::kSi, "app/si-1", AdminState::kShuttingDown},
      {EntityKind::kCluster, "", AdminState::kUnlocked},
  };
  for (const auto& change : changes) {
    auto kept = store->put(change);
    ASSERT_TRUE(kept) << kept.error().message();
  }
  const director::AdminStates expected = {
      {{EntityKind::kSu, "app/su-1"}, AdminState::kLockedInstantiation},
      {{EntityKind::kNode, "node-1"}, AdminState::kLocked},
      {{EntityKind::kSi, "app/si-1"}, AdminState::kShuttingDown},
      {{EntityKind::kCluster, ""}, AdminState::kUnlocked},
  };
  EXPECT_EQ(store->states(), expected);
  auto again = AdminStore::open(path());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->states(), expected);
  EXPECT_NE(slurp().find(R"("entity": "app/su-1")"), std::string::npos) << slurp();
  EXPECT_FALSE(fs::exists(path() + ".new"));
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Replaced whole.
  ASSERT_TRUE(again->replace({{{EntityKind::kSg, "app"}, AdminState::kLocked}}));
  auto third = AdminStore::open(path());
  ASSERT_TRUE(third);
  EXPECT_EQ(third->states(),
            (director::AdminStates{{{EntityKind::kSg, "app"}, AdminState::kLocked}}));
}

TEST_F(AdminStoreTest, AWriteThatFailsSaysWhyAndLeavesTheFileAsItWas) {
  auto store = AdminStore::open(path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put({EntityKind::kSu, "app/su-1", AdminState::kLocked}));
  const std::string before = slurp();
  fs::create_directory(path() + ".new");  // where the next version would be written
  auto kept = store->put({EntityKind::kSu, "app/su-2", AdminState::kLocked});
  ASSERT_FALSE(kept);
  EXPECT_NE(kept.error().message().find("cannot write the admin-state store " + path() + " (open " +
                                        path() + ".new): "),
            std::string::npos)
      << kept.error().message();
  EXPECT_EQ(slurp(), before);
  // The change is still held, and written with the next one once the way is clear.
  fs::remove(path() + ".new");
  ASSERT_TRUE(store->put({EntityKind::kSu, "app/su-3", AdminState::kLocked}));
  auto again = AdminStore::open(path());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->states().size(), 3u);
}

TEST_F(AdminStoreTest, AStoreThatCannotBeReadIsAnErrorNamingIt) {
  fs::create_directory(path());  // a directory where the file should be
  auto store = AdminStore::open(path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("the admin-state store " + path() + " is not a file"),
            std::string::npos)
      << store.error().message();
}

}  // namespace
}  // namespace amf::daemon
