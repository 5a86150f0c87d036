// Nomad's ResourceUsage JSON from Stats, and the two-sample CPU percent behind it.
#include "drover/cgroups/stats_json.hpp"

#include <nlohmann/json.hpp>

namespace drover::cgroups {

CpuUsage CpuPercent::update(const Stats& stats, std::chrono::steady_clock::time_point now) {
  CpuUsage u;
  if (last_) {
    const auto& [prev, then] = *last_;
    double wall_ns = std::chrono::duration<double, std::nano>(now - then).count();
    auto pct = [&](uint64_t a, uint64_t b) {
      return (wall_ns <= 0 || a < b) ? 0.0 : 100.0 * static_cast<double>(a - b) / wall_ns;
    };
    u.percent = pct(stats.cpu.total_ns, prev.total_ns);
    u.user_percent = pct(stats.cpu.user_ns, prev.user_ns);
    u.system_percent = pct(stats.cpu.system_ns, prev.system_ns);
    u.total_ticks = u.percent / 100.0 * mhz_per_core_;
  }
  last_.emplace(stats.cpu, now);
  return u;
}

nlohmann::json to_nomad_json(const Stats& s, const CpuUsage& u) {
  return {
      {"MemoryStats",
       {{"RSS", s.memory.rss},
        {"Cache", s.memory.cache},
        {"Swap", s.memory.swap},
        {"Usage", s.memory.usage},
        {"MaxUsage", s.memory.max_usage},
        {"Measured", s.memory.measured}}},
      {"CpuStats",
       {{"SystemMode", u.system_percent},
        {"UserMode", u.user_percent},
        {"TotalTicks", u.total_ticks},
        {"ThrottledPeriods", s.cpu.throttled_periods},
        {"ThrottledTime", s.cpu.throttled_time_ns},
        {"Percent", u.percent},
        {"Measured", s.cpu.measured}}},
  };
}

}  // namespace drover::cgroups
