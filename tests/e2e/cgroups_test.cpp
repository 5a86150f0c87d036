// Every task is held to its resources by the real kernel's cgroups, whichever hierarchy the
// host has (v1 or hybrid here, v2 in the guest of tests/vm): memory with OOM reported, pids,
// exclusive cores, cpu weight, kill-all, no leaks. File names are asserted per mode.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::cgroup_v2;
using drover::testing::process_alive;
using drover::testing::task_cgroup_dir;
using nlohmann::json;

namespace {

std::string job(const std::string& id, const std::string& type, const std::string& script,
                const std::string& resources) {
  return "job:\n  id: " + id + "\n  type: " + type +
         "\n  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n      tasks:\n"
         "        - name: t\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          resources: " + resources + "\n          config:\n            command: /bin/sh\n"
         "            args: [\"-c\", \"" + script + "\"]\n";
}

// The cgroup dir of task t of `alloc`, holding `controller`'s files.
std::string cg(const AgentProcess& a, const std::string& controller, const std::string& alloc) {
  return task_cgroup_dir(a.cgroup_parent(), controller, alloc + ".t");
}

const char* memory_max() { return cgroup_v2() ? "memory.max" : "memory.limit_in_bytes"; }
const char* memory_soft() { return cgroup_v2() ? "memory.low" : "memory.soft_limit_in_bytes"; }
// cpu: 500 MHz is cpu.shares 500 on v1, cpu.weight 1 + (498 * 9999) / 262142 = 19 on v2.
std::pair<const char*, const char*> cpu_500() {
  return cgroup_v2() ? std::pair{"cpu.weight", "19"} : std::pair{"cpu.shares", "500"};
}

std::string read_trim(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

class Cgroups : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
  }
};

TEST_F(Cgroups, LimitsAreWrittenAsNomadMapsThem) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("lim", "service", "sleep 1000", "{cpu: 500, memory: 64, memory_max: 128, pids: 50}"));
  agent->wait_client_status(ids[0], "running");
  auto [cpu_file, cpu_value] = cpu_500();
  EXPECT_EQ(read_trim(cg(*agent, "cpu", ids[0]) + "/" + cpu_file), cpu_value);
  EXPECT_EQ(read_trim(cg(*agent, "memory", ids[0]) + "/" + memory_max()),
            std::to_string(128 << 20));
  EXPECT_EQ(read_trim(cg(*agent, "memory", ids[0]) + "/" + memory_soft()),
            std::to_string(64 << 20));
  EXPECT_EQ(read_trim(cg(*agent, "pids", ids[0]) + "/pids.max"), "50");
  // The task itself is inside, from its first instruction.
  std::ifstream procs(cg(*agent, "memory", ids[0]) + "/cgroup.procs");
  pid_t p = 0;
  EXPECT_TRUE(procs >> p) << "no process in the task's memory cgroup";
  auto stats = agent->get("/v1/client/allocation/" + ids[0] + "/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_GT(stats.json()["Tasks"]["t"]["ResourceUsage"]["MemoryStats"]["Usage"].get<uint64_t>(), 0u) << stats.body;
  // A task that sets no pids limit gets the agent's default_pids_max (4096), never "max".
  auto plain = agent->submit(job("nopids", "service", "sleep 1000", "{memory: 64}"));
  agent->wait_client_status(plain[0], "running");
  EXPECT_EQ(read_trim(cg(*agent, "pids", plain[0]) + "/pids.max"), "4096");
  // Nomad's memory_max = -1: no hard limit (the kernel's "max"; v1 its page-rounded largest
  // value), memory only the soft one.
  auto unlimited = agent->submit(job("nomax", "service", "sleep 1000", "{memory: 64, memory_max: -1}"));
  agent->wait_client_status(unlimited[0], "running");
  const std::string hard = read_trim(cg(*agent, "memory", unlimited[0]) + "/" + memory_max());
  if (cgroup_v2())
    EXPECT_EQ(hard, "max");
  else
    EXPECT_GT(std::stoull(hard), 1ull << 50) << hard;
  EXPECT_EQ(read_trim(cg(*agent, "memory", unlimited[0]) + "/" + memory_soft()),
            std::to_string(64 << 20));
}

TEST_F(Cgroups, LibcgroupBackendStillHoldsTasksToTheirLimits) {
  if (cgroup_v2()) {
    // libcgroup is v1-only: a v2 agent asked for it refuses to start, naming why.
    auto data = drover::testing::make_temp_dir("drover-libcg");
    drover::testing::write_file(data + ".yaml",
                                "cgroup_backend: libcgroup\ncgroup_parent: drover-test-libcg\n");
    auto r =
        drover::testing::run_drover({"agent", "-dev", "-data-dir", data, "-port",
                                     std::to_string(drover::testing::free_loopback_port()),
                                     "-plugin-dir", DROVER_PLUGIN_DIR, "-config", data + ".yaml"},
                                    "");
    rmdir("/sys/fs/cgroup/drover-test-libcg");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("libcgroup"), std::string::npos) << r.err;
    return;
  }
  auto agent = AgentProcess::start({.config_yaml = "cgroup_backend: libcgroup\n"});
  auto ids = agent->submit(job("libcg", "service", "sleep 1000", "{cpu: 300, memory: 64, pids: 40}"));
  agent->wait_client_status(ids[0], "running");
  EXPECT_EQ(read_trim(cg(*agent, "cpu", ids[0]) + "/cpu.shares"), "300");
  EXPECT_EQ(read_trim(cg(*agent, "memory", ids[0]) + "/" + memory_max()), std::to_string(64 << 20));
  EXPECT_EQ(read_trim(cg(*agent, "pids", ids[0]) + "/pids.max"), "40");
  std::ifstream procs(cg(*agent, "memory", ids[0]) + "/cgroup.procs");
  pid_t p = 0;
  EXPECT_TRUE(procs >> p) << "no process in the task's memory cgroup";
}

// Reported as the kernel has it; the agent leaves it alone unless cgroup_favor_dynmods is set.
TEST_F(Cgroups, NodeSaysWhetherFavordynmodsIsOn) {
  std::ifstream mi("/proc/self/mountinfo");
  bool on = false;
  for (std::string line; std::getline(mi, line);)
    if (line.find(" - cgroup2 ") != std::string::npos && line.find("favordynmods") != std::string::npos)
      on = true;
  auto agent = AgentProcess::start();
  auto attrs = agent->get("/v1/node").json()["Attributes"];
  ASSERT_TRUE(attrs.contains("os.cgroups.favordynmods")) << attrs.dump(2);
  EXPECT_EQ(attrs["os.cgroups.favordynmods"], on ? "true" : "false");
}

TEST_F(Cgroups, TaskPastItsMemoryIsOomKilledAndReportedAsSuch) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("oom", "batch", "head -c 200m /dev/zero | tail", "{memory: 32}"));
  auto a = agent->wait_client_status(ids[0], "failed", std::chrono::seconds(30));
  bool oom = false;
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    if (e["Type"] == "Terminated" && e["Details"].value("oom_killed", "") == "true" &&
        e["Message"].get<std::string>().find("OOM Killed") != std::string::npos)
      oom = true;
  EXPECT_TRUE(oom) << a.dump(2);
}

TEST_F(Cgroups, ExitCode137WithoutOomIsNotCalledOom) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("fake", "batch", "exit 137", "{memory: 32}"));
  auto a = agent->wait_client_status(ids[0], "failed");
  for (const auto& e : a["TaskStates"]["t"]["Events"])
    EXPECT_FALSE(e["Details"].contains("oom_killed")) << a.dump(2);
}

TEST_F(Cgroups, ForkBombStopsAtThePidsLimitAndOthersAreUnharmed) {
  auto agent = AgentProcess::start();
  // perl keeps forking after a fork fails, where sh would give up and exit.
  auto bomb = agent->submit(job(
      "bomb", "service",
      "exec perl -e 'while (1) { my $p = fork(); if (defined $p && $p == 0) { sleep 30; exit 0 } "
      "select(undef, undef, undef, 0.005) }'",
      "{pids: 25}"));
  agent->wait_client_status(bomb[0], "running");
  // It forks until the limit holds it (however long perl takes to start): never past it,
  // counted as the processes in the cgroup (processes_in_cgroup says why not pids.current).
  const auto dir = cg(*agent, "pids", bomb[0]);
  int most = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int after = 0; after < 20 && std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    most = std::max(most, drover::testing::processes_in_cgroup(dir));
    if (most >= 20) ++after;  // a few more looks once it is there
  }
  EXPECT_LE(most, 25);
  EXPECT_GE(most, 20) << "the bomb never reached its limit";
  auto ok = agent->submit(job("fine", "batch", "echo fine", "{memory: 32}"));
  agent->wait_client_status(ok[0], "complete");
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  ASSERT_EQ(agent->del("/v1/job/bomb").status, 200);
  agent->wait_client_status(bomb[0], "complete", std::chrono::seconds(20));
  EXPECT_FALSE(std::filesystem::exists(cg(*agent, "pids", bomb[0])));
}

TEST_F(Cgroups, StopKillsADoubleForkedDaemonAndRemovesTheCgroup) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("daemon", "service",
                               "setsid sh -c 'sleep 1000 & echo $! > $NOMAD_ALLOC_DIR/data/daemon.pid' & sleep 1000",
                               "{memory: 32}"));
  agent->wait_client_status(ids[0], "running");
  auto pid_file = agent->data_dir() + "/alloc/" + ids[0] + "/alloc/data/daemon.pid";
  for (int i = 0; i < 1000 && read_trim(pid_file).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pid_t daemon = std::stoi(read_trim(pid_file));
  ASSERT_TRUE(process_alive(daemon));
  ASSERT_EQ(agent->del("/v1/job/daemon").status, 200);
  agent->wait_client_status(ids[0], "complete");
  for (int i = 0; i < 500 && process_alive(daemon); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(process_alive(daemon));
  for (auto c : {"memory", "cpu", "pids", "freezer", "cpuset"})
    EXPECT_FALSE(std::filesystem::exists(cg(*agent, c, ids[0]))) << c;
}

TEST_F(Cgroups, ExclusiveCoresAreDisjointAndAThirdTaskIsRefused) {
  if (std::thread::hardware_concurrency() != 2) GTEST_SKIP() << "written for a 2-core node";
  auto agent = AgentProcess::start();
  auto a = agent->submit(job("c1", "service", "sleep 1000", "{cores: 1, memory: 32}"));
  auto b = agent->submit(job("c2", "service", "sleep 1000", "{cores: 1, memory: 32}"));
  agent->wait_client_status(a[0], "running");
  agent->wait_client_status(b[0], "running");
  auto ca = read_trim(cg(*agent, "cpuset", a[0]) + "/cpuset.cpus");
  auto cb = read_trim(cg(*agent, "cpuset", b[0]) + "/cpuset.cpus");
  EXPECT_NE(ca, cb);
  EXPECT_TRUE((ca == "0" && cb == "1") || (ca == "1" && cb == "0")) << ca << " " << cb;
  auto third = agent->post("/v1/jobs", job("c3", "service", "sleep 1000", "{cores: 1, memory: 32}"));
  EXPECT_EQ(third.status, 409) << third.body;
  EXPECT_NE(third.body.find("cores: 1 asked, 0 free"), std::string::npos) << third.body;
  // Releasing a task's cores makes them available again.
  ASSERT_EQ(agent->del("/v1/job/c1").status, 200);
  agent->wait_client_status(a[0], "complete");
  EXPECT_EQ(agent->post("/v1/jobs", job("c3", "service", "sleep 1000", "{cores: 1, memory: 32}")).status, 200);
}

// NUMA (docs/cgroups.md, "NUMA"): the node shows its NUMA nodes' cores as Nomad's attributes,
// and a task with `numa { affinity = "require" }` gets its cores on one of them. This host has
// one NUMA node; placement across several is the pool's unit test's.
TEST_F(Cgroups, NumaAttributesAndARequiredNodeForATasksCores) {
  const std::string node0 = read_trim("/sys/devices/system/node/node0/cpulist");
  if (node0.empty()) GTEST_SKIP() << "the kernel shows no NUMA node here";
  auto agent = AgentProcess::start();
  auto attrs = agent->get("/v1/node").json()["Attributes"];
  EXPECT_EQ(attrs.value("numa.node0.cores", ""), node0) << attrs.dump();
  EXPECT_FALSE(attrs.value("numa.node.count", "").empty());
  auto ids = agent->submit(job("numa", "service", "sleep 1000",
                               "{cores: 1, memory: 32, numa: {affinity: require}}"));
  agent->wait_client_status(ids[0], "running");
  const auto cpus = read_trim(cg(*agent, "cpuset", ids[0]) + "/cpuset.cpus");
  EXPECT_EQ(cpus.find_first_of(",-"), std::string::npos) << "one core: " << cpus;
  // The core it got, as Nomad shows it (AllocatedResources.Tasks[t].Cpu.ReservedCores), and in
  // `alloc status`; kept through an agent restart.
  auto reserved = [&] { return agent->alloc(ids[0])["AllocatedResources"]["Tasks"]["t"]["Cpu"]["ReservedCores"]; };
  EXPECT_EQ(reserved(), json::array({std::stoi(cpus)})) << agent->alloc(ids[0]).dump();
  EXPECT_NE(agent->cli({"alloc", "status", ids[0]}).out.find("Reserved Cores: " + cpus + "\n"), std::string::npos);
  agent->kill(SIGKILL);
  agent = AgentProcess::start({.data_dir = agent->data_dir()});
  agent->wait_client_status(ids[0], "running");
  EXPECT_EQ(reserved(), json::array({std::stoi(cpus)}));
  // The job as the API shows it keeps Nomad's shape.
  auto j = agent->get("/v1/job/numa").json();
  EXPECT_EQ(j["TaskGroups"][0]["Tasks"][0]["Resources"]["NUMA"]["Affinity"], "require") << j.dump();
  // Without cores there is nothing to place: refused, naming the block.
  auto bad = agent->post("/v1/jobs", job("numa2", "service", "sleep 1", "{memory: 32, numa: {affinity: prefer}}"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("groups[0].tasks[0].resources.numa"), std::string::npos) << bad.body;
  ASSERT_EQ(agent->del("/v1/job/numa").status, 200);
  agent->wait_client_status(ids[0], "complete");
}

TEST_F(Cgroups, FinishedTaskLeavesNoCgroup) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("brief", "batch", "echo hi", "{memory: 32}"));
  agent->wait_client_status(ids[0], "complete");
  for (auto c : {"memory", "cpu", "pids"}) EXPECT_FALSE(std::filesystem::exists(cg(*agent, c, ids[0]))) << c;
}

// A task's cgroup is made ahead, while its alloc dir is built (docs/cgroups.md, "Made ahead");
// a task whose start fails before its cgroup hook (here its template's variable is missing)
// never takes it, and it goes with the task.
TEST_F(Cgroups, ATaskFailingBeforeItsCgroupHookLeavesNoCgroup) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(R"(
job:
  id: early-fail
  type: batch
  groups:
    - name: g
      restart: {attempts: 0, mode: fail}
      tasks:
        - name: t
          driver: raw_exec
          resources: {memory: 32}
          config: {command: /bin/true}
          templates:
            - destination: local/x.conf
              data: '{{ with nomadVar "nomad/jobs/early-fail" }}{{ .k }}{{ end }}'
)");
  auto a = agent->wait_client_status(ids[0], "failed");
  EXPECT_NE(a.dump().find("no variable at"), std::string::npos) << a.dump(2);
  for (auto c : {"memory", "cpu", "pids", "freezer", "cpuset"}) {
    EXPECT_TRUE(drover::testing::eventually(
        [&] { return !std::filesystem::exists(cg(*agent, c, ids[0])); }, std::chrono::seconds(10)))
        << c << ": " << cg(*agent, c, ids[0]);
  }
}

TEST_F(Cgroups, OrphanedTaskCgroupsAreRemovedAtStart) {
  std::string parent = "drover-test-orphans-" + std::to_string(getpid());
  // One orphan of this agent's (its alloc dir is in the data dir, no task holds it), and one
  // of an alloc this data dir never had: another agent's, on the same parent.
  // Hundreds of this agent's (docs/threat-model.md, "thousands of stale cgroups"), one of another's.
  auto data = drover::testing::make_temp_dir("drover-orphans");
  constexpr int kOrphans = 300;
  auto dead = [](int i) { return "dead-alloc-" + std::to_string(i); };
  for (int i = 0; i < kOrphans; ++i) std::filesystem::create_directories(data + "/alloc/" + dead(i));
  for (auto c : {"memory", "cpu", "pids"}) {
    for (int i = 0; i < kOrphans; ++i) std::filesystem::create_directories(task_cgroup_dir(parent, c, dead(i) + ".t"));
    std::filesystem::create_directories(task_cgroup_dir(parent, c, "other-alloc.t"));
  }
  {
    auto agent = AgentProcess::start({.data_dir = data, .cgroup_parent = parent});
    for (auto c : {"memory", "cpu", "pids"}) {
      int left = 0;
      for (int i = 0; i < kOrphans; ++i) left += std::filesystem::exists(task_cgroup_dir(parent, c, dead(i) + ".t"));
      EXPECT_EQ(left, 0) << c;
      EXPECT_TRUE(std::filesystem::exists(task_cgroup_dir(parent, c, "other-alloc.t"))) << c;
    }
    EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  }
  for (auto c : {"memory", "cpu", "pids"}) {
    rmdir(task_cgroup_dir(parent, c, "other-alloc.t").c_str());
    rmdir(std::filesystem::path(task_cgroup_dir(parent, c, "other-alloc.t")).parent_path().c_str());
  }
}

namespace {

// CPU the task's cgroup has used, in ms, read from the kernel directly.
uint64_t cgroup_cpu_ms(const AgentProcess& a, const std::string& alloc) {
  if (cgroup_v2()) {
    std::ifstream in(cg(a, "cpu", alloc) + "/cpu.stat");
    std::string key;
    uint64_t value = 0;
    while (in >> key >> value)
      if (key == "usage_usec") return value / 1000;
    return 0;
  }
  std::string ns = read_trim(cg(a, "cpuacct", alloc) + "/cpuacct.usage");
  return ns.empty() ? 0 : std::stoull(ns) / 1000000;
}

// What an operator's clean-up script might do: move the task's processes to the root of each
// hierarchy and remove its cgroup, leaving the agent a running task with no cgroup. Returns
// the pids moved (they are outside the agent's reach now).
std::set<pid_t> remove_cgroup_underneath(const AgentProcess& a, const std::string& alloc) {
  namespace fs = std::filesystem;
  std::vector<std::pair<fs::path, fs::path>> roots_and_dirs;
  if (cgroup_v2()) {
    roots_and_dirs.emplace_back("/sys/fs/cgroup", cg(a, "memory", alloc));
  } else {
    std::set<fs::path> seen;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) {
      auto root = fs::canonical(e.path(), ec);
      auto dir = root / a.cgroup_parent() / (alloc + ".t");
      if (ec || !seen.insert(root).second || !fs::is_directory(dir, ec)) continue;
      roots_and_dirs.emplace_back(root, dir);
    }
  }
  std::set<pid_t> moved;
  for (const auto& [root, dir] : roots_and_dirs) {
    // Again until the directory goes: a task that had only just started may fork after its
    // cgroup.procs was read (slow under TCG), and its child must be moved out too.
    EXPECT_TRUE(drover::testing::eventually(
        [&] {
          std::ifstream procs(dir / "cgroup.procs");
          for (pid_t p = 0; procs >> p;) {
            moved.insert(p);
            std::ofstream(root / "cgroup.procs") << p << std::flush;
          }
          return rmdir(dir.c_str()) == 0 || errno == ENOENT;
        },
        std::chrono::seconds(10)))
        << "cannot remove " << dir << ": " << std::strerror(errno);
  }
  return moved;
}

}  // namespace

// The agent's one collector has read the busy task's cgroup twice by the time a client asks:
// the first request already has CPU percent (no earlier request, no sleep in the API).
TEST_F(Cgroups, StatsOfABusyTaskHaveCpuAndMemoryOnTheFirstRequest) {
  auto agent = AgentProcess::start({.config_yaml = "collection_interval: 100ms\n"});
  auto ids = agent->submit(job("busy", "service", "while :; do :; done", "{cpu: 100, memory: 64}"));
  agent->wait_client_status(ids[0], "running");
  // Busy for at least three collection intervals, by the kernel's count.
  ASSERT_TRUE(drover::testing::eventually([&] { return cgroup_cpu_ms(*agent, ids[0]) >= 300; },
                                          std::chrono::seconds(20)));
  auto stats = agent->get("/v1/client/allocation/" + ids[0] + "/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  auto usage = stats.json()["Tasks"]["t"]["ResourceUsage"];
  EXPECT_GT(usage["CpuStats"]["Percent"].get<double>(), 0.0) << stats.body;
  EXPECT_GT(usage["MemoryStats"]["Usage"].get<uint64_t>(), 0u) << stats.body;
  EXPECT_FALSE(stats.json()["Tasks"]["t"]["Pids"].empty()) << stats.body;
  // The alloc's total is the sum of its one task.
  EXPECT_EQ(stats.json()["ResourceUsage"]["CpuStats"]["Percent"], usage["CpuStats"]["Percent"]);
}

TEST_F(Cgroups, ATaskWhoseCgroupWasRemovedUnderneathHasNoStatsAndTheAgentGoesOn) {
  auto agent = AgentProcess::start({.config_yaml = "collection_interval: 100ms\n"});
  auto gone = agent->submit(job("gone", "service", "sleep 1000", "{memory: 64}"));
  auto kept = agent->submit(job("kept", "service", "sleep 1000", "{memory: 64}"));
  agent->wait_client_status(gone[0], "running");
  agent->wait_client_status(kept[0], "running");
  ASSERT_EQ(agent->get("/v1/client/allocation/" + gone[0] + "/stats").status, 200);

  auto moved = remove_cgroup_underneath(*agent, gone[0]);
  ASSERT_FALSE(moved.empty());
  // Within a collection interval or so: no stats, saying why, rather than zeros or a crash.
  drover::testing::HttpReply r;
  EXPECT_TRUE(drover::testing::eventually(
      [&] { return (r = agent->get("/v1/client/allocation/" + gone[0] + "/stats")).status == 404; },
      std::chrono::seconds(10)))
      << r.status << " " << r.body;
  EXPECT_NE(r.body.find("no live task"), std::string::npos) << r.body;
  // The other task's stats and the agent itself are untouched.
  auto other = agent->get("/v1/client/allocation/" + kept[0] + "/stats");
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_GT(other.json()["Tasks"]["t"]["ResourceUsage"]["MemoryStats"]["Usage"].get<uint64_t>(), 0u);
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
  for (pid_t p : moved) kill(p, SIGKILL);
}

// systemd with Delegate=yes starts the agent in its unit's cgroup and leaves the subtree to
// it. With cgroup_parent set to that cgroup, the agent's cgroup becomes an inner node, where
// v2 allows no process: the agent moves itself (every thread) into the leaf drover-agent, and
// its tasks' cgroups are that leaf's siblings, held to their limits (docs/cgroups.md, "Layout").
TEST_F(Cgroups, AgentInItsDelegatedCgroupMovesToALeafBesideItsTasks) {
  if (!cgroup_v2()) GTEST_SKIP() << "v2 only: v1 allows processes in any cgroup (tests/vm runs it)";
  namespace fs = std::filesystem;
  const std::string own = "drover-test-delegated-" + std::to_string(getpid());
  const fs::path own_dir = fs::path("/sys/fs/cgroup") / own;
  std::error_code ec;
  ASSERT_TRUE(fs::create_directory(own_dir, ec)) << own_dir << ": " << ec.message();
  {
    auto agent = AgentProcess::start({.cgroup_parent = own, .start_in_cgroup = own_dir.string()});
    ASSERT_GT(agent->pid(), 0);
    const std::string leaf = "0::/" + own + "/drover-agent";
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(agent->pid()) + "/task", ec))
      EXPECT_EQ(read_trim((t.path() / "cgroup").string()), leaf) << "thread " << t.path();
    EXPECT_EQ(read_trim(own_dir / "cgroup.procs"), "") << "a process left in the inner node";
    const std::string enabled = read_trim(own_dir / "cgroup.subtree_control");
    EXPECT_NE(enabled.find("memory"), std::string::npos) << enabled;
    EXPECT_NE(enabled.find("pids"), std::string::npos) << enabled;

    // A task beside the leaf, its limits enforced by the kernel; its monitor with the agent.
    auto held = agent->submit(job("held", "service",
                                  "exec perl -e 'for (1..12) { my $p = fork(); if (defined $p && $p == 0) "
                                  "{ sleep 1000; exit 0 } } sleep 1000'",
                                  "{memory: 32, pids: 6}"));
    agent->wait_client_status(held[0], "running");
    const fs::path task_dir = own_dir / (held[0] + ".t.scope");
    EXPECT_EQ(cg(*agent, "pids", held[0]), task_dir.string());
    EXPECT_EQ(read_trim(task_dir / "memory.max"), std::to_string(32 << 20));
    EXPECT_TRUE(drover::testing::eventually(
        [&] { return read_trim(task_dir / "pids.current") == "6"; }, std::chrono::seconds(20)))
        << "pids.current " << read_trim(task_dir / "pids.current");
    // pids.current reaches 6 before the fork that the limit refuses has run (under TCG
    // forks are slow): wait for the refusal the kernel counts, not for the clock.
    EXPECT_TRUE(drover::testing::eventually(
        [&] { return read_trim(task_dir / "pids.events") != "max 0"; }, std::chrono::seconds(20)))
        << "the pids limit never held: " << read_trim(task_dir / "pids.events");
    std::ifstream agent_procs(own_dir / "drover-agent" / "cgroup.procs");
    int in_leaf = 0;
    for (pid_t p; agent_procs >> p;) ++in_leaf;
    EXPECT_GE(in_leaf, 2) << "the task's monitor is not in the agent's leaf";

    auto oom = agent->submit(job("oom", "batch", "head -c 200m /dev/zero | tail", "{memory: 32}"));
    auto a = agent->wait_client_status(oom[0], "failed", std::chrono::seconds(30));
    EXPECT_NE(a.dump().find("OOM Killed"), std::string::npos) << a.dump(2);
    ASSERT_EQ(agent->del("/v1/job/held").status, 200);
    agent->wait_client_status(held[0], "complete", std::chrono::seconds(20));
    EXPECT_FALSE(fs::exists(task_dir));
  }
  rmdir((own_dir / "drover-agent").c_str());
  rmdir(own_dir.c_str());
}

// On a kernel without clone3 (< 5.3; CLONE_INTO_CGROUP needs 5.7) raw_exec tasks still start
// in their v2 cgroup, through the cgroup.procs write, and the agent says so once, not per task.
TEST_F(Cgroups, WithoutClone3TasksStillStartInTheirCgroupAndTheAgentSaysSoOnce) {
  if (!cgroup_v2()) GTEST_SKIP() << "v2 only: v1 always joins through cgroup.procs (tests/vm runs it)";
  auto agent = AgentProcess::start({.refuse_clone3 = true});
  std::vector<std::string> ids;
  for (const char* id : {"old1", "old2"}) {
    ids.push_back(agent->submit(job(id, "batch", "cat /proc/self/cgroup", "{memory: 32}"))[0]);
    agent->wait_client_status(ids.back(), "complete", std::chrono::seconds(30));
    auto out = agent->get("/v1/client/fs/logs/" + ids.back() + "?task=t").body;
    EXPECT_EQ(out, "0::/" + agent->cgroup_parent() + "/" + ids.back() + ".t.scope\n");
  }
  const std::string log = agent->log();
  const std::string said = "refuses clone3(CLONE_INTO_CGROUP)";
  auto first = log.find(said);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(said, first + 1), std::string::npos) << "said more than once:\n" << log;
}
