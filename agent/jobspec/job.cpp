// The job model's canonical JSON: Nomad's PascalCase shape with durations in nanoseconds,
// written to the state store and served by the API, and read back exactly.
#include "jobspec/job.hpp"

#include "drover/common/encoding.hpp"
#include "jobspec/template_block.hpp"

namespace drover::jobspec {

using nlohmann::json;

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

std::int64_t ns(Duration d) { return d.count(); }
Duration duration_at(const json& j, const char* key, Duration fallback) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return Duration(j.at(key).get<std::int64_t>());
}

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

json update_to_json(const std::optional<UpdateStrategy>& u) {
  if (!u) return nullptr;
  return {{"HealthCheck", u->health_check},
          {"MinHealthyTime", ns(u->min_healthy_time)},
          {"HealthyDeadline", ns(u->healthy_deadline)},
          {"MaxParallel", u->max_parallel},
          {"Stagger", ns(u->stagger)},
          {"Canary", u->canary},
          {"AutoRevert", u->auto_revert},
          {"AutoPromote", u->auto_promote},
          {"ProgressDeadline", ns(u->progress_deadline)}};
}

std::optional<UpdateStrategy> update_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  UpdateStrategy u;
  u.health_check = value_at(j, "HealthCheck", u.health_check);
  u.min_healthy_time = duration_at(j, "MinHealthyTime", u.min_healthy_time);
  u.healthy_deadline = duration_at(j, "HealthyDeadline", u.healthy_deadline);
  u.max_parallel = value_at(j, "MaxParallel", u.max_parallel);
  u.stagger = duration_at(j, "Stagger", u.stagger);
  u.canary = value_at(j, "Canary", u.canary);
  u.auto_revert = value_at(j, "AutoRevert", u.auto_revert);
  u.auto_promote = value_at(j, "AutoPromote", u.auto_promote);
  u.progress_deadline = duration_at(j, "ProgressDeadline", u.progress_deadline);
  return u;
}

// --- Placement (issue 17): Nomad's Constraints, Affinities and Spreads shapes. ---

json placement_constraints_to_json(const std::vector<Constraint>& cs) {
  json out = json::array();
  for (const auto& c : cs)
    out.push_back({{"LTarget", c.attribute}, {"Operand", c.op}, {"RTarget", c.value}});
  return out;
}

json affinities_to_json(const std::vector<Affinity>& as) {
  json out = json::array();
  for (const auto& a : as)
    out.push_back(
        {{"LTarget", a.attribute}, {"Operand", a.op}, {"RTarget", a.value}, {"Weight", a.weight}});
  return out;
}

json spreads_to_json(const std::vector<Spread>& ss) {
  json out = json::array();
  for (const auto& s : ss) {
    json targets = json::array();
    for (const auto& t : s.targets) targets.push_back({{"Value", t.value}, {"Percent", t.percent}});
    out.push_back({{"Attribute", s.attribute}, {"Weight", s.weight}, {"SpreadTarget", targets}});
  }
  return out;
}

void placement_to_json(const Placement& p, json& out, bool spreads) {
  out["Constraints"] = placement_constraints_to_json(p.constraints);
  out["Affinities"] = affinities_to_json(p.affinities);
  if (spreads) out["Spreads"] = spreads_to_json(p.spreads);
}

Placement placement_from_json(const json& j) {
  Placement p;
  if (j.contains("Constraints") && !j.at("Constraints").is_null())
    for (const auto& c : j.at("Constraints"))
      p.constraints.push_back({value_at<std::string>(c, "LTarget", ""),
                               value_at<std::string>(c, "Operand", "="),
                               value_at<std::string>(c, "RTarget", "")});
  if (j.contains("Affinities") && !j.at("Affinities").is_null())
    for (const auto& a : j.at("Affinities"))
      p.affinities.push_back({value_at<std::string>(a, "LTarget", ""),
                              value_at<std::string>(a, "Operand", "="),
                              value_at<std::string>(a, "RTarget", ""), value_at(a, "Weight", 50)});
  if (j.contains("Spreads") && !j.at("Spreads").is_null())
    for (const auto& s : j.at("Spreads")) {
      Spread sp;
      sp.attribute = value_at<std::string>(s, "Attribute", "");
      sp.weight = value_at(s, "Weight", 0);
      if (s.contains("SpreadTarget") && !s.at("SpreadTarget").is_null())
        for (const auto& t : s.at("SpreadTarget"))
          sp.targets.push_back({value_at<std::string>(t, "Value", ""), value_at(t, "Percent", 0)});
      p.spreads.push_back(std::move(sp));
    }
  return p;
}

json restart_to_json(const RestartPolicy& r) {
  return {{"Attempts", r.attempts},
          {"Interval", ns(r.interval)},
          {"Delay", ns(r.delay)},
          {"Mode", r.mode}};
}

RestartPolicy restart_from_json(const json& r, RestartPolicy base) {
  base.attempts = value_at(r, "Attempts", base.attempts);
  base.interval = duration_at(r, "Interval", base.interval);
  base.delay = duration_at(r, "Delay", base.delay);
  base.mode = value_at(r, "Mode", base.mode);
  return base;
}

// --- end of placement ---

json reschedule_to_json(const ReschedulePolicy& r) {
  return {{"Attempts", r.attempts},      {"Interval", ns(r.interval)},
          {"Delay", ns(r.delay)},        {"DelayFunction", r.delay_function},
          {"MaxDelay", ns(r.max_delay)}, {"Unlimited", r.unlimited}};
}

std::optional<ReschedulePolicy> reschedule_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  ReschedulePolicy r;
  r.attempts = value_at(j, "Attempts", r.attempts);
  r.interval = duration_at(j, "Interval", r.interval);
  r.delay = duration_at(j, "Delay", r.delay);
  r.delay_function = value_at(j, "DelayFunction", r.delay_function);
  r.max_delay = duration_at(j, "MaxDelay", r.max_delay);
  r.unlimited = value_at(j, "Unlimited", r.unlimited);
  return r;
}

json migrate_to_json(const MigrateStrategy& m) {
  return {{"MaxParallel", m.max_parallel},
          {"HealthCheck", m.health_check},
          {"MinHealthyTime", ns(m.min_healthy_time)},
          {"HealthyDeadline", ns(m.healthy_deadline)}};
}

std::optional<MigrateStrategy> migrate_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  MigrateStrategy m;
  m.max_parallel = value_at(j, "MaxParallel", m.max_parallel);
  m.health_check = value_at(j, "HealthCheck", m.health_check);
  m.min_healthy_time = duration_at(j, "MinHealthyTime", m.min_healthy_time);
  m.healthy_deadline = duration_at(j, "HealthyDeadline", m.healthy_deadline);
  return m;
}

// Nomad's group ScalingPolicy shape; the Target it names is the group itself, filled in
// where the policy is listed (jobspec/scaling.hpp).
json scaling_to_json(const Scaling& s) {
  return {{"Type", s.type}, {"Enabled", s.enabled}, {"Min", s.min}, {"Max", s.max},
          {"Policy", s.policy}};
}

std::optional<Scaling> scaling_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  Scaling s;
  s.type = value_at(j, "Type", s.type);
  s.enabled = value_at(j, "Enabled", s.enabled);
  s.min = value_at(j, "Min", s.min);
  s.max = value_at(j, "Max", s.max);
  if (j.contains("Policy")) s.policy = j.at("Policy");
  return s;
}

json check_restart_to_json(const std::optional<CheckRestart>& c) {
  if (!c) return nullptr;
  return {{"Limit", c->limit}, {"Grace", ns(c->grace)}, {"IgnoreWarnings", c->ignore_warnings}};
}

// Networks in Nomad's NetworkResource shape: {Mode, MBits, ReservedPorts, DynamicPorts}, each
// port {Label, Value, To, HostNetwork}.
json networks_to_json(const std::vector<Network>& networks) {
  auto ports = [](const std::vector<Port>& list) {
    json out = json::array();
    for (const auto& p : list)
      out.push_back(
          {{"Label", p.label}, {"Value", p.value}, {"To", p.to}, {"HostNetwork", p.host_network}});
    return out;
  };
  json out = json::array();
  for (const auto& n : networks)
    out.push_back({{"Mode", n.mode},
                   {"MBits", n.mbits},
                   {"ReservedPorts", ports(n.reserved_ports)},
                   {"DynamicPorts", ports(n.dynamic_ports)}});
  return out;
}

std::vector<Network> networks_from_json(const json& j) {
  auto ports = [](const json& list) {
    std::vector<Port> out;
    if (list.is_null()) return out;
    for (const auto& pj : list) {
      Port p;
      p.label = value_at(pj, "Label", p.label);
      p.value = value_at(pj, "Value", p.value);
      p.to = value_at(pj, "To", p.to);
      p.host_network = value_at(pj, "HostNetwork", p.host_network);
      out.push_back(std::move(p));
    }
    return out;
  };
  std::vector<Network> out;
  if (j.is_null()) return out;
  for (const auto& nj : j) {
    Network n;
    n.mode = value_at(nj, "Mode", n.mode);
    n.mbits = value_at(nj, "MBits", n.mbits);
    if (nj.contains("ReservedPorts")) n.reserved_ports = ports(nj.at("ReservedPorts"));
    if (nj.contains("DynamicPorts")) n.dynamic_ports = ports(nj.at("DynamicPorts"));
    out.push_back(std::move(n));
  }
  return out;
}

json services_to_json(const std::vector<Service>& services) {
  json out = json::array();
  for (const auto& s : services) {
    json checks = json::array();
    for (const auto& c : s.checks) {
      checks.push_back({{"Name", c.name},
                        {"Type", c.type},
                        {"Path", c.path},
                        {"Method", c.method},
                        {"Protocol", c.protocol},
                        {"Header", c.header},
                        {"PortLabel", c.port},
                        {"Command", c.command},
                        {"Args", c.args},
                        {"Interval", ns(c.interval)},
                        {"Timeout", ns(c.timeout)},
                        {"CheckRestart", check_restart_to_json(c.check_restart)}});
    }
    out.push_back({{"Name", s.name},
                   {"PortLabel", s.port},
                   {"Address", s.address},
                   {"Provider", s.provider},
                   {"AddressMode", s.address_mode},
                   {"Tags", s.tags},
                   {"Checks", checks}});
  }
  return out;
}

std::vector<Service> services_from_json(const json& j) {
  std::vector<Service> out;
  if (j.is_null()) return out;
  for (const auto& sj : j) {
    Service s;
    s.name = value_at(sj, "Name", s.name);
    s.port = value_at(sj, "PortLabel", s.port);
    s.address = value_at(sj, "Address", s.address);
    s.provider = value_at(sj, "Provider", s.provider);
    s.address_mode = value_at(sj, "AddressMode", s.address_mode);
    s.tags = value_at(sj, "Tags", s.tags);
    if (sj.contains("Checks") && !sj.at("Checks").is_null()) {
      for (const auto& cj : sj.at("Checks")) {
        Check c;
        c.name = value_at(cj, "Name", c.name);
        c.type = value_at(cj, "Type", c.type);
        c.path = value_at(cj, "Path", c.path);
        c.method = value_at(cj, "Method", c.method);
        c.protocol = value_at(cj, "Protocol", c.protocol);
        c.header = value_at(cj, "Header", c.header);
        c.port = value_at(cj, "PortLabel", c.port);
        c.command = value_at(cj, "Command", c.command);
        c.args = value_at(cj, "Args", c.args);
        c.interval = duration_at(cj, "Interval", c.interval);
        c.timeout = duration_at(cj, "Timeout", c.timeout);
        if (cj.contains("CheckRestart") && !cj.at("CheckRestart").is_null()) {
          const json& r = cj.at("CheckRestart");
          CheckRestart cr;
          cr.limit = value_at(r, "Limit", cr.limit);
          cr.grace = duration_at(r, "Grace", cr.grace);
          cr.ignore_warnings = value_at(r, "IgnoreWarnings", cr.ignore_warnings);
          c.check_restart = cr;
        }
        s.checks.push_back(std::move(c));
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

json task_to_json(const Task& t) {
  json devices = json::array();
  for (const auto& d : t.resources.devices) {
    devices.push_back({{"Name", d.name},
                       {"Count", d.count},
                       {"Constraints", constraints_to_json(d.constraints)}});
  }
  json lifecycle = nullptr;
  if (!t.lifecycle.hook.empty() || t.lifecycle.sidecar) {
    lifecycle = {{"Hook", t.lifecycle.hook}, {"Sidecar", t.lifecycle.sidecar}};
  }
  json out = {{"Name", t.name},
              {"Driver", t.driver},
              {"User", t.user},
              {"Config", t.config},
              {"Env", t.env},
              {"Resources",
               {{"CPU", t.resources.cpu_mhz},
                {"Cores", t.resources.cores},
                {"MemoryMB", t.resources.memory_mb},
                {"MemoryMaxMB", t.resources.memory_max_mb},
                {"Pids", t.resources.pids},
                {"Devices", devices},
                {"Networks", networks_to_json(t.resources.networks)}}},
              {"KillTimeout", ns(t.kill_timeout)},
              {"KillSignal", t.kill_signal},
              {"LogConfig",
               {{"MaxFiles", t.logs.max_files},
                {"MaxFileSizeMB", t.logs.max_file_size_mb},
                {"Disabled", t.logs.disabled}}},
              {"Lifecycle", lifecycle},
              {"Leader", t.leader},
              {"Meta", t.meta},
              {"Services", services_to_json(t.services)}};
  out["RestartPolicy"] = t.restart ? restart_to_json(*t.restart) : json(nullptr);
  out["ShutdownDelay"] = ns(t.shutdown_delay);
  placement_to_json(t.placement, out, /*spreads=*/false);
  out["DispatchPayload"] =
      t.dispatch_payload ? json{{"File", t.dispatch_payload->file}} : json(nullptr);
  out["Identity"] =
      t.identity ? json{{"Name", "default"}, {"Env", t.identity->env}, {"File", t.identity->file}}
                 : json(nullptr);
  if (!t.artifacts.empty()) {
    json artifacts = json::array();
    for (const auto& a : t.artifacts)
      artifacts.push_back({{"GetterSource", a.source},
                           {"GetterOptions", a.options},
                           {"GetterHeaders", a.headers},
                           {"GetterMode", a.mode},
                           {"RelativeDest", a.destination},
                           {"Chown", a.chown}});
    out["Artifacts"] = std::move(artifacts);
  }
  out["Templates"] = templates_to_json(t.templates);
  json mounts = json::array();
  for (const auto& m : t.volume_mounts)
    mounts.push_back({{"Volume", m.volume},
                      {"Destination", m.destination},
                      {"ReadOnly", m.read_only},
                      {"PropagationMode", m.propagation_mode}});
  out["VolumeMounts"] = std::move(mounts);
  return out;
}

Task task_from_json(const json& j) {
  Task t;
  t.name = value_at(j, "Name", t.name);
  t.driver = value_at(j, "Driver", t.driver);
  t.user = value_at(j, "User", t.user);
  if (j.contains("Config") && !j.at("Config").is_null()) t.config = j.at("Config");
  t.env = value_at(j, "Env", t.env);
  if (j.contains("Resources") && !j.at("Resources").is_null()) {
    const json& r = j.at("Resources");
    t.resources.cpu_mhz = value_at(r, "CPU", t.resources.cpu_mhz);
    t.resources.cores = value_at(r, "Cores", t.resources.cores);
    t.resources.memory_mb = value_at(r, "MemoryMB", t.resources.memory_mb);
    t.resources.memory_max_mb = value_at(r, "MemoryMaxMB", t.resources.memory_max_mb);
    t.resources.pids = value_at(r, "Pids", t.resources.pids);
    if (r.contains("Devices") && !r.at("Devices").is_null()) {
      for (const auto& d : r.at("Devices")) {
        DeviceRequest dev;
        dev.name = value_at(d, "Name", dev.name);
        dev.count = value_at(d, "Count", dev.count);
        if (d.contains("Constraints")) dev.constraints = constraints_from_json(d.at("Constraints"));
        t.resources.devices.push_back(std::move(dev));
      }
    }
    if (r.contains("Networks")) t.resources.networks = networks_from_json(r.at("Networks"));
  }
  t.kill_timeout = duration_at(j, "KillTimeout", t.kill_timeout);
  t.kill_signal = value_at(j, "KillSignal", t.kill_signal);
  if (j.contains("LogConfig") && !j.at("LogConfig").is_null()) {
    const json& l = j.at("LogConfig");
    t.logs.max_files = value_at(l, "MaxFiles", t.logs.max_files);
    t.logs.max_file_size_mb = value_at(l, "MaxFileSizeMB", t.logs.max_file_size_mb);
    t.logs.disabled = value_at(l, "Disabled", t.logs.disabled);
  }
  if (j.contains("Lifecycle") && !j.at("Lifecycle").is_null()) {
    t.lifecycle.hook = value_at(j.at("Lifecycle"), "Hook", t.lifecycle.hook);
    t.lifecycle.sidecar = value_at(j.at("Lifecycle"), "Sidecar", t.lifecycle.sidecar);
  }
  t.leader = value_at(j, "Leader", t.leader);
  t.meta = value_at(j, "Meta", t.meta);
  if (j.contains("Services")) t.services = services_from_json(j.at("Services"));
  if (j.contains("RestartPolicy") && !j.at("RestartPolicy").is_null())
    t.restart = restart_from_json(j.at("RestartPolicy"), RestartPolicy{});
  t.shutdown_delay = duration_at(j, "ShutdownDelay", t.shutdown_delay);
  t.placement = placement_from_json(j);
  if (j.contains("DispatchPayload") && !j.at("DispatchPayload").is_null())
    t.dispatch_payload = DispatchPayload{value_at<std::string>(j.at("DispatchPayload"), "File", "")};
  if (j.contains("Identity") && !j.at("Identity").is_null())
    t.identity = Identity{value_at<bool>(j.at("Identity"), "Env", false),
                          value_at<bool>(j.at("Identity"), "File", false)};
  if (j.contains("Artifacts") && j.at("Artifacts").is_array()) {
    for (const auto& a : j.at("Artifacts")) {
      Artifact art;
      art.source = value_at(a, "GetterSource", art.source);
      art.options = value_at(a, "GetterOptions", art.options);
      art.headers = value_at(a, "GetterHeaders", art.headers);
      art.mode = value_at(a, "GetterMode", art.mode);
      art.destination = value_at(a, "RelativeDest", art.destination);
      art.chown = value_at(a, "Chown", art.chown);
      t.artifacts.push_back(std::move(art));
    }
  }
  if (j.contains("Templates")) t.templates = templates_from_json(j.at("Templates"));
  if (j.contains("VolumeMounts") && !j.at("VolumeMounts").is_null()) {
    for (const auto& m : j.at("VolumeMounts")) {
      VolumeMount v;
      v.volume = value_at(m, "Volume", v.volume);
      v.destination = value_at(m, "Destination", v.destination);
      v.read_only = value_at(m, "ReadOnly", v.read_only);
      v.propagation_mode = value_at(m, "PropagationMode", v.propagation_mode);
      t.volume_mounts.push_back(std::move(v));
    }
  }
  return t;
}

json group_to_json(const TaskGroup& g) {
  json tasks = json::array();
  for (const auto& t : g.tasks) tasks.push_back(task_to_json(t));
  json out = {{"Name", g.name},
              {"Count", g.count},
              {"RestartPolicy", restart_to_json(g.restart)},
              {"Update", update_to_json(g.update)},
              {"Tasks", tasks},
              {"Meta", g.meta},
              {"Networks", networks_to_json(g.networks)},
              {"Services", services_to_json(g.services)}};
  out["ShutdownDelay"] = ns(g.shutdown_delay);
  if (g.reschedule) out["ReschedulePolicy"] = reschedule_to_json(*g.reschedule);
  if (g.migrate) out["Migrate"] = migrate_to_json(*g.migrate);
  if (g.scaling) out["Scaling"] = scaling_to_json(*g.scaling);
  placement_to_json(g.placement, out, /*spreads=*/true);
  // Nomad's shape: Volumes keyed by name, EphemeralDisk with SizeMB.
  json volumes = json::object();
  for (const auto& v : g.volumes)
    volumes[v.name] = {{"Name", v.name},
                       {"Type", v.type},
                       {"Source", v.source},
                       {"ReadOnly", v.read_only}};
  out["Volumes"] = std::move(volumes);
  out["EphemeralDisk"] = {{"SizeMB", g.ephemeral_disk.size_mb},
                          {"Sticky", g.ephemeral_disk.sticky},
                          {"Migrate", g.ephemeral_disk.migrate}};
  return out;
}

TaskGroup group_from_json(const json& j) {
  TaskGroup g;
  g.name = value_at(j, "Name", g.name);
  g.count = value_at(j, "Count", g.count);
  if (j.contains("RestartPolicy") && !j.at("RestartPolicy").is_null())
    g.restart = restart_from_json(j.at("RestartPolicy"), g.restart);
  if (j.contains("Update")) g.update = update_from_json(j.at("Update"));
  if (j.contains("ReschedulePolicy")) g.reschedule = reschedule_from_json(j.at("ReschedulePolicy"));
  if (j.contains("Migrate")) g.migrate = migrate_from_json(j.at("Migrate"));
  if (j.contains("Scaling")) g.scaling = scaling_from_json(j.at("Scaling"));
  if (j.contains("Tasks") && !j.at("Tasks").is_null()) {
    for (const auto& t : j.at("Tasks")) g.tasks.push_back(task_from_json(t));
  }
  g.meta = value_at(j, "Meta", g.meta);
  if (j.contains("Networks")) g.networks = networks_from_json(j.at("Networks"));
  if (j.contains("Services")) g.services = services_from_json(j.at("Services"));
  g.shutdown_delay = duration_at(j, "ShutdownDelay", g.shutdown_delay);
  g.placement = placement_from_json(j);
  if (j.contains("Volumes") && j.at("Volumes").is_object()) {
    for (const auto& [name, v] : j.at("Volumes").items()) {
      VolumeRequest r;
      r.name = value_at(v, "Name", name);
      r.type = value_at(v, "Type", r.type);
      r.source = value_at(v, "Source", r.source);
      r.read_only = value_at(v, "ReadOnly", r.read_only);
      g.volumes.push_back(std::move(r));
    }
  }
  if (j.contains("EphemeralDisk") && j.at("EphemeralDisk").is_object()) {
    const json& e = j.at("EphemeralDisk");
    g.ephemeral_disk.size_mb = value_at(e, "SizeMB", g.ephemeral_disk.size_mb);
    g.ephemeral_disk.sticky = value_at(e, "Sticky", g.ephemeral_disk.sticky);
    g.ephemeral_disk.migrate = value_at(e, "Migrate", g.ephemeral_disk.migrate);
  }
  return g;
}

// Nomad's PeriodicConfig: one cron is Spec, several are Specs (HCL's `crons`).
json periodic_to_json(const std::optional<Periodic>& p) {
  if (!p) return nullptr;
  return {{"Enabled", p->enabled},
          {"Spec", p->crons.size() == 1 ? p->crons[0] : std::string()},
          {"Specs", p->crons.size() == 1 ? std::vector<std::string>{} : p->crons},
          {"SpecType", "cron"},
          {"ProhibitOverlap", p->prohibit_overlap},
          {"TimeZone", p->time_zone}};
}

std::optional<Periodic> periodic_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  Periodic p;
  p.enabled = value_at(j, "Enabled", p.enabled);
  auto spec = value_at<std::string>(j, "Spec", "");
  if (!spec.empty()) p.crons.push_back(spec);
  for (const auto& s : value_at(j, "Specs", std::vector<std::string>{})) p.crons.push_back(s);
  p.prohibit_overlap = value_at(j, "ProhibitOverlap", p.prohibit_overlap);
  p.time_zone = value_at(j, "TimeZone", p.time_zone);
  return p;
}

json parameterized_to_json(const std::optional<Parameterized>& p) {
  if (!p) return nullptr;
  return {{"Payload", p->payload},
          {"MetaRequired", p->meta_required},
          {"MetaOptional", p->meta_optional}};
}

std::optional<Parameterized> parameterized_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  Parameterized p;
  p.payload = value_at(j, "Payload", p.payload);
  p.meta_required = value_at(j, "MetaRequired", p.meta_required);
  p.meta_optional = value_at(j, "MetaOptional", p.meta_optional);
  return p;
}

}  // namespace

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
  json out = {{"ID", job.id},
              {"Name", job.name},
              {"Type", to_string(job.type)},
              {"Datacenters", job.datacenters},
              {"Priority", job.priority},
              {"Meta", job.meta},
              {"Update", update_to_json(job.update)},
              {"TaskGroups", groups}};
  if (job.reschedule) out["Reschedule"] = reschedule_to_json(*job.reschedule);
  out["Region"] = job.region;
  out["Namespace"] = job.namespace_name;
  out["NodePool"] = job.node_pool;
  placement_to_json(job.placement, out, /*spreads=*/true);
  out["Periodic"] = periodic_to_json(job.periodic);
  out["ParameterizedJob"] = parameterized_to_json(job.parameterized);
  out["ParentID"] = job.parent_id;
  out["Dispatched"] = job.dispatched;
  // Nomad's []byte: base64 in JSON, null when empty.
  out["Payload"] = job.payload.empty() ? json(nullptr) : json(base64_encode(job.payload));
  return out;
}

Job job_from_json(const json& j) {
  Job job;
  job.id = value_at(j, "ID", job.id);
  job.name = value_at(j, "Name", job.name);
  job.type =
      job_type_from_string(value_at<std::string>(j, "Type", "service")).value_or(JobType::Service);
  job.datacenters = value_at(j, "Datacenters", job.datacenters);
  job.priority = value_at(j, "Priority", job.priority);
  job.meta = value_at(j, "Meta", job.meta);
  if (j.contains("Update")) job.update = update_from_json(j.at("Update"));
  if (j.contains("Reschedule")) job.reschedule = reschedule_from_json(j.at("Reschedule"));
  if (j.contains("TaskGroups") && !j.at("TaskGroups").is_null()) {
    for (const auto& g : j.at("TaskGroups")) job.groups.push_back(group_from_json(g));
  }
  job.region = value_at(j, "Region", job.region);
  job.namespace_name = value_at(j, "Namespace", job.namespace_name);
  job.node_pool = value_at(j, "NodePool", job.node_pool);
  job.placement = placement_from_json(j);
  if (j.contains("Periodic")) job.periodic = periodic_from_json(j.at("Periodic"));
  if (j.contains("ParameterizedJob"))
    job.parameterized = parameterized_from_json(j.at("ParameterizedJob"));
  job.parent_id = value_at(j, "ParentID", job.parent_id);
  job.dispatched = value_at(j, "Dispatched", job.dispatched);
  if (auto payload = value_at<std::string>(j, "Payload", ""); !payload.empty())
    job.payload = base64_decode(payload).value_or("");
  return job;
}

}  // namespace drover::jobspec
