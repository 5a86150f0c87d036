#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"

namespace drover::runner {

std::vector<std::unique_ptr<TaskHook>> task_hooks(AllocRunner& alloc, const jobspec::Task& task) {
  std::vector<std::unique_ptr<TaskHook>> hooks;
  hooks.push_back(std::make_unique<TaskDirHook>());
  if (task.dispatch_payload) hooks.push_back(std::make_unique<DispatchPayloadHook>());
  if ((task.identity || !task.identities.empty()) && alloc.ctx().identity) hooks.push_back(std::make_unique<IdentityHook>());
  if (!task.artifacts.empty()) hooks.push_back(std::make_unique<ArtifactHook>());
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
  // Last: registered once everything else is in place, deregistered first.
  if (alloc.ctx().catalog && (!task.services.empty() ||
                              (alloc.group_or_null() && !alloc.group().services.empty())))
    hooks.push_back(std::make_unique<ServicesHook>());
  return hooks;
}

}  // namespace drover::runner
