#include "amf/checkpoint/sections.h"

#include <gtest/gtest.h>

namespace amf::checkpoint {
namespace {

using std::chrono::milliseconds;

const TimePoint kT0{};

Attributes small() {
  Attributes a;
  a.max_sections = 2;
  a.max_section_size = 8;
  return a;
}

SectionId id(const char* s) { return SectionId(s); }

std::string error_of(const Result<void>& r) { return r ? std::string("ok") : r.error().message(); }

TEST(AttributesTest, RefusesLimitsOutsideTheBoundsSayingWhich) {
  Attributes a;
  EXPECT_TRUE(check(a));
  a.max_sections = 0;
  EXPECT_EQ(error_of(check(a)), "max_sections is 0, must be 1 to 65536");
  a.max_sections = 1;
  a.max_section_size = kMaxSectionSize + 1;
  EXPECT_NE(error_of(check(a)).find("max_section_size is 8388609 bytes"), std::string::npos);
  a.max_section_size = kMaxSectionSize;
  a.max_sections = 33;  // 33 x 8 MiB is over 256 MiB
  EXPECT_NE(error_of(check(a)).find("over the bound of 268435456 bytes"), std::string::npos);
  a.max_sections = 32;
  EXPECT_TRUE(check(a));
  a.retention = Duration(-1);
  EXPECT_EQ(error_of(check(a)), "retention is negative");
}

TEST(AttributesTest, UpdateModesByName) {
  EXPECT_EQ(*update_mode_named("synchronous"), UpdateMode::kSynchronous);
  EXPECT_EQ(*update_mode_named("asynchronous"), UpdateMode::kAsynchronous);
  EXPECT_EQ(update_mode_named("sync").error().message(),
            "unknown update mode 'sync' (expected synchronous or asynchronous)");
}

TEST(AttributesTest, RefusesBadCheckpointNames) {
  EXPECT_TRUE(check_name(CheckpointName("counter/state")).error().message().find("'/'") !=
              std::string::npos);
  EXPECT_FALSE(check_name(CheckpointName("")));
  EXPECT_FALSE(check_name(CheckpointName(std::string(300, 'a'))));
  EXPECT_FALSE(check_name(CheckpointName("a\nb")));
  EXPECT_EQ(check_name(CheckpointName("a\xff")).error().message(),
            "checkpoint name 'a\xef\xbf\xbd' is not UTF-8");
  EXPECT_TRUE(check_name(CheckpointName("counter-state")));
}

TEST(SectionsTest, CreatesWritesReadsOverwritesAndDeletes) {
  Sections s(small());
  ASSERT_TRUE(s.check(CreateSection{id("a"), "hello"}));
  s.apply(CreateSection{id("a"), "hello"}, kT0);
  EXPECT_EQ(*s.read(id("a"), 0, 100), "hello");
  EXPECT_EQ(*s.read(id("a"), 1, 3), "ell");
  s.apply(WriteSection{id("a"), 3, "p me"}, kT0);  // grows the section from offset 3
  EXPECT_EQ(*s.read(id("a"), 0, 100), "help me");
  s.apply(WriteSection{id("a"), 0, "Y"}, kT0);
  EXPECT_EQ(*s.read(id("a"), 0, 100), "Yelp me");
  EXPECT_EQ(s.bytes(), 7u);
  s.apply(OverwriteSection{id("a"), "hi"}, kT0);
  EXPECT_EQ(*s.read(id("a"), 0, 100), "hi");
  EXPECT_EQ(s.bytes(), 2u);
  s.apply(CreateSection{id("b"), ""}, kT0);
  EXPECT_EQ(s.all().size(), 2u);
  s.apply(DeleteSection{id("a")}, kT0);
  EXPECT_EQ(s.find(id("a")), nullptr);
  EXPECT_EQ(s.bytes(), 0u);
}

TEST(SectionsTest, RefusesWhatBreaksTheLimitsSayingWhatAndWhere) {
  Sections s(small());
  s.apply(CreateSection{id("a"), "1234"}, kT0);
  EXPECT_EQ(error_of(s.check(CreateSection{id("a"), ""})), "section 'a' exists already");
  EXPECT_EQ(error_of(s.check(CreateSection{id("b"), "123456789"})),
            "section 'b' would be 9 bytes, over the checkpoint's max_section_size of 8 bytes");
  EXPECT_EQ(error_of(s.check(WriteSection{id("a"), 2, "1234567"})),
            "section 'a' would be 9 bytes, over the checkpoint's max_section_size of 8 bytes");
  EXPECT_EQ(error_of(s.check(WriteSection{id("a"), 5, "x"})),
            "offset 5 is past the end of section 'a' (4 bytes)");
  EXPECT_EQ(error_of(s.check(WriteSection{id("z"), 0, "x"})), "there is no section 'z'");
  EXPECT_EQ(error_of(s.check(OverwriteSection{id("z"), "x"})), "there is no section 'z'");
  EXPECT_EQ(error_of(s.check(DeleteSection{id("z")})), "there is no section 'z'");
  EXPECT_EQ(error_of(s.check(CreateSection{SectionId(""), ""})), "a section id is empty");
  EXPECT_EQ(error_of(s.check(CreateSection{SectionId(std::string(257, 'x')), ""})),
            "a section id is 257 bytes, over 256 bytes");
  EXPECT_EQ(error_of(s.check(CreateSection{id("b"), "", milliseconds(0)})),
            "the lifetime of section 'b' is not positive");
  s.apply(CreateSection{id("b"), ""}, kT0);
  EXPECT_EQ(error_of(s.check(CreateSection{id("c"), ""})),
            "the checkpoint holds 2 sections, its max_sections");
  EXPECT_EQ(s.read(id("a"), 9, 1).error().message(),
            "offset 9 is past the end of section 'a' (4 bytes)");
  EXPECT_EQ(s.read(id("q"), 0, 1).error().message(), "there is no section 'q'");
}

TEST(SectionsTest, ExpiresSectionsByTheirLifetime) {
  Sections s(small());
  s.apply(CreateSection{id("a"), "x", milliseconds(50)}, kT0);
  s.apply(CreateSection{id("b"), "y"}, kT0);
  EXPECT_EQ(s.next_expiry(), kT0 + milliseconds(50));
  EXPECT_TRUE(s.expired(kT0 + milliseconds(49)).empty());
  EXPECT_EQ(s.expired(kT0 + milliseconds(50)), std::vector<SectionId>{id("a")});
  s.apply(SetExpiration{id("a"), std::nullopt}, kT0 + milliseconds(10));
  EXPECT_EQ(s.next_expiry(), std::nullopt);
  s.apply(SetExpiration{id("b"), milliseconds(5)}, kT0 + milliseconds(10));
  EXPECT_EQ(s.expired(kT0 + milliseconds(15)), std::vector<SectionId>{id("b")});
}

TEST(SectionsTest, AnImageRestoresTheSameContentWithTheLifetimeLeft) {
  Sections s(small());
  s.apply(CreateSection{id("a"), "abc", milliseconds(100)}, kT0);
  s.apply(CreateSection{id("b"), "de"}, kT0);
  auto image = s.image(kT0 + milliseconds(40));
  ASSERT_EQ(image.size(), 2u);
  EXPECT_EQ(image[0].expires_in, milliseconds(60));
  Sections copy(small());
  ASSERT_TRUE(copy.restore(image, kT0 + milliseconds(45)));
  EXPECT_TRUE(copy.same_data(s));
  EXPECT_EQ(copy.bytes(), 5u);
  EXPECT_EQ(copy.find(id("a"))->expires_at, kT0 + milliseconds(105));  // never earlier
}

TEST(SectionsTest, RefusesAnImageThatBreaksTheLimitsAndKeepsItsContent) {
  Sections s(small());
  s.apply(CreateSection{id("a"), "keep"}, kT0);
  std::vector<Sections::Image> image{{id("x"), "1"}, {id("y"), "2"}, {id("z"), "3"}};
  EXPECT_EQ(error_of(s.restore(image, kT0)), "the checkpoint holds 2 sections, its max_sections");
  EXPECT_EQ(*s.read(id("a"), 0, 10), "keep");
  EXPECT_EQ(s.all().size(), 1u);
}

}  // namespace
}  // namespace amf::checkpoint
