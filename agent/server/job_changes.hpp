// New versions of a stored job made from the job itself, not from a submitted file: `job
// revert` (an earlier version's spec), as Nomad's /v1/job/:id/revert makes it (docs/cluster.md,
// "Server API"; `job scale`'s count is jobspec/scaling.hpp's, shared with the agent). Pure
// functions on the job JSON the server stores (jobspec::to_json); the routes write the result
// as the job's next version.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "drover/common/result.hpp"

namespace drover::server {

// The spec of version `to` among `versions` (version -> record), to be written as the next
// version. Refused: an unknown version, the current version itself, and (when given) a
// current version other than `enforce_prior`.
Result<nlohmann::json> reverted_job(const std::map<int, nlohmann::json>& versions, int current,
                                    int to, std::optional<int> enforce_prior);

}  // namespace drover::server
