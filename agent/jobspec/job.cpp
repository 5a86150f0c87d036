// The job model's canonical JSON: Nomad's PascalCase shape with durations in nanoseconds,
// written to the state store and served by the API, and read back exactly.
#include "jobspec/job.hpp"

#include <algorithm>
#include <cctype>

#include "drover/common/encoding.hpp"
#include "jobspec/json_fields.hpp"
#include "jobspec/template_block.hpp"

namespace drover::jobspec {

using nlohmann::json;

// The fields of each struct, once for writing and reading (json_fields.hpp). Sub-structs,
// lists and fields whose JSON is shaped otherwise are written out by the functions below.
static void fields(Of<UpdateStrategy> auto& u, auto& io) {
  io("HealthCheck", u.health_check);
  io("MinHealthyTime", u.min_healthy_time);
  io("HealthyDeadline", u.healthy_deadline);
  io("MaxParallel", u.max_parallel);
  io("Stagger", u.stagger);
  io("Canary", u.canary);
  io("AutoRevert", u.auto_revert);
  io("AutoPromote", u.auto_promote);
  io("ProgressDeadline", u.progress_deadline);
}
static void fields(Of<RestartPolicy> auto& r, auto& io) {
  io("Attempts", r.attempts);
  io("Interval", r.interval);
  io("Delay", r.delay);
  io("Mode", r.mode);
  io("RenderTemplates", r.render_templates);
}
static void fields(Of<ReschedulePolicy> auto& r, auto& io) {
  io("Attempts", r.attempts);
  io("Interval", r.interval);
  io("Delay", r.delay);
  io("DelayFunction", r.delay_function);
  io("MaxDelay", r.max_delay);
  io("Unlimited", r.unlimited);
}
static void fields(Of<MigrateStrategy> auto& m, auto& io) {
  io("MaxParallel", m.max_parallel);
  io("HealthCheck", m.health_check);
  io("MinHealthyTime", m.min_healthy_time);
  io("HealthyDeadline", m.healthy_deadline);
}
static void fields(Of<DisconnectStrategy> auto& d, auto& io) {
  io("LostAfter", d.lost_after);
  io("StopOnClientAfter", d.stop_on_client_after);
  io("Replace", d.replace);
  io("Reconcile", d.reconcile);
}
// Nomad's group ScalingPolicy shape; the Target it names is the group itself, filled in
// where the policy is listed (jobspec/scaling.hpp).
static void fields(Of<Scaling> auto& s, auto& io) {
  io("Type", s.type);
  io("Enabled", s.enabled);
  io("Min", s.min);
  io("Max", s.max);
  io("Policy", s.policy);
}
static void fields(Of<CheckRestart> auto& c, auto& io) {
  io("Limit", c.limit);
  io("Grace", c.grace);
  io("IgnoreWarnings", c.ignore_warnings);
}
// Nomad's NetworkResource port: {Label, Value, To, HostNetwork}.
static void fields(Of<Port> auto& p, auto& io) {
  io("Label", p.label);
  io("Value", p.value);
  io("To", p.to);
  io("HostNetwork", p.host_network);
}
static void fields(Of<Network> auto& n, auto& io) {
  io("Mode", n.mode);
  io("MBits", n.mbits);
}
static void fields(Of<Check> auto& c, auto& io) {
  io("Name", c.name);
  io("Type", c.type);
  io("Path", c.path);
  io("Method", c.method);
  io("Protocol", c.protocol);
  io("Header", c.header);
  io("PortLabel", c.port);
  io("Command", c.command);
  io("Args", c.args);
  io("TaskName", c.task);
  io("Interval", c.interval);
  io("Timeout", c.timeout);
}
static void fields(Of<Service> auto& s, auto& io) {
  io("Name", s.name);
  io("PortLabel", s.port);
  io("Address", s.address);
  io("Provider", s.provider);
  io("AddressMode", s.address_mode);
  io("Tags", s.tags);
}
static void fields(Of<Parameterized> auto& p, auto& io) {
  io("Payload", p.payload);
  io("MetaRequired", p.meta_required);
  io("MetaOptional", p.meta_optional);
}
static void fields(Of<DeviceRequest> auto& d, auto& io) {
  io("Name", d.name);
  io("Count", d.count);
}
static void fields(Of<Resources> auto& r, auto& io) {
  io("CPU", r.cpu_mhz);
  io("Cores", r.cores);
  io("MemoryMB", r.memory_mb);
  io("MemoryMaxMB", r.memory_max_mb);
  io("Pids", r.pids);
  io("DiskMB", r.disk_mb);
}
static void fields(Of<LogConfig> auto& l, auto& io) {
  io("MaxFiles", l.max_files);
  io("MaxFileSizeMB", l.max_file_size_mb);
  io("Disabled", l.disabled);
}
static void fields(Of<Lifecycle> auto& l, auto& io) {
  io("Hook", l.hook);
  io("Sidecar", l.sidecar);
}
// Nomad's TaskArtifact names.
static void fields(Of<Artifact> auto& a, auto& io) {
  io("GetterSource", a.source);
  io("GetterOptions", a.options);
  io("GetterHeaders", a.headers);
  io("GetterMode", a.mode);
  io("RelativeDest", a.destination);
  io("Chown", a.chown);
}
static void fields(Of<VolumeMount> auto& m, auto& io) {
  io("Volume", m.volume);
  io("Destination", m.destination);
  io("ReadOnly", m.read_only);
  io("PropagationMode", m.propagation_mode);
}
// Nomad's JobUIConfig and JobUILink (its API answers Url).
static void fields(Of<UiLink> auto& l, auto& io) {
  io("Label", l.label);
  io("Url", l.url);
}
static void fields(Of<JobUi> auto& u, auto& io) { io("Description", u.description); }
static void fields(Of<Action> auto& a, auto& io) {
  io("Name", a.name);
  io("Command", a.command);
  io("Args", a.args);
}
static void fields(Of<VolumeRequest> auto& v, auto& io) {
  io("Name", v.name);
  io("Type", v.type);
  io("Source", v.source);
  io("ReadOnly", v.read_only);
  io("Sticky", v.sticky);
  io("AccessMode", v.access_mode);
  io("AttachmentMode", v.attachment_mode);
}
// Nomad's shape: EphemeralDisk with SizeMB.
static void fields(Of<EphemeralDisk> auto& e, auto& io) {
  io("SizeMB", e.size_mb);
  io("Sticky", e.sticky);
  io("Migrate", e.migrate);
}
// A task's and a group's plain fields; their sub-blocks are written out below.
static void fields(Of<Task> auto& t, auto& io) {
  io("Name", t.name);
  io("Driver", t.driver);
  io("User", t.user);
  io("Config", t.config);
  io("Env", t.env);
  io("KillTimeout", t.kill_timeout);
  io("KillSignal", t.kill_signal);
  io("Leader", t.leader);
  io("Meta", t.meta);
  io("ShutdownDelay", t.shutdown_delay);
}
// Placement in Nomad's {LTarget, Operand, RTarget} shapes.
static void fields(Of<Constraint> auto& c, auto& io) {
  io("LTarget", c.attribute);
  io("Operand", c.op);
  io("RTarget", c.value);
}
static void fields(Of<Affinity> auto& a, auto& io) {
  io("LTarget", a.attribute);
  io("Operand", a.op);
  io("RTarget", a.value);
  io("Weight", a.weight);
}
static void fields(Of<SpreadTarget> auto& t, auto& io) {
  io("Value", t.value);
  io("Percent", t.percent);
}
static void fields(Of<Spread> auto& s, auto& io) {
  io("Attribute", s.attribute);
  io("Weight", s.weight);
}
static void fields(Of<DispatchPayload> auto& d, auto& io) { io("File", d.file); }
static void fields(Of<Identity> auto& i, auto& io) {
  io("Name", i.name);
  io("Audience", i.audience);
  io("Env", i.env);
  io("File", i.file);
  io("Filepath", i.filepath);
  io("TTL", i.ttl);
  io("ChangeMode", i.change_mode);
  io("ChangeSignal", i.change_signal);
  io("ExtraClaims", i.extra_claims);
}
// Nomad's PeriodicConfig; its Spec / Specs are written out below.
static void fields(Of<Periodic> auto& p, auto& io) {
  io("Enabled", p.enabled);
  io("ProhibitOverlap", p.prohibit_overlap);
  io("TimeZone", p.time_zone);
}
static void fields(Of<Job> auto& job, auto& io) {
  io("ID", job.id);
  io("Name", job.name);
  io("Datacenters", job.datacenters);
  io("Priority", job.priority);
  io("Meta", job.meta);
  io("Region", job.region);
  io("Namespace", job.namespace_name);
  io("NodePool", job.node_pool);
  io("ParentID", job.parent_id);
  io("Dispatched", job.dispatched);
}
static void fields(Of<TaskGroup> auto& g, auto& io) {
  io("Name", g.name);
  io("Count", g.count);
  io("Meta", g.meta);
  io("ShutdownDelay", g.shutdown_delay);
  io("MaxRunDuration", g.max_run_duration);
}

const char* to_string(JobType type) {
  switch (type) {
    case JobType::Service:
      return "service";
    case JobType::Batch:
      return "batch";
    case JobType::System:
      return "system";
    case JobType::SysBatch:
      return "sysbatch";
  }
  return "service";
}

std::optional<JobType> job_type_from_string(std::string_view s) {
  if (s == "service") return JobType::Service;
  if (s == "batch") return JobType::Batch;
  if (s == "system") return JobType::System;
  if (s == "sysbatch") return JobType::SysBatch;
  return std::nullopt;
}

namespace {

template <typename T>
T value_at(const json& j, const char* key, T fallback) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return j.at(key).get<T>();
}

// Constraints are kept as {attribute, operator, value} and written in Nomad's
// {LTarget, Operand, RTarget} shape, so that the canonical JSON reads like Nomad's.
json constraints_to_json(const json& constraints) {
  json out = json::array();
  for (const auto& c : constraints) {
    out.push_back({{"LTarget", c.value("attribute", "")},
                   {"Operand", c.value("operator", "")},
                   {"RTarget", c.value("value", "")}});
  }
  return out;
}

json constraints_from_json(const json& constraints) {
  json out = json::array();
  if (constraints.is_null()) return out;
  for (const auto& c : constraints) {
    out.push_back({{"attribute", c.value("LTarget", "")},
                   {"operator", c.value("Operand", "")},
                   {"value", c.value("RTarget", "")}});
  }
  return out;
}

// An optional block: null when unset, and unset when null.
template <typename T>
json optional_to_json(const std::optional<T>& v) {
  return v ? write_fields(*v) : json(nullptr);
}
template <typename T>
std::optional<T> optional_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  return read_fields<T>(j);
}

// A list of structs with fields: a JSON array each way; null reads as empty.
template <typename T>
json list_to_json(const std::vector<T>& list) {
  json out = json::array();
  for (const auto& item : list) out.push_back(write_fields(item));
  return out;
}
template <typename T>
std::vector<T> list_from_json(const json& j) {
  std::vector<T> out;
  if (!j.is_array()) return out;
  for (const auto& item : j) out.push_back(read_fields<T>(item));
  return out;
}
const json& at_or_null(const json& j, const char* key) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

void placement_to_json(const Placement& p, json& out, bool spreads) {
  out["Constraints"] = list_to_json(p.constraints);
  out["Affinities"] = list_to_json(p.affinities);
  if (!spreads) return;
  json list = json::array();
  for (const auto& sp : p.spreads) {
    json o = write_fields(sp);
    o["SpreadTarget"] = list_to_json(sp.targets);
    list.push_back(std::move(o));
  }
  out["Spreads"] = std::move(list);
}

Placement placement_from_json(const json& j) {
  Placement p;
  p.constraints = list_from_json<Constraint>(at_or_null(j, "Constraints"));
  p.affinities = list_from_json<Affinity>(at_or_null(j, "Affinities"));
  const json& spreads = at_or_null(j, "Spreads");
  for (const auto& s : spreads.is_array() ? spreads : json::array()) {
    auto sp = read_fields<Spread>(s);
    sp.targets = list_from_json<SpreadTarget>(at_or_null(s, "SpreadTarget"));
    p.spreads.push_back(std::move(sp));
  }
  return p;
}

std::optional<DnsConfig> dns_from_json(const json& j) {
  if (!j.is_object()) return std::nullopt;
  DnsConfig d;
  auto strings = [&](const char* key, std::vector<std::string>& out) {
    for (const auto& v : at_or_null(j, key))
      if (v.is_string()) out.push_back(v.get<std::string>());
  };
  strings("Servers", d.servers);
  strings("Searches", d.searches);
  strings("Options", d.options);
  return d;
}

// Networks in Nomad's NetworkResource shape: {Mode, MBits, DNS, ReservedPorts, DynamicPorts}.
json networks_to_json(const std::vector<Network>& networks) {
  json out = json::array();
  for (const auto& n : networks) {
    json o = write_fields(n);
    o["DNS"] = n.dns ? dns_to_json(*n.dns) : json(nullptr);
    if (!n.hostname.empty()) o["Hostname"] = n.hostname;  // Nomad's omitempty
    if (!n.cni_args.empty()) o["CNI"] = {{"Args", n.cni_args}};  // a *CNIConfig, nil without
    o["ReservedPorts"] = list_to_json(n.reserved_ports);
    o["DynamicPorts"] = list_to_json(n.dynamic_ports);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<Network> networks_from_json(const json& j) {
  std::vector<Network> out;
  if (!j.is_array()) return out;
  for (const auto& nj : j) {
    auto n = read_fields<Network>(nj);
    n.reserved_ports = list_from_json<Port>(at_or_null(nj, "ReservedPorts"));
    n.dynamic_ports = list_from_json<Port>(at_or_null(nj, "DynamicPorts"));
    n.dns = dns_from_json(at_or_null(nj, "DNS"));
    n.hostname = value_at<std::string>(nj, "Hostname", "");
    if (const auto& cni = at_or_null(nj, "CNI"); cni.is_object())
      for (const auto& [k, v] : at_or_null(cni, "Args").items())
        if (v.is_string()) n.cni_args[k] = v.get<std::string>();
    out.push_back(std::move(n));
  }
  return out;
}

json services_to_json(const std::vector<Service>& services) {
  json out = json::array();
  for (const auto& s : services) {
    json checks = json::array();
    for (const auto& c : s.checks) {
      json o = write_fields(c);
      o["CheckRestart"] = optional_to_json(c.check_restart);
      // Only when set: a job stored before these keys existed reads back the same.
      if (c.on_update != "require_healthy") o["OnUpdate"] = c.on_update;
      if (!c.initial_status.empty()) o["InitialStatus"] = c.initial_status;
      checks.push_back(std::move(o));
    }
    json o = write_fields(s);
    o["Checks"] = std::move(checks);
    // Only when set: a job stored before these keys existed reads back the same.
    if (!s.meta.empty()) o["Meta"] = s.meta;
    if (!s.canary_meta.empty()) o["CanaryMeta"] = s.canary_meta;
    if (!s.tagged_addresses.empty()) o["TaggedAddresses"] = s.tagged_addresses;
    if (s.enable_tag_override) o["EnableTagOverride"] = true;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<Service> services_from_json(const json& j) {
  std::vector<Service> out;
  if (!j.is_array()) return out;
  for (const auto& sj : j) {
    auto s = read_fields<Service>(sj);
    auto string_map = [&](const char* key) {
      std::map<std::string, std::string> out;
      if (const json& m = at_or_null(sj, key); m.is_object())
        for (const auto& [k, v] : m.items())
          if (v.is_string()) out[k] = v.get<std::string>();
      return out;
    };
    s.meta = string_map("Meta");
    s.canary_meta = string_map("CanaryMeta");
    s.tagged_addresses = string_map("TaggedAddresses");
    if (const json& v = at_or_null(sj, "EnableTagOverride"); v.is_boolean()) s.enable_tag_override = v.get<bool>();
    const json& checks = at_or_null(sj, "Checks");
    if (checks.is_array()) {
      for (const auto& cj : checks) {
        auto c = read_fields<Check>(cj);
        c.check_restart = optional_from_json<CheckRestart>(at_or_null(cj, "CheckRestart"));
        if (const json& v = at_or_null(cj, "OnUpdate"); v.is_string()) c.on_update = v.get<std::string>();
        if (const json& v = at_or_null(cj, "InitialStatus"); v.is_string())
          c.initial_status = v.get<std::string>();
        s.checks.push_back(std::move(c));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

json task_to_json(const Task& t) {
  json out = write_fields(t);
  json devices = json::array();
  for (const auto& d : t.resources.devices) {
    json o = write_fields(d);
    o["Constraints"] = constraints_to_json(d.constraints);
    o["Affinities"] = d.affinities.empty() ? json(nullptr) : list_to_json(d.affinities);
    devices.push_back(std::move(o));
  }
  json resources = write_fields(t.resources);
  resources["Devices"] = std::move(devices);
  resources["Networks"] = networks_to_json(t.resources.networks);
  // Nomad's *NUMA: nil without a block.
  resources["NUMA"] = t.resources.numa_affinity.empty()
                          ? json(nullptr)
                          : json{{"Affinity", t.resources.numa_affinity}, {"Devices", t.resources.numa_devices}};
  out["Resources"] = std::move(resources);
  out["LogConfig"] = write_fields(t.logs);
  // Nomad's Lifecycle is null for a main task.
  out["Lifecycle"] = !t.lifecycle.hook.empty() || t.lifecycle.sidecar ? write_fields(t.lifecycle)
                                                                       : json(nullptr);
  out["Services"] = services_to_json(t.services);
  out["RestartPolicy"] = optional_to_json(t.restart);
  placement_to_json(t.placement, out, /*spreads=*/false);
  out["DispatchPayload"] = optional_to_json(t.dispatch_payload);
  out["Identity"] = optional_to_json(t.identity);
  if (t.identity) out["Identity"]["Name"] = "default";  // Nomad names the default so
  if (!t.identities.empty()) out["Identities"] = list_to_json(t.identities);
  if (!t.artifacts.empty()) out["Artifacts"] = list_to_json(t.artifacts);
  out["Templates"] = templates_to_json(t.templates);
  out["VolumeMounts"] = list_to_json(t.volume_mounts);
  if (!t.actions.empty()) out["Actions"] = list_to_json(t.actions);
  return out;
}

Task task_from_json(const json& j) {
  auto t = read_fields<Task>(j);
  if (const json& r = at_or_null(j, "Resources"); r.is_object()) {
    t.resources = read_fields<Resources>(r);
    const json& devices = at_or_null(r, "Devices");
    for (const auto& d : devices.is_array() ? devices : json::array()) {
      auto dev = read_fields<DeviceRequest>(d);
      if (d.contains("Constraints")) dev.constraints = constraints_from_json(d.at("Constraints"));
      dev.affinities = list_from_json<Affinity>(at_or_null(d, "Affinities"));
      t.resources.devices.push_back(std::move(dev));
    }
    t.resources.networks = networks_from_json(at_or_null(r, "Networks"));
    if (const json& numa = at_or_null(r, "NUMA"); numa.is_object()) {
      t.resources.numa_affinity = numa.value("Affinity", "");
      t.resources.numa_devices = numa.value("Devices", std::vector<std::string>{});
    }
  }
  t.logs = read_fields(at_or_null(j, "LogConfig"), t.logs);
  t.lifecycle = read_fields(at_or_null(j, "Lifecycle"), t.lifecycle);
  t.services = services_from_json(at_or_null(j, "Services"));
  t.restart = optional_from_json<RestartPolicy>(at_or_null(j, "RestartPolicy"));
  t.placement = placement_from_json(j);
  t.dispatch_payload = optional_from_json<DispatchPayload>(at_or_null(j, "DispatchPayload"));
  t.identity = optional_from_json<Identity>(at_or_null(j, "Identity"));
  if (t.identity && t.identity->name == "default") t.identity->name.clear();
  t.identities = list_from_json<Identity>(at_or_null(j, "Identities"));
  t.artifacts = list_from_json<Artifact>(at_or_null(j, "Artifacts"));
  if (j.contains("Templates")) t.templates = templates_from_json(j.at("Templates"));
  t.volume_mounts = list_from_json<VolumeMount>(at_or_null(j, "VolumeMounts"));
  t.actions = list_from_json<Action>(at_or_null(j, "Actions"));
  return t;
}

json group_to_json(const TaskGroup& g) {
  json out = write_fields(g);
  json tasks = json::array();
  for (const auto& t : g.tasks) tasks.push_back(task_to_json(t));
  out["Tasks"] = std::move(tasks);
  out["RestartPolicy"] = write_fields(g.restart);
  out["Update"] = optional_to_json(g.update);
  out["Networks"] = networks_to_json(g.networks);
  out["Services"] = services_to_json(g.services);
  if (g.reschedule) out["ReschedulePolicy"] = write_fields(*g.reschedule);
  if (g.migrate) out["Migrate"] = write_fields(*g.migrate);
  if (g.disconnect) out["Disconnect"] = write_fields(*g.disconnect);
  if (g.scaling) out["Scaling"] = write_fields(*g.scaling);
  placement_to_json(g.placement, out, /*spreads=*/true);
  // Nomad's shape: Volumes keyed by name.
  json volumes = json::object();
  for (const auto& v : g.volumes) volumes[v.name] = write_fields(v);
  out["Volumes"] = std::move(volumes);
  out["EphemeralDisk"] = write_fields(g.ephemeral_disk);
  return out;
}

TaskGroup group_from_json(const json& j) {
  auto g = read_fields<TaskGroup>(j);
  g.restart = read_fields(at_or_null(j, "RestartPolicy"), g.restart);
  g.update = optional_from_json<UpdateStrategy>(at_or_null(j, "Update"));
  g.reschedule = optional_from_json<ReschedulePolicy>(at_or_null(j, "ReschedulePolicy"));
  g.migrate = optional_from_json<MigrateStrategy>(at_or_null(j, "Migrate"));
  g.disconnect = optional_from_json<DisconnectStrategy>(at_or_null(j, "Disconnect"));
  g.scaling = optional_from_json<Scaling>(at_or_null(j, "Scaling"));
  const json& tasks = at_or_null(j, "Tasks");
  for (const auto& t : tasks.is_array() ? tasks : json::array()) g.tasks.push_back(task_from_json(t));
  g.networks = networks_from_json(at_or_null(j, "Networks"));
  g.services = services_from_json(at_or_null(j, "Services"));
  g.placement = placement_from_json(j);
  if (const json& volumes = at_or_null(j, "Volumes"); volumes.is_object()) {
    for (const auto& [name, v] : volumes.items()) {
      VolumeRequest r;
      r.name = name;  // the key, unless the entry names itself
      g.volumes.push_back(read_fields(v, std::move(r)));
    }
  }
  g.ephemeral_disk = read_fields(at_or_null(j, "EphemeralDisk"), g.ephemeral_disk);
  return g;
}

// Nomad's PeriodicConfig: one cron is Spec, several are Specs (HCL's `crons`).
json periodic_to_json(const std::optional<Periodic>& p) {
  if (!p) return nullptr;
  json out = write_fields(*p);
  out["Spec"] = p->crons.size() == 1 ? p->crons[0] : std::string();
  out["Specs"] = p->crons.size() == 1 ? std::vector<std::string>{} : p->crons;
  out["SpecType"] = "cron";
  return out;
}

std::optional<Periodic> periodic_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  auto p = read_fields<Periodic>(j);
  auto spec = value_at<std::string>(j, "Spec", "");
  if (!spec.empty()) p.crons.push_back(spec);
  for (const auto& s : value_at(j, "Specs", std::vector<std::string>{})) p.crons.push_back(s);
  return p;
}

}  // namespace

json dns_to_json(const DnsConfig& d) {
  return {{"Servers", d.servers}, {"Searches", d.searches}, {"Options", d.options}};
}

bool launches_children(const Job& job) {
  return job.periodic.has_value() || (job.parameterized.has_value() && !job.dispatched);
}

void settle_group_count(TaskGroup& g, std::optional<int> count, std::optional<int> scaling_min) {
  g.count = count ? *count : g.scaling && scaling_min ? *scaling_min : 1;
  if (g.scaling) g.scaling->min = scaling_min.value_or(g.count);
}

json to_json(const Job& job) {
  json groups = json::array();
  for (const auto& g : job.groups) groups.push_back(group_to_json(g));
  json out = write_fields(job);
  out["Type"] = to_string(job.type);
  out["Update"] = optional_to_json(job.update);
  out["TaskGroups"] = std::move(groups);
  if (job.reschedule) out["Reschedule"] = write_fields(*job.reschedule);
  placement_to_json(job.placement, out, /*spreads=*/true);
  out["Periodic"] = periodic_to_json(job.periodic);
  out["ParameterizedJob"] = optional_to_json(job.parameterized);
  // Nomad's []byte: base64 in JSON, null when empty.
  out["Payload"] = job.payload.empty() ? json(nullptr) : json(base64_encode(job.payload));
  // Only a dispatched child's: every other job's JSON stays as it was.
  if (!job.dispatch_idempotency_token.empty())
    out["DispatchIdempotencyToken"] = job.dispatch_idempotency_token;
  if (job.ui) {
    out["UI"] = write_fields(*job.ui);
    out["UI"]["Links"] = list_to_json(job.ui->links);
  }
  return out;
}

Job job_from_json(const json& j) {
  auto job = read_fields<Job>(j);
  job.type =
      job_type_from_string(value_at<std::string>(j, "Type", "service")).value_or(JobType::Service);
  job.update = optional_from_json<UpdateStrategy>(at_or_null(j, "Update"));
  job.reschedule = optional_from_json<ReschedulePolicy>(at_or_null(j, "Reschedule"));
  const json& groups = at_or_null(j, "TaskGroups");
  for (const auto& g : groups.is_array() ? groups : json::array()) job.groups.push_back(group_from_json(g));
  job.placement = placement_from_json(j);
  job.periodic = periodic_from_json(at_or_null(j, "Periodic"));
  job.parameterized = optional_from_json<Parameterized>(at_or_null(j, "ParameterizedJob"));
  if (auto payload = value_at<std::string>(j, "Payload", ""); !payload.empty())
    job.payload = base64_decode(payload).value_or("");
  job.dispatch_idempotency_token = value_at<std::string>(j, "DispatchIdempotencyToken", "");
  if (const json& u = at_or_null(j, "UI"); u.is_object()) {
    job.ui = read_fields<JobUi>(u);
    job.ui->links = list_from_json<UiLink>(at_or_null(u, "Links"));
  }
  return job;
}

bool is_cni_network_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool is_cni_mode(std::string_view mode) { return mode.starts_with("cni/"); }

bool isolated_network_mode(std::string_view mode) {
  return mode == "bridge" || mode == "none" || is_cni_mode(mode);
}

}  // namespace drover::jobspec
