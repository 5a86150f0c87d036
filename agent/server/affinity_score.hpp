// Nomad's node affinity (scheduler NodeAffinityIterator): the job's, the group's and its
// tasks' `affinity` blocks judged on a node with the agent's own constraint operators; the
// score is the sum of the matching weights over the sum of every weight's magnitude, in -1..1.
#pragma once

#include <optional>
#include <vector>

#include "jobspec/job.hpp"
#include "runner/task_env.hpp"

namespace drover::server {

// Every affinity that applies to one alloc of job.groups[group]: the job's, then the group's,
// then each task's (Nomad's order).
std::vector<jobspec::Affinity> affinities_of(const jobspec::Job& job, std::size_t group);

// nullopt when no affinity matches (or there are none): Nomad leaves the score out of the
// average then.
std::optional<double> node_affinity_score(const std::vector<jobspec::Affinity>& affinities,
                                          const runner::NodeInfo& node);

}  // namespace drover::server
