// What /v1/metrics counts of the cluster (metrics_api.hpp): jobs by status, allocs by client
// status, nodes by eligibility, evaluations by status. Worked out from a state: the leader's
// own view when this server leads (plan_committer.hpp, no read of etcd), else one read.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "server/cluster_state.hpp"

namespace drover::server {

struct ClusterCounts {
  std::map<std::string, int> jobs, allocs, evals;
  std::map<std::pair<std::string, std::string>, int> nodes;  // (status, eligibility)
};

ClusterCounts count_cluster(const ClusterState& st);

}  // namespace drover::server
