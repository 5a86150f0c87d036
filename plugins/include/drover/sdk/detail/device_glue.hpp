// The SDK's C adapters for device plugins: turn the drover_device_vtable calls of plugin.h
// into calls on a drover::sdk::DevicePlugin and catch every exception at the boundary.
// Included by device.hpp; plugin authors never use it directly.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "drover/plugin.h"
#include "drover/sdk/detail/string_glue.hpp"

namespace drover::sdk::detail::device {

inline DevicePlugin& as_device(void* self) { return *static_cast<DevicePlugin*>(self); }

inline drover_status reserve(void* self, const char* ids_json, char** out, char** error) {
  return guarded(error, [&] {
    const nlohmann::json ids = parse(ids_json);
    if (!ids.is_array()) throw std::invalid_argument("reserve: instance IDs must be an array");
    std::vector<std::string> list;
    for (const auto& id : ids) {
      if (!id.is_string()) throw std::invalid_argument("reserve: an instance ID is not a string");
      list.push_back(id.get<std::string>());
    }
    set_out(out, as_device(self).reserve(list));
    return DROVER_OK;
  });
}
inline drover_status stats(void* self, char** out, char** error) {
  return guarded(error, [&] {
    set_out(out, as_device(self).stats());
    return DROVER_OK;
  });
}

inline constexpr drover_device_vtable kDeviceVtable = {
    &set_config_on<DevicePlugin>, &fingerprint_of<DevicePlugin>, &reserve, &stats};

}  // namespace drover::sdk::detail::device

namespace drover::sdk::detail {

template <typename D>
const drover_plugin* device_plugin(const char* name, const char* version) {
  static const drover_plugin plugin = {DROVER_PLUGIN_ABI_VERSION,
                                       name,
                                       version,
                                       DROVER_PLUGIN_TYPE_DEVICE,
                                       &init_as<DevicePlugin, D>,
                                       &fini_as<DevicePlugin>,
                                       &free_string,
                                       nullptr,
                                       &device::kDeviceVtable};
  return &plugin;
}

}  // namespace drover::sdk::detail
