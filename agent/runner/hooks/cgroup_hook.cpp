#include "runner/alloc_runner.hpp"
#include "runner/hooks/hooks.hpp"
#include "drover/cgroups/cpuset_pool.hpp"
#include "runner/node_resources.hpp"

namespace drover::runner {

Status CgroupHook::prestart(TaskHookContext& c) {
  auto& resources = *c.alloc.ctx().resources;
  auto ahead = c.alloc.take_cgroup_ahead(c.task.name);
  auto prepared = ahead ? resources.take_ahead(*ahead) : resources.prepare_cgroup(c.alloc.id(), c.task);
  if (!prepared) return prepared.error();
  c.spec.cgroup = std::move(prepared->cgroup);
  c.spec.cpuset = std::move(prepared->cpuset);
  // A task's own cores (not the shared pool a task without cores is kept to) go with the alloc.
  if (c.task.resources.cores > 0)
    if (auto cores = cgroups::parse_cpus(c.spec.cpuset)) c.alloc.set_reserved_cores(c.task.name, *cores);
  return {};
}

void CgroupHook::poststart(TaskHookContext& c, const nlohmann::json&) {
  // A stats round may have read the cgroup before the task was in it (all zeros).
  c.alloc.ctx().resources->task_started(c.alloc.id(), c.task.name);
}

void CgroupHook::exited(TaskHookContext& c) {
  // Whatever the task left behind (daemons, double forks) goes with its cgroup.
  c.alloc.ctx().resources->release_cgroup(c.alloc.id(), c.task.name);
}

}  // namespace drover::runner
