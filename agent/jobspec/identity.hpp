// What a task's `identity` blocks mean beyond their fields (docs/variables.md, "Workload
// identities"): where each token goes by default, and the values of `extra_claims`, whose
// ${job.id}-style variables are Nomad's. The validator and the identity hook both use these.
#pragma once

#include <string>
#include <string_view>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"

namespace drover::jobspec {

// NOMAD_TOKEN for the default identity, NOMAD_TOKEN_<name> for a named one.
std::string identity_env_var(const Identity& id);
// secrets/nomad_token for the default identity, secrets/nomad_<name>.jwt for a named one.
std::string identity_default_file(const Identity& id);

// The variables an extra claim may name: ${job.id}, ${job.namespace}, ${job.region},
// ${job.node_pool}, ${group.name}, ${task.name}.
struct ClaimVariables {
  std::string job_id, ns, region, node_pool, group, task;
};
// `value` with its variables replaced; an error naming any other ${...}.
Result<std::string> interpolate_claim(std::string_view value, const ClaimVariables& vars);

// Claims a job may not set: the registered ones (aud, exp, iat, iss, jti, nbf, sub) and
// nomad_*, which say who the token is for.
bool reserved_claim(std::string_view name);

}  // namespace drover::jobspec
