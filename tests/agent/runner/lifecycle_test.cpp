// The task lifecycle as a pure state machine (runner/lifecycle.cpp): no processes, no store.
#include <gtest/gtest.h>

#include "runner/lifecycle.hpp"

using drover::runner::Lifecycle;
using drover::runner::LifecycleAction;
using drover::runner::LifecycleTask;
using drover::runner::TaskRole;
using drover::state::TaskPhase;
using Kind = LifecycleAction::Kind;

namespace {

LifecycleTask task(const std::string& name, TaskRole role, bool leader = false) {
  LifecycleTask t;
  t.name = name;
  t.role = role;
  t.leader = leader;
  return t;
}

LifecycleTask& find(std::vector<LifecycleTask>& tasks, const std::string& name) {
  for (auto& t : tasks)
    if (t.name == name) return t;
  throw std::runtime_error("no task " + name);
}

void run(std::vector<LifecycleTask>& tasks, const std::string& name) {
  auto& t = find(tasks, name);
  t.state = TaskPhase::Running;
  t.ever_started = true;
}

void end(std::vector<LifecycleTask>& tasks, const std::string& name, bool failed = false) {
  auto& t = find(tasks, name);
  t.state = TaskPhase::Dead;
  t.failed = failed;
}

bool starts(const std::vector<LifecycleAction>& actions, TaskRole role) {
  for (const auto& a : actions)
    if (a.kind == Kind::Start && a.role == role) return true;
  return false;
}

bool stops(const std::vector<LifecycleAction>& actions, TaskRole role) {
  for (const auto& a : actions)
    if (a.kind == Kind::Stop && a.role == role) return true;
  return false;
}

}  // namespace

TEST(Lifecycle, PrestartRunsToCompletionBeforeMainThenPoststartOnceMainRuns) {
  std::vector<LifecycleTask> tasks{task("init", TaskRole::Prestart), task("side", TaskRole::PrestartSidecar),
                                   task("main", TaskRole::Main), task("after", TaskRole::Poststart)};
  Lifecycle lc;
  auto a = lc.advance(tasks, false, "");
  EXPECT_TRUE(starts(a, TaskRole::Prestart));
  EXPECT_TRUE(starts(a, TaskRole::PrestartSidecar));
  EXPECT_FALSE(starts(a, TaskRole::Main));
  run(tasks, "init");
  run(tasks, "side");
  EXPECT_TRUE(lc.advance(tasks, false, "").empty()) << "main waits for init to finish";
  end(tasks, "init");
  a = lc.advance(tasks, false, "");
  EXPECT_TRUE(starts(a, TaskRole::Main));
  EXPECT_FALSE(starts(a, TaskRole::Poststart)) << "poststart waits until main runs";
  run(tasks, "main");
  EXPECT_TRUE(starts(lc.advance(tasks, false, ""), TaskRole::Poststart));
  EXPECT_EQ(lc.phase(), Lifecycle::Phase::Main);
}

TEST(Lifecycle, AFailedPrestartTaskSkipsMainAndMarksItDead) {
  std::vector<LifecycleTask> tasks{task("init", TaskRole::Prestart), task("main", TaskRole::Main),
                                   task("cleanup", TaskRole::Poststop)};
  Lifecycle lc;
  lc.advance(tasks, false, "");
  run(tasks, "init");
  end(tasks, "init", /*failed=*/true);
  auto a = lc.advance(tasks, false, "");
  EXPECT_FALSE(starts(a, TaskRole::Main));
  EXPECT_EQ(find(tasks, "main").state, TaskPhase::Dead) << "main never started: it will not run";
  EXPECT_TRUE(starts(a, TaskRole::Poststop)) << "poststop still runs";
  run(tasks, "cleanup");
  end(tasks, "cleanup");
  lc.advance(tasks, false, "");
  EXPECT_EQ(lc.phase(), Lifecycle::Phase::Done);
}

TEST(Lifecycle, MainTasksDeadStopSidecarsThenPoststopRuns) {
  std::vector<LifecycleTask> tasks{task("side", TaskRole::PrestartSidecar), task("main", TaskRole::Main),
                                   task("cleanup", TaskRole::Poststop)};
  Lifecycle lc;
  lc.advance(tasks, false, "");
  run(tasks, "side");
  lc.advance(tasks, false, "");
  run(tasks, "main");
  lc.advance(tasks, false, "");
  end(tasks, "main");
  auto a = lc.advance(tasks, false, "");
  ASSERT_TRUE(stops(a, TaskRole::PrestartSidecar));
  for (const auto& x : a)
    if (x.kind == Kind::Stop && x.role == TaskRole::PrestartSidecar) {
      EXPECT_EQ(x.event_type, "Main Tasks Dead");
    }
  EXPECT_FALSE(starts(a, TaskRole::Poststop)) << "poststop waits for the sidecar to end";
  end(tasks, "side");
  EXPECT_TRUE(starts(lc.advance(tasks, false, ""), TaskRole::Poststop));
}

TEST(Lifecycle, TheLeadersEndStopsTheOtherMainTasks) {
  std::vector<LifecycleTask> tasks{task("lead", TaskRole::Main, /*leader=*/true), task("other", TaskRole::Main)};
  Lifecycle lc;
  lc.advance(tasks, false, "");
  run(tasks, "lead");
  run(tasks, "other");
  lc.advance(tasks, false, "");
  end(tasks, "lead");
  auto a = lc.advance(tasks, false, "");
  ASSERT_TRUE(stops(a, TaskRole::Main));
  EXPECT_EQ(a.front().reason, "Leader Task \"lead\" is dead");
  EXPECT_EQ(a.front().event_type, "Leader Task Dead");
  // Said once, not on every pass.
  EXPECT_FALSE(stops(lc.advance(tasks, false, ""), TaskRole::Main));
}

TEST(Lifecycle, AFailedSiblingStopsTheMainTasksOnce) {
  std::vector<LifecycleTask> tasks{task("a", TaskRole::Main), task("b", TaskRole::Main)};
  Lifecycle lc;
  lc.advance(tasks, false, "");
  run(tasks, "a");
  run(tasks, "b");
  end(tasks, "a", /*failed=*/true);
  auto a = lc.advance(tasks, false, "");
  ASSERT_TRUE(stops(a, TaskRole::Main));
  EXPECT_EQ(a.front().event_type, "Sibling Task Failed");
  EXPECT_TRUE(lc.advance(tasks, false, "").empty());
}

TEST(Lifecycle, AStopBeforeAnythingRanStartsNothingAndEnds) {
  std::vector<LifecycleTask> tasks{task("init", TaskRole::Prestart), task("main", TaskRole::Main)};
  Lifecycle lc;
  auto a = lc.advance(tasks, true, "stopped by the user");
  EXPECT_FALSE(starts(a, TaskRole::Main));
  EXPECT_FALSE(starts(a, TaskRole::Prestart));
  EXPECT_EQ(find(tasks, "init").state, TaskPhase::Dead);
  EXPECT_EQ(find(tasks, "main").state, TaskPhase::Dead);
  EXPECT_EQ(lc.phase(), Lifecycle::Phase::Done);
}

TEST(Lifecycle, AStopWhileMainRunsStopsItWithTheReason) {
  std::vector<LifecycleTask> tasks{task("main", TaskRole::Main)};
  Lifecycle lc;
  lc.advance(tasks, false, "");
  run(tasks, "main");
  lc.advance(tasks, false, "");
  auto a = lc.advance(tasks, true, "Alloc stopped");
  ASSERT_TRUE(stops(a, TaskRole::Main));
  EXPECT_EQ(a.front().reason, "Alloc stopped");
  EXPECT_EQ(a.front().event_type, "");
}

TEST(Lifecycle, ARecoveredAllocResumesPastPrestartOnceMainHasRun) {
  std::vector<LifecycleTask> tasks{task("init", TaskRole::Prestart), task("main", TaskRole::Main)};
  find(tasks, "init").state = TaskPhase::Pending;  // never finished, yet main ran before
  run(tasks, "main");
  find(tasks, "main").has_runner = true;
  Lifecycle lc;
  lc.resume(tasks);
  EXPECT_EQ(lc.phase(), Lifecycle::Phase::Main);
  EXPECT_FALSE(starts(lc.advance(tasks, false, ""), TaskRole::Prestart));
}

TEST(Lifecycle, AStartIsAskedOnlyForTasksWithoutARunner) {
  std::vector<LifecycleTask> tasks{task("main", TaskRole::Main)};
  Lifecycle lc;
  EXPECT_TRUE(starts(lc.advance(tasks, false, ""), TaskRole::Main));
  EXPECT_TRUE(find(tasks, "main").has_runner);
  EXPECT_TRUE(lc.advance(tasks, false, "").empty()) << "the runner exists: nothing to start again";
}
