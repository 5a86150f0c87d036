// A job's deployment as `nomad job status` and `nomad job run` show it, against a server
// (docs/cluster.md, "Rolling updates"): the latest deployment's status and each group's
// counts, and after `job run` the deployment of the new version followed until it ends.
// An agent has no deployments: its answer (an error) is not an error here.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_context.hpp"

namespace drover::cli {

// Running, paused or pending: not yet decided.
bool deployment_active(const nlohmann::json& deployment);

// The "Deployed" table: per group the canaries (when any), Desired, Placed, Healthy,
// Unhealthy and Progress Deadline.
void print_deployment_groups(Context& ctx, const nlohmann::json& deployment);

// Prints the "Latest Deployment" and "Deployed" blocks of the job's newest deployment; prints
// nothing when it has none (or the API has no deployments).
void print_latest_deployment(Context& ctx, const std::string& job_id);

struct DeploymentWatchTiming {
  std::chrono::milliseconds poll_interval{500};
  // How long to wait for the leader to create the version's deployment before deciding that
  // the version has none (no update block, or a job type without deployments).
  std::chrono::milliseconds appear_within{3'000};
};

// Follows the deployment `id` (or a unique prefix) until it is no longer active, printing a
// line whenever a group's counts or the status change. 0: successful; 2: failed or
// cancelled; 1: the server could not be asked.
int follow_deployment(Context& ctx, const std::string& id, const DeploymentWatchTiming& timing = {});

// Follows the deployment of `version` of the job until it is no longer running, printing a
// line whenever a group's counts or the status change. 0: successful or none; 2: failed or
// cancelled (Nomad's non-zero exit); 1: the server could not be asked.
int watch_deployment(Context& ctx, const std::string& job_id, int64_t version,
                     const DeploymentWatchTiming& timing = {});

}  // namespace drover::cli
