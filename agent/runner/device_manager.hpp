// Devices for tasks: reads the device plugins' inventory, matches a task's device requests
// (name as type, vendor/type or vendor/type/model, plus attribute constraints), picks healthy
// free instances, records the reservation in the state store before the task starts (never two
// tasks on one instance; kept across restarts), and asks the plugin what the task needs
// (env such as NVIDIA_VISIBLE_DEVICES, device nodes, mounts).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "runner/device_match.hpp"

namespace drover::plugins {
class PluginRegistry;
}
namespace drover::state {
class StateStore;
}

namespace drover::runner {

// A task's `numa { devices }` (docs/cgroups.md, "NUMA"): the requests it names take only
// instances on NUMA node `node`, the node of the task's cores.
struct NumaBinding {
  int node = 0;
  std::vector<std::string> devices;  // request names
};

class DeviceManager {
 public:
  // `pci_devices`: where the kernel shows each PCI device's numa_node (an instance's
  // locality, from its pci_bus_id attribute).
  DeviceManager(plugins::PluginRegistry* plugins, state::StateStore* store,
                std::filesystem::path pci_devices = "/sys/bus/pci/devices");

  // Nomad's Node.NodeResources.Devices: [{Vendor, Type, Name, Attributes, Instances}], with
  // each device group's plugin in "Plugin".
  nlohmann::json inventory() const;
  // Whether `requests` could be satisfied now (healthy, free, matching instances; on `numa`'s
  // node for the requests it names).
  Status fits(const std::vector<jobspec::DeviceRequest>& requests, int count = 1,
              const NumaBinding* numa = nullptr) const;
  // Reserves instances for `owner` ("<alloc>.<task>") and returns what the driver needs:
  // {"Env": {...}, "Devices": [...], "Mounts": [...], "DeviceIDs": [...]}. The same owner
  // asking again (recovery) gets its recorded instances back.
  Result<nlohmann::json> reserve(const std::string& owner,
                                 const std::vector<jobspec::DeviceRequest>& requests,
                                 const NumaBinding* numa = nullptr);
  // The NUMA node of an inventory instance: its pci_bus_id attribute's numa_node in sysfs;
  // -1 when the kernel gives the device none (a host of one node), nullopt when unknown (no
  // bus id, or no such device).
  std::optional<int> numa_node_of(const nlohmann::json& instance) const;
  void release(const std::string& owner);
  // Keeps only the reservations of `live` owners (agent start).
  void release_all_but(const std::set<std::string>& live);
  // Per-instance stats of the instances `owner` holds: {id: {stat: {Value, Unit}}}.
  nlohmann::json stats_for(const std::string& owner) const;
  // Every instance's stats, grouped as Nomad's host stats group them:
  // [{Vendor, Type, Name, Plugin, InstanceStats: {id: {Stats: {stat: {Value, Unit}},
  // Timestamp}}}]; a plugin that reports nothing is left out.
  nlohmann::json all_stats() const;

 private:
  struct Pick {
    std::string plugin;
    std::vector<std::string> ids;
  };
  Result<std::vector<Pick>> pick(const std::vector<jobspec::DeviceRequest>& requests, int count,
                                 const std::set<std::string>& taken, const NumaBinding* numa) const;
  std::set<std::string> taken_locked() const;
  void persist_locked();

  plugins::PluginRegistry* plugins_;
  state::StateStore* store_;
  std::filesystem::path pci_devices_;
  mutable std::mutex mu_;
  // owner -> [{"Plugin", "IDs"}]
  std::map<std::string, nlohmann::json> reservations_;
};

}  // namespace drover::runner
