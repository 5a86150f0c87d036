// Integration tests on this machine's real kernel cgroups, whichever hierarchy it has (v1,
// hybrid or v2: the v2 guest of tests/vm runs them there), through each backend (plain files,
// the default, and libcgroup, which is v1-only and refused on v2): OOM kill, fork bomb held by
// pids.max, kill_all of a double-forked daemon, cpu and cpuset values, list and remove leaving
// nothing behind; and switching cgroup2's favordynmods on and back. What differs between v1
// and v2 (file names, cpu.shares against cpu.weight, how kill-all freezes) is asserted per
// mode. Skipped only when not root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "drover/cgroups/cgroups.hpp"
#include "drover/cgroups/cpuset_pool.hpp"

namespace drover::cgroups {
namespace {

namespace fs = std::filesystem;
const fs::path kRoot = "/sys/fs/cgroup";

std::string read_trimmed(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

// Forks a child that joins the task cgroup (as the task monitor does) and then runs `script`
// with /bin/sh. The child writes its pid before exec, so the script never runs outside.
pid_t spawn_in(const TaskCgroup& cg, const std::string& script) {
  auto procs = cg.procs_files();
  pid_t pid = fork();
  if (pid == 0) {
    std::string self = std::to_string(getpid());
    for (const auto& f : procs) {
      int fd = open(f.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, self.data(), self.size()) < 0) _exit(126);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits for `pid` with a deadline; returns its wait status or -1 on timeout.
int wait_for(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

class KernelCgroups : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    auto host = detect(kRoot);
    ASSERT_TRUE(host.ok()) << host.message();
    ASSERT_TRUE(check_usable(*host).ok()) << check_usable(*host).message();
    parent = "drover-test-" + std::to_string(getpid()) + "-" + to_string(GetParam());
    auto m = Manager::open(*host, parent, GetParam());
    if (host->mode == Mode::V2 && GetParam() == Backend::Libcgroup) {
      ASSERT_FALSE(m.ok()) << "the libcgroup backend is refused on v2 (docs/cgroups.md)";
      rmdir((kRoot / parent).c_str());
      GTEST_SKIP() << "libcgroup is refused on v2, as it should be: " << m.message();
    }
    ASSERT_TRUE(m.ok()) << m.message();
    manager = std::move(*m);
  }
  void TearDown() override {
    if (!manager) return;
    for (const auto& name : manager->list()) EXPECT_TRUE(manager->remove(name).ok()) << name;
    if (v2()) rmdir((kRoot / parent).c_str());
    for (const auto& [c, mount] : manager->host().mounts) rmdir((mount / parent).c_str());
  }
  bool v2() const { return manager->host().mode == Mode::V2; }
  // The task's directory holding `controller`'s files: one per hierarchy on v1, the one
  // <parent>/<name>.scope on v2.
  fs::path dir(const char* controller, const std::string& name) const {
    if (v2()) return kRoot / parent / (name + ".scope");
    return manager->host().mounts.at(controller) / parent / name;
  }
  // The parent's directory holding `controller`'s files.
  fs::path above(const char* controller) const {
    return v2() ? kRoot / parent : manager->host().mounts.at(controller) / parent;
  }
  // Where the task's cgroup would be, in every hierarchy this host has.
  std::vector<fs::path> every_dir(const std::string& name) const {
    if (v2()) return {dir("memory", name)};
    std::vector<fs::path> out;
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
      if (manager->host().mounts.count(c)) out.push_back(dir(c, name));
    return out;
  }
  const char* memory_max() const { return v2() ? "memory.max" : "memory.limit_in_bytes"; }
  // cpu.shares on v1; cpu.weight on v2, from the shares as the OCI mapping has it.
  std::pair<const char*, std::string> cpu_file(uint64_t shares) const {
    if (v2()) return {"cpu.weight", std::to_string(cpu_weight_from_shares(shares))};
    return {"cpu.shares", std::to_string(shares)};
  }
  std::string parent;
  std::unique_ptr<Manager> manager;
};

TEST_P(KernelCgroups, TaskPastItsMemoryLimitIsOomKilledAndReportedAsOom) {
  Limits l;
  l.memory_bytes = 32 << 20;
  auto cg = manager->create("oom.task", l);
  ASSERT_TRUE(cg.ok()) << cg.message();
  EXPECT_EQ(read_trimmed(dir("memory", "oom.task") / memory_max()), std::to_string(32 << 20));
  EXPECT_FALSE(cg->oom_killed());
  // tail keeps the whole newline-free stream in memory, without end, against a 32 MB limit.
  // One process holds the memory (with a pipeline the killer could pick the writer, and the
  // shell then exits 0).
  pid_t pid = spawn_in(*cg, "tail /dev/zero > /dev/null");
  int status = wait_for(pid, std::chrono::seconds(30));
  ASSERT_NE(status, -1) << "the task outlived its memory limit";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL)
      << "the shell reports its pipeline killed by SIGKILL, status " << status;
  EXPECT_TRUE(cg->oom_killed());
  EXPECT_GE(cg->oom_kill_count(), 1u);
  // The kernel's own counter: oom_kill in memory.events (v2) or memory.oom_control (v1).
  std::ifstream counters(dir("memory", "oom.task") /
                         (v2() ? "memory.events" : "memory.oom_control"));
  uint64_t kills = 0;
  for (std::string key; counters >> key;)
    if (key == "oom_kill") counters >> kills;
  EXPECT_GE(kills, 1u);
  ASSERT_TRUE(manager->remove("oom.task").ok());
}

TEST_P(KernelCgroups, ANormalExitIsNotReportedAsOom) {
  Limits l;
  l.memory_bytes = 32 << 20;
  auto cg = manager->create("fine.task", l);
  ASSERT_TRUE(cg.ok()) << cg.message();
  pid_t pid = spawn_in(*cg, "head -c 1M /dev/zero | tail > /dev/null; exit 137");
  int status = wait_for(pid, std::chrono::seconds(10));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 137);
  EXPECT_FALSE(cg->oom_killed()) << "exit 137 alone is not proof of OOM";
}

TEST_P(KernelCgroups, ForkBombStopsAtItsPidsLimitAndKillAllEmptiesIt) {
  if (!manager->host().controllers.count("pids")) GTEST_SKIP() << "no pids controller";
  Limits l;
  l.pids_max = 20;
  auto cg = manager->create("bomb.task", l);
  ASSERT_TRUE(cg.ok()) << cg.message();
  EXPECT_EQ(read_trimmed(dir("pids", "bomb.task") / "pids.max"), "20");
  pid_t pid = spawn_in(*cg, "while :; do sleep 10 & done");
  // Sampled until the bomb has forked (however slow the machine), then a while longer.
  // Counted as the processes in the cgroup: pids.current (the stats' pids) reads one over the
  // limit for an instant while the kernel charges a fork it then refuses.
  uint64_t most = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int after = 0; after < 50 && std::chrono::steady_clock::now() < until;) {
    most = std::max<uint64_t>(most, cg->pids().size());
    if (most >= 10) ++after;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(most, 10u) << "the bomb did fork";
  EXPECT_LE(most, 20u);
  // This process is outside the bomb's cgroup: it can still fork.
  pid_t probe = fork();
  if (probe == 0) _exit(0);
  ASSERT_GT(probe, 0);
  EXPECT_NE(wait_for(probe, std::chrono::seconds(5)), -1);

  ASSERT_TRUE(cg->kill_all().ok());
  EXPECT_TRUE(cg->pids().empty());
  EXPECT_NE(wait_for(pid, std::chrono::seconds(5)), -1);
  ASSERT_TRUE(manager->remove("bomb.task").ok());
  for (const auto& d : every_dir("bomb.task")) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_P(KernelCgroups, DoubleForkedDaemonIsKilledByKillAll) {
  auto cg = manager->create("daemon.task", Limits{});
  ASSERT_TRUE(cg.ok()) << cg.message();
  pid_t pid = spawn_in(*cg, "setsid sh -c 'sleep 1000 &' &");
  ASSERT_NE(wait_for(pid, std::chrono::seconds(5)), -1) << "the launcher exits at once";
  std::vector<pid_t> left;
  for (int i = 0; i < 1000 && left.empty(); ++i) {
    left = cg->pids();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(left.empty()) << "the daemon outlived its launcher inside the cgroup";
  ASSERT_TRUE(cg->kill_all().ok());
  EXPECT_TRUE(cg->pids().empty());
  // A killed process leaves the cgroup in do_exit before it turns zombie: on a slow (emulated)
  // machine /proc still shows it running for a moment after cgroup.procs is empty.
  for (pid_t p : left) {
    std::string state;
    for (int i = 0; i < 500; ++i) {
      state = read_trimmed("/proc/" + std::to_string(p) + "/stat");
      if (state.empty() || state.find(") Z") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(state.empty() || state.find(") Z") != std::string::npos)
        << "pid " << p << " still runs: " << state;
  }
  // Left thawed: v2 kills with cgroup.kill where the kernel has it (>= 5.14), and freezes with
  // cgroup.freeze only where it does not; v1 freezes through the freezer hierarchy.
  if (v2()) {
    EXPECT_TRUE(fs::exists(dir("", "daemon.task") / "cgroup.kill")) << "a kernel >= 5.14";
    EXPECT_EQ(read_trimmed(dir("", "daemon.task") / "cgroup.freeze"), "0");
  } else {
    EXPECT_EQ(read_trimmed(dir("freezer", "daemon.task") / "freezer.state"), "THAWED");
  }
  ASSERT_TRUE(manager->remove("daemon.task").ok());
}

TEST_P(KernelCgroups, CpuSharesOrWeightMatchTheMhzMapping) {
  Limits l;
  l.cpu_mhz = 500;
  ASSERT_TRUE(manager->create("cpu.task", l).ok());
  auto [file, value] = cpu_file(500);
  EXPECT_EQ(read_trimmed(dir("cpu", "cpu.task") / file), value);
  if (v2()) {
    EXPECT_EQ(value, "19") << "1 + (498 * 9999) / 262142";
  }
  l.cpu_mhz = 1;
  ASSERT_TRUE(manager->create("tiny.task", l).ok());
  EXPECT_EQ(read_trimmed(dir("cpu", "tiny.task") / file), v2() ? "1" : "2");
}

TEST_P(KernelCgroups, CreatingAgainAfterAnAgentCrashRewritesTheLimits) {
  Limits l;
  l.cpu_mhz = 300;
  ASSERT_TRUE(manager->create("again.task", l).ok());
  l.cpu_mhz = 700;
  auto again = manager->create("again.task", l);
  ASSERT_TRUE(again.ok()) << again.message();
  auto [file, value] = cpu_file(700);
  EXPECT_EQ(read_trimmed(dir("cpu", "again.task") / file), value);
}

TEST_P(KernelCgroups, MemoryMaxIsHardAndMemoryIsSoft) {
  Limits l;
  l.memory_bytes = 32 << 20;
  l.memory_max_bytes = 64 << 20;
  ASSERT_TRUE(manager->create("soft.task", l).ok());
  const fs::path d = dir("memory", "soft.task");
  EXPECT_EQ(read_trimmed(d / memory_max()), std::to_string(64 << 20));
  EXPECT_EQ(read_trimmed(d / (v2() ? "memory.low" : "memory.soft_limit_in_bytes")),
            std::to_string(32 << 20));
  // A hard limit is RAM: no swap beyond it, where the kernel accounts swap.
  if (v2()) {
    EXPECT_EQ(read_trimmed(d / "memory.high"), "max") << "memory.high is not written";
    if (fs::exists(d / "memory.swap.max")) {
      EXPECT_EQ(read_trimmed(d / "memory.swap.max"), "0");
    }
  } else if (fs::exists(d / "memory.memsw.limit_in_bytes")) {
    EXPECT_EQ(read_trimmed(d / "memory.memsw.limit_in_bytes"), std::to_string(64 << 20));
  }
}

TEST_P(KernelCgroups, TwoTasksWithOneCoreEachGetDisjointCpusetsAndAThirdIsRefused) {
  if (!manager->host().controllers.count("cpuset")) GTEST_SKIP() << "no cpuset controller";
  auto pool = CpusetPool::from_host();
  ASSERT_TRUE(pool.ok()) << pool.message();
  if (pool->cores().size() != 2) GTEST_SKIP() << "written for a 2-core node";
  auto a = pool->reserve("a.task", 1);
  auto b = pool->reserve("b.task", 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(pool->reserve("c.task", 1).ok());
  Limits la, lb;
  la.cpuset = format_cpus(*a);
  lb.cpuset = format_cpus(*b);
  ASSERT_TRUE(manager->create("a.task", la).ok());
  ASSERT_TRUE(manager->create("b.task", lb).ok());
  EXPECT_EQ(read_trimmed(dir("cpuset", "a.task") / "cpuset.cpus"), la.cpuset);
  EXPECT_EQ(read_trimmed(dir("cpuset", "b.task") / "cpuset.cpus"), lb.cpuset);
  EXPECT_NE(la.cpuset, lb.cpuset);
  // A task without cores can still join: it gets the shared cpus and the parent's mems.
  auto shared = manager->create("shared.task", Limits{});
  ASSERT_TRUE(shared.ok());
  pid_t pid = spawn_in(*shared, "exit 0");
  int status = wait_for(pid, std::chrono::seconds(5));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_P(KernelCgroups, ListShowsTaskCgroupsAndRemoveLeavesNoDirectory) {
  ASSERT_TRUE(manager->create("one.task", Limits{}).ok());
  ASSERT_TRUE(manager->create("two.task", Limits{}).ok());
  EXPECT_EQ(manager->list(), (std::vector<std::string>{"one.task", "two.task"}));
  ASSERT_TRUE(manager->remove("one.task").ok());
  ASSERT_TRUE(manager->remove("two.task").ok());
  EXPECT_TRUE(manager->list().empty());
  for (const char* name : {"one.task", "two.task"})
    for (const auto& d : every_dir(name)) EXPECT_FALSE(fs::exists(d)) << d;
}

TEST_P(KernelCgroups, StatsOfARunningTask) {
  auto cg = manager->create("stats.task", Limits{});
  ASSERT_TRUE(cg.ok());
  pid_t pid = spawn_in(*cg, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5");
  auto s = cg->stats();
  for (int i = 0; i < 500 && s.ok() && (s->cpu.total_ns == 0 || s->memory.usage == 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s = cg->stats();
  }
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_GT(s->memory.usage, 0u);
  EXPECT_GT(s->cpu.total_ns, 0u);
  EXPECT_GE(s->pids, 1u);
  ASSERT_TRUE(manager->remove("stats.task").ok());
  EXPECT_NE(wait_for(pid, std::chrono::seconds(5)), -1);
}

// The agent's collector reads through held directory fds: a running task's memory, CPU and
// pids, and once its cgroup is removed, an error and no pids rather than zeros or a crash.
TEST_P(KernelCgroups, StatsReaderReadsARunningTaskAndSaysWhenItsCgroupIsGone) {
  auto cg = manager->create("reader.task", Limits{});
  ASSERT_TRUE(cg.ok());
  auto reader = StatsReader::open(*manager, "reader.task");
  ASSERT_TRUE(reader.ok()) << reader.message();
  pid_t pid = spawn_in(*cg, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5");
  auto s = reader->read();
  // user and system come in USER_HZ ticks: they show a little after the ns total does.
  auto seen = [&] {
    return s->cpu.total_ns > 0 && s->cpu.user_ns + s->cpu.system_ns > 0 && s->memory.usage > 0;
  };
  for (int i = 0; i < 500 && s.ok() && !seen(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s = reader->read();
  }
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_GT(s->memory.usage, 0u);
  EXPECT_GT(s->cpu.total_ns, 0u);
  EXPECT_GT(s->cpu.user_ns + s->cpu.system_ns, 0u);
  EXPECT_GE(s->pids, 1u);
  auto pids = reader->pids();
  EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
  // The path-based read reports the same fields.
  auto by_path = cg->stats();
  ASSERT_TRUE(by_path.ok());
  EXPECT_EQ(by_path->memory.measured, s->memory.measured);
  EXPECT_EQ(by_path->cpu.measured, s->cpu.measured);

  ASSERT_TRUE(manager->remove("reader.task").ok());
  EXPECT_NE(wait_for(pid, std::chrono::seconds(5)), -1);
  auto after = reader->read();
  EXPECT_FALSE(after.ok());
  EXPECT_TRUE(reader->pids().empty());
  // Created again under the same name: a new reader sees it, the old one still does not.
  ASSERT_TRUE(manager->create("reader.task", Limits{}).ok());
  EXPECT_FALSE(reader->read().ok());
  EXPECT_TRUE(StatsReader::open(*manager, "reader.task").ok());
}

// The collector reads again only what moved since its last read (StatsReader::Since): a task
// read while idle that then grows by 32 MiB and forks shows both in the very next read.
TEST_P(KernelCgroups, AReadSinceAnIdleSpellShowsATaskThatGrewAndForked) {
  auto cg = manager->create("since.task", Limits{});
  ASSERT_TRUE(cg.ok()) << cg.message();
  auto reader = StatsReader::open(*manager, "since.task");
  ASSERT_TRUE(reader.ok()) << reader.message();
  char dir_template[] = "/tmp/drover-since-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const fs::path fifo = fs::path(dir_template) / "go";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // `forked` marks the two sleeps made: while the pipeline runs, its processes count as pids
  // too, so "32 MiB and 3 pids" alone can be seen just before the pipeline ends and before the
  // sleeps exist, and the read after it would find one pid.
  const fs::path forked = fs::path(dir_template) / "forked";
  pid_t pid = spawn_in(*cg, "read go < " + fifo.string() +
                                "; x=$(head -c 33554432 /dev/zero | tr '\\0' a); sleep 30 & sleep 30 & : > " +
                                forked.string() + "; wait");
  StatsReader::Since since;
  auto before = reader->read(since);
  ASSERT_TRUE(before.ok()) << before.message();
  ASSERT_TRUE(reader->read(since).ok());  // idle: this read may keep what the first one read
  {
    std::ofstream go(fifo);
    go << "go\n";
  }
  // Wait through full reads until the task has grown and forked...
  auto full = cg->stats();
  for (int i = 0; i < 1500 && full.ok() &&
                  (!fs::exists(forked) || full->memory.rss < (32u << 20) || full->pids < 3);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    full = cg->stats();
  }
  ASSERT_TRUE(full.ok()) << full.message();
  ASSERT_GE(full->memory.rss, 32u << 20);
  ASSERT_GE(full->pids, 3u);
  // ...then the collector's next read shows it too.
  auto after = reader->read(since);
  ASSERT_TRUE(after.ok()) << after.message();
  EXPECT_GE(after->memory.rss, 32u << 20);
  EXPECT_GT(after->memory.usage, before->memory.usage);
  EXPECT_GT(after->cpu.total_ns, before->cpu.total_ns);
  EXPECT_GE(after->pids, 3u);
  ASSERT_TRUE(manager->remove("since.task").ok());
  EXPECT_NE(wait_for(pid, std::chrono::seconds(5)), -1);
  fs::remove_all(dir_template);
}

TEST_P(KernelCgroups, ANewTaskCgroupHasTheSharedCpusAndMemsAndCanBeJoinedAtOnce) {
  if (!manager->host().controllers.count("cpuset")) GTEST_SKIP() << "no cpuset controller";
  auto cg = manager->create("fresh.task", Limits{});
  ASSERT_TRUE(cg.ok()) << cg.message();
  // v1 copies the parent's cpus and mems into the child; on v2 the child's own are empty and
  // it runs on the parent's (the effective ones).
  const std::string suffix = v2() ? ".effective" : "";
  for (const std::string file : {"cpuset.cpus", "cpuset.mems"}) {
    EXPECT_EQ(read_trimmed(dir("cpuset", "fresh.task") / (file + suffix)),
              read_trimmed(above("cpuset") / (file + suffix)))
        << file;
    if (v2()) {
      EXPECT_EQ(read_trimmed(dir("cpuset", "fresh.task") / file), "") << file;
    }
  }
  pid_t pid = spawn_in(*cg, "exit 0");
  int status = wait_for(pid, std::chrono::seconds(5));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_P(KernelCgroups, AGroupReusedWithoutCoresGetsTheSharedCpusBack) {
  if (!manager->host().controllers.count("cpuset")) GTEST_SKIP() << "no cpuset controller";
  const std::string shared = read_trimmed(above("cpuset") / "cpuset.cpus");
  Limits own;
  own.cpuset = "0";
  ASSERT_TRUE(manager->create("reused.task", own).ok());
  EXPECT_EQ(read_trimmed(dir("cpuset", "reused.task") / "cpuset.cpus"), "0");
  ASSERT_TRUE(manager->create("reused.task", Limits{}).ok());
  EXPECT_EQ(read_trimmed(dir("cpuset", "reused.task") / "cpuset.cpus"), shared);
  if (v2()) {
    EXPECT_EQ(read_trimmed(dir("cpuset", "reused.task") / "cpuset.cpus.effective"),
              read_trimmed(above("cpuset") / "cpuset.cpus.effective"));
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, KernelCgroups,
                         ::testing::Values(Backend::PlainFiles, Backend::Libcgroup),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// Switches favordynmods to the other state and back, leaving the host as it found it.
TEST(KernelFavorDynmods, SwitchesOnTheCgroup2MountAndBack) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to remount cgroup2";
  auto host = detect(kRoot);
  ASSERT_TRUE(host.ok()) << host.message();
  auto before = favor_dynmods_state(*host);
  if (before.mount.empty()) GTEST_SKIP() << "no cgroup2 mount under " << kRoot;
  auto flip = set_favor_dynmods(*host, !before.on);
  if (!flip.ok() && flip.message().find("6.0 or later") != std::string::npos)
    GTEST_SKIP() << flip.message();
  ASSERT_TRUE(flip.ok()) << flip.message();
  EXPECT_EQ(favor_dynmods_state(*host).on, !before.on);
  ASSERT_TRUE(set_favor_dynmods(*host, before.on).ok());
  EXPECT_EQ(favor_dynmods_state(*host).on, before.on);
  EXPECT_TRUE(set_favor_dynmods(*host, before.on).ok()) << "asking for what is there is a no-op";
}

}  // namespace
}  // namespace drover::cgroups
