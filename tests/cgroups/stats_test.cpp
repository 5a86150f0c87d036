// Stats parsed from sample v1 and v2 control files, Nomad's JSON shape, CPU percent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "drover/cgroups/cgroups.hpp"
#include "drover/cgroups/stats_json.hpp"
#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

namespace fs = std::filesystem;
using fake::put;

// A v1 task cgroup "a1.web" in a fake tree (every hierarchy), with a manager over it.
struct FakeV1Task {
  fake::TempDir t;
  std::unique_ptr<Manager> m;
  FakeV1Task() {
    fake::fake_v1_root(t.path());
    fake::fake_v1_group(t.path(), "drover");
    m = Manager::open(*detect(t.path()), "drover").value();
    fake::fake_v1_group(t.path(), "drover/a1.web");
  }
  fs::path dir(const char* hierarchy) const { return t.path() / hierarchy / "drover/a1.web"; }
};

TEST(CgroupStats, V1FilesGiveMemoryCpuAndPids) {
  FakeV1Task f;
  auto cg = f.m->create("a1.web", Limits{});
  ASSERT_TRUE(cg.ok());
  fs::path mem = f.dir("memory");
  put(mem / "memory.stat", "cache 1\nrss 2\ntotal_cache 4096\ntotal_rss 8192\ntotal_swap 512\n");
  put(mem / "memory.usage_in_bytes", "12288\n");
  put(mem / "memory.max_usage_in_bytes", "20480\n");
  long hz = sysconf(_SC_CLK_TCK);
  put(f.dir("cpuacct") / "cpuacct.stat",
      "user " + std::to_string(2 * hz) + "\nsystem " + std::to_string(hz) + "\n");
  put(f.dir("cpuacct") / "cpuacct.usage", "3100000000\n");
  put(f.dir("cpu") / "cpu.stat",
      "nr_periods 10\nnr_throttled 3\nthrottled_time 777\n");
  put(f.dir("pids") / "pids.current", "4\n");

  auto s = cg->stats();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->memory.rss, 8192u);
  EXPECT_EQ(s->memory.cache, 4096u);
  EXPECT_EQ(s->memory.swap, 512u);
  EXPECT_EQ(s->memory.usage, 12288u);
  EXPECT_EQ(s->memory.max_usage, 20480u);
  EXPECT_EQ(s->cpu.user_ns, 2000000000u);
  EXPECT_EQ(s->cpu.system_ns, 1000000000u);
  EXPECT_EQ(s->cpu.total_ns, 3100000000u);
  EXPECT_EQ(s->cpu.throttled_periods, 3u);
  EXPECT_EQ(s->cpu.throttled_time_ns, 777u);
  EXPECT_EQ(s->pids, 4u);
  EXPECT_THAT(s->memory.measured, ::testing::Contains("Max Usage"));
}

TEST(CgroupStats, V2FilesGiveMemoryCpuAndPids) {
  fake::TempDir t;
  fake::fake_v2_root(t.path(), "cpu memory pids");
  fake::fake_v2_group(t.path() / "drover.slice", "cpu memory pids");
  auto m = Manager::open(*detect(t.path()), "drover.slice");
  ASSERT_TRUE(m.ok());
  fs::path dir = t.path() / "drover.slice/a1.web.scope";
  fake::fake_v2_group(dir, "cpu memory pids");
  auto cg = (*m)->create("a1.web", Limits{});
  ASSERT_TRUE(cg.ok());
  put(dir / "memory.stat", "anon 8192\nfile 4096\nkernel 100\n");
  put(dir / "memory.current", "16384\n");
  put(dir / "memory.swap.current", "0\n");
  fs::remove(dir / "memory.peak");  // older kernels: no max usage
  put(dir / "cpu.stat",
      "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\nnr_periods 5\nnr_throttled 2\n"
      "throttled_usec 40\n");
  put(dir / "pids.current", "3\n");

  auto s = cg->stats();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->memory.rss, 8192u);
  EXPECT_EQ(s->memory.cache, 4096u);
  EXPECT_EQ(s->memory.usage, 16384u);
  EXPECT_EQ(s->memory.max_usage, 0u);
  EXPECT_THAT(s->memory.measured, ::testing::Not(::testing::Contains("Max Usage")));
  EXPECT_EQ(s->cpu.total_ns, 3000000u);
  EXPECT_EQ(s->cpu.user_ns, 2000000u);
  EXPECT_EQ(s->cpu.system_ns, 1000000u);
  EXPECT_EQ(s->cpu.throttled_periods, 2u);
  EXPECT_EQ(s->cpu.throttled_time_ns, 40000u);
  EXPECT_EQ(s->pids, 3u);
}

TEST(CgroupStats, StatsOfAMissingCgroupIsAnError) {
  fake::TempDir t;
  fake::fake_v2_root(t.path(), "cpu memory");
  fake::fake_v2_group(t.path() / "drover.slice", "cpu memory");
  auto m = Manager::open(*detect(t.path()), "drover.slice");
  ASSERT_TRUE(m.ok());
  auto s = (*m)->find("gone.task").stats();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), ::testing::HasSubstr("gone.task"));
}

// A v2 task cgroup "a1.web" in a fake tree, with a manager over it.
struct FakeV2Task {
  fake::TempDir t;
  std::unique_ptr<Manager> m;
  fs::path dir;
  FakeV2Task() {
    fake::fake_v2_root(t.path(), "cpu memory pids");
    fake::fake_v2_group(t.path() / "drover.slice", "cpu memory pids");
    m = Manager::open(*detect(t.path()), "drover.slice").value();
    dir = t.path() / "drover.slice/a1.web.scope";
    fake::fake_v2_group(dir, "cpu memory pids");
    put(dir / "memory.stat", "anon 8192\nfile 4096\n");
    put(dir / "memory.current", "16384\n");
    put(dir / "cpu.stat", "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n");
    put(dir / "cgroup.procs", "42\n7\n");
  }
};

// Open fds of this process, and of those the ones on directories.
std::pair<size_t, size_t> open_fds() {
  size_t all = 0, dirs = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    ++all;
    if (fs::is_directory(fs::read_symlink(e.path(), ec), ec)) ++dirs;
  }
  return {all, dirs};
}

TEST(CgroupStatsReader, ReadsThroughTheDirectoryFdNotThePath) {
  FakeV2Task f;
  auto r = StatsReader::open(*f.m, "a1.web");
  ASSERT_TRUE(r.ok()) << r.message();
  // The group moves and another takes its path: the reader follows the directory it opened.
  fs::rename(f.dir, f.t.path() / "elsewhere");
  fake::fake_v2_group(f.dir, "cpu memory pids");
  put(f.dir / "memory.stat", "anon 1\nfile 1\n");
  put(f.dir / "memory.current", "2\n");
  auto s = r->read();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->memory.rss, 8192u);
  EXPECT_EQ(s->memory.usage, 16384u);
  EXPECT_EQ(s->cpu.total_ns, 3000000u);
  EXPECT_EQ(r->pids(), (std::vector<pid_t>{7, 42}));
}

// The collector's reads (StatsReader::Since, docs/cgroups.md "Stats"): a task that used no CPU
// and whose memory usage did not move keeps its last figures; whatever moved is read again.
TEST(CgroupStatsReader, AReadSinceTheLastRereadsWhatMovedAndKeepsWhatCannotHave) {
  FakeV1Task f;
  ASSERT_TRUE(f.m->create("a1.web", Limits{}).ok());
  fs::path mem = f.dir("memory");
  fs::path acct = f.dir("cpuacct");
  fs::path pids = f.dir("pids") / "pids.current";
  put(mem / "memory.stat", "total_cache 4096\ntotal_rss 8192\n");
  put(mem / "memory.usage_in_bytes", "12288\n");
  put(mem / "memory.max_usage_in_bytes", "12288\n");
  put(acct / "cpuacct.stat", "user 1\nsystem 1\n");
  put(acct / "cpuacct.usage", "1000\n");
  put(pids, "1\n");
  auto r = StatsReader::open(*f.m, "a1.web");
  ASSERT_TRUE(r.ok()) << r.message();
  StatsReader::Since since;
  ASSERT_TRUE(r->read(since).ok());

  // Nothing the probes see moved: the breakdown, the cpu figures and pids stand; the peak is
  // read every time.
  put(mem / "memory.stat", "total_cache 0\ntotal_rss 12288\n");
  put(mem / "memory.max_usage_in_bytes", "40960\n");
  put(acct / "cpuacct.stat", "user 5\nsystem 5\n");
  put(pids, "3\n");
  auto same = r->read(since);
  ASSERT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(same->memory.rss, 8192u);
  EXPECT_EQ(same->memory.max_usage, 40960u);
  EXPECT_EQ(same->cpu.total_ns, 1000u);
  EXPECT_EQ(same->pids, 1u);
  EXPECT_THAT(same->memory.measured, ::testing::Contains("RSS"));
  EXPECT_THAT(same->cpu.measured, ::testing::Contains("Percent"));

  // Usage and CPU time moved: everything is read again.
  put(mem / "memory.usage_in_bytes", "16384\n");
  put(acct / "cpuacct.usage", "2000\n");
  auto moved = r->read(since);
  ASSERT_TRUE(moved.ok()) << moved.message();
  EXPECT_EQ(moved->memory.rss, 12288u);
  EXPECT_EQ(moved->memory.cache, 0u);
  EXPECT_EQ(moved->memory.usage, 16384u);
  EXPECT_EQ(moved->cpu.total_ns, 2000u);
  EXPECT_GT(moved->cpu.user_ns, same->cpu.user_ns);
  EXPECT_EQ(moved->pids, 3u);
  // A plain read() reads everything, whatever `since` holds.
  put(pids, "5\n");
  EXPECT_EQ(r->read()->pids, 5u);
}

// A cgroup removed underneath reads as gone: KernelCgroups.StatsReaderReadsARunningTaskAndSays-
// WhenItsCgroupIsGone, on the host's hierarchy and in the v2 guest. A fake tree cannot show it:
// the reader holds memory.stat open, and only cgroupfs fails a held file (ENODEV) once its
// group is removed; an unlinked regular file stays readable.

TEST(CgroupStatsReader, OpeningAMissingCgroupFailsNamingIt) {
  FakeV2Task f;
  auto r = StatsReader::open(*f.m, "other.task");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), ::testing::HasSubstr("other.task"));
}

TEST(CgroupStatsReader, V1KeepsOneFdPerHierarchyDirectoryAndClosesThemWithTheLastCopy) {
  fake::TempDir t;
  fake::fake_v1_root(t.path());
  // cpu and cpuacct co-mounted, as most hosts have them: one directory, one fd.
  fs::remove_all(t.path() / "cpuacct");
  fs::create_directory_symlink("cpu", t.path() / "cpuacct");
  fake::fake_v1_group(t.path(), "drover");
  auto m = Manager::open(*detect(t.path()), "drover");
  ASSERT_TRUE(m.ok()) << m.message();
  fake::fake_v1_group(t.path(), "drover/a1.web");
  ASSERT_TRUE((*m)->create("a1.web", Limits{}).ok());
  put(t.path() / "memory/drover/a1.web/memory.stat", "total_rss 8192\ntotal_cache 4096\n");
  put(t.path() / "cpu/drover/a1.web/cpuacct.usage", "3100000000\n");
  put(t.path() / "cpu/drover/a1.web/cpuacct.stat", "user 1\nsystem 1\n");
  put(t.path() / "pids/drover/a1.web/pids.current", "4\n");
  const auto before = open_fds();
  {
    auto r = StatsReader::open(**m, "a1.web");
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(open_fds().second - before.second, 3u) << "memory, cpu+cpuacct, pids";
    auto copy = *r;
    auto s = copy.read();
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(s->memory.rss, 8192u);
    EXPECT_EQ(s->cpu.total_ns, 3100000000u);
    EXPECT_EQ(s->pids, 4u);
  }
  EXPECT_EQ(open_fds(), before);
}

TEST(CgroupStats, CpuPercentNeedsTwoSamples) {
  CpuPercent p(/*mhz_per_core=*/2000);
  Stats s;
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::seconds(100);
  EXPECT_EQ(p.update(s, t0).percent, 0.0);
  s.cpu.total_ns = 500'000'000;  // half a core over one second
  s.cpu.user_ns = 400'000'000;
  s.cpu.system_ns = 100'000'000;
  auto u = p.update(s, t0 + std::chrono::seconds(1));
  EXPECT_DOUBLE_EQ(u.percent, 50.0);
  EXPECT_DOUBLE_EQ(u.user_percent, 40.0);
  EXPECT_DOUBLE_EQ(u.system_percent, 10.0);
  EXPECT_DOUBLE_EQ(u.total_ticks, 1000.0);
}

TEST(CgroupStats, NomadJsonShape) {
  Stats s;
  s.memory.rss = 1;
  s.memory.cache = 2;
  s.memory.swap = 3;
  s.memory.usage = 4;
  s.memory.max_usage = 5;
  s.memory.measured = {"RSS", "Cache"};
  s.cpu.throttled_periods = 6;
  s.cpu.throttled_time_ns = 7;
  CpuUsage u{25.0, 20.0, 5.0, 500.0};
  auto j = to_nomad_json(s, u);
  EXPECT_EQ(j["MemoryStats"]["RSS"], 1);
  EXPECT_EQ(j["MemoryStats"]["Cache"], 2);
  EXPECT_EQ(j["MemoryStats"]["Swap"], 3);
  EXPECT_EQ(j["MemoryStats"]["Usage"], 4);
  EXPECT_EQ(j["MemoryStats"]["MaxUsage"], 5);
  EXPECT_EQ(j["MemoryStats"]["Measured"], nlohmann::json({"RSS", "Cache"}));
  EXPECT_EQ(j["CpuStats"]["ThrottledPeriods"], 6);
  EXPECT_EQ(j["CpuStats"]["ThrottledTime"], 7);
  EXPECT_EQ(j["CpuStats"]["Percent"], 25.0);
  EXPECT_EQ(j["CpuStats"]["UserMode"], 20.0);
  EXPECT_EQ(j["CpuStats"]["SystemMode"], 5.0);
  EXPECT_EQ(j["CpuStats"]["TotalTicks"], 500.0);
}

}  // namespace
}  // namespace drover::cgroups
