#include <gtest/gtest.h>

#include "runner/restart_tracker.hpp"

using drover::runner::RestartTracker;
using namespace std::chrono_literals;

namespace {
drover::jobspec::RestartPolicy policy(int attempts, std::string mode) {
  drover::jobspec::RestartPolicy p;
  p.attempts = attempts;
  p.interval = 10min;
  p.delay = 1s;
  p.mode = std::move(mode);
  return p;
}
}  // namespace

TEST(RestartTracker, BatchSuccessIsDone) {
  RestartTracker t(policy(3, "fail"), /*batch=*/true);
  auto d = t.on_exit(true);
  EXPECT_FALSE(d.restart);
  EXPECT_FALSE(d.failed);
}

TEST(RestartTracker, ServiceSuccessIsRestarted) {
  RestartTracker t(policy(1, "fail"), /*batch=*/false);
  EXPECT_TRUE(t.on_exit(true).restart);
}

TEST(RestartTracker, FailModeGivesUpAfterAttemptsWithJitteredDelay) {
  RestartTracker t(policy(2, "fail"), false);
  auto now = RestartTracker::Clock::now();
  for (int i = 0; i < 2; ++i) {
    auto d = t.on_exit(false, now + std::chrono::seconds(i));
    EXPECT_TRUE(d.restart);
    EXPECT_GE(d.delay, 1s);
    EXPECT_LE(d.delay, 1250ms);
  }
  auto d = t.on_exit(false, now + 3s);
  EXPECT_FALSE(d.restart);
  EXPECT_TRUE(d.failed);
  EXPECT_NE(d.reason.find("Exceeded allowed attempts 2 in interval 10m"), std::string::npos) << d.reason;
}

TEST(RestartTracker, CounterResetsAfterTheInterval) {
  RestartTracker t(policy(1, "fail"), false);
  auto now = RestartTracker::Clock::now();
  EXPECT_TRUE(t.on_exit(false, now).restart);
  EXPECT_TRUE(t.on_exit(false, now + 11min).restart);
}

TEST(RestartTracker, DelayModeWaitsForTheWindowToEnd) {
  RestartTracker t(policy(1, "delay"), false);
  auto now = RestartTracker::Clock::now();
  EXPECT_TRUE(t.on_exit(false, now).restart);
  auto d = t.on_exit(false, now + 1min);
  EXPECT_TRUE(d.restart);
  EXPECT_GE(d.delay, 9min);
}
