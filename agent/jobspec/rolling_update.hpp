// Which update block a group's new versions roll out by (docs/cluster.md, "Rolling
// updates"): the group's own, else the job's; only service jobs roll, and max_parallel 0
// means all at once (no deployment). Shared by the server, which makes a Deployment for such
// a version, and the CLI, which follows it after `job run`.
#pragma once

#include "jobspec/job.hpp"

namespace drover::jobspec {

inline const UpdateStrategy* rolling_update_of(const Job& job, const TaskGroup& group) {
  if (job.type != JobType::Service) return nullptr;
  const auto* u = group.update ? &*group.update : job.update ? &*job.update : nullptr;
  return u && u->max_parallel > 0 ? u : nullptr;
}

// Some group of the job rolls out under a deployment.
inline bool has_rolling_update(const Job& job) {
  for (const auto& g : job.groups)
    if (rolling_update_of(job, g)) return true;
  return false;
}

}  // namespace drover::jobspec
