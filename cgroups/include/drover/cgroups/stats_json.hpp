// Stats in Nomad's ResourceUsage shape, and CPU percent from two samples.
#pragma once

#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {

// Rates over the interval between two stats() samples. Percent is of one core (200 = two
// cores busy); TotalTicks is Nomad's MHz-equivalent: Percent / 100 * mhz_per_core.
struct CpuUsage {
  double percent = 0, user_percent = 0, system_percent = 0, total_ticks = 0;
};

// Keeps the previous sample of one task; the first update gives zeros.
class CpuPercent {
 public:
  explicit CpuPercent(double mhz_per_core = 0) : mhz_per_core_(mhz_per_core) {}
  CpuUsage update(const Stats& stats,
                  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  double mhz_per_core_;
  std::optional<std::pair<CpuStats, std::chrono::steady_clock::time_point>> last_;
};

// {"MemoryStats":{"RSS","Cache","Swap","Usage","MaxUsage","Measured"},
//  "CpuStats":{"SystemMode","UserMode","TotalTicks","ThrottledPeriods","ThrottledTime",
//              "Percent","Measured"}}
nlohmann::json to_nomad_json(const Stats& stats, const CpuUsage& usage = {});

}  // namespace drover::cgroups
