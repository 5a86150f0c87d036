// The leader's reconciler: from one ClusterState, what to write so that every job has the
// allocs it asks for. Level-triggered: the whole cluster is planned each pass, so a pass lost
// to a conflict or a crash is simply done again. Covers service and batch (count per group,
// indexes kept), system and sysbatch (one per ready node, nodes that join later included),
// stopped jobs, new versions (destructive: old allocs stopped, new ones placed), lost allocs
// on down nodes (replaced at once) and failed allocs (rescheduled by the group's reschedule
// policy, reschedule.hpp, through a follow-up evaluation that waits out the delay). Jobs are
// planned highest priority first; where the cluster's scheduler configuration allows it for
// the job's type, a placement that fits nowhere evicts lower-priority allocs (preemption.hpp)
// in the same plan. Every job touched gets an evaluation: complete, or blocked with the
// reasons.
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
  int placed = 0, stopped = 0, lost = 0, preempted = 0;
  bool empty() const { return puts.empty(); }
};

Plan plan_cluster(const ClusterState& state, const Keys& keys, int64_t now_ns);

}  // namespace drover::server
