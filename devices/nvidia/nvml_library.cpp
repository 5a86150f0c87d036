// NvmlLibrary: dlopen of NVML and the lookup of every function the plugin calls.
#include "nvml_library.hpp"

#include <dlfcn.h>

namespace drover::devices::nvidia {
namespace {

template <typename Fn>
void look_up(void* handle, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

std::unique_ptr<NvmlLibrary> NvmlLibrary::open(const std::string& path, std::string& error) {
  // RTLD_LOCAL: NVML's symbols must not leak into other plugins of the agent.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    error = "cannot load NVML (" + path + "): " + (why ? why : "dlopen failed");
    return nullptr;
  }
  std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary(handle));
  NvmlLibrary& l = *lib;
  look_up(handle, "nvmlInit_v2", l.Init);
  look_up(handle, "nvmlShutdown", l.Shutdown);
  look_up(handle, "nvmlErrorString", l.ErrorString);
  look_up(handle, "nvmlDeviceGetCount_v2", l.DeviceGetCount);
  look_up(handle, "nvmlDeviceGetHandleByIndex_v2", l.DeviceGetHandleByIndex);
  look_up(handle, "nvmlDeviceGetUUID", l.DeviceGetUUID);
  look_up(handle, "nvmlDeviceGetName", l.DeviceGetName);
  look_up(handle, "nvmlDeviceGetMemoryInfo", l.DeviceGetMemoryInfo);
  const std::pair<const char*, bool> required[] = {
      {"nvmlInit_v2", l.Init != nullptr},
      {"nvmlShutdown", l.Shutdown != nullptr},
      {"nvmlErrorString", l.ErrorString != nullptr},
      {"nvmlDeviceGetCount_v2", l.DeviceGetCount != nullptr},
      {"nvmlDeviceGetHandleByIndex_v2", l.DeviceGetHandleByIndex != nullptr},
      {"nvmlDeviceGetUUID", l.DeviceGetUUID != nullptr},
      {"nvmlDeviceGetName", l.DeviceGetName != nullptr},
      {"nvmlDeviceGetMemoryInfo", l.DeviceGetMemoryInfo != nullptr}};
  for (const auto& [name, found] : required) {
    if (!found) {
      error = "NVML at " + path + " has no " + name + " function";
      return nullptr;
    }
  }
  look_up(handle, "nvmlSystemGetDriverVersion", l.SystemGetDriverVersion);
  look_up(handle, "nvmlSystemGetCudaDriverVersion", l.SystemGetCudaDriverVersion);
  look_up(handle, "nvmlDeviceGetMinorNumber", l.DeviceGetMinorNumber);
  look_up(handle, "nvmlDeviceGetBAR1MemoryInfo", l.DeviceGetBAR1MemoryInfo);
  look_up(handle, "nvmlDeviceGetPowerManagementLimit", l.DeviceGetPowerManagementLimit);
  look_up(handle, "nvmlDeviceGetPciInfo_v3", l.DeviceGetPciInfo);
  look_up(handle, "nvmlDeviceGetMaxPcieLinkGeneration", l.DeviceGetMaxPcieLinkGeneration);
  look_up(handle, "nvmlDeviceGetMaxPcieLinkWidth", l.DeviceGetMaxPcieLinkWidth);
  look_up(handle, "nvmlDeviceGetMaxClockInfo", l.DeviceGetMaxClockInfo);
  look_up(handle, "nvmlDeviceGetCudaComputeCapability", l.DeviceGetCudaComputeCapability);
  look_up(handle, "nvmlDeviceGetDisplayMode", l.DeviceGetDisplayMode);
  look_up(handle, "nvmlDeviceGetPersistenceMode", l.DeviceGetPersistenceMode);
  look_up(handle, "nvmlDeviceGetMigMode", l.DeviceGetMigMode);
  look_up(handle, "nvmlDeviceGetMaxMigDeviceCount", l.DeviceGetMaxMigDeviceCount);
  look_up(handle, "nvmlDeviceGetMigDeviceHandleByIndex", l.DeviceGetMigDeviceHandleByIndex);
  look_up(handle, "nvmlDeviceGetGpuInstanceId", l.DeviceGetGpuInstanceId);
  look_up(handle, "nvmlDeviceGetComputeInstanceId", l.DeviceGetComputeInstanceId);
  look_up(handle, "nvmlEventSetCreate", l.EventSetCreate);
  look_up(handle, "nvmlDeviceRegisterEvents", l.DeviceRegisterEvents);
  look_up(handle, "nvmlEventSetWait_v2", l.EventSetWait);
  look_up(handle, "nvmlEventSetFree", l.EventSetFree);
  look_up(handle, "nvmlDeviceGetUtilizationRates", l.DeviceGetUtilizationRates);
  look_up(handle, "nvmlDeviceGetTemperature", l.DeviceGetTemperature);
  look_up(handle, "nvmlDeviceGetPowerUsage", l.DeviceGetPowerUsage);
  look_up(handle, "nvmlDeviceGetTotalEccErrors", l.DeviceGetTotalEccErrors);

  if (nvmlReturn_t r = l.Init(); r != NVML_SUCCESS) {
    error = "NVML init failed: " + l.error_string(r);
    return nullptr;
  }
  l.initialised_ = true;
  return lib;
}

NvmlLibrary::~NvmlLibrary() {
  if (initialised_) Shutdown();
  dlclose(handle_);
}

std::string NvmlLibrary::error_string(nvmlReturn_t r) const {
  const char* s = ErrorString ? ErrorString(r) : nullptr;
  return s ? std::string(s) : "NVML error " + std::to_string(static_cast<int>(r));
}

}  // namespace drover::devices::nvidia
