#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/node_resources.hpp"

namespace drover::runner {

Status DevicesHook::prestart(TaskHookContext& c) {
  if (c.task.resources.devices.empty()) return {};
  auto reserved = c.alloc.ctx().resources->reserve_devices(c.alloc.id(), c.task);
  if (!reserved) return reserved.error();
  auto& r = reserved.value();
  // The device plugins' JSON read by the same strict reader as the rest of the task.
  sdk::TaskSpec reserved_part;
  try {
    reserved_part = sdk::task_spec_from_json({{"Env", r["Env"]},
                                              {"Devices", r["Devices"]},
                                              {"Mounts", r["Mounts"]},
                                              {"DeviceIDs", r["DeviceIDs"]}});
  } catch (const std::exception& e) {
    c.alloc.ctx().resources->release_devices(c.alloc.id(), c.task.name);
    return make_error(std::string("the device plugin's reservation: ") + e.what());
  }
  for (auto& [k, v] : reserved_part.env) c.spec.env[k] = std::move(v);
  c.spec.devices = std::move(reserved_part.devices);
  c.spec.mounts.insert(c.spec.mounts.end(), reserved_part.mounts.begin(),
                       reserved_part.mounts.end());
  c.spec.device_ids = std::move(reserved_part.device_ids);
  return {};
}

void DevicesHook::exited(TaskHookContext& c) {
  c.alloc.ctx().resources->release_devices(c.alloc.id(), c.task.name);
}

}  // namespace drover::runner
