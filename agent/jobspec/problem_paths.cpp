// Problem paths for Nomad JSON jobs: validate() speaks the YAML form, and a user who wrote
// JSON should see the keys they wrote ("Job.TaskGroups[0].Tasks[1].Resources.MemoryMB").
#include <map>

#include "jobspec/parse.hpp"

namespace drover::jobspec {

namespace {

const std::map<std::string_view, std::string_view>& nomad_names() {
  static const std::map<std::string_view, std::string_view> names = {
      {"id", "ID"},
      {"name", "Name"},
      {"type", "Type"},
      {"datacenters", "Datacenters"},
      {"priority", "Priority"},
      {"meta", "Meta"},
      {"update", "Update"},
      {"health_check", "HealthCheck"},
      {"min_healthy_time", "MinHealthyTime"},
      {"healthy_deadline", "HealthyDeadline"},
      {"groups", "TaskGroups"},
      {"count", "Count"},
      {"restart", "RestartPolicy"},
      {"attempts", "Attempts"},
      {"interval", "Interval"},
      {"delay", "Delay"},
      {"mode", "Mode"},
      {"tasks", "Tasks"},
      {"driver", "Driver"},
      {"user", "User"},
      {"config", "Config"},
      {"env", "Env"},
      {"resources", "Resources"},
      {"cpu", "CPU"},
      {"cores", "Cores"},
      {"memory", "MemoryMB"},
      {"memory_max", "MemoryMaxMB"},
      {"pids", "Pids"},
      {"devices", "Devices"},
      {"constraints", "Constraints"},
      {"attribute", "LTarget"},
      {"operator", "Operand"},
      {"value", "RTarget"},
      {"kill_timeout", "KillTimeout"},
      {"kill_signal", "KillSignal"},
      {"logs", "LogConfig"},
      {"max_files", "MaxFiles"},
      {"max_file_size", "MaxFileSizeMB"},
      {"disabled", "Disabled"},
      {"lifecycle", "Lifecycle"},
      {"hook", "Hook"},
      {"sidecar", "Sidecar"},
      {"leader", "Leader"},
      {"periodic", "Periodic"},
      {"cron", "Spec"},
      {"crons", "Specs"},
      {"prohibit_overlap", "ProhibitOverlap"},
      {"time_zone", "TimeZone"},
      {"enabled", "Enabled"},
      {"parameterized", "ParameterizedJob"},
      {"payload", "Payload"},
      {"meta_required", "MetaRequired"},
      {"meta_optional", "MetaOptional"},
      {"dispatch_payload", "DispatchPayload"},
      {"file", "File"},
  };
  return names;
}

}  // namespace

std::string nomad_json_path(std::string_view yaml_path) {
  std::string out = "Job";
  while (!yaml_path.empty()) {
    auto dot = yaml_path.find('.');
    std::string_view segment = yaml_path.substr(0, dot);
    yaml_path = dot == std::string_view::npos ? std::string_view{} : yaml_path.substr(dot + 1);
    auto bracket = segment.find('[');
    std::string_view name = segment.substr(0, bracket);
    std::string_view rest = bracket == std::string_view::npos ? "" : segment.substr(bracket);
    auto it = nomad_names().find(name);
    out += ".";
    out += it == nomad_names().end() ? name : it->second;
    out += rest;
  }
  return out;
}

}  // namespace drover::jobspec
