#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

std::vector<std::unique_ptr<TaskHook>> task_hooks(AllocRunner& alloc, const jobspec::Task& task) {
  std::vector<std::unique_ptr<TaskHook>> hooks;
  hooks.push_back(std::make_unique<TaskDirHook>());
  if (task.dispatch_payload) hooks.push_back(std::make_unique<DispatchPayloadHook>());
  // After the files a template may read (dispatch payload, artifacts), as in Nomad.
  if (!task.templates.empty()) hooks.push_back(std::make_unique<TemplateHook>());
  if (alloc.ctx().resources) {
    // The cgroup exists, with its limits, before the driver starts anything.
    hooks.push_back(std::make_unique<CgroupHook>());
    hooks.push_back(std::make_unique<DevicesHook>());
  }
  if (!task.volume_mounts.empty()) hooks.push_back(std::make_unique<VolumesHook>());
  hooks.push_back(std::make_unique<StateDirHook>());
  hooks.push_back(std::make_unique<StartingHandleHook>());
  return hooks;
}

}  // namespace drover::runner
