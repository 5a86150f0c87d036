// GpuInventory: what NVML says about the node's GPUs at one moment, turned into schedulable
// instances (a GPU by UUID, or, when MIG is on, each of its MIG devices by MIG UUID and never
// the parent) and into the device groups of the fingerprint.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "nvml_api.h"

namespace drover::devices::nvidia {

class NvmlLibrary;

inline constexpr unsigned kUnknownMinor = 0xFFFFFFFFu;

struct GpuInstance {
  std::string id;                  // GPU UUID ("GPU-...") or MIG UUID ("MIG-...")
  std::string name;                // the device group's model name, as NVML names the device
  nvmlDevice_t handle{};           // for stats of this instance
  nvmlDevice_t parent{};           // the physical GPU (== handle when not MIG)
  std::string parent_uuid;         // the physical GPU's UUID (== id when not MIG)
  unsigned minor = kUnknownMinor;  // N of /dev/nvidiaN (the physical GPU's)
  bool mig = false;
  unsigned gpu_instance_id = NVML_INVALID_INSTANCE_ID;  // MIG only
  unsigned compute_instance_id = NVML_INVALID_INSTANCE_ID;
  nlohmann::json group_attributes = nlohmann::json::object();     // {k: {"Value","Unit"}}
  nlohmann::json instance_attributes = nlohmann::json::object();  // pci_bus_id, parent, ...
};

struct GpuInventory {
  std::vector<GpuInstance> instances;         // schedulable, in NVML index order
  std::vector<nvmlDevice_t> physical_gpus;    // every GPU not ignored, for XID events
  std::map<nvmlDevice_t, std::string> uuids;  // physical handle -> UUID
  std::string driver_version;                 // "550.54.15" or ""
};

// Reads every GPU NVML sees, skipping the UUIDs in `ignored` (a GPU UUID skips its MIG
// devices too). A GPU that NVML cannot describe (no UUID or name) is skipped, not fatal.
GpuInventory read_inventory(const NvmlLibrary& nvml, const std::set<std::string>& ignored);

// The fingerprint's "Devices": one group per model name, instances by ID, health from
// `unhealthy` (ID -> reason; absent means healthy).
nlohmann::json device_groups(const GpuInventory& inv,
                             const std::map<std::string, std::string>& unhealthy);

}  // namespace drover::devices::nvidia
