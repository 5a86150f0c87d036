// Container stats mapping (see stats.hpp). cgroup v1 reports rss/cache in memory_stats.stats;
// v2 reports anon/file instead: both are read.
#include "stats.hpp"

namespace drover::docker {
namespace {

long long num(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return (it == j.end() || !it->is_number()) ? 0 : it->get<long long>();
}

}  // namespace

nlohmann::json stats_from_engine(const nlohmann::json& e) {
  const nlohmann::json empty = nlohmann::json::object();
  const auto& mem = e.is_object() && e.contains("memory_stats") ? e["memory_stats"] : empty;
  const auto& ms = mem.contains("stats") ? mem["stats"] : empty;
  long long rss = num(ms, "rss") ? num(ms, "rss") : num(ms, "anon");
  long long cache = num(ms, "cache") ? num(ms, "cache") : num(ms, "file");
  const auto& cpu = e.is_object() && e.contains("cpu_stats") ? e["cpu_stats"] : empty;
  const auto& pre = e.is_object() && e.contains("precpu_stats") ? e["precpu_stats"] : empty;
  const auto& usage = cpu.contains("cpu_usage") ? cpu["cpu_usage"] : empty;
  const auto& pre_usage = pre.contains("cpu_usage") ? pre["cpu_usage"] : empty;
  const auto& thr = cpu.contains("throttling_data") ? cpu["throttling_data"] : empty;
  double percent = 0;
  long long cpu_delta = num(usage, "total_usage") - num(pre_usage, "total_usage");
  long long sys_delta = num(cpu, "system_cpu_usage") - num(pre, "system_cpu_usage");
  long long ncpu = num(cpu, "online_cpus") ? num(cpu, "online_cpus") : 1;
  if (cpu_delta > 0 && sys_delta > 0) {
    percent = static_cast<double>(cpu_delta) / static_cast<double>(sys_delta) * ncpu * 100.0;
  }
  const auto& pids = e.is_object() && e.contains("pids_stats") ? e["pids_stats"] : empty;
  return {{"Pids", num(pids, "current")},
          {"RSSBytes", rss},
          {"MemoryStats",
           {{"RSS", rss},
            {"Cache", cache},
            {"Swap", num(ms, "swap")},
            {"Usage", num(mem, "usage")},
            {"MaxUsage", num(mem, "max_usage")}}},
          {"CpuStats",
           {{"SystemMode", num(usage, "usage_in_kernelmode")},
            {"UserMode", num(usage, "usage_in_usermode")},
            {"TotalTicks", num(usage, "total_usage")},
            {"ThrottledPeriods", num(thr, "throttled_periods")},
            {"ThrottledTime", num(thr, "throttled_time")},
            {"Percent", percent}}}};
}

}  // namespace drover::docker
