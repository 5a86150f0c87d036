// Admission: the one check a job passes before anything of it runs, whichever way it came (a
// job submitted to the HTTP API, an alloc a scheduler placed through etcd): the document
// parses, the job validates, each task's driver is loaded and healthy on this node, and each
// driver accepts its task's config (docs/design.md, "Admission").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobspec/job.hpp"
#include "jobspec/parse.hpp"

namespace drover::plugins {
class PluginRegistry;
}

namespace drover::runner {

struct Admission {
  std::optional<jobspec::Job> job;        // set when the document parsed
  std::vector<jobspec::Problem> problems;  // empty: admitted
  bool admitted() const { return job && problems.empty(); }
};

class JobAdmission {
 public:
  // `driver_health` returns the node watcher's last fingerprint of each driver ({name:
  // {"Healthy", "HealthDescription", ...}}): a driver missing from it is fingerprinted now.
  JobAdmission(plugins::PluginRegistry& plugins, std::function<nlohmann::json()> driver_health)
      : plugins_(plugins), driver_health_(std::move(driver_health)) {}

  // `text`: a job document (YAML or JSON, as jobspec::parse_job reads it).
  Admission admit(const std::string& text) const;

 private:
  plugins::PluginRegistry& plugins_;
  std::function<nlohmann::json()> driver_health_;
};

}  // namespace drover::runner
