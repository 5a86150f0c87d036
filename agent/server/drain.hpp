// Draining a node: which of its allocs move now (docs/cluster.md, "Drain"). Per job group, by
// its `migrate` block: at most max_parallel allocs are on the move at once, one counting until
// its replacement is healthy as its node reports it; batch allocs all move at once (they have
// no health to wait for); system and sysbatch allocs stay, as by Nomad's default.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "server/cluster_state.hpp"

namespace drover::server {

// The ids of the live allocs on draining nodes to stop (and place again elsewhere) in this
// pass, from `allocs` (the pass's view, where earlier migrations carry DesiredTransition.Migrate
// and their replacement's id in NextAllocation).
std::vector<std::string> allocs_to_migrate(const ClusterState& st,
                                           const std::map<std::string, AllocView>& allocs);

}  // namespace drover::server
