// The leader's periodic launches, as Nomad's leader runs periodic jobs (nomad/periodic.go):
// each pass, every enabled periodic job whose launch time has come gets its child
// ("<job>/periodic-<unix>", ParentID set) written as a new job with an evaluation, and its
// launch record (keys.hpp periodic_launch) updated, in the plan's one txn guarded by the leader
// key and the revision read (plan_committer.hpp): a leader change never launches twice. The
// times are jobspec/periodic_schedule.hpp's, shared with the agent's launcher: one catch-up
// launch after downtime, a job changed since its last launch counting from its submit time,
// prohibit_overlap skipping a launch while a child is not dead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/cluster_state.hpp"
#include "server/keys.hpp"

namespace drover::server {

struct PeriodicWrites {
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
  std::vector<std::string> launched;                      // the children's ids
};

PeriodicWrites periodic_launches(const ClusterState& st, const Keys& keys, int64_t now_ns);

// The next launch of the periodic job `jk` ("<namespace>/<id>") after `now_s` (unix seconds);
// nothing when it is not an enabled periodic job or its crons have no next time.
std::optional<int64_t> next_periodic_launch(const ClusterState& st, const std::string& jk,
                                            int64_t now_s);

}  // namespace drover::server
