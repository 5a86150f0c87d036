// Whether a running alloc can take a new version of its job where it runs (Nomad's in-place
// update, its tasksUpdated test inverted): what changed is only how many allocs there are and
// how they are rolled out, migrated or rescheduled, which the server alone acts on. Anything
// else (a task's config, resources, env, meta, constraints, networks, volumes...) replaces the
// alloc. The agent never restarts an alloc whose key changes but for a stop.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace drover::server {

// `running_job` is the alloc's Job, `new_job` the new version's (jobspec::to_json shapes).
bool updatable_in_place(const nlohmann::json& running_job, const nlohmann::json& new_job,
                        const std::string& group);

}  // namespace drover::server
