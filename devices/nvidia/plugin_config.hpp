// The nvidia plugin's operator config, with Nomad's nvidia plugin names and defaults:
//   enabled (true), fingerprint_period ("1m"), ignored_gpu_ids ([]), and drover's own
//   nvml_path ("libnvidia-ml.so.1", searched as dlopen searches).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace drover::devices::nvidia {

struct PluginConfig {
  bool enabled = true;
  std::chrono::milliseconds fingerprint_period = std::chrono::minutes(1);
  std::set<std::string> ignored_gpu_ids;  // GPU or MIG UUIDs never offered
  std::string nvml_path = "libnvidia-ml.so.1";
};

// Throws std::invalid_argument naming the key when a value has the wrong type or a bad
// duration ("fingerprint_period: ..."). Durations: "500ms", "30s", "1m", "2h", or a number of
// nanoseconds (what Nomad's JSON form carries).
PluginConfig parse_config(const nlohmann::json& config);

}  // namespace drover::devices::nvidia
