// Mode detection and the "can drover limit tasks here" check, on fake trees.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drover/cgroups/cgroups.hpp"
#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

using fake::TempDir;
using ::testing::HasSubstr;

TEST(CgroupMode, V1HierarchiesAreDetectedWithTheirControllers) {
  TempDir t;
  fake::fake_v1_root(t.path());
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok()) << host.message();
  EXPECT_EQ(host->mode, Mode::V1);
  EXPECT_EQ(host->controllers,
            (std::set<std::string>{"cpu", "cpuacct", "cpuset", "freezer", "memory", "pids"}));
  EXPECT_TRUE(check_usable(*host).ok());
}

TEST(CgroupMode, V1PlusAnEmptyV2MountIsHybrid) {
  TempDir t;
  fake::fake_v1_root(t.path(), /*hybrid=*/true);
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->mode, Mode::Hybrid);
  EXPECT_EQ(host->unified, t.path() / "unified");
  EXPECT_TRUE(host->controllers.count("memory"));
  EXPECT_EQ(to_string(host->mode), "hybrid");
}

TEST(CgroupMode, UnifiedRootIsV2WithItsControllers) {
  TempDir t;
  fake::fake_v2_root(t.path(), "cpuset cpu io memory pids");
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->mode, Mode::V2);
  EXPECT_EQ(host->controllers, (std::set<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
  EXPECT_TRUE(check_usable(*host).ok());
}

TEST(CgroupMode, V2WithoutControllersIsRefusedNamingMemoryAndCpu) {
  TempDir t;
  fake::fake_v2_root(t.path(), "");
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->mode, Mode::V2);
  auto st = check_usable(*host);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("memory and cpu"));
  EXPECT_THAT(st.message(), HasSubstr(t.path().string()));
}

TEST(CgroupMode, V1WithoutMemoryIsRefusedNamingMemoryOnly) {
  TempDir t;
  fake::fake_v1_root(t.path(), false, {"memory"});
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok());
  auto st = check_usable(*host);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("no usable memory controller"));
}

TEST(CgroupMode, EmptyRootIsNoneAndNotUsable) {
  TempDir t;
  auto host = detect(t.path());
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->mode, Mode::None);
  auto st = check_usable(*host);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("memory and cpu"));
}

TEST(CgroupMode, MissingRootIsAnError) {
  auto host = detect("/nonexistent/drover-cgroup-root");
  ASSERT_FALSE(host.ok());
  EXPECT_THAT(host.message(), HasSubstr("/nonexistent/drover-cgroup-root"));
}

TEST(CgroupMode, ManagerRefusesAnUnusableHost) {
  TempDir t;
  fake::fake_v2_root(t.path(), "io");
  auto m = Manager::open(*detect(t.path()), "drover.slice");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.message(), HasSubstr("memory and cpu"));
}

}  // namespace
}  // namespace drover::cgroups
