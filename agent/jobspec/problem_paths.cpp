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
      {"numa", "NUMA"},
      {"affinity", "Affinity"},
      {"disk", "DiskMB"},
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
      // Networks: a port is named by its label ("Networks[0].ports.http.Value").
      {"network", "Networks[0]"},
      {"mbits", "MBits"},
      {"cni", "CNI"},
      {"static", "Value"},
      {"to", "To"},
      {"host_network", "HostNetwork"},
      // services and checks
      {"services", "Services"},
      {"port", "PortLabel"},
      {"address", "Address"},
      {"provider", "Provider"},
      {"address_mode", "AddressMode"},
      {"tags", "Tags"},
      {"checks", "Checks"},
      {"path", "Path"},
      {"method", "Method"},
      {"protocol", "Protocol"},
      {"header", "Header"},
      {"command", "Command"},
      {"args", "Args"},
      {"timeout", "Timeout"},
      {"check_restart", "CheckRestart"},
      {"limit", "Limit"},
      {"grace", "Grace"},
      {"ignore_warnings", "IgnoreWarnings"},
      {"on_update", "OnUpdate"},
      {"canary_tags", "CanaryTags"},
      {"canary_meta", "CanaryMeta"},
      {"tagged_addresses", "TaggedAddresses"},
      {"enable_tag_override", "EnableTagOverride"},
      {"initial_status", "InitialStatus"},
      // job semantics (issue 17)
      {"region", "Region"},
      {"namespace", "Namespace"},
      {"node_pool", "NodePool"},
      {"affinities", "Affinities"},
      {"spreads", "Spreads"},
      {"weight", "Weight"},
      {"shutdown_delay", "ShutdownDelay"},
      {"max_run_duration", "MaxRunDuration"},
      {"render_templates", "RenderTemplates"},
      {"filepath", "Filepath"},
      {"max_parallel", "MaxParallel"},
      {"stagger", "Stagger"},
      {"canary", "Canary"},
      {"auto_revert", "AutoRevert"},
      {"auto_promote", "AutoPromote"},
      {"progress_deadline", "ProgressDeadline"},
      {"periodic", "Periodic"},
      {"cron", "Spec"},
      {"crons", "Specs"},
      {"prohibit_overlap", "ProhibitOverlap"},
      {"time_zone", "TimeZone"},
      {"enabled", "Enabled"},
      {"parameterized", "ParameterizedJob"},
      // the job's ui block
      {"ui", "UI"},
      {"description", "Description"},
      {"links", "Links"},
      {"label", "Label"},
      {"url", "URL"},
      {"payload", "Payload"},
      {"meta_required", "MetaRequired"},
      {"meta_optional", "MetaOptional"},
      {"dispatch_payload", "DispatchPayload"},
      {"identity", "Identity"},
      {"identities", "Identities"},
      {"aud", "Audience"},
      {"ttl", "TTL"},
      {"extra_claims", "ExtraClaims"},
      {"file", "File"},
      {"artifacts", "Artifacts"},
      {"actions", "Actions"},
      // volumes (docs/jobspec.md, "volumes")
      {"volumes", "Volumes"},
      {"source", "Source"},
      {"read_only", "ReadOnly"},
      {"volume_mounts", "VolumeMounts"},
      {"volume", "Volume"},
      {"destination", "Destination"},
      {"propagation_mode", "PropagationMode"},
      {"ephemeral_disk", "EphemeralDisk"},
      {"size", "SizeMB"},
      {"sticky", "Sticky"},
      {"access_mode", "AccessMode"},
      {"attachment_mode", "AttachmentMode"},
      {"migrate", "Migrate"},
      // reschedule: a group's ReschedulePolicy (the job-level one is Reschedule, below)
      {"reschedule", "ReschedulePolicy"},
      // a group's scaling block (Nomad's ScalingPolicy)
      {"scaling", "Scaling"},
      {"min", "Min"},
      {"max", "Max"},
      {"policy", "Policy"},
      {"delay_function", "DelayFunction"},
      {"max_delay", "MaxDelay"},
      {"unlimited", "Unlimited"},
      // a group's disconnect block
      {"disconnect", "Disconnect"},
      {"lost_after", "LostAfter"},
      {"stop_on_client_after", "StopOnClientAfter"},
      {"replace", "Replace"},
      {"reconcile", "Reconcile"},
  };
  return names;
}

// Inside a spread the names are not a constraint's: {Attribute, Weight, SpreadTarget[{Value,
// Percent}]}.
const std::map<std::string_view, std::string_view>& spread_names() {
  static const std::map<std::string_view, std::string_view> names = {
      {"attribute", "Attribute"}, {"weight", "Weight"},   {"targets", "SpreadTarget"},
      {"value", "Value"},         {"percent", "Percent"},
  };
  return names;
}

// Inside an artifact the names are Nomad's Getter* ones; options and headers keys are the
// user's own.
const std::map<std::string_view, std::string_view>& artifact_names() {
  static const std::map<std::string_view, std::string_view> names = {
      {"source", "GetterSource"}, {"options", "GetterOptions"},    {"headers", "GetterHeaders"},
      {"mode", "GetterMode"},     {"destination", "RelativeDest"}, {"chown", "Chown"},
  };
  return names;
}

// Inside a template (docs/templates.md) the names are Nomad's Template fields.
const std::map<std::string_view, std::string_view>& template_names() {
  static const std::map<std::string_view, std::string_view> names = {
      {"data", "EmbeddedTmpl"},
      {"source", "SourcePath"},
      {"destination", "DestPath"},
      {"env", "Envvars"},
      {"change_mode", "ChangeMode"},
      {"change_signal", "ChangeSignal"},
      {"change_script", "ChangeScript"},
      {"command", "Command"},
      {"args", "Args"},
      {"timeout", "Timeout"},
      {"fail_on_error", "FailOnError"},
      {"perms", "Perms"},
      {"uid", "Uid"},
      {"gid", "Gid"},
      {"left_delimiter", "LeftDelim"},
      {"right_delimiter", "RightDelim"},
      {"splay", "Splay"},
      {"wait", "Wait"},
      {"min", "Min"},
      {"max", "Max"},
      {"error_on_missing_key", "ErrMissingKey"},
      {"once", "Once"},
  };
  return names;
}

}  // namespace

std::string nomad_json_path(std::string_view yaml_path) {
  std::string out = "Job";
  bool verbatim = false;   // below config, env, meta and header: the user's own keys
  bool in_spread = false;  // below spreads[N]
  bool in_artifact = false;  // below artifacts[N]
  bool in_template = false;  // below templates[N]
  while (!yaml_path.empty()) {
    auto dot = yaml_path.find('.');
    std::string_view segment = yaml_path.substr(0, dot);
    yaml_path = dot == std::string_view::npos ? std::string_view{} : yaml_path.substr(dot + 1);
    auto bracket = segment.find('[');
    std::string_view name = segment.substr(0, bracket);
    std::string_view rest = bracket == std::string_view::npos ? "" : segment.substr(bracket);
    out += ".";
    if (verbatim) {
      out += segment;
      continue;
    }
    if (name == "reschedule" && out == "Job.") {
      out += "Reschedule";  // the job-level block's Nomad name
      continue;
    }
    if (name == "templates") {
      out += "Templates";
      out += rest;
      in_template = true;
      continue;
    }
    const auto& names = in_spread ? spread_names() : in_template ? template_names()
                        : in_artifact ? artifact_names()
                                      : nomad_names();
    auto it = names.find(name);
    out += it == names.end() ? name : it->second;
    out += rest;
    if (name == "spreads") in_spread = true;
    if (name == "artifacts") {
      in_artifact = true;
    } else if (in_artifact && (name == "options" || name == "headers")) {
      verbatim = true;
    }
    if (name == "config" || name == "env" || name == "meta" || name == "header") verbatim = true;
    if (name == "args" && out.ends_with(".CNI.Args")) verbatim = true;  // the network's CNI args
  }
  return out;
}

}  // namespace drover::jobspec
