// Maps the Engine API's container stats to drover's task stats shape:
// {"Pids", "RSSBytes", "MemoryStats": {RSS, Cache, Swap, Usage, MaxUsage},
//  "CpuStats": {SystemMode, UserMode, TotalTicks, ThrottledPeriods, ThrottledTime, Percent}}.
#pragma once

#include <nlohmann/json.hpp>

namespace drover::docker {

nlohmann::json stats_from_engine(const nlohmann::json& engine);

}  // namespace drover::docker
