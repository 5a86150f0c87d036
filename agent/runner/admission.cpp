#include "runner/admission.hpp"

#include "drover/loader/registry.hpp"
#include "jobspec/parse.hpp"

namespace drover::runner {

Admission JobAdmission::admit(const std::string& text) const {
  auto parsed = jobspec::parse_job(text);
  Admission out{std::move(parsed.job), std::move(parsed.problems)};
  if (!out.job) return out;
  const auto& job = *out.job;
  auto more = jobspec::validate(job, plugins_.driver_names());
  out.problems.insert(out.problems.end(), more.begin(), more.end());
  // Health comes from the node watcher's last fingerprint (as a Nomad server judges a node by
  // its last one): fingerprinting on each admission ran `runc --version` on the submit path.
  const nlohmann::json cached = driver_health_ ? driver_health_() : nlohmann::json::object();
  for (std::size_t g = 0; g < job.groups.size(); ++g)
    for (std::size_t t = 0; t < job.groups[g].tasks.size(); ++t) {
      const auto& task = job.groups[g].tasks[t];
      auto* d = plugins_.driver(task.driver);
      if (!d) continue;  // validate() named it
      auto prefix = "groups[" + std::to_string(g) + "].tasks[" + std::to_string(t) + "].";
      const nlohmann::json fp = cached.is_object() && cached.contains(task.driver) ? cached[task.driver]
                                                                                   : d->fingerprint();
      if (!fp.value("Healthy", false)) {
        out.problems.push_back({prefix + "driver", "driver \"" + task.driver +
                                                       "\" is not usable on this node: " +
                                                       fp.value("HealthDescription", "unhealthy")});
        continue;
      }
      // Each driver checks its own config, so a bad job is refused before anything runs.
      for (const auto& p : d->validate(task.config)) out.problems.push_back({prefix + p, ""});
    }
  return out;
}

}  // namespace drover::runner
