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
#include "runner/cni_config.hpp"
#include "runner/constraints.hpp"

namespace drover::plugins {
class PluginRegistry;
}

namespace drover::runner {

struct Admission {
  std::optional<jobspec::Job> job;        // set when the document parsed
  std::vector<jobspec::Problem> problems;  // the job is invalid (400)
  // The job is valid but cannot run on this node: a constraint it fails, another node pool
  // (409, as `nomad job plan` explains a placement failure). Judged only once problems is empty.
  std::vector<jobspec::Problem> conflicts;
  // What the job asks for that one node does not do (update pacing, canaries, affinities):
  // it runs, and the submit response's Warnings say so.
  std::vector<std::string> warnings;
  bool admitted() const { return job && problems.empty() && conflicts.empty(); }
};

class JobAdmission {
 public:
  // `driver_health` returns the node watcher's last fingerprint of each driver ({name:
  // {"Healthy", "HealthDescription", ...}}): a driver missing from it is fingerprinted now.
  // `node` returns what the job's constraints are judged against (the node as GET /v1/node
  // shows it, through node_info_from_json); without one (tests) constraints are not judged.
  // `cni`: where a network mode's CNI network config and plugins must be.
  JobAdmission(plugins::PluginRegistry& plugins, std::function<nlohmann::json()> driver_health,
               std::function<NodeInfo()> node = nullptr, CniSettings cni = {})
      : plugins_(plugins),
        driver_health_(std::move(driver_health)),
        node_(std::move(node)),
        cni_(std::move(cni)) {}

  // `text`: a job document (YAML, Nomad JSON or HCL, as jobspec::parse_job reads it).
  // `whole_job_here`: see runner::placement_problems (false for an alloc a scheduler placed).
  Admission admit(const std::string& text, bool whole_job_here = true) const;

 private:
  plugins::PluginRegistry& plugins_;
  std::function<nlohmann::json()> driver_health_;
  std::function<NodeInfo()> node_;
  CniSettings cni_;
};

}  // namespace drover::runner
