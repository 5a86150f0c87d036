// The scheduler configuration's JSON and YAML forms; see scheduler_config.hpp.
#include "server/scheduler_config.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// Nomad's PreemptionConfig keys and the snake_case names server.yaml uses for them.
struct PreemptKey {
  const char* nomad;
  const char* yaml;
  bool SchedulerConfig::*field;
};
constexpr PreemptKey kPreemptKeys[] = {
    {"SystemSchedulerEnabled", "system_scheduler_enabled", &SchedulerConfig::preempt_system},
    {"SysBatchSchedulerEnabled", "sysbatch_scheduler_enabled", &SchedulerConfig::preempt_sysbatch},
    {"BatchSchedulerEnabled", "batch_scheduler_enabled", &SchedulerConfig::preempt_batch},
    {"ServiceSchedulerEnabled", "service_scheduler_enabled", &SchedulerConfig::preempt_service},
};

bool known_algorithm(const json& v) {
  return v.is_string() && (v.get<std::string>() == "binpack" || v.get<std::string>() == "spread");
}

}  // namespace

bool SchedulerConfig::preemption_enabled(jobspec::JobType type) const {
  switch (type) {
    case jobspec::JobType::System:
      return preempt_system;
    case jobspec::JobType::SysBatch:
      return preempt_sysbatch;
    case jobspec::JobType::Batch:
      return preempt_batch;
    default:
      return preempt_service;
  }
}

json to_json(const SchedulerConfig& c) {
  json p = json::object();
  for (const auto& k : kPreemptKeys) p[k.nomad] = c.*k.field;
  return {{"SchedulerAlgorithm", c.algorithm}, {"PreemptionConfig", p}};
}

Result<SchedulerConfig> scheduler_config_from_json(const json& j, const SchedulerConfig& base) {
  if (!j.is_object())
    return make_error("scheduler configuration: must be a JSON object", Errc::Invalid);
  SchedulerConfig c = base;
  if (j.contains("SchedulerAlgorithm") && !j["SchedulerAlgorithm"].is_null()) {
    // Nomad treats an empty algorithm as binpack.
    const auto& a = j["SchedulerAlgorithm"];
    if (a.is_string() && a.get<std::string>().empty())
      c.algorithm = "binpack";
    else if (!known_algorithm(a))
      return make_error("SchedulerAlgorithm: must be \"binpack\" or \"spread\"", Errc::Invalid);
    else
      c.algorithm = a.get<std::string>();
  }
  if (j.contains("PreemptionConfig") && !j["PreemptionConfig"].is_null()) {
    const auto& p = j["PreemptionConfig"];
    if (!p.is_object()) return make_error("PreemptionConfig: must be an object", Errc::Invalid);
    for (const auto& k : kPreemptKeys) {
      if (!p.contains(k.nomad) || p[k.nomad].is_null()) continue;
      if (!p[k.nomad].is_boolean())
        return make_error(std::string("PreemptionConfig.") + k.nomad + ": must be true or false",
                          Errc::Invalid);
      c.*k.field = p[k.nomad].get<bool>();
    }
  }
  return c;
}

void read_scheduler_yaml(const std::string& key, const json& v, SchedulerConfig& cfg,
                         std::string& errors) {
  if (key == "scheduler_algorithm") {
    if (!known_algorithm(v))
      errors += "\n  scheduler_algorithm: must be binpack or spread";
    else
      cfg.algorithm = v.get<std::string>();
    return;
  }
  if (!v.is_object()) {
    errors += "\n  preemption_config: must be a map";
    return;
  }
  for (const auto& [k, b] : v.items()) {
    const PreemptKey* found = nullptr;
    for (const auto& pk : kPreemptKeys)
      if (k == pk.yaml) found = &pk;
    if (!found) {
      errors += "\n  preemption_config." + k +
                ": unknown key (use system_scheduler_enabled, sysbatch_scheduler_enabled, "
                "batch_scheduler_enabled, service_scheduler_enabled)";
    } else if (!b.is_boolean()) {
      errors += "\n  preemption_config." + k + ": must be true or false";
    } else {
      cfg.*found->field = b.get<bool>();
    }
  }
}

}  // namespace drover::server
