// NvmlLibrary: NVML loaded at run time with dlopen (libnvidia-ml.so.1 unless the operator's
// nvml_path says otherwise), its functions looked up once, nvmlInit_v2 on open and
// nvmlShutdown on destruction. A node without NVIDIA's driver has no such library: open()
// then returns nothing and says why, which the plugin reports as "no GPUs", never a crash.
#pragma once

#include <memory>
#include <string>

#include "nvml_api.h"

namespace drover::devices::nvidia {

class NvmlLibrary {
 public:
  // Loads `path`, resolves the functions and initialises NVML. Null on failure, with `error`
  // saying which step failed (dlopen's message, the missing symbol, or nvmlInit_v2's text).
  static std::unique_ptr<NvmlLibrary> open(const std::string& path, std::string& error);
  ~NvmlLibrary();  // nvmlShutdown, then dlclose
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  // NVML's text for an error code ("Not Supported"...).
  std::string error_string(nvmlReturn_t r) const;

  // Required: open() fails without them.
  nvmlInit_v2_fn Init = nullptr;
  nvmlShutdown_fn Shutdown = nullptr;
  nvmlErrorString_fn ErrorString = nullptr;
  nvmlDeviceGetCount_v2_fn DeviceGetCount = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn DeviceGetHandleByIndex = nullptr;
  nvmlDeviceGetUUID_fn DeviceGetUUID = nullptr;
  nvmlDeviceGetName_fn DeviceGetName = nullptr;
  nvmlDeviceGetMemoryInfo_fn DeviceGetMemoryInfo = nullptr;

  // Optional: older drivers lack some; a NULL one means "attribute not reported".
  nvmlSystemGetDriverVersion_fn SystemGetDriverVersion = nullptr;
  nvmlSystemGetCudaDriverVersion_fn SystemGetCudaDriverVersion = nullptr;
  nvmlDeviceGetMinorNumber_fn DeviceGetMinorNumber = nullptr;
  nvmlDeviceGetBAR1MemoryInfo_fn DeviceGetBAR1MemoryInfo = nullptr;
  nvmlDeviceGetPowerManagementLimit_fn DeviceGetPowerManagementLimit = nullptr;
  nvmlDeviceGetPciInfo_v3_fn DeviceGetPciInfo = nullptr;
  nvmlDeviceGetMaxPcieLinkGeneration_fn DeviceGetMaxPcieLinkGeneration = nullptr;
  nvmlDeviceGetMaxPcieLinkWidth_fn DeviceGetMaxPcieLinkWidth = nullptr;
  nvmlDeviceGetMaxClockInfo_fn DeviceGetMaxClockInfo = nullptr;
  nvmlDeviceGetCudaComputeCapability_fn DeviceGetCudaComputeCapability = nullptr;
  nvmlDeviceGetDisplayMode_fn DeviceGetDisplayMode = nullptr;
  nvmlDeviceGetPersistenceMode_fn DeviceGetPersistenceMode = nullptr;
  nvmlDeviceGetMigMode_fn DeviceGetMigMode = nullptr;
  nvmlDeviceGetMaxMigDeviceCount_fn DeviceGetMaxMigDeviceCount = nullptr;
  nvmlDeviceGetMigDeviceHandleByIndex_fn DeviceGetMigDeviceHandleByIndex = nullptr;
  nvmlDeviceGetGpuInstanceId_fn DeviceGetGpuInstanceId = nullptr;
  nvmlDeviceGetComputeInstanceId_fn DeviceGetComputeInstanceId = nullptr;
  nvmlEventSetCreate_fn EventSetCreate = nullptr;
  nvmlDeviceRegisterEvents_fn DeviceRegisterEvents = nullptr;
  nvmlEventSetWait_v2_fn EventSetWait = nullptr;
  nvmlEventSetFree_fn EventSetFree = nullptr;
  nvmlDeviceGetUtilizationRates_fn DeviceGetUtilizationRates = nullptr;
  nvmlDeviceGetTemperature_fn DeviceGetTemperature = nullptr;
  nvmlDeviceGetPowerUsage_fn DeviceGetPowerUsage = nullptr;
  nvmlDeviceGetTotalEccErrors_fn DeviceGetTotalEccErrors = nullptr;

 private:
  explicit NvmlLibrary(void* handle) : handle_(handle) {}
  void* handle_;
  bool initialised_ = false;
};

}  // namespace drover::devices::nvidia
