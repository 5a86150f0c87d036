// Integration tests on this machine's real v1 kernel cgroups, through each backend (plain
// files, the default, and libcgroup): OOM kill, fork bomb held by pids.max, kill_all of a
// double-forked daemon, cpu.shares and cpuset values, list and remove leaving nothing behind;
// and switching cgroup2's favordynmods on and back. Skipped when not root or no v1 memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
    if (!host.ok() || (host->mode != Mode::V1 && host->mode != Mode::Hybrid) ||
        !host->controllers.count("memory"))
      GTEST_SKIP() << "needs a cgroup v1 memory controller at " << kRoot;
    parent = "drover-test-" + std::to_string(getpid()) + "-" + to_string(GetParam());
    auto m = Manager::open(*host, parent, GetParam());
    ASSERT_TRUE(m.ok()) << m.message();
    manager = std::move(*m);
  }
  void TearDown() override {
    if (!manager) return;
    for (const auto& name : manager->list()) EXPECT_TRUE(manager->remove(name).ok()) << name;
    for (const auto& [c, mount] : manager->host().mounts) rmdir((mount / parent).c_str());
  }
  fs::path dir(const char* controller, const std::string& name) const {
    return manager->host().mounts.at(controller) / parent / name;
  }
  std::string parent;
  std::unique_ptr<Manager> manager;
};

TEST_P(KernelCgroups, TaskPastItsMemoryLimitIsOomKilledAndReportedAsOom) {
  Limits l;
  l.memory_bytes = 32 << 20;
  auto cg = manager->create("oom.task", l);
  ASSERT_TRUE(cg.ok()) << cg.message();
  EXPECT_EQ(read_trimmed(dir("memory", "oom.task") / "memory.limit_in_bytes"),
            std::to_string(32 << 20));
  EXPECT_FALSE(cg->oom_killed());
  // tail keeps the whole newline-free stream in memory: 100 MB against a 32 MB limit.
  pid_t pid = spawn_in(*cg, "head -c 100M /dev/zero | tail > /dev/null");
  int status = wait_for(pid, std::chrono::seconds(30));
  ASSERT_NE(status, -1) << "the task outlived its memory limit";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL)
      << "the shell reports its pipeline killed by SIGKILL, status " << status;
  EXPECT_TRUE(cg->oom_killed());
  EXPECT_GE(cg->oom_kill_count(), 1u);
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
  uint64_t most = 0;
  for (int i = 0; i < 50; ++i) {
    auto s = cg->stats();
    ASSERT_TRUE(s.ok()) << s.message();
    most = std::max<uint64_t>(most, s->pids);
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
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
    EXPECT_FALSE(fs::exists(dir(c, "bomb.task"))) << c;
}

TEST_P(KernelCgroups, DoubleForkedDaemonIsKilledByKillAll) {
  auto cg = manager->create("daemon.task", Limits{});
  ASSERT_TRUE(cg.ok()) << cg.message();
  pid_t pid = spawn_in(*cg, "setsid sh -c 'sleep 1000 &' &");
  ASSERT_NE(wait_for(pid, std::chrono::seconds(5)), -1) << "the launcher exits at once";
  std::vector<pid_t> left;
  for (int i = 0; i < 100 && left.empty(); ++i) {
    left = cg->pids();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(left.empty()) << "the daemon outlived its launcher inside the cgroup";
  ASSERT_TRUE(cg->kill_all().ok());
  EXPECT_TRUE(cg->pids().empty());
  for (pid_t p : left) {
    std::string state = read_trimmed("/proc/" + std::to_string(p) + "/stat");
    EXPECT_TRUE(state.empty() || state.find(") Z") != std::string::npos)
        << "pid " << p << " still runs: " << state;
  }
  EXPECT_EQ(read_trimmed(dir("freezer", "daemon.task") / "freezer.state"), "THAWED");
  ASSERT_TRUE(manager->remove("daemon.task").ok());
}

TEST_P(KernelCgroups, CpuSharesMatchTheMhzMapping) {
  Limits l;
  l.cpu_mhz = 500;
  ASSERT_TRUE(manager->create("cpu.task", l).ok());
  EXPECT_EQ(read_trimmed(dir("cpu", "cpu.task") / "cpu.shares"), "500");
  l.cpu_mhz = 1;
  ASSERT_TRUE(manager->create("tiny.task", l).ok());
  EXPECT_EQ(read_trimmed(dir("cpu", "tiny.task") / "cpu.shares"), "2");
}

TEST_P(KernelCgroups, CreatingAgainAfterAnAgentCrashRewritesTheLimits) {
  Limits l;
  l.cpu_mhz = 300;
  ASSERT_TRUE(manager->create("again.task", l).ok());
  l.cpu_mhz = 700;
  auto again = manager->create("again.task", l);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(read_trimmed(dir("cpu", "again.task") / "cpu.shares"), "700");
}

TEST_P(KernelCgroups, MemoryMaxIsHardAndMemoryIsSoft) {
  Limits l;
  l.memory_bytes = 32 << 20;
  l.memory_max_bytes = 64 << 20;
  ASSERT_TRUE(manager->create("soft.task", l).ok());
  EXPECT_EQ(read_trimmed(dir("memory", "soft.task") / "memory.limit_in_bytes"),
            std::to_string(64 << 20));
  EXPECT_EQ(read_trimmed(dir("memory", "soft.task") / "memory.soft_limit_in_bytes"),
            std::to_string(32 << 20));
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
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"}) {
    EXPECT_FALSE(fs::exists(dir(c, "one.task"))) << c;
    EXPECT_FALSE(fs::exists(dir(c, "two.task"))) << c;
  }
}

TEST_P(KernelCgroups, StatsOfARunningTask) {
  auto cg = manager->create("stats.task", Limits{});
  ASSERT_TRUE(cg.ok());
  pid_t pid = spawn_in(*cg, "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto s = cg->stats();
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_GT(s->memory.usage, 0u);
  EXPECT_GT(s->cpu.total_ns, 0u);
  EXPECT_GE(s->pids, 1u);
  ASSERT_TRUE(manager->remove("stats.task").ok());
  EXPECT_NE(wait_for(pid, std::chrono::seconds(5)), -1);
}

TEST_P(KernelCgroups, ANewTaskCgroupHasTheSharedCpusAndMemsAndCanBeJoinedAtOnce) {
  if (!manager->host().controllers.count("cpuset")) GTEST_SKIP() << "no cpuset controller";
  auto cg = manager->create("fresh.task", Limits{});
  ASSERT_TRUE(cg.ok()) << cg.message();
  const fs::path above = manager->host().mounts.at("cpuset") / parent;
  EXPECT_EQ(read_trimmed(dir("cpuset", "fresh.task") / "cpuset.cpus"),
            read_trimmed(above / "cpuset.cpus"));
  EXPECT_EQ(read_trimmed(dir("cpuset", "fresh.task") / "cpuset.mems"),
            read_trimmed(above / "cpuset.mems"));
  pid_t pid = spawn_in(*cg, "exit 0");
  int status = wait_for(pid, std::chrono::seconds(5));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_P(KernelCgroups, AGroupReusedWithoutCoresGetsTheSharedCpusBack) {
  if (!manager->host().controllers.count("cpuset")) GTEST_SKIP() << "no cpuset controller";
  const fs::path above = manager->host().mounts.at("cpuset") / parent;
  const std::string shared = read_trimmed(above / "cpuset.cpus");
  Limits own;
  own.cpuset = "0";
  ASSERT_TRUE(manager->create("reused.task", own).ok());
  EXPECT_EQ(read_trimmed(dir("cpuset", "reused.task") / "cpuset.cpus"), "0");
  ASSERT_TRUE(manager->create("reused.task", Limits{}).ok());
  EXPECT_EQ(read_trimmed(dir("cpuset", "reused.task") / "cpuset.cpus"), shared);
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
