// The v2 Manager against a fake v2 tree: subtree_control along the parent chain, exactly the
// right files with the right values, cgroup.kill, memory.events OOM, list and remove.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drover/cgroups/cgroups.hpp"
#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

using fake::slurp;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr const char* kAll = "cpuset cpu io memory hugetlb pids rdma misc";

class V2Fake : public ::testing::Test {
 protected:
  void SetUp() override {
    fake::fake_v2_root(root(), kAll);
    fake::fake_v2_group(root() / "drover.slice", kAll);
    auto m = Manager::open(*detect(root()), "drover.slice");
    ASSERT_TRUE(m.ok()) << m.message();
    manager = std::move(*m);
  }
  const fs::path& root() const { return tmp.path(); }
  fs::path dir(const std::string& name) const {
    return root() / "drover.slice" / (name + ".scope");
  }
  TaskCgroup create(const std::string& name, const Limits& l) {
    fake::fake_v2_group(dir(name), "cpuset cpu memory pids");
    auto cg = manager->create(name, l);
    EXPECT_TRUE(cg.ok()) << cg.message();
    return cg.ok() ? *cg : manager->find(name);
  }
  fake::TempDir tmp;
  std::unique_ptr<Manager> manager;
};

TEST_F(V2Fake, ControllersAreEnabledForChildrenAlongTheParentChain) {
  EXPECT_EQ(slurp(root() / "cgroup.subtree_control"), "+cpu +memory +pids +cpuset");
  EXPECT_EQ(slurp(root() / "drover.slice/cgroup.subtree_control"), "+cpu +memory +pids +cpuset");
}

TEST_F(V2Fake, LimitsWriteExactlyTheRightFiles) {
  Limits l;
  l.cpu_mhz = 500;
  l.memory_bytes = 64 << 20;
  l.memory_max_bytes = 128 << 20;
  l.pids_max = 20;
  l.cpuset = "0";
  create("a1.web", l);
  EXPECT_EQ(slurp(dir("a1.web") / "cpu.weight"), "19");  // 1 + (498 * 9999) / 262142
  EXPECT_EQ(slurp(dir("a1.web") / "memory.max"), std::to_string(128 << 20));
  EXPECT_EQ(slurp(dir("a1.web") / "memory.low"), std::to_string(64 << 20));
  EXPECT_EQ(slurp(dir("a1.web") / "memory.swap.max"), "0");
  EXPECT_EQ(slurp(dir("a1.web") / "pids.max"), "20");
  EXPECT_EQ(slurp(dir("a1.web") / "cpuset.cpus"), "0");
  // Untouched: no throttling quota, no high watermark.
  EXPECT_EQ(slurp(dir("a1.web") / "cpu.max"), "");
  EXPECT_EQ(slurp(dir("a1.web") / "memory.high"), "");
  EXPECT_EQ(slurp(dir("a1.web") / "cgroup.kill"), "");
}

TEST_F(V2Fake, MemoryOnlyIsMemoryMaxWithNoLow) {
  Limits l;
  l.memory_bytes = 32 << 20;
  create("a1.web", l);
  EXPECT_EQ(slurp(dir("a1.web") / "memory.max"), std::to_string(32 << 20));
  EXPECT_EQ(slurp(dir("a1.web") / "memory.low"), "");
}

TEST_F(V2Fake, OneProcsFileAndAScopePath) {
  auto cg = create("a1.web", Limits{});
  EXPECT_EQ(cg.procs_files(),
            (std::vector<std::string>{(dir("a1.web") / "cgroup.procs").string()}));
  EXPECT_EQ(cg.relative_path(), "drover.slice/a1.web.scope");
}

TEST_F(V2Fake, KillAllWritesCgroupKill) {
  auto cg = create("a1.web", Limits{});
  ASSERT_TRUE(cg.kill_all().ok());
  EXPECT_EQ(slurp(dir("a1.web") / "cgroup.kill"), "1");
}

TEST_F(V2Fake, OomKillIsReadFromMemoryEvents) {
  auto cg = create("a1.web", Limits{});
  fake::put(dir("a1.web") / "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
  EXPECT_FALSE(cg.oom_killed()) << "hitting max (oom 1) without a kill is not an OOM kill";
  fake::put(dir("a1.web") / "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
  EXPECT_TRUE(cg.oom_killed());
}

TEST_F(V2Fake, ListAndRemove) {
  create("a1.web", Limits{});
  create("a2.db", Limits{});
  fs::create_directory(root() / "drover.slice" / "not-a-task");
  EXPECT_EQ(manager->list(), (std::vector<std::string>{"a1.web", "a2.db"}));
  ASSERT_TRUE(manager->remove("a2.db").ok());
  EXPECT_FALSE(fs::exists(dir("a2.db")));
  EXPECT_EQ(manager->list(), (std::vector<std::string>{"a1.web"}));
}

// A throwaway agent's own parent goes when it stops, but never from under a task cgroup.
TEST_F(V2Fake, TheParentIsRemovedOnlyOnceNoTaskCgroupIsLeft) {
  create("a1.web", Limits{});
  EXPECT_FALSE(manager->remove_parent().ok());
  EXPECT_TRUE(fs::exists(dir("a1.web")));
  ASSERT_TRUE(manager->remove("a1.web").ok());
  EXPECT_TRUE(manager->remove_parent().ok());
  EXPECT_FALSE(fs::exists(root() / "drover.slice"));
  EXPECT_TRUE(fs::exists(root() / "cgroup.subtree_control")) << "nothing above it goes";
}

TEST_F(V2Fake, ALimitWhoseControllerIsNotEnabledIsRefused) {
  fake::TempDir t2;
  fake::fake_v2_root(t2.path(), "cpu memory");
  fake::fake_v2_group(t2.path() / "drover.slice", "cpu memory");
  auto m = Manager::open(*detect(t2.path()), "drover.slice");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(slurp(t2.path() / "cgroup.subtree_control"), "+cpu +memory");
  fake::fake_v2_group(t2.path() / "drover.slice/a1.web.scope", "cpu memory");
  Limits l;
  l.pids_max = 20;
  auto cg = (*m)->create("a1.web", l);
  ASSERT_FALSE(cg.ok());
  EXPECT_THAT(cg.message(), HasSubstr("pids controller is not enabled"));
  EXPECT_FALSE(fs::exists(t2.path() / "drover.slice/a1.web.scope"));
}

TEST_F(V2Fake, AGroupReusedWithoutCoresGetsTheSharedCpusBack) {
  Limits own;
  own.cpuset = "0";
  create("a1.web", own);
  EXPECT_EQ(slurp(dir("a1.web") / "cpuset.cpus"), "0");
  // The parent's cpuset.cpus is empty (all of its effective cpus): "\n" empties the child's.
  ASSERT_TRUE(manager->create("a1.web", Limits{}).ok());
  EXPECT_EQ(slurp(dir("a1.web") / "cpuset.cpus"), "\n");
  fake::put(root() / "drover.slice" / "cpuset.cpus", "0-1\n");
  ASSERT_TRUE(manager->create("a1.web", own).ok());
  ASSERT_TRUE(manager->create("a1.web", Limits{}).ok());
  EXPECT_EQ(slurp(dir("a1.web") / "cpuset.cpus"), "0-1");
}

TEST_F(V2Fake, LibcgroupBackendIsRefusedOnV2) {
  auto m = Manager::open(*detect(root()), "drover.slice", Backend::Libcgroup);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.message(), HasSubstr("v1"));
}

}  // namespace
}  // namespace drover::cgroups
