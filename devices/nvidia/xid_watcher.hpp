// XidWatcher: a thread that waits on NVML's critical-XID events for the node's GPUs and
// reports each critical XID to a callback, so that the plugin can mark the instance
// unhealthy. It waits with a short timeout so that it can be stopped promptly.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "nvml_api.h"

namespace drover::devices::nvidia {

class NvmlLibrary;

// XIDs that an application causes (illegal address, MMU fault from a bad kernel, a killed
// context...): the GPU is fine, so they never make it unhealthy. NVIDIA's Kubernetes device
// plugin skips the same ones.
bool is_application_xid(unsigned long long xid);

struct XidEvent {
  nvmlDevice_t gpu{};  // the physical GPU
  unsigned long long xid = 0;
  unsigned gpu_instance_id = NVML_INVALID_INSTANCE_ID;  // MIG: which slice, if known
  unsigned compute_instance_id = NVML_INVALID_INSTANCE_ID;
};

class XidWatcher {
 public:
  // Registers `gpus` for XID events and starts the thread. `on_xid` runs on that thread for
  // every critical XID (application XIDs are already filtered out). `on_problem` gets a
  // one-line reason when events cannot be watched at all (old driver, no permission).
  XidWatcher(const NvmlLibrary& nvml, const std::vector<nvmlDevice_t>& gpus,
             std::function<void(const XidEvent&)> on_xid,
             std::function<void(const std::string&)> on_problem);
  ~XidWatcher();  // stops and joins within one wait timeout
  XidWatcher(const XidWatcher&) = delete;
  XidWatcher& operator=(const XidWatcher&) = delete;

 private:
  void run();

  const NvmlLibrary& nvml_;
  nvmlEventSet_t set_{};
  std::function<void(const XidEvent&)> on_xid_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace drover::devices::nvidia
