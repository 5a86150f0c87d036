// The v1 Manager against a fake v1 tree: which files get which values, cpuset inheritance,
// OOM counter reading, list and remove.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drover/cgroups/cgroups.hpp"
#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

using fake::slurp;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class V1Fake : public ::testing::Test {
 protected:
  void SetUp() override {
    fake::fake_v1_root(root());
    fake::fake_v1_group(root(), "drover");
    auto host = detect(root());
    ASSERT_TRUE(host.ok());
    auto m = Manager::open(*host, "drover");
    ASSERT_TRUE(m.ok()) << m.message();
    manager = std::move(*m);
  }
  const fs::path& root() const { return tmp.path(); }
  fs::path file(const char* controller, const std::string& name, const char* f) const {
    return root() / controller / "drover" / name / f;
  }
  TaskCgroup create(const std::string& name, const Limits& l) {
    fake::fake_v1_group(root(), "drover/" + name);
    auto cg = manager->create(name, l);
    EXPECT_TRUE(cg.ok()) << cg.message();
    return cg.ok() ? *cg : manager->find(name);
  }
  fake::TempDir tmp;
  std::unique_ptr<Manager> manager;
};

TEST_F(V1Fake, ParentGetsTheRootCpusetSoChildrenCanJoin) {
  EXPECT_EQ(slurp(root() / "cpuset/drover/cpuset.cpus"), "0-1");
  EXPECT_EQ(slurp(root() / "cpuset/drover/cpuset.mems"), "0");
}

TEST_F(V1Fake, LimitsLandInTheirFiles) {
  Limits l;
  l.cpu_mhz = 500;
  l.memory_bytes = 64 << 20;
  l.memory_max_bytes = 128 << 20;
  l.pids_max = 20;
  l.cpuset = "1";
  create("a1.web", l);
  EXPECT_EQ(slurp(file("cpu", "a1.web", "cpu.shares")), "500");
  EXPECT_EQ(slurp(file("memory", "a1.web", "memory.limit_in_bytes")), std::to_string(128 << 20));
  EXPECT_EQ(slurp(file("memory", "a1.web", "memory.memsw.limit_in_bytes")),
            std::to_string(128 << 20));
  EXPECT_EQ(slurp(file("memory", "a1.web", "memory.soft_limit_in_bytes")),
            std::to_string(64 << 20));
  EXPECT_EQ(slurp(file("memory", "a1.web", "memory.swappiness")), "0");
  EXPECT_EQ(slurp(file("pids", "a1.web", "pids.max")), "20");
  EXPECT_EQ(slurp(file("cpuset", "a1.web", "cpuset.cpus")), "1");
  EXPECT_EQ(slurp(file("cpuset", "a1.web", "cpuset.mems")), "0");
}

// A throwaway agent's own parent goes from every hierarchy when it stops, but never from under
// a task cgroup.
TEST_F(V1Fake, TheParentIsRemovedFromEveryHierarchyOnlyOnceNoTaskCgroupIsLeft) {
  create("a1.web", Limits{});
  for (const char* c : {"cpu", "cpuset", "memory", "pids", "freezer"})
    ASSERT_TRUE(fs::exists(root() / c / "drover")) << c;
  EXPECT_FALSE(manager->remove_parent().ok());
  EXPECT_TRUE(fs::exists(root() / "memory/drover/a1.web"));
  ASSERT_TRUE(manager->remove("a1.web").ok());
  EXPECT_TRUE(manager->remove_parent().ok());
  for (const char* c : {"cpu", "cpuset", "memory", "pids", "freezer"})
    EXPECT_FALSE(fs::exists(root() / c / "drover")) << c;
}

TEST_F(V1Fake, TaskWithoutCoresGetsTheSharedCpus) {
  create("a1.web", Limits{});
  EXPECT_EQ(slurp(file("cpuset", "a1.web", "cpuset.cpus")), "0-1");
}

TEST_F(V1Fake, ProcsFilesNameEveryController) {
  auto cg = create("a1.web", Limits{});
  auto procs = cg.procs_files();
  EXPECT_EQ(procs.size(), 6u);
  EXPECT_THAT(procs, ::testing::Contains(file("memory", "a1.web", "cgroup.procs").string()));
  EXPECT_THAT(procs, ::testing::Contains(file("freezer", "a1.web", "cgroup.procs").string()));
  EXPECT_EQ(cg.relative_path(), "drover/a1.web");
}

TEST_F(V1Fake, OomCountComesFromOomControl) {
  auto cg = create("a1.web", Limits{});
  EXPECT_FALSE(cg.oom_killed());
  fake::put(file("memory", "a1.web", "memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_TRUE(cg.oom_killed());
  EXPECT_EQ(cg.oom_kill_count(), 2u);
}

TEST_F(V1Fake, OldKernelsWithoutTheCounterFallBackToFailcntAtLimit) {
  auto cg = create("a1.web", Limits{});
  fake::put(file("memory", "a1.web", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\n");
  fake::put(file("memory", "a1.web", "memory.failcnt"), "3\n");
  fake::put(file("memory", "a1.web", "memory.limit_in_bytes"), "1048576\n");
  fake::put(file("memory", "a1.web", "memory.max_usage_in_bytes"), "1048576\n");
  EXPECT_TRUE(cg.oom_killed());
  fake::put(file("memory", "a1.web", "memory.max_usage_in_bytes"), "4096\n");
  EXPECT_FALSE(cg.oom_killed());
}

TEST_F(V1Fake, ListShowsTaskCgroupsAndRemoveDeletesThemEverywhere) {
  create("a1.web", Limits{});
  create("a2.db", Limits{});
  EXPECT_EQ(manager->list(), (std::vector<std::string>{"a1.web", "a2.db"}));
  ASSERT_TRUE(manager->remove("a1.web").ok());
  EXPECT_EQ(manager->list(), (std::vector<std::string>{"a2.db"}));
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"})
    EXPECT_FALSE(fs::exists(root() / c / "drover/a1.web")) << c;
  EXPECT_TRUE(manager->remove("a1.web").ok()) << "removing twice is fine";
}

TEST_F(V1Fake, KillAllOnAnEmptyGroupLeavesItThawed) {
  auto cg = create("a1.web", Limits{});
  ASSERT_TRUE(cg.kill_all().ok());
  EXPECT_EQ(slurp(file("freezer", "a1.web", "freezer.state")), "THAWED");
}

TEST_F(V1Fake, HostileTaskNamesAreRefused) {
  for (std::string bad : {"../escape", "a/b", "", ".."}) {
    auto cg = manager->create(bad, Limits{});
    EXPECT_FALSE(cg.ok()) << bad;
  }
  EXPECT_FALSE(fs::exists(root() / "memory/escape"));
}

TEST_F(V1Fake, PidsLimitWithoutThePidsControllerIsAnErrorAndLeavesNothing) {
  fake::TempDir t2;
  fake::fake_v1_root(t2.path(), false, {"pids"});
  fake::fake_v1_group(t2.path(), "drover");
  auto m = Manager::open(*detect(t2.path()), "drover");
  ASSERT_TRUE(m.ok()) << m.message();
  fake::fake_v1_group(t2.path(), "drover/a1.web");
  Limits l;
  l.pids_max = 10;
  auto cg = (*m)->create("a1.web", l);
  ASSERT_FALSE(cg.ok());
  EXPECT_THAT(cg.message(), HasSubstr("pids controller"));
  EXPECT_FALSE(fs::exists(t2.path() / "memory/drover/a1.web"));
}

}  // namespace
}  // namespace drover::cgroups
