// A fake NVML for the nvidia device plugin's tests: a real shared library exporting the NVML
// C functions the plugin looks up, describing the GPUs named in the JSON file at
// $FAKE_NVML_CONFIG (read at nvmlInit_v2). Built from the plugin's own nvml_api.h, so the
// plugin reaches it through the same dlopen/dlsym path as NVIDIA's libnvidia-ml.so.1.
//
// {"init_error": 9,                      NVML code nvmlInit_v2 fails with (absent: success)
//  "driver_version": "550.54.15", "cuda_driver_version": 12040,
//  "gpus": [{"uuid", "name", "memory_mib", "memory_used_mib", "minor", "bus_id",
//            "power_limit_mw", "power_mw", "bar1_mib", "sm_clock_mhz", "mem_clock_mhz",
//            "pcie_gen", "pcie_width", "compute_capability": [9, 0], "display": bool,
//            "persistence": bool, "utilization": [gpu, mem], "temperature_c",
//            "ecc_uncorrected",
//            "mig": [{"uuid", "name", "memory_mib", "gpu_instance", "compute_instance"}]}],
//  "xids": [{"gpu": index, "xid": N, "gpu_instance": id, "compute_instance": id}]}
// XIDs are delivered once each, in order, to every event set that registered their GPU.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nvml_api.h"

struct nvmlDevice_st {
  int gpu;
  int mig;  // -1: the physical GPU
};

struct nvmlEventSet_st {
  std::set<int> gpus;
  std::size_t next_xid = 0;
};

namespace {

using nlohmann::json;

std::mutex mu;
json config = json::object();
std::deque<nvmlDevice_st> handles;  // stable addresses
bool initialised = false;

const json& gpus() {
  static const json empty = json::array();
  auto it = config.find("gpus");
  return it != config.end() && it->is_array() ? *it : empty;
}

const json* gpu_of(nvmlDevice_t d) {
  if (d == nullptr || !initialised || d->gpu < 0 || d->gpu >= static_cast<int>(gpus().size())) {
    return nullptr;
  }
  const json& g = gpus()[d->gpu];
  if (d->mig < 0) return &g;
  const json& migs = g.value("mig", json::array());
  return d->mig < static_cast<int>(migs.size()) ? &g["mig"][d->mig] : nullptr;
}

nvmlDevice_t handle(int gpu, int mig) {
  for (auto& h : handles) {
    if (h.gpu == gpu && h.mig == mig) return &h;
  }
  handles.push_back({gpu, mig});
  return &handles.back();
}

nvmlReturn_t copy_string(const std::string& s, char* out, unsigned len) {
  if (out == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if (s.size() + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return NVML_SUCCESS;
}

// A field of a physical GPU (a MIG handle reads its parent's), or NOT_SUPPORTED.
template <typename T>
nvmlReturn_t gpu_field(nvmlDevice_t d, const char* key, T* out) {
  std::lock_guard lock(mu);
  if (gpu_of(d) == nullptr || out == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  const json& g = gpus()[d->gpu];
  if (!g.contains(key)) return NVML_ERROR_NOT_SUPPORTED;
  *out = g[key].get<T>();
  return NVML_SUCCESS;
}

}  // namespace

extern "C" {

nvmlReturn_t nvmlInit_v2(void) {
  std::lock_guard lock(mu);
  const char* path = std::getenv("FAKE_NVML_CONFIG");
  config = json::object();
  if (path != nullptr) {
    std::ifstream in(path);
    config = json::parse(in, nullptr, false);
    if (config.is_discarded()) config = json::object();
  }
  if (config.contains("init_error"))
    return static_cast<nvmlReturn_t>(config["init_error"].get<int>());
  initialised = true;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void) {
  std::lock_guard lock(mu);
  initialised = false;
  return NVML_SUCCESS;
}

const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_UNINITIALIZED:
      return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT:
      return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_NOT_FOUND:
      return "Not Found";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT:
      return "Timeout";
    default:
      return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char* v, unsigned len) {
  std::lock_guard lock(mu);
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  return copy_string(config.value("driver_version", "550.54.15"), v, len);
}

nvmlReturn_t nvmlSystemGetCudaDriverVersion(int* v) {
  std::lock_guard lock(mu);
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  *v = config.value("cuda_driver_version", 12040);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
  std::lock_guard lock(mu);
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  *count = static_cast<unsigned>(gpus().size());
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t* d) {
  std::lock_guard lock(mu);
  if (!initialised) return NVML_ERROR_UNINITIALIZED;
  if (i >= gpus().size()) return NVML_ERROR_INVALID_ARGUMENT;
  *d = handle(static_cast<int>(i), -1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* out, unsigned len) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  return g ? copy_string(g->value("uuid", ""), out, len) : NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* out, unsigned len) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  return g ? copy_string(g->value("name", ""), out, len) : NVML_ERROR_INVALID_ARGUMENT;
}

nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t d, unsigned* m) {
  if (d != nullptr && d->mig >= 0) return NVML_ERROR_NOT_SUPPORTED;
  return gpu_field(d, "minor", m);
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* mem) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  if (g == nullptr || mem == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  const unsigned long long mib = 1024ull * 1024ull;
  mem->total = g->value("memory_mib", 0ull) * mib;
  mem->used = g->value("memory_used_mib", 0ull) * mib;
  mem->free = mem->total - mem->used;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t d, nvmlBAR1Memory_t* b) {
  unsigned long long mib = 0;
  nvmlReturn_t r = gpu_field(d, "bar1_mib", &mib);
  if (r != NVML_SUCCESS) return r;
  b->bar1Total = mib * 1024ull * 1024ull;
  b->bar1Used = 0;
  b->bar1Free = b->bar1Total;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned* mw) {
  return gpu_field(d, "power_limit_mw", mw);
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned* mw) {
  return gpu_field(d, "power_mw", mw);
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, nvmlTemperatureSensors_t, unsigned* c) {
  return gpu_field(d, "temperature_c", c);
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, nvmlMemoryErrorType_t,
                                         nvmlEccCounterType_t, unsigned long long* n) {
  return gpu_field(d, "ecc_uncorrected", n);
}

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* pci) {
  std::string bus;
  nvmlReturn_t r = gpu_field(d, "bus_id", &bus);
  if (r != NVML_SUCCESS) return r;
  std::memset(pci, 0, sizeof *pci);
  std::strncpy(pci->busId, bus.c_str(), sizeof pci->busId - 1);
  std::strncpy(pci->busIdLegacy, bus.c_str() + (bus.size() > 12 ? 4 : 0),
               sizeof pci->busIdLegacy - 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t d, unsigned* gen) {
  return gpu_field(d, "pcie_gen", gen);
}

nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t d, unsigned* width) {
  return gpu_field(d, "pcie_width", width);
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, nvmlClockType_t type, unsigned* mhz) {
  if (type == NVML_CLOCK_SM) return gpu_field(d, "sm_clock_mhz", mhz);
  if (type == NVML_CLOCK_MEM) return gpu_field(d, "mem_clock_mhz", mhz);
  return NVML_ERROR_NOT_SUPPORTED;
}

nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int* major, int* minor) {
  std::vector<int> cc;
  nvmlReturn_t r = gpu_field(d, "compute_capability", &cc);
  if (r != NVML_SUCCESS) return r;
  if (cc.size() != 2) return NVML_ERROR_NOT_SUPPORTED;
  *major = cc[0];
  *minor = cc[1];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetDisplayMode(nvmlDevice_t d, nvmlEnableState_t* s) {
  bool on = false;
  nvmlReturn_t r = gpu_field(d, "display", &on);
  if (r == NVML_SUCCESS) *s = on ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
  return r;
}

nvmlReturn_t nvmlDeviceGetPersistenceMode(nvmlDevice_t d, nvmlEnableState_t* s) {
  bool on = false;
  nvmlReturn_t r = gpu_field(d, "persistence", &on);
  if (r == NVML_SUCCESS) *s = on ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
  return r;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  if (d != nullptr && d->mig >= 0) return NVML_ERROR_NOT_SUPPORTED;  // as on real MIG slices
  std::vector<unsigned> v;
  nvmlReturn_t r = gpu_field(d, "utilization", &v);
  if (r != NVML_SUCCESS) return r;
  if (v.size() != 2) return NVML_ERROR_NOT_SUPPORTED;
  u->gpu = v[0];
  u->memory = v[1];
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned* current, unsigned* pending) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  if (g == nullptr || d->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
  const bool on = g->contains("mig");
  *current = *pending = on ? NVML_DEVICE_MIG_ENABLE : NVML_DEVICE_MIG_DISABLE;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned* count) {
  std::lock_guard lock(mu);
  if (gpu_of(d) == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  *count = 7;
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned i, nvmlDevice_t* mig) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  if (g == nullptr || d->mig >= 0) return NVML_ERROR_INVALID_ARGUMENT;
  if (i >= g->value("mig", json::array()).size()) return NVML_ERROR_NOT_FOUND;
  *mig = handle(d->gpu, static_cast<int>(i));
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned* id) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  if (g == nullptr || d->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
  *id = g->value("gpu_instance", 0u);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned* id) {
  std::lock_guard lock(mu);
  const json* g = gpu_of(d);
  if (g == nullptr || d->mig < 0) return NVML_ERROR_NOT_SUPPORTED;
  *id = g->value("compute_instance", 0u);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t* set) {
  *set = new nvmlEventSet_st();
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types,
                                      nvmlEventSet_t set) {
  std::lock_guard lock(mu);
  if (gpu_of(d) == nullptr || d->mig >= 0 || set == nullptr) return NVML_ERROR_INVALID_ARGUMENT;
  if ((types & nvmlEventTypeXidCriticalError) == 0) return NVML_ERROR_NOT_SUPPORTED;
  set->gpus.insert(d->gpu);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t* data, unsigned timeout_ms) {
  {
    std::lock_guard lock(mu);
    const json xids = config.value("xids", json::array());
    while (set->next_xid < xids.size()) {
      const json& x = xids[set->next_xid++];
      const int gpu = x.value("gpu", 0);
      if (!set->gpus.count(gpu)) continue;
      data->device = handle(gpu, -1);
      data->eventType = nvmlEventTypeXidCriticalError;
      data->eventData = x.value("xid", 0ull);
      data->gpuInstanceId = x.value("gpu_instance", NVML_INVALID_INSTANCE_ID);
      data->computeInstanceId = x.value("compute_instance", NVML_INVALID_INSTANCE_ID);
      return NVML_SUCCESS;
    }
  }
  // Nothing to deliver: block like the real call, but briefly, to keep the tests quick.
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms < 20 ? timeout_ms : 20));
  return NVML_ERROR_TIMEOUT;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
  delete set;
  return NVML_SUCCESS;
}

}  // extern "C"
