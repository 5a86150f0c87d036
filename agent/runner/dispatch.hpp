// `job dispatch`: a parameterized job instantiated with a payload and meta, as Nomad's
// Job.Dispatch does. The child is the parent's copy with the id
// "<job>/dispatch-<unix>-<8 hex>", ParentID set, Dispatched true, the payload kept for each
// task's dispatch_payload file and the meta merged over the job's (NOMAD_META_*).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "state/job_key.hpp"

namespace drover::runner {

class AllocManager;

// Nomad's cap on a dispatch payload (DispatchPayloadSizeLimit).
inline constexpr std::size_t kMaxDispatchPayloadBytes = 16 * 1024;
// IdPrefixTemplate goes into the child's ID: bounded (Nomad sets no bound).
inline constexpr std::size_t kMaxIdPrefixTemplate = 64;

struct DispatchReceipt {
  std::string job_id;  // the child's
  std::string eval_id;
  std::vector<std::string> alloc_ids;
};

// The body of POST /v1/job/:id/dispatch: {"Payload": base64, "Meta": {k: v},
// "IdempotencyToken": s}, each part optional.
struct DispatchRequest {
  std::string payload;  // decoded
  std::map<std::string, std::string> meta;
  std::string idempotency_token;
  // Nomad's IdPrefixTemplate: the child is <parent>/dispatch-<template>-<unix>-<8 hex>.
  std::string id_prefix_template;
};

// The request read from its JSON body; errors (Invalid) name the field.
Result<DispatchRequest> dispatch_request_from_json(const nlohmann::json& body);

// The problems of a dispatch request against the parent's parameterized block, each naming
// its field ("Payload: ...", "Meta.x: ..."); empty when it may be dispatched.
std::vector<std::string> dispatch_problems(const jobspec::Parameterized& p,
                                           const std::string& payload,
                                           const std::map<std::string, std::string>& meta);

// The child job `parent` dispatched at `unix` with `suffix` (8 hex digits), its ID
// <parent>/dispatch-[<id_prefix>-]<unix>-<suffix> as Nomad's.
jobspec::Job dispatch_child(const jobspec::Job& parent, const std::string& payload,
                            const std::map<std::string, std::string>& meta, int64_t unix,
                            const std::string& suffix, const std::string& id_prefix = "");

// Whether `parent` (stopped or not) may be dispatched with `request`. Errors: Invalid (not a
// parameterized job, or the request's problems, joined by "; "), Conflict (stopped).
Status check_dispatch(const jobspec::Job& parent, bool stopped, const DispatchRequest& request);

// The child of `parent` dispatched now, with a random suffix.
jobspec::Job new_dispatch_child(const jobspec::Job& parent, const DispatchRequest& request);

// Checks the request and submits the child. Errors: NotFound (no such job), Invalid (not a
// parameterized job, or the request's problems, joined by "; "), Conflict (stopped), and
// whatever submit says (409 when it does not fit the node).
Result<DispatchReceipt> dispatch_job(AllocManager& allocs, const state::JobKey& job,
                                     const DispatchRequest& request);

}  // namespace drover::runner
