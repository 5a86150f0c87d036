// A group's scaling bounds at work after the job is stored (docs/jobspec.md, "scaling"): the
// count `job scale` may set, and the policies Nomad's /v1/scaling/policies lists. Pure
// functions on the job JSON (jobspec::to_json) that the agent and the server both store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"

namespace drover::jobspec {

// The job with group `group`'s count set to `count`; `group` may be empty when the job has
// one group. Refused (Invalid, 400): a negative count, a count outside the group's scaling
// bounds (Nomad's words: "group count was greater than scaling policy maximum: 11 > 10"), a
// system or sysbatch job; an unknown group is NotFound.
Result<nlohmann::json> scaled_job(const nlohmann::json& job, const std::string& group,
                                  int64_t count);

// Nomad's ScalingRequest body of POST /v1/job/:id/scale: {Count, Target: {Group}, Message,
// Error, Meta}; the agent and the server read it alike. Without a Count only a scaling event
// is recorded (the Nomad Autoscaler reports its failures so). Refused with the field's name.
struct ScaleRequest {
  std::string group;  // "" : the job's only group
  std::optional<int64_t> count;
  std::string message;
  bool error = false;
  nlohmann::json meta = nullptr;  // an object of strings, or null
};
Result<ScaleRequest> scale_request_from_json(const nlohmann::json& body);

// The name and count of the group a request targets (`group` "": the job's only one), or why
// not, in scaled_job's words.
Result<std::pair<std::string, int64_t>> scale_target(const nlohmann::json& job,
                                                     const std::string& group);

// Nomad's ScalingEvent {Time, Count, PreviousCount, Message, Error, Meta, EvalID} of
// `request` on a group that had `previous`; `eval_id` "" is null (no new evaluation).
nlohmann::json scaling_event(const ScaleRequest& request, int64_t previous, int64_t now_ns,
                             const std::string& eval_id);

// Adds `event` to `events` ({group: [event, ...]}, newest first), keeping Nomad's 20 per
// group (JobTrackedScalingEvents).
void add_scaling_event(nlohmann::json& events, const std::string& group, nlohmann::json event);

// One alloc of the job that is wanted (desired status run), for scale_status.
struct ScaleStatusAlloc {
  std::string group;
  bool running = false;
  std::optional<bool> healthy;  // its deployment health, once decided
};

// Nomad's JobScaleStatus (GET /v1/job/:id/scale): {JobID, Namespace, JobModifyIndex,
// JobStopped, TaskGroups: {name: {Desired, Placed, Running, Healthy, Unhealthy, Events}}};
// `events` is what add_scaling_event kept (null: none).
nlohmann::json scale_status(const nlohmann::json& job, const std::string& ns,
                            uint64_t modify_index, bool stopped,
                            const std::vector<ScaleStatusAlloc>& allocs,
                            const nlohmann::json& events = nullptr);

// A policy's ID: the same for the same namespace, job and group on every server and after
// every restart (Nomad makes one at registration; drover stores none).
std::string scaling_policy_id(const std::string& ns, const std::string& job,
                              const std::string& group);

// A stored job as the policy lists see it.
struct StoredJob {
  const nlohmann::json* job;  // jobspec::to_json's shape
  std::string ns;
  uint64_t index = 0;  // its modify index (the server's version; 0 on the agent)
  bool stopped = false;  // a stopped job's policies are listed disabled, as in Nomad
};

// Nomad's GET /v1/scaling/policies: a ScalingPolicyListStub {ID, Enabled, Type, Target
// {Namespace, Job, Group}, CreateIndex, ModifyIndex} per group with a scaling block; `job`
// (?job=, an id prefix) and `type` (?type=) narrow it when not empty.
nlohmann::json scaling_policy_list(const std::vector<StoredJob>& jobs, std::string_view job,
                                   std::string_view type);

// Nomad's GET /v1/scaling/policy/:id: the stub plus Min, Max and Policy; null when no group
// has that ID.
nlohmann::json find_scaling_policy(const std::vector<StoredJob>& jobs, std::string_view id);

}  // namespace drover::jobspec
