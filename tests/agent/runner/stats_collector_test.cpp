// StatsCollector over a fake v2 tree: samples on its rounds, CPU percent from the last two,
// a first request served before any round, a removed cgroup read as no stats.
#include "runner/stats_collector.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "fake_tree.hpp"

namespace drover::runner {
namespace {

namespace fs = std::filesystem;
using cgroups::fake::put;

struct FakeTask {
  cgroups::fake::TempDir t;
  std::unique_ptr<cgroups::Manager> m;
  fs::path dir;
  FakeTask() {
    cgroups::fake::fake_v2_root(t.path(), "cpu memory pids");
    cgroups::fake::fake_v2_group(t.path() / "drover.slice", "cpu memory pids");
    m = cgroups::Manager::open(*cgroups::detect(t.path()), "drover.slice").value();
    dir = t.path() / "drover.slice/a1.web.scope";
    cgroups::fake::fake_v2_group(dir, "cpu memory pids");
    put(dir / "memory.stat", "anon 8192\nfile 0\n");
    put(dir / "memory.current", "8192\n");
    cpu_us(0);
    put(dir / "cgroup.procs", "42\n");
  }
  void cpu_us(uint64_t us) {
    put(dir / "cpu.stat", "usage_usec " + std::to_string(us) + "\nuser_usec " +
                              std::to_string(us) + "\nsystem_usec 0\n");
  }
  cgroups::StatsReader reader() const { return *cgroups::StatsReader::open(*m, "a1.web"); }
};

TEST(StatsCollector, ARoundSamplesEveryTaskAndPercentComesFromTheLastTwo) {
  FakeTask f;
  StatsCollector c;
  c.track("a1.web", f.reader());
  c.collect_once();
  auto first = c.latest("a1.web");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->stats.memory.usage, 8192u);
  EXPECT_EQ(first->cpu.percent, 0.0);
  EXPECT_EQ(first->pids, std::vector<pid_t>{42});
  EXPECT_GT(first->timestamp_ns, 0);
  // 20,000 µs of CPU in a round of at least 20 ms: at most one core.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  f.cpu_us(20000);
  c.collect_once();
  auto second = c.latest("a1.web");
  ASSERT_TRUE(second);
  EXPECT_GT(second->cpu.percent, 0.0);
  EXPECT_LE(second->cpu.percent, 100.0);
  // Asking again reads nothing new: the same sample.
  EXPECT_EQ(c.latest("a1.web")->timestamp_ns, second->timestamp_ns);
}

TEST(StatsCollector, ATaskNotYetSampledIsReadOnRequest) {
  FakeTask f;
  StatsCollector c;
  c.track("a1.web", f.reader());
  auto s = c.latest("a1.web");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stats.memory.usage, 8192u);
}

// A round can read a task's cgroup after it was made and before the task is in it; once the
// task started, a request must not be served that empty sample.
TEST(StatsCollector, ASampleFromBeforeTheTaskStartedIsDropped) {
  FakeTask f;
  put(f.dir / "memory.stat", "anon 0\nfile 0\n");
  put(f.dir / "memory.current", "0\n");
  StatsCollector c;
  c.track("a1.web", f.reader());
  c.collect_once();
  EXPECT_EQ(c.latest("a1.web")->stats.memory.usage, 0u);
  put(f.dir / "memory.stat", "anon 8192\nfile 0\n");
  put(f.dir / "memory.current", "8192\n");
  c.started("a1.web");
  auto s = c.latest("a1.web");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stats.memory.usage, 8192u);
  c.started("never.tracked");  // nothing to forget
}

// The reader's fds are opened at the first sample, not when tracking starts (a task's start
// does not wait for them), and once: a cgroup gone by then has no stats.
TEST(StatsCollector, AReaderIsOpenedAtTheFirstSampleAndOnce) {
  FakeTask f;
  StatsCollector c;
  int opened = 0;
  c.track("a1.web", [&]() -> drover::Result<cgroups::StatsReader> {
    ++opened;
    return f.reader();
  });
  EXPECT_EQ(opened, 0);
  c.collect_once();
  c.collect_once();
  auto s = c.latest("a1.web");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stats.memory.usage, 8192u);
  EXPECT_EQ(s->pids, std::vector<pid_t>{42});
  EXPECT_EQ(opened, 1);
  int failed = 0;
  c.track("a2.gone", [&]() -> drover::Result<cgroups::StatsReader> {
    ++failed;
    return drover::make_error("task cgroup a2.gone does not exist");
  });
  EXPECT_FALSE(c.latest("a2.gone"));
  c.collect_once();
  EXPECT_FALSE(c.latest("a2.gone"));
  EXPECT_EQ(failed, 1);
}

TEST(StatsCollector, PidsAreReadWhenAskedNotByTheRounds) {
  FakeTask f;
  StatsCollector c;
  c.track("a1.web", f.reader());
  c.collect_once();
  put(f.dir / "cgroup.procs", "42\n43\n");
  // No round since: the sample is the same, its pids are those of now.
  auto s = c.latest("a1.web");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pids, (std::vector<pid_t>{42, 43}));
}

// A cgroup removed underneath has no stats: Cgroups.ATaskWhoseCgroupWasRemovedUnderneath-
// HasNoStatsAndTheAgentGoesOn, on real cgroupfs (host and v2 guest). A fake tree cannot show
// it: the reader holds memory.stat open, and an unlinked regular file stays readable where a
// removed cgroup's file fails with ENODEV.
TEST(StatsCollector, AnUntrackedTaskHasNoStats) {
  FakeTask f;
  StatsCollector c;
  c.track("a1.web", f.reader());
  c.collect_once();
  ASSERT_TRUE(c.latest("a1.web"));
  c.untrack("a1.web");
  EXPECT_EQ(c.tracked(), 0u);
  EXPECT_FALSE(c.latest("a1.web"));
  EXPECT_FALSE(c.latest("never.tracked"));
}

// A task stopped while a round is under way is not opened by it: its cgroup goes right after
// the untrack, and an open then warned "no stats: ... does not exist" for every task stopped
// before its first read.
TEST(StatsCollector, ATaskUntrackedDuringARoundIsNotOpenedByIt) {
  FakeTask f;
  StatsCollector c;
  std::promise<void> in_a, go_on;
  auto go = go_on.get_future().share();
  std::atomic<int> b_opened{0};
  c.track("a", [&]() -> Result<cgroups::StatsReader> {  // the round's first ("a" < "b")
    in_a.set_value();
    go.wait();
    return f.reader();
  });
  c.track("b", [&]() -> Result<cgroups::StatsReader> {
    ++b_opened;
    return f.reader();
  });
  std::thread round([&] { c.collect_once(); });
  in_a.get_future().wait();  // the round holds both entries now
  c.untrack("b");
  go_on.set_value();
  round.join();
  EXPECT_EQ(b_opened.load(), 0);
  EXPECT_TRUE(c.latest("a"));
}

TEST(StatsCollector, TheThreadSamplesOnItsOwnAndStops) {
  FakeTask f;
  StatsCollector c;
  c.track("a1.web", f.reader());
  c.start(std::chrono::milliseconds(10));
  f.cpu_us(5000);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::optional<StatsSample> s;
  while (std::chrono::steady_clock::now() < deadline &&
         !((s = c.latest("a1.web")) && s->stats.cpu.total_ns == 5000000u))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->stats.cpu.total_ns, 5000000u);
  c.stop();
}

}  // namespace
}  // namespace drover::runner
