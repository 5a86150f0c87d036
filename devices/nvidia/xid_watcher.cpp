// The XID event loop of XidWatcher (xid_watcher.hpp).
#include "xid_watcher.hpp"

#include <chrono>
#include <string>

#include "nvml_library.hpp"

namespace drover::devices::nvidia {

namespace {
// How long one nvmlEventSetWait_v2 may block: the bound on how long stopping the plugin takes.
constexpr unsigned kWaitMs = 200;
}  // namespace

bool is_application_xid(unsigned long long xid) {
  switch (xid) {
    case 13:   // graphics engine exception (a kernel's bad access)
    case 31:   // GPU memory page fault
    case 43:   // GPU stopped processing (the app's context was reset)
    case 45:   // preemptive cleanup after a channel was killed
    case 68:   // video processor exception
    case 109:  // context switch timeout
      return true;
    default:
      return false;
  }
}

XidWatcher::XidWatcher(const NvmlLibrary& nvml, const std::vector<nvmlDevice_t>& gpus,
                       std::function<void(const XidEvent&)> on_xid,
                       std::function<void(const std::string&)> on_problem)
    : nvml_(nvml), on_xid_(std::move(on_xid)) {
  if (!nvml.EventSetCreate || !nvml.DeviceRegisterEvents || !nvml.EventSetWait ||
      !nvml.EventSetFree) {
    on_problem("NVML has no event API: XID health checks are off");
    return;
  }
  if (nvmlReturn_t r = nvml.EventSetCreate(&set_); r != NVML_SUCCESS) {
    on_problem("cannot create an NVML event set: " + nvml.error_string(r));
    set_ = nullptr;
    return;
  }
  int registered = 0;
  for (nvmlDevice_t gpu : gpus) {
    if (nvml.DeviceRegisterEvents(gpu, nvmlEventTypeXidCriticalError, set_) == NVML_SUCCESS) {
      ++registered;
    }
  }
  if (registered == 0) {
    if (!gpus.empty())
      on_problem("no GPU accepts XID event registration: XID health checks are off");
    nvml.EventSetFree(set_);
    set_ = nullptr;
    return;
  }
  thread_ = std::thread([this] { run(); });
}

XidWatcher::~XidWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (set_ != nullptr) nvml_.EventSetFree(set_);
}

void XidWatcher::run() {
  while (!stop_) {
    nvmlEventData_t data{};
    const nvmlReturn_t r = nvml_.EventSetWait(set_, &data, kWaitMs);
    if (r == NVML_ERROR_TIMEOUT) continue;
    if (r != NVML_SUCCESS) {
      // A failing wait would otherwise spin: back off for one wait period.
      std::this_thread::sleep_for(std::chrono::milliseconds(kWaitMs));
      continue;
    }
    if ((data.eventType & nvmlEventTypeXidCriticalError) == 0) continue;
    if (is_application_xid(data.eventData)) continue;
    on_xid_(XidEvent{data.device, data.eventData, data.gpuInstanceId, data.computeInstanceId});
  }
}

}  // namespace drover::devices::nvidia
