// The cluster key: made once, loaded only from a file its owner alone can read, and a datagram
// sealed with one key opens with that key only.
#include "amf/keys/cluster_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zmq.h>

#include <filesystem>
#include <fstream>

namespace amf::keys {
namespace {

class ClusterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amf-key-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

bool contains(const Error& e, const std::string& text) {
  return e.message().find(text) != std::string::npos;
}

TEST_F(ClusterKeyTest, AKeyIsMadeOnceOwnerOnlyAndSealsWhatOnlyItOpens) {
  ASSERT_TRUE(ClusterKey::generate(path("a.key")));
  struct stat st {};
  ASSERT_EQ(::stat(path("a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = ClusterKey::generate(path("a.key"));
  ASSERT_FALSE(again);
  EXPECT_TRUE(contains(again.error(), "never overwritten")) << again.error().message();

  auto a = ClusterKey::load(path("a.key"));
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(ClusterKey::generate(path("b.key")));
  auto b = ClusterKey::load(path("b.key"));
  ASSERT_TRUE(b);

  const std::string sealed = a->seal("heartbeat");
  auto opened = a->open(sealed);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(*opened, "heartbeat");
  auto other = b->open(sealed);
  ASSERT_FALSE(other);
  EXPECT_TRUE(contains(other.error(), "not signed with this cluster's key"));
  std::string tampered = sealed;
  tampered[0] ^= 1;
  EXPECT_FALSE(a->open(tampered));
  EXPECT_FALSE(a->open("short"));
  EXPECT_FALSE(a->open("heartbeat"));  // unsigned
}

TEST_F(ClusterKeyTest, AKeyFileOthersCanReadOrThatHoldsNoKeyIsRefusedWithTheFix) {
  ASSERT_TRUE(ClusterKey::generate(path("k")));
  ::chmod(path("k").c_str(), 0644);
  auto open_to_all = ClusterKey::load(path("k"));
  ASSERT_FALSE(open_to_all);
  EXPECT_TRUE(contains(open_to_all.error(), "mode 0644): chmod 600 " + path("k")))
      << open_to_all.error().message();

  for (const std::string& text :
       {std::string("abc\n"), std::string(64, 'z') + "\n",
        std::string(64, 'a') + "\n" + std::string(64, 'b') + "\n", std::string()}) {
    const std::string p = path("bad");
    std::filesystem::remove(p);
    { std::ofstream(p) << text; }
    ::chmod(p.c_str(), 0600);
    auto bad = ClusterKey::load(p);
    ASSERT_FALSE(bad) << text;
    EXPECT_TRUE(contains(bad.error(), "does not hold one key")) << bad.error().message();
  }
  auto absent = ClusterKey::load(path("absent"));
  ASSERT_FALSE(absent);
  EXPECT_TRUE(contains(absent.error(), "cannot read key file " + path("absent")));
}

TEST_F(ClusterKeyTest, TheCurveKeyPairIsTheSameOnEveryNodeOfAClusterAndOnlyThere) {
  ASSERT_TRUE(ClusterKey::generate(path("a.key")));
  ASSERT_TRUE(ClusterKey::generate(path("b.key")));
  auto a1 = ClusterKey::load(path("a.key"));
  auto a2 = ClusterKey::load(path("a.key"));
  auto b = ClusterKey::load(path("b.key"));
  ASSERT_TRUE(a1 && a2 && b);
  const CurveKeys one = a1->curve_keys();
  const CurveKeys two = a2->curve_keys();
  const CurveKeys other = b->curve_keys();
  EXPECT_EQ(one.public_key, two.public_key);
  EXPECT_EQ(one.secret_key, two.secret_key);
  EXPECT_NE(one.public_key, other.public_key);
  EXPECT_NE(one.secret_key, other.secret_key);

  // ZeroMQ derives the same public key from the secret one: the pair is one CURVE takes.
  char secret_z85[41];
  char public_z85[41];
  char expected_z85[41];
  ASSERT_NE(zmq_z85_encode(secret_z85, one.secret_key.data(), one.secret_key.size()), nullptr);
  ASSERT_EQ(zmq_curve_public(public_z85, secret_z85), 0) << "libzmq without CURVE";
  ASSERT_NE(zmq_z85_encode(expected_z85, one.public_key.data(), one.public_key.size()), nullptr);
  EXPECT_STREQ(public_z85, expected_z85);
}

}  // namespace
}  // namespace amf::keys
