#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/node_resources.hpp"

namespace drover::runner {

Status DevicesHook::prestart(TaskHookContext& c) {
  if (c.task.resources.devices.empty()) return {};
  auto reserved = c.alloc.ctx().resources->reserve_devices(c.alloc.id(), c.task);
  if (!reserved) return reserved.error();
  auto& r = reserved.value();
  for (const auto& [k, v] : r["Env"].items()) c.spec["Env"][k] = v;
  c.spec["Devices"] = r["Devices"];
  c.spec["Mounts"] = r["Mounts"];
  c.spec["DeviceIDs"] = r["DeviceIDs"];
  return {};
}

void DevicesHook::exited(TaskHookContext& c) {
  c.alloc.ctx().resources->release_devices(c.alloc.id(), c.task.name);
}

}  // namespace drover::runner
