// Reading GPUs and MIG devices from NVML into a GpuInventory, and the device groups of the
// fingerprint. Attribute names and units follow Nomad's nvidia plugin so that job
// constraints written for Nomad (${device.attr.memory} >= 40 GiB) carry over.
#include "gpu_inventory.hpp"

#include <cstdio>

#include "nvml_library.hpp"

namespace drover::devices::nvidia {
namespace {

using nlohmann::json;

json attr(json value, const char* unit = "") {
  return {{"Value", std::move(value)}, {"Unit", unit}};
}

std::string read_string(nvmlReturn_t (*fn)(nvmlDevice_t, char*, unsigned), nvmlDevice_t d) {
  char buf[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = {};
  if (fn(d, buf, sizeof buf) != NVML_SUCCESS) return {};
  buf[sizeof buf - 1] = '\0';
  return buf;
}

const char* enabled_text(nvmlEnableState_t s) {
  return s == NVML_FEATURE_ENABLED ? "Enabled" : "Disabled";
}

// MB/s per lane for each PCIe generation, as Nomad's plugin computes pci_bandwidth.
unsigned per_lane_mbps(unsigned gen) {
  switch (gen) {
    case 1:
      return 250;
    case 2:
      return 500;
    case 3:
      return 985;
    case 4:
      return 1969;
    case 5:
      return 3938;
    case 6:
      return 7563;
    default:
      return 0;
  }
}

// Attributes of a physical GPU that a whole group shares.
json gpu_attributes(const NvmlLibrary& n, nvmlDevice_t d, const std::string& driver_version,
                    const std::string& cuda_version) {
  json a = json::object();
  nvmlMemory_t mem{};
  if (n.DeviceGetMemoryInfo(d, &mem) == NVML_SUCCESS) {
    a["memory"] = attr(mem.total / (1024 * 1024), "MiB");
  }
  unsigned v = 0;
  if (n.DeviceGetPowerManagementLimit && n.DeviceGetPowerManagementLimit(d, &v) == NVML_SUCCESS) {
    a["power"] = attr(v / 1000, "W");
  }
  nvmlBAR1Memory_t bar1{};
  if (n.DeviceGetBAR1MemoryInfo && n.DeviceGetBAR1MemoryInfo(d, &bar1) == NVML_SUCCESS) {
    a["bar1"] = attr(bar1.bar1Total / (1024 * 1024), "MiB");
  }
  unsigned gen = 0, width = 0;
  if (n.DeviceGetMaxPcieLinkGeneration && n.DeviceGetMaxPcieLinkWidth &&
      n.DeviceGetMaxPcieLinkGeneration(d, &gen) == NVML_SUCCESS &&
      n.DeviceGetMaxPcieLinkWidth(d, &width) == NVML_SUCCESS && per_lane_mbps(gen) != 0) {
    a["pci_bandwidth"] = attr(per_lane_mbps(gen) * width, "MB/s");
  }
  if (n.DeviceGetMaxClockInfo && n.DeviceGetMaxClockInfo(d, NVML_CLOCK_SM, &v) == NVML_SUCCESS) {
    a["cores_clock"] = attr(v, "MHz");
  }
  if (n.DeviceGetMaxClockInfo && n.DeviceGetMaxClockInfo(d, NVML_CLOCK_MEM, &v) == NVML_SUCCESS) {
    a["memory_clock"] = attr(v, "MHz");
  }
  nvmlEnableState_t state{};
  if (n.DeviceGetDisplayMode && n.DeviceGetDisplayMode(d, &state) == NVML_SUCCESS) {
    a["display_state"] = attr(enabled_text(state));
  }
  if (n.DeviceGetPersistenceMode && n.DeviceGetPersistenceMode(d, &state) == NVML_SUCCESS) {
    a["persistence_mode"] = attr(enabled_text(state));
  }
  int major = 0, minor = 0;
  if (n.DeviceGetCudaComputeCapability &&
      n.DeviceGetCudaComputeCapability(d, &major, &minor) == NVML_SUCCESS) {
    a["compute_capability"] = attr(std::to_string(major) + "." + std::to_string(minor));
  }
  if (!driver_version.empty()) a["driver_version"] = attr(driver_version);
  if (!cuda_version.empty()) a["cuda_driver_version"] = attr(cuda_version);
  return a;
}

std::string pci_bus_id(const NvmlLibrary& n, nvmlDevice_t d) {
  nvmlPciInfo_t pci{};
  if (!n.DeviceGetPciInfo || n.DeviceGetPciInfo(d, &pci) != NVML_SUCCESS) return {};
  pci.busId[sizeof pci.busId - 1] = '\0';
  return pci.busId;
}

bool mig_enabled(const NvmlLibrary& n, nvmlDevice_t d) {
  if (!n.DeviceGetMigMode || !n.DeviceGetMaxMigDeviceCount || !n.DeviceGetMigDeviceHandleByIndex) {
    return false;
  }
  unsigned current = 0, pending = 0;
  return n.DeviceGetMigMode(d, &current, &pending) == NVML_SUCCESS &&
         current == NVML_DEVICE_MIG_ENABLE;
}

}  // namespace

GpuInventory read_inventory(const NvmlLibrary& n, const std::set<std::string>& ignored) {
  GpuInventory inv;
  char driver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {};
  if (n.SystemGetDriverVersion && n.SystemGetDriverVersion(driver, sizeof driver) == NVML_SUCCESS) {
    driver[sizeof driver - 1] = '\0';
    inv.driver_version = driver;
  }
  std::string cuda;
  int cuda_version = 0;
  if (n.SystemGetCudaDriverVersion && n.SystemGetCudaDriverVersion(&cuda_version) == NVML_SUCCESS &&
      cuda_version > 0) {
    cuda = std::to_string(cuda_version / 1000) + "." + std::to_string((cuda_version % 1000) / 10);
  }

  unsigned count = 0;
  if (n.DeviceGetCount(&count) != NVML_SUCCESS) return inv;
  for (unsigned i = 0; i < count; ++i) {
    nvmlDevice_t gpu{};
    if (n.DeviceGetHandleByIndex(i, &gpu) != NVML_SUCCESS) continue;
    const std::string uuid = read_string(n.DeviceGetUUID, gpu);
    const std::string name = read_string(n.DeviceGetName, gpu);
    if (uuid.empty() || name.empty() || ignored.count(uuid)) continue;
    inv.physical_gpus.push_back(gpu);
    inv.uuids[gpu] = uuid;

    unsigned minor = kUnknownMinor;
    if (n.DeviceGetMinorNumber && n.DeviceGetMinorNumber(gpu, &minor) != NVML_SUCCESS) {
      minor = kUnknownMinor;
    }
    const json attrs = gpu_attributes(n, gpu, inv.driver_version, cuda);
    const std::string bus_id = pci_bus_id(n, gpu);

    if (!mig_enabled(n, gpu)) {
      GpuInstance g;
      g.id = uuid;
      g.name = name;
      g.handle = g.parent = gpu;
      g.parent_uuid = uuid;
      g.minor = minor;
      g.group_attributes = attrs;
      if (!bus_id.empty()) g.instance_attributes["pci_bus_id"] = attr(bus_id);
      inv.instances.push_back(std::move(g));
      continue;
    }
    // MIG on: the MIG devices are what tasks get; the parent is never offered whole.
    unsigned slots = 0;
    if (n.DeviceGetMaxMigDeviceCount(gpu, &slots) != NVML_SUCCESS) continue;
    for (unsigned s = 0; s < slots; ++s) {
      nvmlDevice_t mig{};
      if (n.DeviceGetMigDeviceHandleByIndex(gpu, s, &mig) != NVML_SUCCESS) continue;  // empty slot
      GpuInstance g;
      g.id = read_string(n.DeviceGetUUID, mig);
      g.name = read_string(n.DeviceGetName, mig);
      if (g.id.empty() || ignored.count(g.id)) continue;
      if (g.name.empty()) g.name = name + " MIG";
      g.handle = mig;
      g.parent = gpu;
      g.parent_uuid = uuid;
      g.minor = minor;
      g.mig = true;
      if (n.DeviceGetGpuInstanceId) n.DeviceGetGpuInstanceId(mig, &g.gpu_instance_id);
      if (n.DeviceGetComputeInstanceId) n.DeviceGetComputeInstanceId(mig, &g.compute_instance_id);
      g.group_attributes = attrs;  // clocks, driver, PCIe: the parent's
      nvmlMemory_t mem{};
      if (n.DeviceGetMemoryInfo(mig, &mem) == NVML_SUCCESS) {
        g.group_attributes["memory"] = attr(mem.total / (1024 * 1024), "MiB");
      }
      g.group_attributes.erase("bar1");  // the parent's BAR1 is not this slice's
      g.instance_attributes["parent_uuid"] = attr(uuid);
      if (!bus_id.empty()) g.instance_attributes["pci_bus_id"] = attr(bus_id);
      inv.instances.push_back(std::move(g));
    }
  }
  return inv;
}

json device_groups(const GpuInventory& inv, const std::map<std::string, std::string>& unhealthy) {
  json groups = json::array();
  std::map<std::string, std::size_t> by_name;  // model name -> index in groups
  for (const auto& g : inv.instances) {
    auto [it, fresh] = by_name.emplace(g.name, groups.size());
    if (fresh) {
      groups.push_back({{"Vendor", "nvidia"},
                        {"Type", "gpu"},
                        {"Name", g.name},
                        {"Attributes", g.group_attributes},
                        {"Instances", json::array()}});
    }
    auto bad = unhealthy.find(g.id);
    groups[it->second]["Instances"].push_back(
        {{"ID", g.id},
         {"Healthy", bad == unhealthy.end()},
         {"HealthDescription", bad == unhealthy.end() ? "" : bad->second},
         {"Attributes", g.instance_attributes}});
  }
  return groups;
}

}  // namespace drover::devices::nvidia
