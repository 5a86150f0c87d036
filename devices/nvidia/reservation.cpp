// The reservation JSON of make_reservation (reservation.hpp).
#include "reservation.hpp"

#include <fstream>
#include <set>
#include <stdexcept>

namespace drover::devices::nvidia {
namespace {

using nlohmann::json;

json device_node(const std::string& path) {
  return {{"HostPath", path}, {"ContainerPath", path}, {"Permissions", "rw"}};
}

// The "DeviceFileMinor: N" of a MIG capability file, or -1 when the driver exposes none.
int capability_minor(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = "DeviceFileMinor:";
    if (line.rfind(key, 0) == 0) {
      try {
        return std::stoi(line.substr(key.size()));
      } catch (...) {
        return -1;
      }
    }
  }
  return -1;
}

}  // namespace

json make_reservation(const std::vector<GpuInstance>& instances,
                      const std::vector<std::string>& ids, const std::string& proc_root) {
  if (ids.empty()) throw std::invalid_argument("reserve: no instance IDs given");
  std::string visible;
  std::set<std::string> seen;
  std::set<unsigned> minors;
  std::vector<std::string> cap_nodes;
  for (const auto& id : ids) {
    if (!seen.insert(id).second) throw std::invalid_argument("reserve: " + id + " asked twice");
    const GpuInstance* found = nullptr;
    for (const auto& g : instances) {
      if (g.id == id) found = &g;
    }
    if (found == nullptr) {
      throw std::invalid_argument("reserve: unknown instance " + id +
                                  " (not on this node, or ignored)");
    }
    if (found->minor == kUnknownMinor) {
      throw std::invalid_argument("reserve: NVML gives no device node for " + id);
    }
    if (!visible.empty()) visible += ',';
    visible += id;
    minors.insert(found->minor);
    if (found->mig && found->gpu_instance_id != NVML_INVALID_INSTANCE_ID) {
      // The nvidia-caps nodes gate access to one GPU instance and one compute instance.
      const std::string gi = proc_root + "/driver/nvidia/capabilities/gpu" +
                             std::to_string(found->minor) + "/mig/gi" +
                             std::to_string(found->gpu_instance_id);
      for (const std::string& file :
           {gi + "/access", gi + "/ci" + std::to_string(found->compute_instance_id) + "/access"}) {
        if (int m = capability_minor(file); m >= 0) {
          cap_nodes.push_back("/dev/nvidia-caps/nvidia-cap" + std::to_string(m));
        }
      }
    }
  }
  json devices = json::array();
  for (unsigned m : minors) devices.push_back(device_node("/dev/nvidia" + std::to_string(m)));
  for (const char* ctl : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"}) {
    devices.push_back(device_node(ctl));
  }
  std::set<std::string> caps_seen;
  for (const auto& c : cap_nodes) {
    if (caps_seen.insert(c).second) devices.push_back(device_node(c));
  }
  return {{"Env", {{"NVIDIA_VISIBLE_DEVICES", visible}}},
          {"Devices", std::move(devices)},
          {"Mounts", json::array()}};
}

}  // namespace drover::devices::nvidia
