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
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/cluster_state.hpp"
#include "server/keys.hpp"
#include "server/placement.hpp"

namespace drover::jobspec {
struct Job;
}

namespace drover::server {

struct Plan {
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
  // The job each put concerns ("<namespace>/<id>"; "" for none), for the commit's guard.
  std::vector<std::string> jobs;
  int placed = 0, stopped = 0, lost = 0, unknown = 0, preempted = 0;
  bool empty() const { return puts.empty(); }
};

// Parsed job specs the leader keeps from pass to pass: a job is parsed again only when its key
// changed (ClusterState::job_key_revision), or after it settled (every alloc reported: the
// pass drops its spec). Only for a state whose jobs are as etcd holds them (not job_plan's,
// which swaps one in).
struct JobSpecCache {
  std::map<std::string, std::pair<int64_t, std::shared_ptr<const jobspec::Job>>> by_job;
};

// What the leader keeps from pass to pass on its view: the parsed specs, each node's usage as
// the last pass left it and what placement reads of each node, brought up to date from the
// nodes ClusterState::changes names.
struct LeaderMemory {
  JobSpecCache specs;
  std::map<std::string, NodeUsage> usage;
  NodeFactsCache facts;
  // The ready nodes (node_ready) by id, as the last pass found them: worked out again when a
  // node changed or after a whole read (it was 3 % of the server's CPU at 1,000 nodes, once
  // a pass).
  std::vector<const nlohmann::json*> ready;
  bool ready_known = false;
};

Plan plan_cluster(const ClusterState& state, const Keys& keys, int64_t now_ns,
                  JobSpecCache* specs = nullptr);
// The same on the leader's own view (cluster_view.hpp), without copying its allocs: they are
// left as the plan would have etcd hold them, so the view must be read again (resync) unless
// the plan is committed whole. After a pass over every job (a whole read), only the jobs
// ClusterState::changes marks, and those a pass asks to see again (blocked, rolling out,
// waiting to reschedule), are reconciled (docs/cluster.md, "Placement").
Plan plan_cluster_in_place(ClusterState& state, const Keys& keys, int64_t now_ns,
                           LeaderMemory& memory);

}  // namespace drover::server
