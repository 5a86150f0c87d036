// Where v1 controllers are mounted, read from a mountinfo text once at start; co-mounted
// hierarchies (cpu,cpuacct) found without the per-name links systemd usually adds; the
// cgroup2 mount's favordynmods option.
#include "mountinfo.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "drover/cgroups/cgroups.hpp"
#include "fake_tree.hpp"

namespace drover::cgroups {
namespace {

using fake::put;
using fake::slurp;
namespace fs = std::filesystem;

TEST(Mountinfo, FieldsAfterTheSeparatorAndEscapedPathsAreRead) {
  auto m = parse_mountinfo(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - "
      "cgroup cgroup rw,cpu,cpuacct\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
      "50 23 0:40 / /mnt/with\\040space rw - tmpfs tmpfs rw\n"
      "garbage line\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m[0].fstype, "cgroup");
  EXPECT_EQ(m[0].super_options, "rw,cpu,cpuacct");
  EXPECT_EQ(m[0].mount_options, "rw,nosuid,nodev,noexec,relatime");
  EXPECT_EQ(m[1].fstype, "cgroup2");
  EXPECT_EQ(split_options(m[1].super_options), (std::vector<std::string>{"nsdelegate"}));
  EXPECT_EQ(m[2].mount_point, "/mnt/with space");
}

TEST(Mountinfo, UnderMeansTheRootOrBelowIt) {
  EXPECT_TRUE(is_under("/sys/fs/cgroup/cpu", "/sys/fs/cgroup"));
  EXPECT_TRUE(is_under("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/"));
  EXPECT_FALSE(is_under("/sys/fs/cgroupx/cpu", "/sys/fs/cgroup"));
  EXPECT_FALSE(is_under("/sys/fs", "/sys/fs/cgroup"));
}

// A host whose cpu and cpuacct share one hierarchy with no per-name links: every path the
// library hands out names the co-mounted directory, and it is acted on once.
class CoMounted : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* c : {"cpu,cpuacct", "cpuset", "memory", "pids", "freezer"})
      put(root() / c / "cgroup.procs", "");
    put(root() / "cpuset" / "cpuset.cpus", "0-1\n");
    put(root() / "cpuset" / "cpuset.mems", "0\n");
    std::string mi;
    int id = 40;
    for (const char* c : {"cpu,cpuacct", "cpuset", "memory", "pids", "freezer"})
      mi += std::to_string(id++) + " 31 0:1 / " + (root() / c).string() +
            " rw,nosuid - cgroup cgroup rw," + c + "\n";
    put(tmp.path() / "mountinfo", mi);
  }
  fs::path root() const { return tmp.path() / "cg"; }
  fake::TempDir tmp;
};

TEST_F(CoMounted, EachControllerMapsToItsHierarchy) {
  auto host = detect(root(), tmp.path() / "mountinfo");
  ASSERT_TRUE(host.ok()) << host.message();
  EXPECT_EQ(host->mode, Mode::V1);
  EXPECT_EQ(host->mounts.at("cpu"), root() / "cpu,cpuacct");
  EXPECT_EQ(host->mounts.at("cpuacct"), root() / "cpu,cpuacct");
  EXPECT_EQ(host->mounts.at("memory"), root() / "memory");
}

TEST_F(CoMounted, TaskCgroupsAreMadeOnceInTheSharedHierarchy) {
  auto host = detect(root(), tmp.path() / "mountinfo");
  ASSERT_TRUE(host.ok());
  put(root() / "cpuset/drover/cpuset.cpus", "");
  put(root() / "cpuset/drover/cpuset.mems", "");
  put(root() / "cpuset/drover/cgroup.clone_children", "0");
  auto m = Manager::open(*host, "drover");
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(slurp(root() / "cpuset/drover/cgroup.clone_children"), "1")
      << "new task cgroups get the parent's cpus and mems from the kernel";
  put(root() / "cpu,cpuacct/drover/a1.web/cpu.shares", "");
  Limits l;
  l.cpu_mhz = 300;
  auto cg = (*m)->create("a1.web", l);
  ASSERT_TRUE(cg.ok()) << cg.message();
  EXPECT_EQ(slurp(root() / "cpu,cpuacct/drover/a1.web/cpu.shares"), "300");
  auto procs = cg->procs_files();
  EXPECT_EQ(procs.size(), 5u) << "cpu and cpuacct are one hierarchy";
  EXPECT_THAT(procs,
              ::testing::Contains((root() / "cpu,cpuacct/drover/a1.web/cgroup.procs").string()));
  EXPECT_FALSE(fs::exists(root() / "cpu")) << "no path through a link that is not there";
  EXPECT_TRUE(fs::is_directory(root() / "cpuset/drover/a1.web"));
  EXPECT_FALSE(fs::exists(root() / "cpuset/drover/a1.web/cpuset.cpus"))
      << "a new task cgroup's cpuset is left to clone_children: nothing read or written";
}

TEST_F(CoMounted, Cgroup2MountAndItsFavordynmodsOptionAreRead) {
  put(root() / "unified" / "cgroup.controllers", "\n");
  put(root() / "unified" / "cgroup.procs", "");
  auto with = [&](const std::string& opts) {
    put(tmp.path() / "mountinfo2", slurp(tmp.path() / "mountinfo") + "60 31 0:2 / " +
                                       (root() / "unified").string() +
                                       " rw,nosuid - cgroup2 cgroup2 " + opts + "\n");
    auto host = detect(root(), tmp.path() / "mountinfo2");
    EXPECT_EQ(host->mode, Mode::Hybrid);
    return favor_dynmods_state(*host, tmp.path() / "mountinfo2");
  };
  auto off = with("rw,nsdelegate");
  EXPECT_EQ(off.mount, root() / "unified");
  EXPECT_FALSE(off.on);
  EXPECT_TRUE(with("rw,nsdelegate,favordynmods").on);
}

TEST_F(CoMounted, APureV1HostHasNoCgroup2MountToSetTheOptionOn) {
  auto host = detect(root(), tmp.path() / "mountinfo");
  ASSERT_TRUE(host.ok());
  EXPECT_TRUE(favor_dynmods_state(*host, tmp.path() / "mountinfo").mount.empty());
  auto st = set_favor_dynmods(*host, true, tmp.path() / "mountinfo");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), ::testing::HasSubstr("no cgroup2 mount"));
}

}  // namespace
}  // namespace drover::cgroups
