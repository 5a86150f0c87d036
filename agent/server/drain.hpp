// Draining a node: which of its allocs move or stop in this pass, and which drains are done
// (docs/cluster.md, "Drain"), as Nomad's drainer decides:
// - service allocs move by their group's `migrate` block: at most max_parallel on the move at
//   once, one counting until its replacement is healthy as its node reports it;
// - batch and sysbatch allocs are left to finish;
// - once the drain's deadline has passed (or at once with a negative deadline, `-force`),
//   every service and batch alloc left moves and every sysbatch alloc stops, whatever the
//   migrate block says;
// - system allocs stop last, when nothing else of the node is left, unless the drain ignores
//   system jobs; they are not placed again (the node is ineligible);
// - a drain with nothing left to move is complete: the node stays ineligible, the drain ends.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "server/cluster_state.hpp"

namespace drover::server {

struct DrainPass {
  std::vector<std::string> migrate;      // alloc ids to stop and place again elsewhere
  std::vector<std::string> stop;         // alloc ids to stop for good (system, sysbatch)
  std::vector<std::string> done_nodes;   // node ids whose drain is complete
};

// From `allocs` (the pass's view, where earlier migrations carry DesiredTransition.Migrate and
// their replacement's id in NextAllocation) and each node's drain control (st.controls).
DrainPass plan_drains(const ClusterState& st, const std::map<std::string, AllocView>& allocs,
                      int64_t now_ns);

// The drain control of `node` once its drain is complete: ineligible, not draining, with
// Nomad's LastDrain record.
nlohmann::json drain_complete(const nlohmann::json& control, int64_t now_ns);

}  // namespace drover::server
