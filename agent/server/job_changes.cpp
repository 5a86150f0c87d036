// Reverted job versions; see job_changes.hpp.
#include "server/job_changes.hpp"

namespace drover::server {

using nlohmann::json;

Result<json> reverted_job(const std::map<int, json>& versions, int current, int to,
                          std::optional<int> enforce_prior) {
  if (enforce_prior && *enforce_prior != current)
    return make_error("EnforcePriorVersion: the job is at version " + std::to_string(current) +
                          ", not " + std::to_string(*enforce_prior),
                      Errc::Conflict);
  if (to == current)
    return make_error("JobVersion: version " + std::to_string(to) +
                          " is the current version; reverting to it changes nothing",
                      Errc::Invalid);
  auto it = versions.find(to);
  if (it == versions.end() || !it->second.contains("Job"))
    return make_error("JobVersion: the job has no version " + std::to_string(to), Errc::NotFound);
  return it->second["Job"];
}

}  // namespace drover::server
