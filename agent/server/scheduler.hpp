// The leader's reconciler: from one ClusterState, what to write so that every job has the
// allocs it asks for. Level-triggered: the whole cluster is planned each pass, so a pass lost
// to a conflict or a crash is simply done again. Covers service and batch (count per group,
// indexes kept), system and sysbatch (one per ready node, nodes that join later included),
// stopped jobs, new versions (destructive: old allocs stopped, new ones placed), lost allocs
// on down nodes (replaced at once) and failed allocs (rescheduled by Nomad's default policy
// per job type). Every job touched gets an evaluation: complete, or blocked with the reasons.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/cluster_state.hpp"
#include "server/keys.hpp"

namespace drover::server {

struct Plan {
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
  int placed = 0, stopped = 0, lost = 0;
  bool empty() const { return puts.empty(); }
};

// Nomad's default reschedule policy of a job type (structs.DefaultServiceJobReschedulePolicy
// and DefaultBatchJobReschedulePolicy): when a failed alloc's replacement may be placed,
// or nullopt when it has used its attempts.
std::optional<int64_t> reschedule_at_ns(const std::string& job_type, int reschedule_count,
                                        int64_t failed_at_ns);

Plan plan_cluster(const ClusterState& state, const Keys& keys, int64_t now_ns);

}  // namespace drover::server
