// `job plan`: what registering a job would do, computed by the leader's own reconciler on the
// cluster state with the job swapped in, and nothing written (Nomad's /v1/job/:id/plan;
// docs/cluster.md, "Plan"). Any server answers it from what etcd holds.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "jobspec/job.hpp"
#include "server/cluster_state.hpp"
#include "server/keys.hpp"

namespace drover::server {

// Nomad's JobPlanResponse: Annotations.DesiredTGUpdates per group (Place, Stop, Migrate,
// InPlaceUpdate, DestructiveUpdate, Canary, Ignore), FailedTGAllocs (null when everything
// fits), JobModifyIndex (the job's, which `job run -check-index` checks; -1 for a new job)
// and Diff.
nlohmann::json plan_job(const ClusterState& st, const Keys& keys, const jobspec::Job& job,
                        int64_t now_ns);

// Nomad's job diff between two stored job specs (jobspec::to_json; null = none): Type
// (None, Added, Deleted, Edited), Fields, Objects and TaskGroups with their Tasks, matched by
// name. Fields are the scalar leaves, arrays of scalars are one field.
nlohmann::json job_diff(const nlohmann::json& old_job, const nlohmann::json& new_job);

}  // namespace drover::server
