// Absolute times print as RFC 3339 UTC; alloc ages read like Nomad's "12s ago".
#include "cli/time_format.hpp"

#include <gtest/gtest.h>

namespace drover::cli {
namespace {

constexpr std::int64_t kSec = 1'000'000'000;

TEST(TimeFormat, UnixNanosPrintAsUtcSeconds) {
  EXPECT_EQ(format_unix_nanos(1795719357LL * kSec + 123456789), "2026-11-26T18:55:57Z");
  EXPECT_EQ(format_unix_nanos(0), "");
}

TEST(TimeFormat, RelativeUsesLargestUnitAndTheNext) {
  const std::int64_t now = 1795719357LL * kSec;
  EXPECT_EQ(format_relative(now, now), "0s ago");
  EXPECT_EQ(format_relative(now - 12 * kSec, now), "12s ago");
  EXPECT_EQ(format_relative(now - 182 * kSec, now), "3m2s ago");
  EXPECT_EQ(format_relative(now - 60 * kSec, now), "1m ago");
  EXPECT_EQ(format_relative(now - 3600 * kSec, now), "1h ago");
  EXPECT_EQ(format_relative(now - (3 * 3600 + 5 * 60 + 9) * kSec, now), "3h5m ago");
  EXPECT_EQ(format_relative(now - (2 * 86400 + 3 * 3600) * kSec, now), "2d3h ago");
}

TEST(TimeFormat, RelativeRoundsToSecondsAndHandlesFutureAndUnset) {
  const std::int64_t now = 1795719357LL * kSec;
  EXPECT_EQ(format_relative(now - 1400'000'000, now), "1s ago");
  EXPECT_EQ(format_relative(now + 5 * kSec, now), "5s from now");
  EXPECT_EQ(format_relative(0, now), "");
}

}  // namespace
}  // namespace drover::cli
