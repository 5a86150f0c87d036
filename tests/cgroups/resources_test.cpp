// The Limits → control file mapping (docs/cgroups.md, "Resource mapping"), on v1 and v2.
#include "resources.hpp"

#include <gtest/gtest.h>

#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {
namespace {

std::map<std::string, std::string> files(const std::vector<Setting>& plan) {
  std::map<std::string, std::string> out;
  for (const auto& s : plan) out[s.file] = s.value;
  return out;
}

TEST(CgroupMapping, MhzBecomesSharesClampedToKernelRange) {
  EXPECT_EQ(cpu_shares_from_mhz(1), 2u);
  EXPECT_EQ(cpu_shares_from_mhz(500), 500u);
  EXPECT_EQ(cpu_shares_from_mhz(1024), 1024u);
  EXPECT_EQ(cpu_shares_from_mhz(1000000), 262144u);
}

TEST(CgroupMapping, SharesBecomeWeightByTheOciFormula) {
  EXPECT_EQ(cpu_weight_from_shares(2), 1u);
  EXPECT_EQ(cpu_weight_from_shares(1024), 39u);  // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(cpu_weight_from_shares(262144), 10000u);
}

TEST(CgroupMapping, MemoryAloneIsTheHardLimit) {
  Limits l;
  l.memory_bytes = 256 << 20;
  auto v1 = files(plan_v1(l));
  EXPECT_EQ(v1["memory.limit_in_bytes"], std::to_string(256 << 20));
  EXPECT_EQ(v1.count("memory.soft_limit_in_bytes"), 0u);
  EXPECT_EQ(v1["memory.swappiness"], "0");
  auto v2 = files(plan_v2(l));
  EXPECT_EQ(v2["memory.max"], std::to_string(256 << 20));
  EXPECT_EQ(v2.count("memory.low"), 0u);
}

TEST(CgroupMapping, MemoryMaxIsHardAndMemoryBecomesSoft) {
  Limits l;
  l.memory_bytes = 128 << 20;
  l.memory_max_bytes = 512 << 20;
  auto v1 = files(plan_v1(l));
  EXPECT_EQ(v1["memory.limit_in_bytes"], std::to_string(512 << 20));
  EXPECT_EQ(v1["memory.soft_limit_in_bytes"], std::to_string(128 << 20));
  auto v2 = files(plan_v2(l));
  EXPECT_EQ(v2["memory.max"], std::to_string(512 << 20));
  EXPECT_EQ(v2["memory.low"], std::to_string(128 << 20));
}

// Nomad's memory_max = -1: no hard limit at all; memory is only what the task is kept at
// under pressure.
TEST(CgroupMapping, MemoryMaxMinusOneLeavesNoHardLimitAndMemorySoft) {
  Limits l;
  l.memory_bytes = 128 << 20;
  l.memory_max_bytes = -1;
  auto v1 = files(plan_v1(l));
  EXPECT_EQ(v1.count("memory.limit_in_bytes"), 0u);
  EXPECT_EQ(v1["memory.soft_limit_in_bytes"], std::to_string(128 << 20));
  auto v2 = files(plan_v2(l));
  EXPECT_EQ(v2.count("memory.max"), 0u);
  EXPECT_EQ(v2["memory.low"], std::to_string(128 << 20));
}

TEST(CgroupMapping, V1WritesTheHardLimitBeforeMemsw) {
  Limits l;
  l.memory_bytes = 64 << 20;
  auto plan = plan_v1(l);
  size_t limit = 99, memsw = 99;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].file == "memory.limit_in_bytes") limit = i;
    if (plan[i].file == "memory.memsw.limit_in_bytes") memsw = i;
  }
  EXPECT_LT(limit, memsw);
  EXPECT_TRUE(plan[memsw].optional);  // memsw exists only with swap accounting
}

TEST(CgroupMapping, PidsAndCpusetAndCpu) {
  Limits l;
  l.cpu_mhz = 1024;
  l.pids_max = 64;
  l.cpuset = "0-1";
  auto v1 = files(plan_v1(l));
  EXPECT_EQ(v1["cpu.shares"], "1024");
  EXPECT_EQ(v1["pids.max"], "64");
  EXPECT_EQ(v1["cpuset.cpus"], "0-1");
  auto v2 = files(plan_v2(l));
  EXPECT_EQ(v2["cpu.weight"], "39");
  EXPECT_EQ(v2["pids.max"], "64");
  EXPECT_EQ(v2["cpuset.cpus"], "0-1");
}

TEST(CgroupMapping, NothingSetWritesNothing) {
  EXPECT_TRUE(plan_v1(Limits{}).empty());
  EXPECT_TRUE(plan_v2(Limits{}).empty());
}

}  // namespace
}  // namespace drover::cgroups
