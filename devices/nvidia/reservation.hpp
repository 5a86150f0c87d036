// What a task needs to use some GPU instances: NVIDIA_VISIBLE_DEVICES with their UUIDs (for
// the NVIDIA container runtime and CUDA), and the /dev/nvidia* nodes an isolated task must
// be given (the GPUs' own nodes, the control and UVM nodes, and for MIG the capability
// nodes of its GPU and compute instances).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpu_inventory.hpp"

namespace drover::devices::nvidia {

// {"Env": {...}, "Devices": [...], "Mounts": []} (plugin.h). Throws std::invalid_argument
// for an unknown or repeated ID. `proc_root` is where /proc/driver/nvidia is read from (the
// MIG capability minors).
nlohmann::json make_reservation(const std::vector<GpuInstance>& instances,
                                const std::vector<std::string>& ids,
                                const std::string& proc_root = "/proc");

}  // namespace drover::devices::nvidia
