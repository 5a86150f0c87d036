// Limits → control files. cpu: MHz is a relative weight (v1 cpu.shares = MHz clamped to
// 2..262144; v2 cpu.weight from those shares with the OCI formula). memory: hard limit, or
// with memory_max the hard limit is memory_max and memory the soft one; memory_max -1: no hard
// limit, memory the soft one. No swap past the hard
// limit (v1 memsw = hard and swappiness 0, v2 memory.swap.max 0) so a limit means RAM.
#include "resources.hpp"

#include <algorithm>

namespace drover::cgroups {

uint64_t cpu_shares_from_mhz(int mhz) {
  return static_cast<uint64_t>(std::clamp<int64_t>(mhz, 2, 262144));
}

uint64_t cpu_weight_from_shares(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

namespace {

struct MemoryPlan {
  int64_t hard = 0, soft = 0;
};

MemoryPlan memory_plan(const Limits& l) {
  // No hard limit (Nomad's memory_max = -1): memory is only the soft one.
  if (l.memory_max_bytes < 0) return MemoryPlan{0, l.memory_bytes > 0 ? l.memory_bytes : 0};
  if (l.memory_max_bytes > 0) {
    MemoryPlan p{l.memory_max_bytes, 0};
    if (l.memory_bytes > 0 && l.memory_bytes < l.memory_max_bytes) p.soft = l.memory_bytes;
    return p;
  }
  return MemoryPlan{l.memory_bytes > 0 ? l.memory_bytes : 0, 0};
}

}  // namespace

std::vector<Setting> plan_v1(const Limits& l) {
  std::vector<Setting> out;
  if (l.cpu_mhz > 0)
    out.push_back({"cpu", "cpu.shares", std::to_string(cpu_shares_from_mhz(l.cpu_mhz))});
  if (!l.cpuset.empty()) out.push_back({"cpuset", "cpuset.cpus", l.cpuset});
  auto mem = memory_plan(l);
  if (mem.hard > 0) {
    out.push_back({"memory", "memory.limit_in_bytes", std::to_string(mem.hard)});
    out.push_back({"memory", "memory.memsw.limit_in_bytes", std::to_string(mem.hard), true});
    out.push_back({"memory", "memory.swappiness", "0", true});
  }
  if (mem.soft > 0)
    out.push_back({"memory", "memory.soft_limit_in_bytes", std::to_string(mem.soft)});
  if (l.pids_max > 0) out.push_back({"pids", "pids.max", std::to_string(l.pids_max)});
  return out;
}

std::vector<Setting> plan_v2(const Limits& l) {
  std::vector<Setting> out;
  if (l.cpu_mhz > 0)
    out.push_back({"cpu", "cpu.weight",
                   std::to_string(cpu_weight_from_shares(cpu_shares_from_mhz(l.cpu_mhz)))});
  if (!l.cpuset.empty()) out.push_back({"cpuset", "cpuset.cpus", l.cpuset});
  auto mem = memory_plan(l);
  if (mem.hard > 0) {
    out.push_back({"memory", "memory.max", std::to_string(mem.hard)});
    out.push_back({"memory", "memory.swap.max", "0", true});
  }
  if (mem.soft > 0) out.push_back({"memory", "memory.low", std::to_string(mem.soft)});
  if (l.pids_max > 0) out.push_back({"pids", "pids.max", std::to_string(l.pids_max)});
  return out;
}

}  // namespace drover::cgroups
