// The shared check threads: jobs run when due, in parallel when they block, on few threads
// when they do not, and never after they are removed.
#include "health/check_scheduler.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace drover::health {
namespace {

using namespace std::chrono_literals;
using Clock = CheckScheduler::Clock;

// Waits for a condition (never for a fixed time); fails after a generous deadline.
template <class F>
bool eventually(F f, std::chrono::seconds limit = 30s) {
  auto deadline = Clock::now() + limit;
  while (!f()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(CheckScheduler, AJobRunsAtOnceThenAgainWhenDue) {
  CheckScheduler s;
  std::atomic<int> runs{0};
  std::vector<Clock::time_point> at(3);
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    int n = runs.load();
    if (n < 3) at[n] = Clock::now();
    runs.fetch_add(1);
    return Clock::now() + 50ms;
  });
  ASSERT_TRUE(eventually([&] { return runs >= 3; }));
  s.remove(id);
  EXPECT_GE(at[1] - at[0], 50ms);
  EXPECT_GE(at[2] - at[1], 50ms);
}

TEST(CheckScheduler, AParkedJobRunsOnlyWhenWoken) {
  CheckScheduler s;
  std::atomic<int> runs{0};
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    runs.fetch_add(1);
    return std::nullopt;
  });
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  // A wake is the only thing that brings it back; a second one while parked is one run.
  s.wake(id);
  ASSERT_TRUE(eventually([&] { return runs == 2; }));
  s.remove(id);
  s.wake(id);  // removed: nothing
  EXPECT_EQ(runs, 2);
}

TEST(CheckScheduler, AWakeDuringARunThatParksRunsItAgain) {
  CheckScheduler s;
  std::mutex mu;
  std::condition_variable cv;
  bool in_run = false, release = false;
  std::atomic<int> runs{0};
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    if (runs.fetch_add(1) == 0) {
      std::unique_lock lock(mu);
      in_run = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return std::nullopt;
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_run; });
  }
  s.wake(id);  // the run in flight decided to park before it saw the reason to go on
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(eventually([&] { return runs == 2; }));
  s.remove(id);
}

TEST(CheckScheduler, AWakeKeepsTheDueTimeOfAJobThatWaitsForIt) {
  CheckScheduler s;
  std::atomic<int> runs{0};
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    runs.fetch_add(1);
    return Clock::now() + 1h;
  });
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  s.wake(id);
  // Nothing to wait on for a run that must not happen: a second job added after the wake,
  // due at once, has run, and the scheduler hands jobs out in the order they are due.
  std::atomic<bool> later{false};
  auto other = s.add([&]() -> std::optional<Clock::time_point> {
    later = true;
    return std::nullopt;
  });
  ASSERT_TRUE(eventually([&] { return later.load(); }));
  EXPECT_EQ(runs, 1);
  s.remove(other);
  s.remove(id);
}

TEST(CheckScheduler, BlockingJobsRunInParallelOnThreadsStartedForThem) {
  CheckScheduler s;
  constexpr int kJobs = 8;
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  bool release = false;
  std::vector<CheckScheduler::Id> ids;
  for (int i = 0; i < kJobs; ++i)
    ids.push_back(s.add([&]() -> std::optional<Clock::time_point> {
      std::unique_lock lock(mu);
      ++inside;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      return std::nullopt;
    }));
  {
    // Every job is inside its run at once: none waits for another's probe to end.
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return inside == kJobs; }));
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(s.workers(), static_cast<std::size_t>(kJobs));
  for (auto id : ids) s.remove(id);
}

TEST(CheckScheduler, QuickJobsShareAFewThreads) {
  CheckScheduler s;
  constexpr int kJobs = 500;
  std::atomic<int> runs{0};
  std::vector<CheckScheduler::Id> ids;
  for (int i = 0; i < kJobs; ++i)
    ids.push_back(s.add([&]() -> std::optional<Clock::time_point> {
      runs.fetch_add(1);
      return Clock::now() + 20ms;
    }));
  ASSERT_TRUE(eventually([&] { return runs >= 3 * kJobs; }));
  // Each run returns at once; a worker is started only when every worker is busy, so a
  // handful serve all 500 (a thread per check would be 500).
  EXPECT_LE(s.workers(), 16u);
  for (auto id : ids) s.remove(id);
}

TEST(CheckScheduler, MaxWorkersBoundsTheThreadsAndTheRestWaitTheirTurn) {
  CheckScheduler s(CheckScheduler::Options{.max_workers = 2, .idle = 10s});
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, most = 0, done = 0;
  std::vector<CheckScheduler::Id> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(s.add([&]() -> std::optional<Clock::time_point> {
      {
        std::lock_guard lock(mu);
        most = std::max(most, ++inside);
      }
      std::this_thread::sleep_for(5ms);  // a probe that takes a while
      std::lock_guard lock(mu);
      --inside;
      ++done;
      cv.notify_all();
      return std::nullopt;
    }));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return done == 6; }));
    EXPECT_EQ(most, 2);
  }
  EXPECT_LE(s.workers(), 2u);
  for (auto id : ids) s.remove(id);
}

TEST(CheckScheduler, IdleWorkersLeave) {
  CheckScheduler s(CheckScheduler::Options{.max_workers = 8, .idle = 20ms});
  std::atomic<int> runs{0};
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    runs.fetch_add(1);
    return std::nullopt;
  });
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  ASSERT_TRUE(eventually([&] { return s.workers() == 0; }));
  s.wake(id);  // a worker is started again for it
  ASSERT_TRUE(eventually([&] { return runs == 2; }));
  s.remove(id);
}

TEST(CheckScheduler, RemoveWaitsForTheRunInFlightAndNoRunFollows) {
  CheckScheduler s;
  std::atomic<bool> in_run{false}, finished{false};
  std::atomic<int> runs{0};
  auto id = s.add([&]() -> std::optional<Clock::time_point> {
    runs.fetch_add(1);
    in_run = true;
    std::this_thread::sleep_for(50ms);
    finished = true;
    return Clock::now();  // due again at once
  });
  ASSERT_TRUE(eventually([&] { return in_run.load(); }));
  s.remove(id);
  EXPECT_TRUE(finished);  // what the run touches may be freed once remove returns
  int after = runs;
  // Another job run to its end shows the scheduler went on handing out work.
  std::atomic<bool> other_ran{false};
  auto other = s.add([&]() -> std::optional<Clock::time_point> {
    other_ran = true;
    return std::nullopt;
  });
  ASSERT_TRUE(eventually([&] { return other_ran.load(); }));
  EXPECT_EQ(runs, after);
  s.remove(other);
}

TEST(CheckScheduler, ARunMayRemoveItsOwnJob) {
  auto s = std::make_unique<CheckScheduler>();
  std::atomic<CheckScheduler::Id> self{0};
  std::atomic<int> runs{0};
  std::atomic<bool> removed{false};
  self = s->add([&]() -> std::optional<Clock::time_point> {
    while (self == 0) std::this_thread::yield();
    runs.fetch_add(1);
    s->remove(self);  // must not wait on itself
    removed = true;
    return Clock::now();
  });
  ASSERT_TRUE(eventually([&] { return removed.load(); }));
  s.reset();  // every job is gone: the scheduler stops
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace drover::health
