// Rolling updates: Nomad's Deployment for a job version whose groups have an `update` block,
// kept under `<prefix>/deployments/<id>` (docs/cluster.md, "Rolling updates"). The reconciler
// (scheduler.cpp) asks here how many old allocs it may replace now, counts what the new
// version's allocs report (their DeploymentStatus.Healthy, as the agents decide it) into the
// deployment, and lets the deployment's verdict decide: successful (the version is stable),
// failed (no more replacements; with auto_revert the last stable version is registered again).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "jobspec/job.hpp"
#include "jobspec/rolling_update.hpp"
#include "server/cluster_state.hpp"

namespace drover::server {

// The update strategy a group's new versions roll out by (jobspec/rolling_update.hpp).
using jobspec::rolling_update_of;

// A new running Deployment for `version` of `job` (which has at least one rolling group).
nlohmann::json new_deployment(const jobspec::Job& job, int version, int64_t now_ns);

// An alloc's health as its node reported it: not yet decided, healthy, or unhealthy (a failed
// alloc is unhealthy whatever its node wrote).
enum class AllocHealth { Pending, Healthy, Unhealthy };
AllocHealth alloc_health(const AllocView& a);

// What one group of the deployment's version has now.
struct GroupTally {
  int desired = 0;  // the group's count
  int placed = 0;   // allocs of this version meant to run
  int healthy = 0;
  int unhealthy = 0;
  bool old_left = false;  // a live alloc of another version is still there
  int healthy_canaries = 0;
};

// Writes the tally into the deployment's TaskGroups[group] (Nomad's DeploymentState) and moves
// the group's progress deadline on when more allocs are healthy than before. A group whose
// canaries are all healthy is promoted when it has auto_promote.
void record_tally(nlohmann::json& deployment, const std::string& group, const GroupTally& t,
                  int64_t now_ns);

// The verdict of an active deployment from its recorded tallies: "" (still running, or
// paused), "successful" or "failed"; sets Status and StatusDescription accordingly. A group
// whose healthy canaries wait for `job promote` is not held to its progress deadline, nor is a
// paused deployment; one a user asked to fail (`FailRequested`) fails.
std::string judge_deployment(nlohmann::json& deployment, const std::map<std::string, GroupTally>& t,
                             int64_t now_ns);

// Running or paused: a deployment that pause, resume, fail and promote act on (Nomad's
// Active()).
bool deployment_active(const nlohmann::json& deployment);

// Nomad's `deployment pause` and `deployment resume` (docs/cluster.md, "Operating a
// deployment"): a paused deployment replaces nothing more; a resumed one runs again with its
// groups' progress deadlines counted from now. Returns why not (a deployment no longer active).
std::optional<std::string> pause_deployment(nlohmann::json& deployment, bool pause,
                                            int64_t now_ns);

// Nomad's `deployment fail`: marks the active deployment `FailRequested` for the leader, whose
// next pass fails it ("Deployment marked as failed") and, with auto_revert, registers the last
// stable version again, as an unhealthy version's failure does. Returns why not.
std::optional<std::string> request_deployment_failure(nlohmann::json& deployment, int64_t now_ns);

// Whether any group of the deployment asks to revert on failure.
bool auto_reverts(const nlohmann::json& deployment);

// The newest version before `version` marked Stable, or null.
const JobRecord* last_stable_version(const std::map<int, JobRecord>& versions, int version);

}  // namespace drover::server
