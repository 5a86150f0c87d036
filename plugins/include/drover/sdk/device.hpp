// drover's C++ SDK for device plugins: a device plugin is one class deriving from
// drover::sdk::DevicePlugin, exported with one DROVER_REGISTER_DEVICE line. Header-only, like
// the driver SDK (driver.hpp): plugin.h, nlohmann/json and these headers are all it needs.
//
// Errors: throw (any exception); the SDK turns it into the error string of the C call.
// Threads: fingerprint, reserve and stats may run on several threads at once and must return
// promptly (plugin.h); guard your own state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "drover/plugin.h"

namespace drover::sdk {

class DevicePlugin {
 public:
  virtual ~DevicePlugin() = default;

  // Called once, before any other call, with the operator's plugin config (may be {}).
  virtual void set_config(const nlohmann::json& /*config*/) {}
  // {"Detected": bool, "HealthDescription": str, "Devices": [group...]} (plugin.h).
  virtual nlohmann::json fingerprint() = 0;
  // {"Env": {..}, "Devices": [..], "Mounts": [..]} for these instance IDs; throw when one is
  // unknown.
  virtual nlohmann::json reserve(const std::vector<std::string>& instance_ids) = 0;
  // {"Timestamp": unix ns, "Instances": {ID: {"Vendor", "Type", "Name", "Stats": {..}}}}
  virtual nlohmann::json stats() {
    return {{"Timestamp", 0}, {"Instances", nlohmann::json::object()}};
  }
};

}  // namespace drover::sdk

#include "drover/sdk/detail/device_glue.hpp"

// The one line a device plugin needs, at namespace scope in one .cpp file of the plugin:
//   DROVER_REGISTER_DEVICE(NvidiaDevicePlugin, "nvidia", "0.1.0")
// Class must be default-constructible; Name and Version must be string literals.
#define DROVER_REGISTER_DEVICE(Class, Name, Version)                               \
  extern "C" DROVER_PLUGIN_EXPORT const drover_plugin* DROVER_PLUGIN_ENTRY(void) { \
    return ::drover::sdk::detail::device_plugin<Class>(Name, Version);             \
  }
