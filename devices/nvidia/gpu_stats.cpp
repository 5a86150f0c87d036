// read_stats (gpu_stats.hpp).
#include "gpu_stats.hpp"

#include <chrono>

#include "nvml_library.hpp"

namespace drover::devices::nvidia {
namespace {

using nlohmann::json;

json stat(json value, const char* unit) { return {{"Value", std::move(value)}, {"Unit", unit}}; }

json instance_stats(const NvmlLibrary& n, const GpuInstance& g) {
  json s = json::object();
  nvmlUtilization_t util{};
  if (n.DeviceGetUtilizationRates && n.DeviceGetUtilizationRates(g.handle, &util) == NVML_SUCCESS) {
    s["GPU utilization"] = stat(util.gpu, "%");
    s["Memory utilization"] = stat(util.memory, "%");
  }
  nvmlMemory_t mem{};
  if (n.DeviceGetMemoryInfo(g.handle, &mem) == NVML_SUCCESS) {
    s["Memory used"] = stat(mem.used / (1024 * 1024), "MiB");
    s["Memory total"] = stat(mem.total / (1024 * 1024), "MiB");
  }
  unsigned v = 0;
  if (n.DeviceGetPowerUsage && n.DeviceGetPowerUsage(g.parent, &v) == NVML_SUCCESS) {
    s["Power usage"] = stat(v / 1000, "W");
  }
  if (n.DeviceGetTemperature &&
      n.DeviceGetTemperature(g.parent, NVML_TEMPERATURE_GPU, &v) == NVML_SUCCESS) {
    s["Temperature"] = stat(v, "C");
  }
  unsigned long long ecc = 0;
  if (n.DeviceGetTotalEccErrors &&
      n.DeviceGetTotalEccErrors(g.handle, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC,
                                &ecc) == NVML_SUCCESS) {
    s["ECC errors"] = stat(ecc, "");
  }
  return s;
}

}  // namespace

json read_stats(const NvmlLibrary& n, const std::vector<GpuInstance>& instances) {
  json out = json::object();
  for (const auto& g : instances) {
    out[g.id] = {
        {"Vendor", "nvidia"}, {"Type", "gpu"}, {"Name", g.name}, {"Stats", instance_stats(n, g)}};
  }
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return {{"Timestamp", static_cast<long long>(now.count())}, {"Instances", std::move(out)}};
}

}  // namespace drover::devices::nvidia
