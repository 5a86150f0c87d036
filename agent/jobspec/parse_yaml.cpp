// YAML job files (top-level `job:`, snake_case keys mirroring Nomad's HCL) -> Job.
// Every problem is collected with its path; unknown keys get a "did you mean" hint.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "jobspec/did_you_mean.hpp"
#include "jobspec/readers.hpp"
#include "jobspec/yaml_to_json.hpp"

namespace drover::jobspec::detail {

namespace {

using nlohmann::json;

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// The value of map key `key`, as `at(n, "key")` finds it (the first equal key), or an undefined
// node (`!at(...)`) when `n` is no map or has no such key. yaml-cpp's operator[] makes a
// std::stringstream for every key it does not find (the missing node keeps the key's text for
// an error message) and decodes every key it compares: with ~300 lookups per job, most of
// them of keys not written, that was a quarter of parsing a job.
const YAML::Node at(const YAML::Node& n, std::string_view key) {
  if (n.IsMap())
    for (const auto& kv : n)
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  // One undefined node for every miss: making one allocates a node store of its own. It is
  // only ever read (the readers take const nodes).
  static const YAML::Node missing(YAML::NodeType::Undefined);
  return missing;
}

const char* kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a scalar";
  }
}

// Collects problems; each reader returns nothing for a bad or absent value so the caller
// keeps its default and goes on to find the next problem.
class YamlReader {
 public:
  explicit YamlReader(std::vector<Problem>& problems) : problems_(problems) {}

  void add(const std::string& path, std::string message) {
    problems_.push_back({path, std::move(message)});
  }

  // A map (true), or absent/null (false, nothing to read), or a problem (false).
  bool map(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return false;
    if (!n.IsMap()) {
      add(path, std::string("must be a map (got ") + kind(n) + ")");
      return false;
    }
    return true;
  }

  bool list(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return false;
    if (!n.IsSequence()) {
      add(path, std::string("must be a list (got ") + kind(n) + ")");
      return false;
    }
    return true;
  }

  // Reports keys not in `known`, with a hint when one is close.
  // yaml-cpp keeps the first of two equal keys; the second would be silently lost.
  void check_keys(const YAML::Node& m, const std::string& path,
                  const std::vector<std::string_view>& known) {
    std::set<std::string> seen;
    for (const auto& kv : m) {
      if (!kv.first.IsScalar()) {
        add(path, "keys must be plain strings");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (!seen.insert(key).second) {
        add(join(path, key), "duplicate key");
        continue;
      }
      bool found = false;
      for (auto k : known) found = found || k == key;
      if (!found) add(join(path, key), "unknown key" + did_you_mean(key, known));
    }
  }

  std::optional<std::string> str(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
      add(path, std::string("must be a string (got ") + kind(n) + ")");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<int> integer(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
      add(path, std::string("must be an integer (got ") + kind(n) + ")");
      return std::nullopt;
    }
    json v = yaml_scalar_to_json(n);
    if (!v.is_number_integer()) {
      add(path, "must be an integer (got \"" + n.Scalar() + "\")");
      return std::nullopt;
    }
    if (v.is_number_unsigned() || v.get<long long>() > INT_MAX || v.get<long long>() < INT_MIN) {
      add(path, "value " + n.Scalar() + " is out of range");
      return std::nullopt;
    }
    return v.get<int>();
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return std::nullopt;
    json v = n.IsScalar() ? yaml_scalar_to_json(n) : json();
    if (!v.is_boolean()) {
      add(path, "must be true or false (got " +
                    (n.IsScalar() ? "\"" + n.Scalar() + "\"" : std::string(kind(n))) + ")");
      return std::nullopt;
    }
    return v.get<bool>();
  }

  std::optional<Duration> duration(const YAML::Node& n, const std::string& path) {
    if (!n || n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
      add(path, std::string("must be a duration like \"10s\" (got ") + kind(n) + ")");
      return std::nullopt;
    }
    const std::string& s = n.Scalar();
    json v = yaml_scalar_to_json(n);
    // A bare number is ambiguous (seconds? nanoseconds, as in Nomad's JSON?): refuse it.
    if (v.is_number() && s != "0") {
      add(path, "bare number " + s + " is not a duration: write it with a unit, e.g. \"" + s +
                    "s\" for seconds");
      return std::nullopt;
    }
    auto d = parse_duration(s);
    if (!d.ok()) {
      add(path, d.message());
      return std::nullopt;
    }
    return *d;
  }

  // env and meta: scalar keys and values, values kept as written.
  std::map<std::string, std::string> string_map(const YAML::Node& n, const std::string& path) {
    std::map<std::string, std::string> out;
    if (!map(n, path)) return out;
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) {
        add(path, "keys must be plain strings");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (kv.second.IsNull()) {
        out[key] = "";
      } else if (kv.second.IsScalar()) {
        out[key] = kv.second.Scalar();
      } else {
        add(join(path, key),
            std::string("must be a string, number or boolean (got ") + kind(kv.second) + ")");
      }
    }
    return out;
  }

  std::vector<std::string> string_list(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (!list(n, path)) return out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (auto s = str(n[i], index(path, i))) out.push_back(*s);
    }
    return out;
  }

  UpdateStrategy update(const YAML::Node& n, const std::string& path, UpdateStrategy base) {
    check_keys(n, path,
               {"health_check", "min_healthy_time", "healthy_deadline", "max_parallel", "stagger",
                "canary", "auto_revert", "auto_promote", "progress_deadline"});
    if (auto v = integer(at(n, "max_parallel"), join(path, "max_parallel"))) base.max_parallel = *v;
    if (auto v = duration(at(n, "stagger"), join(path, "stagger"))) base.stagger = *v;
    if (auto v = integer(at(n, "canary"), join(path, "canary"))) base.canary = *v;
    if (auto v = boolean(at(n, "auto_revert"), join(path, "auto_revert"))) base.auto_revert = *v;
    if (auto v = boolean(at(n, "auto_promote"), join(path, "auto_promote"))) base.auto_promote = *v;
    if (auto v = duration(at(n, "progress_deadline"), join(path, "progress_deadline")))
      base.progress_deadline = *v;
    if (auto v = str(at(n, "health_check"), join(path, "health_check"))) base.health_check = *v;
    if (auto v = duration(at(n, "min_healthy_time"), join(path, "min_healthy_time")))
      base.min_healthy_time = *v;
    if (auto v = duration(at(n, "healthy_deadline"), join(path, "healthy_deadline")))
      base.healthy_deadline = *v;
    return base;
  }

  // --- Placement (issue 17): constraints, affinities, spreads. ---

  std::vector<Constraint> constraints(const YAML::Node& n, const std::string& path) {
    std::vector<Constraint> out;
    if (!list(n, path)) return out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string p = index(path, i);
      if (!map(n[i], p)) continue;
      check_keys(n[i], p, {"attribute", "operator", "value"});
      Constraint c;
      if (auto v = str(at(n[i], "attribute"), join(p, "attribute"))) c.attribute = *v;
      if (auto v = str(at(n[i], "operator"), join(p, "operator"))) c.op = *v;
      if (auto v = str(at(n[i], "value"), join(p, "value"))) c.value = *v;
      out.push_back(std::move(c));
    }
    return out;
  }

  std::vector<Affinity> affinities(const YAML::Node& n, const std::string& path) {
    std::vector<Affinity> out;
    if (!list(n, path)) return out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string p = index(path, i);
      if (!map(n[i], p)) continue;
      check_keys(n[i], p, {"attribute", "operator", "value", "weight"});
      Affinity a;
      if (auto v = str(at(n[i], "attribute"), join(p, "attribute"))) a.attribute = *v;
      if (auto v = str(at(n[i], "operator"), join(p, "operator"))) a.op = *v;
      if (auto v = str(at(n[i], "value"), join(p, "value"))) a.value = *v;
      if (auto v = integer(at(n[i], "weight"), join(p, "weight"))) a.weight = *v;
      out.push_back(std::move(a));
    }
    return out;
  }

  std::vector<Spread> spreads(const YAML::Node& n, const std::string& path) {
    std::vector<Spread> out;
    if (!list(n, path)) return out;
    for (std::size_t i = 0; i < n.size(); ++i) {
      const std::string p = index(path, i);
      if (!map(n[i], p)) continue;
      check_keys(n[i], p, {"attribute", "weight", "targets"});
      Spread s;
      if (auto v = str(at(n[i], "attribute"), join(p, "attribute"))) s.attribute = *v;
      if (auto v = integer(at(n[i], "weight"), join(p, "weight"))) s.weight = *v;
      const std::string tp = join(p, "targets");
      if (list(at(n[i], "targets"), tp)) {
        for (std::size_t t = 0; t < at(n[i], "targets").size(); ++t) {
          const YAML::Node tn = at(n[i], "targets")[t];
          const std::string tpi = index(tp, t);
          if (!map(tn, tpi)) continue;
          check_keys(tn, tpi, {"value", "percent"});
          SpreadTarget target;
          if (auto v = str(at(tn, "value"), join(tpi, "value"))) target.value = *v;
          if (auto v = integer(at(tn, "percent"), join(tpi, "percent"))) target.percent = *v;
          s.targets.push_back(std::move(target));
        }
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  Placement placement(const YAML::Node& n, const std::string& path, bool with_spreads) {
    Placement p;
    p.constraints = constraints(at(n, "constraints"), join(path, "constraints"));
    p.affinities = affinities(at(n, "affinities"), join(path, "affinities"));
    if (with_spreads) p.spreads = spreads(at(n, "spreads"), join(path, "spreads"));
    return p;
  }

  RestartPolicy restart(const YAML::Node& r, const std::string& rpath, RestartPolicy base) {
    check_keys(r, rpath, {"attempts", "interval", "delay", "mode", "render_templates"});
    if (auto v = boolean(at(r, "render_templates"), join(rpath, "render_templates")))
      base.render_templates = *v;
    if (auto v = integer(at(r, "attempts"), join(rpath, "attempts"))) base.attempts = *v;
    if (auto v = duration(at(r, "interval"), join(rpath, "interval"))) base.interval = *v;
    if (auto v = duration(at(r, "delay"), join(rpath, "delay"))) base.delay = *v;
    if (auto v = str(at(r, "mode"), join(rpath, "mode"))) base.mode = *v;
    return base;
  }

  // --- end of placement ---

  // A reschedule block merged over `base`: a key left out keeps base's value.
  ReschedulePolicy reschedule(const YAML::Node& n, const std::string& path, ReschedulePolicy r) {
    check_keys(n, path,
               {"attempts", "interval", "delay", "delay_function", "max_delay", "unlimited"});
    if (auto v = integer(at(n, "attempts"), join(path, "attempts"))) r.attempts = *v;
    if (auto v = duration(at(n, "interval"), join(path, "interval"))) r.interval = *v;
    if (auto v = duration(at(n, "delay"), join(path, "delay"))) r.delay = *v;
    if (auto v = str(at(n, "delay_function"), join(path, "delay_function"))) r.delay_function = *v;
    if (auto v = duration(at(n, "max_delay"), join(path, "max_delay"))) r.max_delay = *v;
    if (auto v = boolean(at(n, "unlimited"), join(path, "unlimited"))) r.unlimited = *v;
    return r;
  }

  DeviceRequest device(const YAML::Node& n, const std::string& path) {
    DeviceRequest d;
    if (!map(n, path)) return d;
    check_keys(n, path, {"name", "count", "constraints", "affinities"});
    if (auto v = str(at(n, "name"), join(path, "name"))) d.name = *v;
    d.affinities = affinities(at(n, "affinities"), join(path, "affinities"));
    if (auto v = integer(at(n, "count"), join(path, "count"))) d.count = *v;
    const std::string cpath = join(path, "constraints");
    if (list(at(n, "constraints"), cpath)) {
      for (std::size_t i = 0; i < at(n, "constraints").size(); ++i) {
        const YAML::Node c = at(n, "constraints")[i];
        const std::string p = index(cpath, i);
        if (!map(c, p)) continue;
        check_keys(c, p, {"attribute", "operator", "value"});
        json out = {{"attribute", str(at(c, "attribute"), join(p, "attribute")).value_or("")},
                    {"operator", str(at(c, "operator"), join(p, "operator")).value_or("=")},
                    {"value", str(at(c, "value"), join(p, "value")).value_or("")}};
        d.constraints.push_back(std::move(out));
      }
    }
    return d;
  }

  // `network: {mode, mbits, dns: {servers, searches, options}, ports: {http: {static, to,
  // host_network}, db: ~}}` (group level, or the older task-level resources.network): a port
  // with `static` is reserved, else dynamic.
  Network network(const YAML::Node& n, const std::string& path) {
    Network net;
    if (!map(n, path)) return net;
    check_keys(n, path, {"mode", "mbits", "dns", "ports", "hostname", "cni"});
    if (auto v = str(at(n, "mode"), join(path, "mode"))) net.mode = *v;
    if (auto v = str(at(n, "hostname"), join(path, "hostname"))) net.hostname = *v;
    if (at(n, "cni") && map(at(n, "cni"), join(path, "cni"))) {
      check_keys(at(n, "cni"), join(path, "cni"), {"args"});
      net.cni_args = string_map(at(at(n, "cni"), "args"), join(path, "cni.args"));
    }
    if (auto v = integer(at(n, "mbits"), join(path, "mbits"))) net.mbits = *v;
    const std::string dpath = join(path, "dns");
    if (at(n, "dns") && map(at(n, "dns"), dpath)) {
      check_keys(at(n, "dns"), dpath, {"servers", "searches", "options"});
      DnsConfig dns;
      dns.servers = string_list(at(at(n, "dns"), "servers"), join(dpath, "servers"));
      dns.searches = string_list(at(at(n, "dns"), "searches"), join(dpath, "searches"));
      dns.options = string_list(at(at(n, "dns"), "options"), join(dpath, "options"));
      net.dns = std::move(dns);
    }
    const std::string ppath = join(path, "ports");
    if (map(at(n, "ports"), ppath)) {
      for (const auto& kv : at(n, "ports")) {
        if (!kv.first.IsScalar()) {
          add(ppath, "keys must be plain strings (the port labels)");
          continue;
        }
        Port port;
        port.label = kv.first.Scalar();
        const std::string lp = join(ppath, port.label);
        std::optional<int> value;
        if (map(kv.second, lp)) {
          check_keys(kv.second, lp, {"static", "to", "host_network"});
          value = integer(at(kv.second, "static"), join(lp, "static"));
          if (auto v = integer(at(kv.second, "to"), join(lp, "to"))) port.to = *v;
          if (auto v = str(at(kv.second, "host_network"), join(lp, "host_network")))
            port.host_network = *v;
        }
        if (value) {
          port.value = *value;
          net.reserved_ports.push_back(std::move(port));
        } else {
          net.dynamic_ports.push_back(std::move(port));
        }
      }
    }
    return net;
  }

  void resources(const YAML::Node& n, const std::string& path, Resources& r) {
    if (!map(n, path)) return;
    check_keys(n, path,
               {"cpu", "memory", "memory_max", "cores", "pids", "disk", "devices", "network", "numa"});
    if (auto v = integer(at(n, "disk"), join(path, "disk"))) r.disk_mb = *v;
    auto cpu = integer(at(n, "cpu"), join(path, "cpu"));
    if (cpu) r.cpu_mhz = *cpu;
    if (auto v = integer(at(n, "cores"), join(path, "cores"))) r.cores = *v;
    // As in Nomad: a task that asks for cores gets no separate cpu share (cpu 0).
    if (r.cores > 0 && !cpu) r.cpu_mhz = 0;
    if (auto v = integer(at(n, "memory"), join(path, "memory"))) r.memory_mb = *v;
    if (auto v = integer(at(n, "memory_max"), join(path, "memory_max"))) r.memory_max_mb = *v;
    if (auto v = integer(at(n, "pids"), join(path, "pids"))) r.pids = *v;
    if (map(at(n, "numa"), join(path, "numa"))) {
      check_keys(at(n, "numa"), join(path, "numa"), {"affinity", "devices"});
      r.numa_affinity = str(at(at(n, "numa"), "affinity"), join(path, "numa.affinity")).value_or("none");
      r.numa_devices = string_list(at(at(n, "numa"), "devices"), join(path, "numa.devices"));
    }
    const std::string dpath = join(path, "devices");
    if (list(at(n, "devices"), dpath)) {
      for (std::size_t i = 0; i < at(n, "devices").size(); ++i)
        r.devices.push_back(device(at(n, "devices")[i], index(dpath, i)));
    }
    if (map(at(n, "network"), join(path, "network")))
      r.networks.push_back(network(at(n, "network"), join(path, "network")));
  }

  Check check(const YAML::Node& n, const std::string& path) {
    Check c;
    if (!map(n, path)) return c;
    check_keys(n, path,
               {"name", "type", "path", "method", "protocol", "header", "port", "command", "args",
                "task", "interval", "timeout", "check_restart", "on_update", "initial_status"});
    if (auto v = str(at(n, "name"), join(path, "name"))) c.name = *v;
    if (auto v = str(at(n, "type"), join(path, "type"))) c.type = *v;
    if (auto v = str(at(n, "path"), join(path, "path"))) c.path = *v;
    if (auto v = str(at(n, "method"), join(path, "method"))) c.method = *v;
    if (auto v = str(at(n, "protocol"), join(path, "protocol"))) c.protocol = *v;
    const std::string hpath = join(path, "header");
    if (map(at(n, "header"), hpath)) {
      for (const auto& kv : at(n, "header")) {
        if (!kv.first.IsScalar()) {
          add(hpath, "keys must be plain strings");
          continue;
        }
        const std::string& key = kv.first.Scalar();
        c.header[key] = string_list(kv.second, join(hpath, key));
      }
    }
    if (auto v = str(at(n, "port"), join(path, "port"))) c.port = *v;
    if (auto v = str(at(n, "command"), join(path, "command"))) c.command = *v;
    c.args = string_list(at(n, "args"), join(path, "args"));
    if (auto v = str(at(n, "task"), join(path, "task"))) c.task = *v;
    if (auto v = duration(at(n, "interval"), join(path, "interval"))) c.interval = *v;
    if (auto v = duration(at(n, "timeout"), join(path, "timeout"))) c.timeout = *v;
    c.check_restart = check_restart(at(n, "check_restart"), join(path, "check_restart"));
    if (auto v = str(at(n, "on_update"), join(path, "on_update"))) c.on_update = *v;
    if (auto v = str(at(n, "initial_status"), join(path, "initial_status"))) c.initial_status = *v;
    return c;
  }

  // A check's, or its service's for every check without one of its own (as Nomad merges it).
  std::optional<CheckRestart> check_restart(const YAML::Node& r, const std::string& rpath) {
    if (!map(r, rpath)) return std::nullopt;
    check_keys(r, rpath, {"limit", "grace", "ignore_warnings"});
    CheckRestart cr;
    if (auto v = integer(at(r, "limit"), join(rpath, "limit"))) cr.limit = *v;
    if (auto v = duration(at(r, "grace"), join(rpath, "grace"))) cr.grace = *v;
    if (auto v = boolean(at(r, "ignore_warnings"), join(rpath, "ignore_warnings")))
      cr.ignore_warnings = *v;
    return cr;
  }

  Service service(const YAML::Node& n, const std::string& path) {
    Service s;
    if (!map(n, path)) return s;
    check_keys(n, path,
               {"name", "port", "address", "provider", "address_mode", "tags", "checks",
                "check_restart", "on_update", "meta", "canary_meta", "tagged_addresses",
                "enable_tag_override", "canary_tags"});
    const auto service_check_restart =
        check_restart(at(n, "check_restart"), join(path, "check_restart"));
    if (auto v = str(at(n, "name"), join(path, "name"))) s.name = *v;
    if (auto v = str(at(n, "port"), join(path, "port"))) s.port = *v;
    if (auto v = str(at(n, "address"), join(path, "address"))) s.address = *v;
    if (auto v = str(at(n, "provider"), join(path, "provider"))) s.provider = *v;
    if (auto v = str(at(n, "address_mode"), join(path, "address_mode"))) s.address_mode = *v;
    s.tags = string_list(at(n, "tags"), join(path, "tags"));
    s.meta = string_map(at(n, "meta"), join(path, "meta"));
    s.canary_meta = string_map(at(n, "canary_meta"), join(path, "canary_meta"));
    s.tagged_addresses = string_map(at(n, "tagged_addresses"), join(path, "tagged_addresses"));
    if (auto v = boolean(at(n, "enable_tag_override"), join(path, "enable_tag_override")))
      s.enable_tag_override = *v;
    if (!string_list(at(n, "canary_tags"), join(path, "canary_tags")).empty())
      add(join(path, "canary_tags"), kCanaryTagsRefused);
    const std::string cpath = join(path, "checks");
    if (list(at(n, "checks"), cpath)) {
      for (std::size_t i = 0; i < at(n, "checks").size(); ++i) {
        const YAML::Node& cn = at(n, "checks")[i];
        s.checks.push_back(check(cn, index(cpath, i)));
        if (!s.checks.back().check_restart) s.checks.back().check_restart = service_check_restart;
        // The service's on_update is each check's without one of its own (as Nomad's API).
        if (auto v = str(at(n, "on_update"), join(path, "on_update"));
            v && !(cn.IsMap() && at(cn, "on_update")))
          s.checks.back().on_update = *v;
      }
    }
    return s;
  }

  Task task(const YAML::Node& n, const std::string& path, const RestartPolicy& group_restart) {
    Task t;
    if (!map(n, path)) {
      if (!n || n.IsNull()) add(path, "must be a map (got null)");
      return t;
    }
    check_keys(n, path,
               {"name", "driver", "user", "config", "env", "resources", "kill_timeout",
                "kill_signal", "logs", "lifecycle", "leader", "meta", "services", "restart",
                "shutdown_delay", "constraints", "affinities", "dispatch_payload",
                "volume_mounts", "identity", "identities", "artifacts", "templates", "actions"});
    if (auto v = str(at(n, "name"), join(path, "name"))) t.name = *v;
    if (auto v = str(at(n, "driver"), join(path, "driver"))) t.driver = *v;
    if (auto v = str(at(n, "user"), join(path, "user"))) t.user = *v;
    if (map(at(n, "config"), join(path, "config"))) {
      std::string error;
      if (auto c = yaml_to_json(at(n, "config"), &error))
        t.config = std::move(*c);
      else
        add(join(path, "config"), error);
    }
    t.env = string_map(at(n, "env"), join(path, "env"));
    resources(at(n, "resources"), join(path, "resources"), t.resources);
    if (auto v = duration(at(n, "kill_timeout"), join(path, "kill_timeout"))) t.kill_timeout = *v;
    if (auto v = str(at(n, "kill_signal"), join(path, "kill_signal"))) t.kill_signal = *v;
    const std::string lpath = join(path, "logs");
    if (map(at(n, "logs"), lpath)) {
      const YAML::Node l = at(n, "logs");
      check_keys(l, lpath, {"max_files", "max_file_size", "disabled"});
      if (auto v = integer(at(l, "max_files"), join(lpath, "max_files"))) t.logs.max_files = *v;
      if (auto v = integer(at(l, "max_file_size"), join(lpath, "max_file_size")))
        t.logs.max_file_size_mb = *v;
      if (auto v = boolean(at(l, "disabled"), join(lpath, "disabled"))) t.logs.disabled = *v;
    }
    const std::string cpath = join(path, "lifecycle");
    if (map(at(n, "lifecycle"), cpath)) {
      const YAML::Node c = at(n, "lifecycle");
      check_keys(c, cpath, {"hook", "sidecar"});
      if (auto v = str(at(c, "hook"), join(cpath, "hook"))) t.lifecycle.hook = *v;
      if (auto v = boolean(at(c, "sidecar"), join(cpath, "sidecar"))) t.lifecycle.sidecar = *v;
    }
    if (auto v = boolean(at(n, "leader"), join(path, "leader"))) t.leader = *v;
    t.meta = string_map(at(n, "meta"), join(path, "meta"));
    const std::string spath = join(path, "services");
    if (list(at(n, "services"), spath)) {
      for (std::size_t i = 0; i < at(n, "services").size(); ++i)
        t.services.push_back(service(at(n, "services")[i], index(spath, i)));
      // A task's check runs in that task: naming it is what Nomad fills in anyway.
      for (auto& svc : t.services)
        for (auto& c : svc.checks)
          if (c.task == t.name) c.task.clear();
    }
    // A task's restart block is merged over its group's, as Nomad merges it.
    if (map(at(n, "restart"), join(path, "restart"))) {
      RestartPolicy r = restart(at(n, "restart"), join(path, "restart"), group_restart);
      if (!(r == group_restart)) t.restart = r;
    }
    if (auto v = duration(at(n, "shutdown_delay"), join(path, "shutdown_delay"))) t.shutdown_delay = *v;
    t.placement = placement(n, path, /*with_spreads=*/false);
    const std::string dpath = join(path, "dispatch_payload");
    if (map(at(n, "dispatch_payload"), dpath)) {
      check_keys(at(n, "dispatch_payload"), dpath, {"file"});
      t.dispatch_payload = DispatchPayload{
          str(at(at(n, "dispatch_payload"), "file"), join(dpath, "file")).value_or("")};
    }
    if (map(at(n, "identity"), join(path, "identity")))
      t.identity = identity(at(n, "identity"), join(path, "identity"), /*named=*/false);
    const std::string ipath = join(path, "identities");
    if (list(at(n, "identities"), ipath))
      for (std::size_t i = 0; i < at(n, "identities").size(); ++i)
        if (map(at(n, "identities")[i], index(ipath, i)))
          t.identities.push_back(identity(at(n, "identities")[i], index(ipath, i), /*named=*/true));
    const std::string apath = join(path, "artifacts");
    if (list(at(n, "artifacts"), apath)) {
      for (std::size_t i = 0; i < at(n, "artifacts").size(); ++i) {
        const YAML::Node a = at(n, "artifacts")[i];
        const std::string ap = index(apath, i);
        if (!map(a, ap)) continue;
        check_keys(a, ap, {"source", "destination", "mode", "options", "headers", "chown"});
        Artifact art;
        if (auto v = str(at(a, "source"), join(ap, "source"))) art.source = *v;
        if (auto v = str(at(a, "destination"), join(ap, "destination")); v && !v->empty())
          art.destination = *v;
        if (auto v = str(at(a, "mode"), join(ap, "mode")); v && !v->empty()) art.mode = *v;
        art.options = string_map(at(a, "options"), join(ap, "options"));
        art.headers = string_map(at(a, "headers"), join(ap, "headers"));
        if (auto v = boolean(at(a, "chown"), join(ap, "chown"))) art.chown = *v;
        t.artifacts.push_back(std::move(art));
      }
    }
    const std::string mpath = join(path, "volume_mounts");
    if (list(at(n, "volume_mounts"), mpath)) {
      for (std::size_t i = 0; i < at(n, "volume_mounts").size(); ++i) {
        const YAML::Node m = at(n, "volume_mounts")[i];
        const std::string p = index(mpath, i);
        if (!map(m, p)) continue;
        check_keys(m, p, {"volume", "destination", "read_only", "propagation_mode"});
        VolumeMount vm;
        if (auto v = str(at(m, "volume"), join(p, "volume"))) vm.volume = *v;
        if (auto v = str(at(m, "destination"), join(p, "destination"))) vm.destination = *v;
        if (auto v = boolean(at(m, "read_only"), join(p, "read_only"))) vm.read_only = *v;
        if (auto v = str(at(m, "propagation_mode"), join(p, "propagation_mode"))) vm.propagation_mode = *v;
        t.volume_mounts.push_back(std::move(vm));
      }
    }
    const std::string tpath = join(path, "templates");
    if (list(at(n, "templates"), tpath)) {
      for (std::size_t i = 0; i < at(n, "templates").size(); ++i)
        t.templates.push_back(read_template(at(n, "templates")[i], index(tpath, i)));
    }
    const std::string acpath = join(path, "actions");
    if (list(at(n, "actions"), acpath)) {
      for (std::size_t i = 0; i < at(n, "actions").size(); ++i) {
        const YAML::Node a = at(n, "actions")[i];
        const std::string ap = index(acpath, i);
        if (!map(a, ap)) continue;
        check_keys(a, ap, {"name", "command", "args"});
        Action action;
        if (auto v = str(at(a, "name"), join(ap, "name"))) action.name = *v;
        if (auto v = str(at(a, "command"), join(ap, "command"))) action.command = *v;
        action.args = string_list(at(a, "args"), join(ap, "args"));
        t.actions.push_back(std::move(action));
      }
    }
    return t;
  }

  // A task's `identity:` (the default identity: no name) or one of its `identities:` (named),
  // with the HCL block's names (docs/variables.md, "Workload identities").
  Identity identity(const YAML::Node& n, const std::string& path, bool named) {
    std::vector<std::string_view> keys = {"aud",         "env",           "file",        "filepath", "ttl",
                                     "change_mode", "change_signal", "extra_claims"};
    if (named) keys.push_back("name");
    check_keys(n, path, keys);
    Identity id;
    if (named) id.name = str(at(n, "name"), join(path, "name")).value_or("");
    id.audience = string_list(at(n, "aud"), join(path, "aud"));
    if (auto v = boolean(at(n, "env"), join(path, "env"))) id.env = *v;
    if (auto v = boolean(at(n, "file"), join(path, "file"))) id.file = *v;
    if (auto v = str(at(n, "filepath"), join(path, "filepath"))) id.filepath = *v;
    if (auto v = duration(at(n, "ttl"), join(path, "ttl"))) id.ttl = *v;
    if (auto v = str(at(n, "change_mode"), join(path, "change_mode"))) id.change_mode = *v;
    if (auto v = str(at(n, "change_signal"), join(path, "change_signal"))) id.change_signal = *v;
    id.extra_claims = string_map(at(n, "extra_claims"), join(path, "extra_claims"));
    return id;
  }

  // One `templates:` entry, with the HCL block's names (docs/templates.md).
  Template read_template(const YAML::Node& n, const std::string& path) {
    Template t;
    if (!map(n, path)) {
      if (!n || n.IsNull()) add(path, "must be a map (got null)");
      return t;
    }
    check_keys(n, path,
               {"data", "source", "destination", "env", "change_mode", "change_signal",
                "change_script", "perms", "uid", "gid", "left_delimiter", "right_delimiter",
                "splay", "wait", "error_on_missing_key", "once"});
    if (auto v = str(at(n, "data"), join(path, "data"))) t.data = *v;
    if (auto v = str(at(n, "source"), join(path, "source"))) t.source = *v;
    if (auto v = str(at(n, "destination"), join(path, "destination"))) t.destination = *v;
    if (auto v = boolean(at(n, "env"), join(path, "env"))) t.env = *v;
    if (auto v = str(at(n, "change_mode"), join(path, "change_mode"))) t.change_mode = *v;
    if (auto v = str(at(n, "change_signal"), join(path, "change_signal"))) t.change_signal = *v;
    if (auto v = str(at(n, "perms"), join(path, "perms"))) t.perms = *v;
    t.uid = integer(at(n, "uid"), join(path, "uid"));
    t.gid = integer(at(n, "gid"), join(path, "gid"));
    if (auto v = str(at(n, "left_delimiter"), join(path, "left_delimiter"))) t.left_delimiter = *v;
    if (auto v = str(at(n, "right_delimiter"), join(path, "right_delimiter"))) t.right_delimiter = *v;
    if (auto v = duration(at(n, "splay"), join(path, "splay"))) t.splay = *v;
    if (auto v = boolean(at(n, "error_on_missing_key"), join(path, "error_on_missing_key")))
      t.error_on_missing_key = *v;
    if (auto v = boolean(at(n, "once"), join(path, "once"))) t.once = *v;
    const std::string cpath = join(path, "change_script");
    if (map(at(n, "change_script"), cpath)) {
      const YAML::Node c = at(n, "change_script");
      check_keys(c, cpath, {"command", "args", "timeout", "fail_on_error"});
      ChangeScript cs;
      if (auto v = str(at(c, "command"), join(cpath, "command"))) cs.command = *v;
      const std::string apath = join(cpath, "args");
      if (list(at(c, "args"), apath))
        for (std::size_t i = 0; i < at(c, "args").size(); ++i)
          if (auto v = str(at(c, "args")[i], index(apath, i))) cs.args.push_back(*v);
      if (auto v = duration(at(c, "timeout"), join(cpath, "timeout"))) cs.timeout = *v;
      if (auto v = boolean(at(c, "fail_on_error"), join(cpath, "fail_on_error"))) cs.fail_on_error = *v;
      t.change_script = std::move(cs);
    }
    const std::string wpath = join(path, "wait");
    if (map(at(n, "wait"), wpath)) {
      check_keys(at(n, "wait"), wpath, {"min", "max"});
      TemplateWait w;
      if (auto v = duration(at(at(n, "wait"), "min"), join(wpath, "min"))) w.min = *v;
      if (auto v = duration(at(at(n, "wait"), "max"), join(wpath, "max"))) w.max = *v;
      t.wait = w;
    }
    return t;
  }

  // The group's `scaling` block; its policy is the autoscaler's, kept as written.
  Scaling scaling(const YAML::Node& n, const std::string& path, std::optional<int>& min) {
    check_keys(n, path, {"enabled", "min", "max", "type", "policy"});
    Scaling s;
    if (auto v = boolean(at(n, "enabled"), join(path, "enabled"))) s.enabled = *v;
    min = integer(at(n, "min"), join(path, "min"));
    if (auto v = integer(at(n, "max"), join(path, "max"))) s.max = *v;
    if (auto v = str(at(n, "type"), join(path, "type")); v && !v->empty()) s.type = *v;
    if (map(at(n, "policy"), join(path, "policy"))) {
      std::string error;
      if (auto p = yaml_to_json(at(n, "policy"), &error))
        s.policy = std::move(*p);
      else
        add(join(path, "policy"), error);
    }
    return s;
  }

  TaskGroup group(const YAML::Node& n, const std::string& path, JobType type,
                  const std::optional<UpdateStrategy>& job_update,
                  const std::optional<ReschedulePolicy>& job_reschedule) {
    TaskGroup g;
    g.restart = default_restart_policy(type);
    if (!map(n, path)) {
      if (!n || n.IsNull()) add(path, "must be a map (got null)");
      return g;
    }
    check_keys(n, path,
               {"name", "count", "restart", "update", "meta", "tasks", "shutdown_delay",
                "max_run_duration", "constraints", "affinities", "spreads", "network", "services", "volumes",
                "ephemeral_disk", "reschedule", "migrate", "scaling", "disconnect"});
    if (auto v = str(at(n, "name"), join(path, "name"))) g.name = *v;
    std::optional<int> scaling_min;
    const std::string scpath = join(path, "scaling");
    if (map(at(n, "scaling"), scpath)) g.scaling = scaling(at(n, "scaling"), scpath, scaling_min);
    settle_group_count(g, integer(at(n, "count"), join(path, "count")), scaling_min);
    const std::string vpath = join(path, "volumes");
    if (map(at(n, "volumes"), vpath)) {
      for (const auto& kv : at(n, "volumes")) {
        VolumeRequest r;
        r.name = kv.first.as<std::string>();
        const std::string p = join(vpath, r.name);
        if (!map(kv.second, p)) continue;
        check_keys(kv.second, p,
                   {"type", "source", "read_only", "sticky", "access_mode", "attachment_mode"});
        if (auto v = str(at(kv.second, "type"), join(p, "type")); v && !v->empty()) r.type = *v;
        if (auto v = str(at(kv.second, "source"), join(p, "source"))) r.source = *v;
        if (auto v = boolean(at(kv.second, "read_only"), join(p, "read_only"))) r.read_only = *v;
        if (auto v = boolean(at(kv.second, "sticky"), join(p, "sticky"))) r.sticky = *v;
        if (auto v = str(at(kv.second, "access_mode"), join(p, "access_mode"))) r.access_mode = *v;
        if (auto v = str(at(kv.second, "attachment_mode"), join(p, "attachment_mode")))
          r.attachment_mode = *v;
        g.volumes.push_back(std::move(r));
      }
      std::sort(g.volumes.begin(), g.volumes.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
    const std::string epath = join(path, "ephemeral_disk");
    if (map(at(n, "ephemeral_disk"), epath)) {
      const YAML::Node e = at(n, "ephemeral_disk");
      check_keys(e, epath, {"size", "sticky", "migrate"});
      if (auto v = integer(at(e, "size"), join(epath, "size"))) g.ephemeral_disk.size_mb = *v;
      if (auto v = boolean(at(e, "sticky"), join(epath, "sticky"))) g.ephemeral_disk.sticky = *v;
      if (auto v = boolean(at(e, "migrate"), join(epath, "migrate"))) g.ephemeral_disk.migrate = *v;
    }
    const std::string rpath = join(path, "restart");
    if (map(at(n, "restart"), rpath)) g.restart = restart(at(n, "restart"), rpath, g.restart);
    // As in Nomad, a group's reschedule block is merged over the job's.
    g.reschedule = job_reschedule;
    const std::string rspath = join(path, "reschedule");
    if (map(at(n, "reschedule"), rspath))
      g.reschedule = reschedule(at(n, "reschedule"), rspath,
                                job_reschedule.value_or(default_reschedule_policy(type)));
    const std::string mpath = join(path, "migrate");
    if (map(at(n, "migrate"), mpath)) {
      const YAML::Node m = at(n, "migrate");
      check_keys(m, mpath,
                 {"max_parallel", "health_check", "min_healthy_time", "healthy_deadline"});
      MigrateStrategy out;
      if (auto v = integer(at(m, "max_parallel"), join(mpath, "max_parallel"))) out.max_parallel = *v;
      if (auto v = str(at(m, "health_check"), join(mpath, "health_check"))) out.health_check = *v;
      if (auto v = duration(at(m, "min_healthy_time"), join(mpath, "min_healthy_time")))
        out.min_healthy_time = *v;
      if (auto v = duration(at(m, "healthy_deadline"), join(mpath, "healthy_deadline")))
        out.healthy_deadline = *v;
      g.migrate = out;
    }
    const std::string dpath = join(path, "disconnect");
    if (map(at(n, "disconnect"), dpath)) {
      const YAML::Node d = at(n, "disconnect");
      check_keys(d, dpath, {"lost_after", "stop_on_client_after", "replace", "reconcile"});
      DisconnectStrategy out;
      if (auto v = duration(at(d, "lost_after"), join(dpath, "lost_after"))) out.lost_after = *v;
      out.stop_on_client_after =
          duration(at(d, "stop_on_client_after"), join(dpath, "stop_on_client_after"));
      if (auto v = boolean(at(d, "replace"), join(dpath, "replace"))) out.replace = *v;
      if (auto v = str(at(d, "reconcile"), join(dpath, "reconcile")); v && !v->empty())
        out.reconcile = *v;
      g.disconnect = out;
    }
    if (auto v = duration(at(n, "shutdown_delay"), join(path, "shutdown_delay"))) g.shutdown_delay = *v;
    if (auto v = duration(at(n, "max_run_duration"), join(path, "max_run_duration")))
      g.max_run_duration = *v;
    g.placement = placement(n, path, /*with_spreads=*/true);
    // As in Nomad, a group's update block starts from the job's.
    if (map(at(n, "update"), join(path, "update")))
      g.update = update(at(n, "update"), join(path, "update"), job_update.value_or(UpdateStrategy{}));
    g.meta = string_map(at(n, "meta"), join(path, "meta"));
    if (map(at(n, "network"), join(path, "network")))
      g.networks.push_back(network(at(n, "network"), join(path, "network")));
    const std::string gspath = join(path, "services");
    if (list(at(n, "services"), gspath)) {
      for (std::size_t i = 0; i < at(n, "services").size(); ++i)
        g.services.push_back(service(at(n, "services")[i], index(gspath, i)));
    }
    const std::string tpath = join(path, "tasks");
    if (list(at(n, "tasks"), tpath)) {
      for (std::size_t i = 0; i < at(n, "tasks").size(); ++i)
        g.tasks.push_back(task(at(n, "tasks")[i], index(tpath, i), g.restart));
    }
    return g;
  }

  void job(const YAML::Node& n, Job& j) {
    if (!map(n, "job")) {
      add("job", std::string("must be a map (got ") + kind(n) + ")");
      return;
    }
    // Paths below the job start at its fields ("groups[0]..."), as the API and CLI print them.
    check_keys(n, "",
               {"id", "name", "type", "datacenters", "priority", "meta", "update", "groups",
                "region", "namespace", "node_pool", "constraints", "affinities", "spreads",
                "periodic", "parameterized", "reschedule", "ui"});
    if (auto v = str(at(n, "id"), "id")) j.id = *v;
    if (auto v = str(at(n, "name"), "name")) j.name = *v;
    if (j.name.empty()) j.name = j.id;
    if (auto v = str(at(n, "type"), "type")) {
      if (auto t = job_type_from_string(*v))
        j.type = *t;
      else
        add("type",
            "must be \"service\", \"batch\", \"system\" or \"sysbatch\" (got \"" + *v + "\")");
    }
    if (auto v = str(at(n, "region"), "region")) j.region = *v;
    if (auto v = str(at(n, "namespace"), "namespace")) j.namespace_name = *v;
    if (auto v = str(at(n, "node_pool"), "node_pool")) j.node_pool = *v;
    j.placement = placement(n, "", /*with_spreads=*/true);
    j.datacenters = string_list(at(n, "datacenters"), "datacenters");
    if (auto v = integer(at(n, "priority"), "priority")) j.priority = *v;
    j.meta = string_map(at(n, "meta"), "meta");
    if (map(at(n, "update"), "update")) j.update = update(at(n, "update"), "update", UpdateStrategy{});
    if (map(at(n, "reschedule"), "reschedule"))
      j.reschedule = reschedule(at(n, "reschedule"), "reschedule", default_reschedule_policy(j.type));
    if (list(at(n, "groups"), "groups")) {
      for (std::size_t i = 0; i < at(n, "groups").size(); ++i)
        j.groups.push_back(
            group(at(n, "groups")[i], index("groups", i), j.type, j.update, j.reschedule));
    }
    launches(n, j);
  }

  // periodic and parameterized: how the job launches children (job.hpp).
  void launches(const YAML::Node& n, Job& j) {
    if (map(at(n, "periodic"), "periodic")) {
      const YAML::Node p = at(n, "periodic");
      check_keys(p, "periodic", {"cron", "crons", "prohibit_overlap", "time_zone", "enabled"});
      Periodic out;
      auto cron = str(at(p, "cron"), "periodic.cron");
      auto crons = string_list(at(p, "crons"), "periodic.crons");
      if (cron && !crons.empty()) add("periodic.crons", "use cron or crons, not both");
      if (cron) out.crons.push_back(*cron);
      out.crons.insert(out.crons.end(), crons.begin(), crons.end());
      if (auto v = boolean(at(p, "prohibit_overlap"), "periodic.prohibit_overlap"))
        out.prohibit_overlap = *v;
      if (auto v = str(at(p, "time_zone"), "periodic.time_zone")) out.time_zone = *v;
      if (auto v = boolean(at(p, "enabled"), "periodic.enabled")) out.enabled = *v;
      j.periodic = std::move(out);
    }
    if (map(at(n, "parameterized"), "parameterized")) {
      const YAML::Node p = at(n, "parameterized");
      check_keys(p, "parameterized", {"payload", "meta_required", "meta_optional"});
      Parameterized out;
      if (auto v = str(at(p, "payload"), "parameterized.payload")) out.payload = *v;
      out.meta_required = string_list(at(p, "meta_required"), "parameterized.meta_required");
      out.meta_optional = string_list(at(p, "meta_optional"), "parameterized.meta_optional");
      j.parameterized = std::move(out);
    }
    if (map(at(n, "ui"), "ui")) {
      const YAML::Node u = at(n, "ui");
      check_keys(u, "ui", {"description", "links"});
      JobUi ui;
      if (auto v = str(at(u, "description"), "ui.description")) ui.description = *v;
      if (list(at(u, "links"), "ui.links")) {
        for (std::size_t i = 0; i < at(u, "links").size(); ++i) {
          const YAML::Node l = at(u, "links")[i];
          const std::string lp = index("ui.links", i);
          if (!map(l, lp)) continue;
          check_keys(l, lp, {"label", "url"});
          UiLink link;
          if (auto v = str(at(l, "label"), join(lp, "label"))) link.label = *v;
          if (auto v = str(at(l, "url"), join(lp, "url"))) link.url = *v;
          ui.links.push_back(std::move(link));
        }
      }
      j.ui = std::move(ui);
    }
  }

 private:
  std::vector<Problem>& problems_;
};

// Where a YAML exception happened, as people count lines and columns (from 1).
std::string at(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

}  // namespace

bool read_yaml_job(std::string_view text, Job& job, std::vector<Problem>& problems) {
  YAML::Node root;
  try {
    // Every document is read: YAML::Load kept the first and silently dropped the rest, so a
    // file of two jobs ran one of them.
    auto docs = YAML::LoadAll(std::string(text));
    while (docs.size() > 1 && docs.back().IsNull()) docs.pop_back();  // a trailing `---`
    if (docs.size() > 1) {
      std::string where = at(docs[1].Mark());
      problems.push_back({"", "the document holds " + std::to_string(docs.size()) +
                                  " YAML documents (separated by `---`" +
                                  (where.empty() ? "" : "; the second starts at " + where) +
                                  "); a job document holds one job: submit each on its own"});
      return false;
    }
    if (!docs.empty()) root = docs.front();
  } catch (const YAML::Exception& e) {
    std::string where = at(e.mark);
    problems.push_back(
        {"", "malformed YAML" + (where.empty() ? "" : " at " + where) + ": " + e.msg});
    return false;
  }
  // Aliases can expand a small file into a huge tree; bound the walk before reading it.
  if (auto p = yaml_bounds_problem(root, kMaxJobNestingDepth, 1000000)) {
    problems.push_back({"", *p});
    return false;
  }
  YamlReader r(problems);
  if (!root.IsMap()) {
    problems.push_back({"",
                        "expected a map with a top-level `job:` key (or a Nomad JSON job "
                        "{\"Job\": {...}})"});
    return false;
  }
  r.check_keys(root, "", {"job"});
  if (!at(root, "job")) {
    problems.push_back({"", "missing the top-level `job:` key"});
    return false;
  }
  try {
    r.job(at(root, "job"), job);
  } catch (const YAML::Exception& e) {
    // Not expected once the document parsed; kept so a yaml-cpp surprise is a problem, not a crash.
    problems.push_back({"", std::string("could not read the job: ") + e.what()});
    return false;
  }
  return true;
}

}  // namespace drover::jobspec::detail
