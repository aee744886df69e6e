// Refusals reported at most once a second of each kind, with a count of those held back.
#include "amf/daemon/report_limiter.h"

#include <gtest/gtest.h>

namespace amf::daemon {
namespace {

using namespace std::chrono_literals;

TEST(ReportLimiterTest, OneReportASecondOfEachKindCountingThoseHeldBack) {
  ReportLimiter limiter;
  const TimePoint t0 = TimePoint(100s);
  EXPECT_EQ(limiter.admit("a", "refused A", t0), "refused A");
  EXPECT_EQ(limiter.admit("a", "refused A", t0 + 100ms), std::nullopt);
  EXPECT_EQ(limiter.admit("a", "refused A", t0 + 900ms), std::nullopt);
  // Another kind is not held back by the first.
  EXPECT_EQ(limiter.admit("b", "refused B", t0 + 900ms), "refused B");
  EXPECT_EQ(limiter.admit("a", "refused A", t0 + 1s), "refused A (and 2 more refused since)");
  EXPECT_EQ(limiter.admit("a", "refused A", t0 + 2500ms), "refused A");
}

TEST(ReportLimiterTest, KindsAreBoundedAndQuietOnesGoFirst) {
  ReportLimiter limiter;
  const TimePoint t0 = TimePoint(100s);
  ASSERT_TRUE(limiter.admit("loud", "loud", t0 + 2s));
  for (std::size_t i = 0; i + 1 < ReportLimiter::kMaxKinds; ++i) {
    ASSERT_TRUE(limiter.admit("quiet " + std::to_string(i), "q", t0));
  }
  // Full: the kinds quiet for a second are forgotten, "loud" is kept and still held back.
  EXPECT_TRUE(limiter.admit("new", "new", t0 + 2500ms));
  EXPECT_EQ(limiter.admit("loud", "loud", t0 + 2500ms), std::nullopt);
  EXPECT_EQ(limiter.admit("quiet 0", "q", t0 + 2500ms), "q");
}

}  // namespace
}  // namespace amf::daemon
