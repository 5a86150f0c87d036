// Scaled and reverted job versions; see job_changes.hpp.
#include "server/job_changes.hpp"

namespace drover::server {

using nlohmann::json;

Result<json> scaled_job(const json& job, const std::string& group, int64_t count) {
  const std::string type = job.value("Type", "service");
  if (type == "system" || type == "sysbatch")
    return make_error("job \"" + job.value("ID", "") + "\" is a " + type +
                          " job: it runs one alloc per node and has no count to scale",
                      Errc::Invalid);
  if (count < 0) return make_error("Count: must be 0 or more, not " + std::to_string(count), Errc::Invalid);
  json out = job;
  json& groups = out["TaskGroups"];
  if (!groups.is_array() || groups.empty())
    return make_error("job \"" + job.value("ID", "") + "\" has no groups", Errc::Invalid);
  if (group.empty()) {
    if (groups.size() != 1)
      return make_error("Target.Group: the job has " + std::to_string(groups.size()) +
                            " groups: name the one to scale",
                        Errc::Invalid);
    groups[0]["Count"] = count;
    return out;
  }
  for (auto& g : groups)
    if (g.value("Name", "") == group) {
      g["Count"] = count;
      return out;
    }
  return make_error("Target.Group: job \"" + job.value("ID", "") + "\" has no group \"" + group + "\"",
                    Errc::NotFound);
}

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
