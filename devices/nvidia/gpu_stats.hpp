// Usage of each GPU instance, read from NVML when the agent asks (every stats period).
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "gpu_inventory.hpp"

namespace drover::devices::nvidia {

class NvmlLibrary;

// {"Timestamp": unix ns, "Instances": {ID: {"Vendor", "Type", "Name", "Stats": {...}}}}.
// Stats (each {"Value", "Unit"}): "GPU utilization" %, "Memory utilization" %, "Memory used"
// MiB, "Memory total" MiB, "Power usage" W, "Temperature" C, "ECC errors" (uncorrected,
// since boot). A stat NVML does not support for an instance (MIG slices share the parent's
// sensors) is left out; power and temperature of a MIG slice are its parent's.
nlohmann::json read_stats(const NvmlLibrary& nvml, const std::vector<GpuInstance>& instances);

}  // namespace drover::devices::nvidia
