// The cluster's scheduler configuration, Nomad's SchedulerConfiguration: the scheduling
// algorithm (binpack fills nodes, spread empties them) and preemption per scheduler type
// (Nomad's defaults: system and sysbatch on, service and batch off). server.yaml's
// `scheduler_algorithm` and `preemption_config` give the values used until an operator stores
// others through PUT /v1/operator/scheduler/configuration (the `scheduler_config` key), as
// Nomad's `default_scheduler_config` does (docs/cluster.md, "Placement").
//   scheduler_algorithm: binpack
//   preemption_config: { system_scheduler_enabled: true, sysbatch_scheduler_enabled: true,
//                        batch_scheduler_enabled: false, service_scheduler_enabled: false }
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"

namespace drover::server {

struct SchedulerConfig {
  std::string algorithm = "binpack";  // binpack | spread
  bool preempt_system = true;
  bool preempt_sysbatch = true;
  bool preempt_batch = false;
  bool preempt_service = false;
  bool operator==(const SchedulerConfig&) const = default;

  bool preemption_enabled(jobspec::JobType type) const;
};

// {"SchedulerAlgorithm", "PreemptionConfig": {"SystemSchedulerEnabled", ...}}
nlohmann::json to_json(const SchedulerConfig& c);
// Nomad's JSON (a PUT body, or the stored key) over `base`: absent keys keep base's values;
// a wrong type or an unknown algorithm is an error naming the key.
Result<SchedulerConfig> scheduler_config_from_json(const nlohmann::json& j,
                                                   const SchedulerConfig& base);
// server.yaml's `scheduler_algorithm` / `preemption_config` (snake_case keys) into `cfg`;
// problems are appended to `errors` as "\n  key: why".
void read_scheduler_yaml(const std::string& key, const nlohmann::json& v, SchedulerConfig& cfg,
                         std::string& errors);

}  // namespace drover::server
