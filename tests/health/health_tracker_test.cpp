// The health state machine on a fake clock: min_healthy_time, healthy_deadline, failures,
// restarts, checks mode, and one verdict only.
#include "health/health_tracker.hpp"

#include <gtest/gtest.h>

using namespace drover;
using namespace std::chrono_literals;
using health::Clock;
using health::HealthTracker;

namespace {

state::Alloc alloc_with(const std::string& s, bool failed = false, int restarts = 0) {
  state::Alloc a;
  a.id = "a1";
  a.tasks["web"].state = state::task_phase_from_string(s);
  a.tasks["web"].failed = failed;
  a.tasks["web"].restarts = restarts;
  a.tasks["web"].started_at_ns = 1000 + restarts;
  return a;
}

health::HealthSettings settings(std::string mode = "task_states") { return {mode, 1s, 10s}; }

}  // namespace

TEST(HealthTracker, HealthyAfterMinHealthyTimeOfRunning) {
  auto t0 = Clock::time_point{} + 1h;
  HealthTracker h(settings(), {}, t0);
  EXPECT_FALSE(h.observe(alloc_with("pending"), true, t0));
  EXPECT_FALSE(h.observe(alloc_with("running"), true, t0 + 100ms));
  EXPECT_FALSE(h.observe(alloc_with("running"), true, t0 + 1s));
  auto v = h.observe(alloc_with("running"), true, t0 + 1100ms);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->healthy);
  EXPECT_EQ(v->reason, "all tasks running for 1s");
  // Decided once: later looks say nothing, even a failure.
  EXPECT_FALSE(h.observe(alloc_with("dead", true), true, t0 + 2s));
}

TEST(HealthTracker, AFailedTaskIsUnhealthyWithItsName) {
  auto t0 = Clock::time_point{} + 1h;
  HealthTracker h(settings(), {}, t0);
  auto v = h.observe(alloc_with("dead", true), true, t0 + 200ms);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_EQ(v->reason, "task \"web\" failed");
}

TEST(HealthTracker, ARestartResetsTheWindowAndTheDeadlineWins) {
  auto t0 = Clock::time_point{} + 1h;
  HealthTracker h({"task_states", 1s, 3s}, {}, t0);
  EXPECT_FALSE(h.observe(alloc_with("running", false, 0), true, t0));
  EXPECT_FALSE(h.observe(alloc_with("running", false, 1), true, t0 + 900ms));
  EXPECT_FALSE(h.observe(alloc_with("running", false, 1), true, t0 + 1500ms));  // 600ms since
  EXPECT_FALSE(h.observe(alloc_with("running", false, 2), true, t0 + 1800ms));
  EXPECT_FALSE(h.observe(alloc_with("running", false, 3), true, t0 + 2700ms));
  auto v = h.observe(alloc_with("running", false, 4), true, t0 + 3s);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->healthy);
  EXPECT_EQ(v->reason, "healthy deadline (3s) passed: min_healthy_time not reached");
}

TEST(HealthTracker, ChecksModeWaitsForPassingChecks) {
  auto t0 = Clock::time_point{} + 1h;
  HealthTracker h(settings("checks"), {}, t0);
  EXPECT_FALSE(h.observe(alloc_with("running"), false, t0));
  EXPECT_FALSE(h.observe(alloc_with("running"), false, t0 + 5s));
  EXPECT_FALSE(h.observe(alloc_with("running"), true, t0 + 6s));
  auto v = h.observe(alloc_with("running"), true, t0 + 7s);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->healthy);
  HealthTracker never(settings("checks"), {}, t0);
  auto late = never.observe(alloc_with("running"), false, t0 + 10s);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->reason, "healthy deadline (10s) passed: checks are not passing");
}

TEST(HealthTracker, EphemeralTasksNeedNotRunButManualNeverDecides) {
  auto t0 = Clock::time_point{} + 1h;
  auto a = alloc_with("running");
  a.tasks["init"].state = state::TaskPhase::Dead;  // a prestart task that finished
  HealthTracker h(settings(), {"init"}, t0);
  EXPECT_FALSE(h.observe(a, true, t0));
  EXPECT_TRUE(h.observe(a, true, t0 + 1s));
  HealthTracker manual(settings("manual"), {}, t0);
  EXPECT_FALSE(manual.observe(a, true, t0 + 1h));
}

TEST(HealthSettings, GroupOverJobOverDefaultsAndNoChecksMeansTaskStates) {
  jobspec::Job job;
  jobspec::TaskGroup g;
  g.tasks.push_back({});
  auto s = health::health_settings(job, g);
  EXPECT_EQ(s.mode, "task_states");
  EXPECT_EQ(s.min_healthy_time, 10s);
  EXPECT_EQ(s.healthy_deadline, 5min);
  job.update = jobspec::UpdateStrategy{"checks", 2s, 1min};
  g.tasks[0].services.push_back({"web", "80", "", "nomad", "auto", {}, {jobspec::Check{}}});
  EXPECT_EQ(health::health_settings(job, g).min_healthy_time, 2s);
  EXPECT_EQ(health::health_settings(job, g).mode, "checks");
  g.update = jobspec::UpdateStrategy{"task_states", 3s, 2min};
  EXPECT_EQ(health::health_settings(job, g).min_healthy_time, 3s);
}

// Checks mode falls back to task states only when the group has no check at all: checks of
// its group-level services count (they were left out, and such a group was judged healthy
// before its checks had run).
TEST(HealthSettings, GroupServiceChecksKeepChecksMode) {
  jobspec::Job job;
  jobspec::TaskGroup g;
  g.tasks.push_back({});
  job.update = jobspec::UpdateStrategy{"checks", 2s, 1min};
  EXPECT_EQ(health::health_settings(job, g).mode, "task_states");
  g.services.push_back({"web", "80", "", "nomad", "auto", {}, {jobspec::Check{}}});
  EXPECT_EQ(health::health_settings(job, g).mode, "checks");
}

TEST(HealthSettings, TheMigrateBlockJudgesAnAllocWithNoUpdateBlock) {
  jobspec::Job job;
  jobspec::TaskGroup g;
  g.tasks.push_back({});
  g.migrate = jobspec::MigrateStrategy{2, "task_states", 4s, 30s};
  auto s = health::health_settings(job, g);
  EXPECT_EQ(s.mode, "task_states");
  EXPECT_EQ(s.min_healthy_time, 4s);
  EXPECT_EQ(s.healthy_deadline, 30s);
  job.update = jobspec::UpdateStrategy{"task_states", 2s, 1min};
  EXPECT_EQ(health::health_settings(job, g).min_healthy_time, 2s) << "an update block comes first";
}
