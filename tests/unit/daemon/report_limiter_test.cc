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

TEST(ReportLimiterTest, ASenderThatVariesItsKindsGetsTenReportsASecondInAll) {
  ReportLimiter limiter;
  const TimePoint t0 = TimePoint(100s);
  int reported = 0;
  for (int i = 0; i < 1000; ++i) {
    if (limiter.admit("from 10.0.0." + std::to_string(i), "refused", t0 + i * 1ms)) ++reported;
  }
  EXPECT_EQ(reported, static_cast<int>(ReportLimiter::kMaxPerInterval));
  EXPECT_EQ(limiter.admit("from 10.0.1.1", "refused", t0 + 1s),
            "refused (and 990 more of any kind held back, over 10 reports a second)");
}

TEST(ReportLimiterTest, KindsAreBoundedAndQuietOnesGoFirst) {
  ReportLimiter limiter;
  const TimePoint t0 = TimePoint(1000s);
  // (Each a second after the one before: the reports a second are bounded too.)
  const std::size_t quiet = ReportLimiter::kMaxKinds - 1;
  for (std::size_t i = 0; i < quiet; ++i) {
    ASSERT_TRUE(limiter.admit("quiet " + std::to_string(i), "q", t0 + i * 1s));
  }
  const TimePoint loud = t0 + quiet * 1s;
  ASSERT_TRUE(limiter.admit("loud", "loud", loud));
  // Full: the kinds quiet for a second are forgotten, "loud" is kept and still held back.
  EXPECT_TRUE(limiter.admit("new", "new", loud + 500ms));
  EXPECT_EQ(limiter.admit("loud", "loud", loud + 500ms), std::nullopt);
  EXPECT_EQ(limiter.admit("quiet 0", "q", loud + 500ms), "q");
}

}  // namespace
}  // namespace amf::daemon
