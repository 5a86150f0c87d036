// Nomad's JSON job format ({"Job": {...}} as `nomad job run -output` and `nomad job inspect`
// print it) -> Job. Server-filled fields are ignored; any other key drover does not support
// is accepted only while it says nothing (null, empty, zero, false, or Nomad's own default),
// so a job is never run with a setting silently dropped.
#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "jobspec/did_you_mean.hpp"
#include "jobspec/readers.hpp"
#include "drover/common/json_text.hpp"

namespace drover::jobspec::detail {

namespace {

using nlohmann::json;

constexpr std::int64_t kSecond = 1000000000LL;

std::string join(const std::string& path, std::string_view key) {
  return path + "." + std::string(key);
}
std::string index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// Fields Nomad's servers fill in; what `nomad job inspect` prints must run as is.
const std::vector<std::string_view> kServerFields = {
    "CreateIndex",       "ModifyIndex", "JobModifyIndex", "SubmitTime", "Status",
    "StatusDescription", "Stable",      "Version",        "Dispatched", "VaultToken",
    // A launched child's: its parent, payload and token come from the launch, never a file.
    "ParentID",          "Payload",     "DispatchIdempotencyToken"};

// Values that say nothing because they are Nomad's defaults for keys drover has no use for.
bool neutral_value(std::string_view key, const json& v) {
  if ((key == "Namespace" || key == "NodePool" || key == "Cluster") && v == "default") return true;
  if (key == "Region" && v == "global") return true;
  // Deployment pacing across many nodes; one node runs its alloc as soon as it gets it.
  if (key == "MaxParallel" && v == 1) return true;
  if (key == "Stagger" && v == 30 * kSecond) return true;
  if (key == "ProgressDeadline" && v == 600 * kSecond) return true;
  // Service and check defaults that Nomad's API client fills in.
  if (key == "AddressMode" && (v == "auto" || v == "host")) return true;
  if (key == "OnUpdate" && v == "require_healthy") return true;
  return false;
}

// null, false, 0, "", [], {} or an object of such values: the key configures nothing.
bool says_nothing(std::string_view key, const json& v) {
  if (neutral_value(key, v)) return true;
  switch (v.type()) {
    case json::value_t::null:
      return true;
    case json::value_t::boolean:
      return !v.get<bool>();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return v == 0;
    case json::value_t::string:
      return v.get_ref<const std::string&>().empty();
    case json::value_t::array:
      return v.empty();
    case json::value_t::object:
      for (const auto& [k, item] : v.items())
        if (!says_nothing(k, item)) return false;
      return true;
    default:
      return false;
  }
}

class NomadReader {
 public:
  explicit NomadReader(std::vector<Problem>& problems) : problems_(problems) {}

  void add(const std::string& path, std::string message) {
    problems_.push_back({path, std::move(message)});
  }

  // Absent or null: false. Not an object: a problem, false.
  bool object(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return false;
    if (!o.at(key).is_object()) {
      add(join(path, key), std::string("must be an object (got ") + o.at(key).type_name() + ")");
      return false;
    }
    return true;
  }

  bool array(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return false;
    if (!o.at(key).is_array()) {
      add(join(path, key), std::string("must be an array (got ") + o.at(key).type_name() + ")");
      return false;
    }
    return true;
  }

  // Every key of `o` is known, server-filled, or says nothing; otherwise a problem.
  void check_keys(const json& o, const std::string& path,
                  const std::vector<std::string_view>& known, bool server_fields = false) {
    for (const auto& [key, value] : o.items()) {
      bool found = false;
      for (auto k : known) found = found || k == key;
      if (server_fields)
        for (auto k : kServerFields) found = found || k == key;
      if (found || says_nothing(key, value)) continue;
      add(join(path, key), "not supported by drover" + did_you_mean(key, known));
    }
  }

  std::optional<std::string> str(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    if (!o.at(key).is_string()) {
      add(join(path, key), std::string("must be a string (got ") + o.at(key).type_name() + ")");
      return std::nullopt;
    }
    return o.at(key).get<std::string>();
  }

  std::optional<std::int64_t> int64(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    const json& v = o.at(key);
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
      add(join(path, key), "must be an integer (got " + json_text(v) + ")");
      return std::nullopt;
    }
    return v.get<std::int64_t>();
  }

  std::optional<int> integer(const json& o, std::string_view key, const std::string& path) {
    auto v = int64(o, key, path);
    if (!v) return std::nullopt;
    if (*v > INT_MAX || *v < INT_MIN) {
      add(join(path, key), "value " + std::to_string(*v) + " is out of range");
      return std::nullopt;
    }
    return static_cast<int>(*v);
  }

  std::optional<Duration> duration(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    if (o.at(key).is_string()) {
      add(join(path, key),
          "must be an integer number of nanoseconds (got " + json_text(o.at(key)) + ")");
      return std::nullopt;
    }
    auto v = int64(o, key, path);
    if (!v) return std::nullopt;
    return Duration(*v);
  }

  std::optional<bool> boolean(const json& o, std::string_view key, const std::string& path) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    if (!o.at(key).is_boolean()) {
      add(join(path, key), "must be true or false (got " + json_text(o.at(key)) + ")");
      return std::nullopt;
    }
    return o.at(key).get<bool>();
  }

  std::map<std::string, std::string> string_map(const json& o, std::string_view key,
                                                const std::string& path) {
    std::map<std::string, std::string> out;
    if (!object(o, key, path)) return out;
    for (const auto& [k, v] : o.at(key).items()) {
      if (v.is_string())
        out[k] = v.get<std::string>();
      else if (v.is_null())
        out[k] = "";
      else
        add(join(join(path, key), k), std::string("must be a string (got ") + v.type_name() + ")");
    }
    return out;
  }

  // In Nomad's JSON a zero or empty field of an update block means "unset".
  // A block of nothing but zeros and Nomad's own defaults (what `nomad job inspect` prints for
  // a job without one) is no block.
  std::optional<UpdateStrategy> update(const json& o, const std::string& path,
                                       UpdateStrategy base) {
    check_keys(o, path,
               {"HealthCheck", "MinHealthyTime", "HealthyDeadline", "MaxParallel", "Stagger",
                "Canary", "AutoRevert", "AutoPromote", "ProgressDeadline"});
    auto hc = str(o, "HealthCheck", path);
    auto min = duration(o, "MinHealthyTime", path);
    auto deadline = duration(o, "HealthyDeadline", path);
    auto max_parallel = integer(o, "MaxParallel", path);
    auto stagger = duration(o, "Stagger", path);
    auto canary = integer(o, "Canary", path);
    auto auto_revert = boolean(o, "AutoRevert", path);
    auto auto_promote = boolean(o, "AutoPromote", path);
    auto progress = duration(o, "ProgressDeadline", path);
    const UpdateStrategy defaults;
    auto set = [](const auto& v, const auto& neutral) {
      return v && *v != std::decay_t<decltype(*v)>{} && *v != neutral;
    };
    if ((!hc || hc->empty()) && (!min || min->count() == 0) &&
        (!deadline || deadline->count() == 0) && !set(max_parallel, defaults.max_parallel) &&
        !set(stagger, defaults.stagger) && !(canary && *canary != 0) &&
        !(auto_revert && *auto_revert) && !(auto_promote && *auto_promote) &&
        !set(progress, defaults.progress_deadline))
      return std::nullopt;
    if (hc && !hc->empty()) base.health_check = *hc;
    if (min) base.min_healthy_time = *min;
    if (deadline && deadline->count() != 0) base.healthy_deadline = *deadline;
    if (max_parallel && *max_parallel != 0) base.max_parallel = *max_parallel;
    if (stagger && stagger->count() != 0) base.stagger = *stagger;
    if (canary) base.canary = *canary;
    if (auto_revert) base.auto_revert = *auto_revert;
    if (auto_promote) base.auto_promote = *auto_promote;
    if (progress && progress->count() != 0) base.progress_deadline = *progress;
    return base;
  }

  // --- Placement (issue 17): Constraints, Affinities, Spreads. ---

  template <typename Item>
  void objects(const json& o, std::string_view key, const std::string& path, Item item) {
    if (!array(o, key, path)) return;
    const json& list = o.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string p = index(join(path, key), i);
      if (!list[i].is_object()) {
        add(p, std::string("must be an object (got ") + list[i].type_name() + ")");
        continue;
      }
      item(list[i], p);
    }
  }

  // The Affinities of a job, group, task or device request.
  std::vector<Affinity> affinities(const json& o, const std::string& path) {
    std::vector<Affinity> out;
    objects(o, "Affinities", path, [&](const json& a, const std::string& p) {
      check_keys(a, p, {"LTarget", "RTarget", "Operand", "Weight"});
      Affinity aff;
      aff.attribute = str(a, "LTarget", p).value_or("");
      aff.value = str(a, "RTarget", p).value_or("");
      if (auto v = str(a, "Operand", p); v && !v->empty()) aff.op = *v;
      if (auto v = integer(a, "Weight", p)) aff.weight = *v;
      out.push_back(std::move(aff));
    });
    return out;
  }

  Placement placement(const json& o, const std::string& path, bool with_spreads) {
    Placement out;
    objects(o, "Constraints", path, [&](const json& c, const std::string& p) {
      check_keys(c, p, {"LTarget", "RTarget", "Operand"});
      Constraint con;
      con.attribute = str(c, "LTarget", p).value_or("");
      con.value = str(c, "RTarget", p).value_or("");
      if (auto v = str(c, "Operand", p); v && !v->empty()) con.op = *v;
      out.constraints.push_back(std::move(con));
    });
    out.affinities = affinities(o, path);
    if (!with_spreads) return out;
    objects(o, "Spreads", path, [&](const json& sj, const std::string& p) {
      check_keys(sj, p, {"Attribute", "Weight", "SpreadTarget"});
      Spread sp;
      sp.attribute = str(sj, "Attribute", p).value_or("");
      if (auto v = integer(sj, "Weight", p)) sp.weight = *v;
      objects(sj, "SpreadTarget", p, [&](const json& t, const std::string& tp) {
        check_keys(t, tp, {"Value", "Percent"});
        SpreadTarget target;
        target.value = str(t, "Value", tp).value_or("");
        if (auto v = integer(t, "Percent", tp)) target.percent = *v;
        sp.targets.push_back(std::move(target));
      });
      out.spreads.push_back(std::move(sp));
    });
    return out;
  }

  // --- end of placement ---

  std::vector<std::string> strings(const json& o, std::string_view key, const std::string& path) {
    std::vector<std::string> out;
    if (!array(o, key, path)) return out;
    for (std::size_t i = 0; i < o.at(key).size(); ++i) {
      if (o.at(key)[i].is_string())
        out.push_back(o.at(key)[i].get<std::string>());
      else
        add(index(join(path, key), i), "must be a string");
    }
    return out;
  }

  // A task's `identity` block, Nomad's WorkloadIdentity (its ServiceName belongs to a
  // service's identity, which drover's services do not have: read and ignored).
  Identity identity(const json& o, const std::string& path) {
    check_keys(o, path,
               {"Name", "Audience", "Env", "File", "Filepath", "TTL", "ChangeMode", "ChangeSignal",
                "ExtraClaims", "ServiceName"});
    Identity id;
    id.name = str(o, "Name", path).value_or("");
    id.audience = strings(o, "Audience", path);
    if (auto v = boolean(o, "Env", path)) id.env = *v;
    if (auto v = boolean(o, "File", path)) id.file = *v;
    id.filepath = str(o, "Filepath", path).value_or("");
    if (auto v = duration(o, "TTL", path)) id.ttl = *v;
    if (auto v = str(o, "ChangeMode", path); v && !v->empty()) id.change_mode = *v;
    id.change_signal = str(o, "ChangeSignal", path).value_or("");
    id.extra_claims = string_map(o, "ExtraClaims", path);
    return id;
  }

  Check check(const json& o, const std::string& path) {
    Check c;
    check_keys(o, path,
               {"Name", "Type", "Command", "Args", "Path", "Protocol", "PortLabel", "Method",
                "Header", "TaskName", "Interval", "Timeout", "CheckRestart", "OnUpdate",
                "InitialStatus"});
    if (auto v = str(o, "Name", path)) c.name = *v;
    if (auto v = str(o, "Type", path)) c.type = *v;
    if (auto v = str(o, "Command", path)) c.command = *v;
    c.args = strings(o, "Args", path);
    if (auto v = str(o, "TaskName", path)) c.task = *v;
    if (auto v = str(o, "Path", path)) c.path = *v;
    if (auto v = str(o, "Protocol", path); v && !v->empty()) c.protocol = *v;
    if (auto v = str(o, "PortLabel", path)) c.port = *v;
    if (auto v = str(o, "Method", path); v && !v->empty()) c.method = *v;
    if (object(o, "Header", path)) {
      const std::string hp = join(path, "Header");
      for (const auto& [k, v] : o.at("Header").items()) c.header[k] = strings(o.at("Header"), k, hp);
    }
    if (auto v = duration(o, "Interval", path)) c.interval = *v;
    if (auto v = duration(o, "Timeout", path)) c.timeout = *v;
    c.check_restart = check_restart(o, path);
    if (auto v = str(o, "OnUpdate", path); v && !v->empty()) c.on_update = *v;
    if (auto v = str(o, "InitialStatus", path)) c.initial_status = *v;
    return c;
  }

  // A check's, or its service's for every check without one of its own (Nomad merges the
  // service's into each check); none when absent or with limit 0.
  std::optional<CheckRestart> check_restart(const json& o, const std::string& path) {
    if (!object(o, "CheckRestart", path)) return std::nullopt;
    const std::string rp = join(path, "CheckRestart");
    const json& r = o.at("CheckRestart");
    check_keys(r, rp, {"Limit", "Grace", "IgnoreWarnings"});
    CheckRestart cr;
    if (auto v = integer(r, "Limit", rp)) cr.limit = *v;
    if (auto v = duration(r, "Grace", rp)) cr.grace = *v;
    if (auto v = boolean(r, "IgnoreWarnings", rp)) cr.ignore_warnings = *v;
    if (cr.limit > 0) return cr;
    return std::nullopt;
  }

  // A task's services (`task`: its name) or a group's (`task` empty).
  std::vector<Service> services(const json& o, std::string_view key, const std::string& path,
                                const std::string& task) {
    std::vector<Service> out;
    if (!array(o, key, path)) return out;
    const json& list = o.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string sp = index(join(path, key), i);
      if (!list[i].is_object()) {
        add(sp, "must be an object");
        continue;
      }
      const json& sj = list[i];
      // Provider consul or nomad: either way drover runs the checks itself (docs/health.md).
      check_keys(sj, sp,
                 {"Name", "PortLabel", "Address", "Provider", "AddressMode", "Tags", "Checks",
                  "TaskName", "CheckRestart", "OnUpdate", "Meta", "CanaryMeta", "TaggedAddresses",
                  "EnableTagOverride", "CanaryTags"});
      Service s;
      // Nomad's TaskName: on a task's service it can only be that task (Nomad fills it in);
      // on a group's it names a Consul Connect native task.
      if (auto v = str(sj, "TaskName", sp); v && !v->empty()) {
        if (task.empty())
          add(join(sp, "TaskName"),
              "names the task of a Consul Connect native service: not supported by drover (no "
              "Consul Connect)");
        else if (*v != task)
          add(join(sp, "TaskName"), "may only name the task the service belongs to (\"" + task +
                                        "\"), got \"" + *v + "\"");
      }
      const auto service_check_restart = check_restart(sj, sp);
      if (auto v = str(sj, "Name", sp)) s.name = *v;
      if (auto v = str(sj, "PortLabel", sp)) s.port = *v;
      if (auto v = str(sj, "Address", sp)) s.address = *v;
      if (auto v = str(sj, "Provider", sp); v && !v->empty()) s.provider = *v;
      if (auto v = str(sj, "AddressMode", sp); v && !v->empty()) s.address_mode = *v;
      s.tags = strings(sj, "Tags", sp);
      s.meta = string_map(sj, "Meta", sp);
      s.canary_meta = string_map(sj, "CanaryMeta", sp);
      s.tagged_addresses = string_map(sj, "TaggedAddresses", sp);
      if (auto v = boolean(sj, "EnableTagOverride", sp)) s.enable_tag_override = *v;
      if (!strings(sj, "CanaryTags", sp).empty()) add(join(sp, "CanaryTags"), kCanaryTagsRefused);
      if (array(sj, "Checks", sp)) {
        const json& checks = sj.at("Checks");
        for (std::size_t c = 0; c < checks.size(); ++c) {
          const std::string cp = index(join(sp, "Checks"), c);
          if (!checks[c].is_object()) {
            add(cp, "must be an object");
            continue;
          }
          Check ch = check(checks[c], cp);
          if (!ch.check_restart) ch.check_restart = service_check_restart;
          // The service's OnUpdate is each check's without one of its own (as Nomad's API).
          if (auto v = str(sj, "OnUpdate", sp); v && !v->empty() &&
              !(checks[c].contains("OnUpdate") && checks[c]["OnUpdate"].is_string() &&
                !checks[c]["OnUpdate"].get_ref<const std::string&>().empty()))
            ch.on_update = *v;
          // A task's check runs in that task: naming it is what Nomad fills in anyway.
          if (!task.empty() && ch.task == task) ch.task.clear();
          s.checks.push_back(std::move(ch));
        }
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  // Nomad's NetworkResource list (TaskGroup.Networks, or the older Task.Resources.Networks).
  // HostNetwork "default" is the node's default network, as "" is; Mode "" is host.
  std::vector<Network> networks(const json& o, std::string_view key, const std::string& path) {
    std::vector<Network> out;
    if (!array(o, key, path)) return out;
    const json& list = o.at(key);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string np = index(join(path, key), i);
      if (!list[i].is_object()) {
        add(np, "must be an object");
        continue;
      }
      const json& nj = list[i];
      check_keys(nj, np, {"Mode", "MBits", "DNS", "ReservedPorts", "DynamicPorts", "Hostname", "CNI"});
      Network n;
      if (auto v = str(nj, "Mode", np); v && !v->empty()) n.mode = *v;
      if (auto v = str(nj, "Hostname", np)) n.hostname = *v;
      if (nj.contains("CNI") && !nj["CNI"].is_null()) {
        const std::string cp = join(np, "CNI");
        if (!nj["CNI"].is_object()) {
          add(cp, "must be an object");
        } else {
          check_keys(nj["CNI"], cp, {"Args"});
          n.cni_args = string_map(nj["CNI"], "Args", cp);
        }
      }
      if (auto v = integer(nj, "MBits", np)) n.mbits = *v;
      if (nj.contains("DNS") && !nj["DNS"].is_null()) {
        const std::string dp = join(np, "DNS");
        if (!nj["DNS"].is_object()) {
          add(dp, "must be an object");
        } else {
          check_keys(nj["DNS"], dp, {"Servers", "Searches", "Options"});
          DnsConfig dns;
          dns.servers = strings(nj["DNS"], "Servers", dp);
          dns.searches = strings(nj["DNS"], "Searches", dp);
          dns.options = strings(nj["DNS"], "Options", dp);
          n.dns = std::move(dns);
        }
      }
      for (const char* which : {"ReservedPorts", "DynamicPorts"}) {
        if (!array(nj, which, np)) continue;
        const json& ports = nj.at(which);
        for (std::size_t p = 0; p < ports.size(); ++p) {
          const std::string pp = index(join(np, which), p);
          if (!ports[p].is_object()) {
            add(pp, "must be an object");
            continue;
          }
          check_keys(ports[p], pp, {"Label", "Value", "To", "HostNetwork"});
          Port port;
          if (auto v = str(ports[p], "Label", pp)) port.label = *v;
          if (auto v = integer(ports[p], "Value", pp)) port.value = *v;
          if (auto v = integer(ports[p], "To", pp)) port.to = *v;
          if (auto v = str(ports[p], "HostNetwork", pp); v && *v != "default")
            port.host_network = *v;
          (std::string_view(which) == "ReservedPorts" ? n.reserved_ports : n.dynamic_ports)
              .push_back(std::move(port));
        }
      }
      out.push_back(std::move(n));
    }
    return out;
  }

  void resources(const json& o, const std::string& path, Resources& r) {
    check_keys(o, path,
               {"CPU", "Cores", "MemoryMB", "MemoryMaxMB", "Pids", "DiskMB", "Devices", "Networks", "NUMA"});
    if (auto v = integer(o, "DiskMB", path)) r.disk_mb = *v;
    auto cpu = integer(o, "CPU", path);
    if (cpu) r.cpu_mhz = *cpu;
    if (auto v = integer(o, "Cores", path)) r.cores = *v;
    if (r.cores > 0 && !cpu) r.cpu_mhz = 0;
    if (auto v = integer(o, "MemoryMB", path)) r.memory_mb = *v;
    if (auto v = integer(o, "MemoryMaxMB", path)) r.memory_max_mb = *v;
    if (auto v = integer(o, "Pids", path)) r.pids = *v;
    if (o.contains("NUMA") && !o["NUMA"].is_null()) {
      const std::string np = join(path, "NUMA");
      if (!o["NUMA"].is_object()) {
        add(np, "must be an object");
      } else {
        check_keys(o["NUMA"], np, {"Affinity", "Devices"});
        r.numa_affinity = str(o["NUMA"], "Affinity", np).value_or("none");
        if (r.numa_affinity.empty()) r.numa_affinity = "none";
        r.numa_devices = strings(o["NUMA"], "Devices", np);
      }
    }
    r.networks = networks(o, "Networks", path);
    if (!array(o, "Devices", path)) return;
    const std::string dpath = join(path, "Devices");
    const json& devices = o.at("Devices");
    for (std::size_t i = 0; i < devices.size(); ++i) {
      const std::string p = index(dpath, i);
      DeviceRequest d;
      if (!devices[i].is_object()) {
        add(p, "must be an object");
        continue;
      }
      check_keys(devices[i], p, {"Name", "Count", "Constraints", "Affinities"});
      d.affinities = affinities(devices[i], p);
      if (auto v = str(devices[i], "Name", p)) d.name = *v;
      if (auto v = integer(devices[i], "Count", p)) d.count = *v;
      if (array(devices[i], "Constraints", p)) {
        const json& cs = devices[i].at("Constraints");
        for (std::size_t c = 0; c < cs.size(); ++c) {
          const std::string cp = index(join(p, "Constraints"), c);
          if (!cs[c].is_object()) {
            add(cp, "must be an object");
            continue;
          }
          check_keys(cs[c], cp, {"LTarget", "RTarget", "Operand"});
          d.constraints.push_back({{"attribute", str(cs[c], "LTarget", cp).value_or("")},
                                   {"operator", str(cs[c], "Operand", cp).value_or("=")},
                                   {"value", str(cs[c], "RTarget", cp).value_or("")}});
        }
      }
      r.devices.push_back(std::move(d));
    }
  }

  Task task(const json& o, const std::string& path, const RestartPolicy& group_restart) {
    Task t;
    check_keys(o, path,
               {"Name", "Driver", "User", "Config", "Env", "Resources", "Lifecycle", "Leader",
                "KillTimeout", "KillSignal", "LogConfig", "Meta", "RestartPolicy", "Services",
                "ShutdownDelay", "Constraints", "Affinities", "DispatchPayload", "VolumeMounts",
                "Identity", "Identities", "Artifacts", "Templates", "Actions"});
    if (auto v = str(o, "Name", path)) t.name = *v;
    if (auto v = str(o, "Driver", path)) t.driver = *v;
    if (auto v = str(o, "User", path)) t.user = *v;
    if (object(o, "Config", path)) t.config = o.at("Config");
    t.env = string_map(o, "Env", path);
    if (object(o, "Resources", path))
      resources(o.at("Resources"), join(path, "Resources"), t.resources);
    if (object(o, "Lifecycle", path)) {
      const std::string lp = join(path, "Lifecycle");
      check_keys(o.at("Lifecycle"), lp, {"Hook", "Sidecar"});
      if (auto v = str(o.at("Lifecycle"), "Hook", lp)) t.lifecycle.hook = *v;
      if (auto v = boolean(o.at("Lifecycle"), "Sidecar", lp)) t.lifecycle.sidecar = *v;
    }
    if (auto v = boolean(o, "Leader", path)) t.leader = *v;
    if (auto v = duration(o, "KillTimeout", path)) t.kill_timeout = *v;
    if (auto v = str(o, "KillSignal", path)) t.kill_signal = *v;
    if (object(o, "LogConfig", path)) {
      const std::string lp = join(path, "LogConfig");
      const json& l = o.at("LogConfig");
      check_keys(l, lp, {"MaxFiles", "MaxFileSizeMB", "Disabled", "Enabled"});
      if (auto v = integer(l, "MaxFiles", lp)) t.logs.max_files = *v;
      if (auto v = integer(l, "MaxFileSizeMB", lp)) t.logs.max_file_size_mb = *v;
      if (auto v = boolean(l, "Disabled", lp)) t.logs.disabled = *v;
      // Enabled is Nomad's deprecated inverse of Disabled.
      if (auto v = boolean(l, "Enabled", lp); v && !*v) t.logs.disabled = true;
    }
    t.meta = string_map(o, "Meta", path);
    t.services = services(o, "Services", path, t.name);
    if (object(o, "DispatchPayload", path)) {
      const std::string dp = join(path, "DispatchPayload");
      check_keys(o.at("DispatchPayload"), dp, {"File"});
      t.dispatch_payload = DispatchPayload{str(o.at("DispatchPayload"), "File", dp).value_or("")};
    }
    if (object(o, "Identity", path)) {
      t.identity = identity(o.at("Identity"), join(path, "Identity"));
      // What `nomad job run -output` writes for the default identity: its name and audience
      // said out loud.
      if (t.identity->name == "default") t.identity->name.clear();
      if (t.identity->audience == std::vector<std::string>{"nomadproject.io"}) t.identity->audience.clear();
    }
    if (array(o, "Identities", path)) {
      const json& list = o.at("Identities");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string ip = index(join(path, "Identities"), i);
        if (!list[i].is_object()) {
          add(ip, "must be an object");
          continue;
        }
        t.identities.push_back(identity(list[i], ip));
      }
    }
    if (array(o, "Artifacts", path)) {
      const json& list = o.at("Artifacts");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string ap = index(join(path, "Artifacts"), i);
        if (!list[i].is_object()) {
          add(ap, "must be an object");
          continue;
        }
        check_keys(list[i], ap,
                   {"GetterSource", "GetterOptions", "GetterHeaders", "GetterMode", "RelativeDest",
                    "Chown", "GetterInsecure"});
        Artifact a;
        if (auto v = str(list[i], "GetterSource", ap)) a.source = *v;
        a.options = string_map(list[i], "GetterOptions", ap);
        a.headers = string_map(list[i], "GetterHeaders", ap);
        if (auto v = str(list[i], "GetterMode", ap); v && !v->empty()) a.mode = *v;
        if (auto v = str(list[i], "RelativeDest", ap); v && !v->empty()) a.destination = *v;
        if (auto v = boolean(list[i], "Chown", ap)) a.chown = *v;
        // Nomad's GetterInsecure skips TLS verification: drover always verifies.
        if (auto v = boolean(list[i], "GetterInsecure", ap); v && *v)
          add(join(ap, "GetterInsecure"), "not supported by drover (TLS is always verified)");
        t.artifacts.push_back(std::move(a));
      }
    }
    objects(o, "Templates", path, [&](const json& tj, const std::string& tp) {
      t.templates.push_back(read_template(tj, tp));
    });
    objects(o, "Actions", path, [&](const json& aj, const std::string& ap) {
      check_keys(aj, ap, {"Name", "Command", "Args"});
      Action a;
      if (auto v = str(aj, "Name", ap)) a.name = *v;
      if (auto v = str(aj, "Command", ap)) a.command = *v;
      a.args = strings(aj, "Args", ap);
      t.actions.push_back(std::move(a));
    });
    // A task's policy is merged over its group's, as Nomad merges it; `nomad job inspect`
    // copies the group's into each task, which is then no policy of the task's own.
    if (object(o, "RestartPolicy", path)) {
      RestartPolicy r =
          read_restart(o.at("RestartPolicy"), join(path, "RestartPolicy"), group_restart);
      if (!(r == group_restart)) t.restart = r;
    }
    if (auto v = duration(o, "ShutdownDelay", path)) t.shutdown_delay = *v;
    t.placement = placement(o, path, /*with_spreads=*/false);
    if (array(o, "VolumeMounts", path)) {
      const json& ms = o.at("VolumeMounts");
      for (std::size_t i = 0; i < ms.size(); ++i) {
        const std::string mp = index(join(path, "VolumeMounts"), i);
        if (!ms[i].is_object()) {
          add(mp, "must be an object");
          continue;
        }
        check_keys(ms[i], mp, {"Volume", "Destination", "ReadOnly", "PropagationMode", "SELinuxLabel"});
        VolumeMount m;
        if (auto v = str(ms[i], "Volume", mp)) m.volume = *v;
        if (auto v = str(ms[i], "Destination", mp)) m.destination = *v;
        if (auto v = boolean(ms[i], "ReadOnly", mp)) m.read_only = *v;
        if (auto v = str(ms[i], "PropagationMode", mp); v && !v->empty()) m.propagation_mode = *v;
        if (auto v = str(ms[i], "SELinuxLabel", mp); v && !v->empty())
          add(join(mp, "SELinuxLabel"), "not supported by drover");
        t.volume_mounts.push_back(std::move(m));
      }
    }
    return t;
  }

  // One of a task's Templates (docs/templates.md), Nomad's field names.
  Template read_template(const json& o, const std::string& path) {
    check_keys(o, path,
               {"EmbeddedTmpl", "SourcePath", "DestPath", "Envvars", "ChangeMode", "ChangeSignal",
                "ChangeScript", "Perms", "Uid", "Gid", "LeftDelim", "RightDelim", "Splay", "Wait",
                "ErrMissingKey", "Once"});
    Template t;
    if (auto v = str(o, "EmbeddedTmpl", path)) t.data = *v;
    if (auto v = str(o, "SourcePath", path)) t.source = *v;
    if (auto v = str(o, "DestPath", path)) t.destination = *v;
    if (auto v = boolean(o, "Envvars", path)) t.env = *v;
    if (auto v = str(o, "ChangeMode", path); v && !v->empty()) t.change_mode = *v;
    if (auto v = str(o, "ChangeSignal", path)) t.change_signal = *v;
    if (auto v = str(o, "Perms", path); v && !v->empty()) t.perms = *v;
    t.uid = integer(o, "Uid", path);
    t.gid = integer(o, "Gid", path);
    if (auto v = str(o, "LeftDelim", path); v && !v->empty()) t.left_delimiter = *v;
    if (auto v = str(o, "RightDelim", path); v && !v->empty()) t.right_delimiter = *v;
    if (auto v = duration(o, "Splay", path)) t.splay = *v;
    if (auto v = boolean(o, "ErrMissingKey", path)) t.error_on_missing_key = *v;
    if (auto v = boolean(o, "Once", path)) t.once = *v;
    if (object(o, "ChangeScript", path)) {
      const std::string cp = join(path, "ChangeScript");
      const json& c = o.at("ChangeScript");
      check_keys(c, cp, {"Command", "Args", "Timeout", "FailOnError"});
      ChangeScript cs;
      if (auto v = str(c, "Command", cp)) cs.command = *v;
      if (array(c, "Args", cp)) {
        const json& args = c.at("Args");
        for (std::size_t i = 0; i < args.size(); ++i) {
          if (args[i].is_string())
            cs.args.push_back(args[i].get<std::string>());
          else
            add(index(join(cp, "Args"), i),
                std::string("must be a string (got ") + args[i].type_name() + ")");
        }
      }
      if (auto v = duration(c, "Timeout", cp); v && v->count() != 0) cs.timeout = *v;
      if (auto v = boolean(c, "FailOnError", cp)) cs.fail_on_error = *v;
      // Nomad prints an empty ChangeScript for every template; one without a command is none.
      if (!cs.command.empty() || !cs.args.empty()) t.change_script = std::move(cs);
    }
    if (object(o, "Wait", path)) {
      const std::string wp = join(path, "Wait");
      check_keys(o.at("Wait"), wp, {"Min", "Max", "Enabled"});
      TemplateWait w;
      if (auto v = duration(o.at("Wait"), "Min", wp)) w.min = *v;
      if (auto v = duration(o.at("Wait"), "Max", wp)) w.max = *v;
      t.wait = w;
    }
    return t;
  }

  RestartPolicy read_restart(const json& o, const std::string& path, RestartPolicy r) {
    check_keys(o, path, {"Attempts", "Interval", "Delay", "Mode", "RenderTemplates"});
    if (auto v = boolean(o, "RenderTemplates", path)) r.render_templates = *v;
    if (auto v = integer(o, "Attempts", path)) r.attempts = *v;
    if (auto v = duration(o, "Interval", path)) r.interval = *v;
    if (auto v = duration(o, "Delay", path)) r.delay = *v;
    if (auto v = str(o, "Mode", path)) r.mode = *v;
    return r;
  }

  // Nomad's ReschedulePolicy merged over `base`: a field left out (or null) keeps base's.
  ReschedulePolicy read_reschedule(const json& o, const std::string& path, ReschedulePolicy r) {
    check_keys(o, path,
               {"Attempts", "Interval", "Delay", "DelayFunction", "MaxDelay", "Unlimited"});
    if (auto v = integer(o, "Attempts", path)) r.attempts = *v;
    if (auto v = duration(o, "Interval", path)) r.interval = *v;
    if (auto v = duration(o, "Delay", path)) r.delay = *v;
    if (auto v = str(o, "DelayFunction", path); v && !v->empty()) r.delay_function = *v;
    if (auto v = duration(o, "MaxDelay", path)) r.max_delay = *v;
    if (auto v = boolean(o, "Unlimited", path)) r.unlimited = *v;
    return r;
  }

  // Nomad's group ScalingPolicy; its ID, Target and indexes are the servers' and ignored.
  // The policy is the autoscaler's: kept as it is, only checked to be an object.
  Scaling scaling(const json& o, const std::string& path, std::optional<int>& min) {
    check_keys(o, path,
               {"Type", "Enabled", "Min", "Max", "Policy", "ID", "Target", "CreateIndex",
                "ModifyIndex"});
    Scaling s;
    if (auto v = str(o, "Type", path); v && !v->empty()) s.type = *v;
    if (auto v = boolean(o, "Enabled", path)) s.enabled = *v;
    min = integer(o, "Min", path);
    if (auto v = integer(o, "Max", path)) s.max = *v;
    if (object(o, "Policy", path)) s.policy = o.at("Policy");
    return s;
  }

  // Nomad's Disconnect block, or the group fields it replaced (Nomad 1.8): MaxClientDisconnect
  // is its LostAfter, StopAfterClientDisconnect its StopOnClientAfter, PreventRescheduleOnLost
  // its Replace turned round. One way or the other, not both.
  std::optional<DisconnectStrategy> disconnect(const json& o, const std::string& path) {
    std::optional<DisconnectStrategy> out;
    if (object(o, "Disconnect", path)) {
      const std::string dp = join(path, "Disconnect");
      const json& d = o.at("Disconnect");
      check_keys(d, dp, {"LostAfter", "StopOnClientAfter", "Replace", "Reconcile"});
      DisconnectStrategy r;
      if (auto v = duration(d, "LostAfter", dp)) r.lost_after = *v;
      r.stop_on_client_after = duration(d, "StopOnClientAfter", dp);
      if (auto v = boolean(d, "Replace", dp)) r.replace = *v;
      if (auto v = str(d, "Reconcile", dp); v && !v->empty()) r.reconcile = *v;
      out = r;
    }
    auto lost = duration(o, "MaxClientDisconnect", path);
    auto stop = duration(o, "StopAfterClientDisconnect", path);
    auto prevent = boolean(o, "PreventRescheduleOnLost", path);
    if (!lost && !stop && !prevent) return out;
    if (out) {
      for (const char* k : {"MaxClientDisconnect", "StopAfterClientDisconnect", "PreventRescheduleOnLost"})
        if (o.contains(k) && !o.at(k).is_null())
          add(join(path, k), "is the older form of the Disconnect block: give one or the other");
      return out;
    }
    DisconnectStrategy r;
    if (lost) r.lost_after = *lost;
    r.stop_on_client_after = stop;
    if (prevent) r.replace = !*prevent;
    return r;
  }

  TaskGroup group(const json& o, const std::string& path, JobType type,
                  const std::optional<UpdateStrategy>& job_update,
                  const std::optional<ReschedulePolicy>& job_reschedule) {
    TaskGroup g;
    g.restart = default_restart_policy(type);
    // ReschedulePolicy and Migrate are read for the servers (a node agent never reschedules
    // nor drains; it judges health by Migrate when no update block says how).
    check_keys(
        o, path,
        {"Name", "Count", "RestartPolicy", "EphemeralDisk", "Update", "Tasks", "Meta",
         "ReschedulePolicy", "Migrate", "ShutdownDelay", "MaxRunDuration", "Constraints",
         "Affinities", "Spreads", "Networks", "Services", "Volumes", "Scaling", "Disconnect",
         "MaxClientDisconnect", "StopAfterClientDisconnect", "PreventRescheduleOnLost"});
    if (auto v = str(o, "Name", path)) g.name = *v;
    g.disconnect = disconnect(o, path);
    std::optional<int> scaling_min;
    if (object(o, "Scaling", path)) g.scaling = scaling(o.at("Scaling"), join(path, "Scaling"), scaling_min);
    settle_group_count(g, integer(o, "Count", path), scaling_min);
    if (object(o, "RestartPolicy", path))
      g.restart = read_restart(o.at("RestartPolicy"), join(path, "RestartPolicy"), g.restart);
    g.reschedule = job_reschedule;
    if (object(o, "ReschedulePolicy", path))
      g.reschedule = read_reschedule(o.at("ReschedulePolicy"), join(path, "ReschedulePolicy"),
                                     job_reschedule.value_or(default_reschedule_policy(type)));
    if (object(o, "Migrate", path)) {
      const std::string mp = join(path, "Migrate");
      const json& m = o.at("Migrate");
      check_keys(m, mp, {"MaxParallel", "HealthCheck", "MinHealthyTime", "HealthyDeadline"});
      MigrateStrategy out;
      if (auto v = integer(m, "MaxParallel", mp)) out.max_parallel = *v;
      if (auto v = str(m, "HealthCheck", mp); v && !v->empty()) out.health_check = *v;
      if (auto v = duration(m, "MinHealthyTime", mp)) out.min_healthy_time = *v;
      if (auto v = duration(m, "HealthyDeadline", mp); v && v->count() != 0)
        out.healthy_deadline = *v;
      g.migrate = out;
    }
    if (object(o, "EphemeralDisk", path)) {
      const std::string ep = join(path, "EphemeralDisk");
      const json& e = o.at("EphemeralDisk");
      check_keys(e, ep, {"SizeMB", "Sticky", "Migrate"});
      if (auto v = integer(e, "SizeMB", ep)) g.ephemeral_disk.size_mb = *v;
      if (auto v = boolean(e, "Sticky", ep)) g.ephemeral_disk.sticky = *v;
      if (auto v = boolean(e, "Migrate", ep)) g.ephemeral_disk.migrate = *v;
    }
    if (object(o, "Volumes", path)) {
      for (const auto& [name, v] : o.at("Volumes").items()) {
        const std::string vp = join(join(path, "Volumes"), name);
        if (!v.is_object()) {
          add(vp, "must be an object");
          continue;
        }
        // Nomad's CSI-only fields are named so that the refusal of csi can say why.
        check_keys(v, vp,
                   {"Name", "Type", "Source", "ReadOnly", "AccessMode", "AttachmentMode",
                    "PerAlloc", "MountOptions", "Sticky"});
        VolumeRequest r;
        r.name = str(v, "Name", vp).value_or(name);
        if (r.name.empty()) r.name = name;
        if (r.name != name) add(join(vp, "Name"), "must be the volume's key \"" + name + "\"");
        if (auto t = str(v, "Type", vp); t && !t->empty()) r.type = *t;
        if (auto t = str(v, "Source", vp)) r.source = *t;
        if (auto t = boolean(v, "ReadOnly", vp)) r.read_only = *t;
        if (auto t = boolean(v, "Sticky", vp)) r.sticky = *t;
        if (auto t = str(v, "AccessMode", vp)) r.access_mode = *t;
        if (auto t = str(v, "AttachmentMode", vp)) r.attachment_mode = *t;
        if (auto t = boolean(v, "PerAlloc", vp); t && *t)
          add(join(vp, "PerAlloc"), "per_alloc names a volume per alloc index, a CSI feature: "
                                    "not supported by drover");
        g.volumes.push_back(std::move(r));
      }
      std::sort(g.volumes.begin(), g.volumes.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
    }
    if (object(o, "Update", path))
      g.update =
          update(o.at("Update"), join(path, "Update"), job_update.value_or(UpdateStrategy{}));
    g.meta = string_map(o, "Meta", path);
    g.networks = networks(o, "Networks", path);
    g.services = services(o, "Services", path, "");
    if (auto v = duration(o, "ShutdownDelay", path)) g.shutdown_delay = *v;
    if (auto v = duration(o, "MaxRunDuration", path)) g.max_run_duration = *v;
    g.placement = placement(o, path, /*with_spreads=*/true);
    if (array(o, "Tasks", path)) {
      const json& tasks = o.at("Tasks");
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        const std::string tp = index(join(path, "Tasks"), i);
        if (!tasks[i].is_object()) {
          add(tp, std::string("must be an object (got ") + tasks[i].type_name() + ")");
          continue;
        }
        g.tasks.push_back(task(tasks[i], tp, g.restart));
      }
    }
    return g;
  }

  void job(const json& o, Job& j) {
    const std::string path = "Job";
    check_keys(o, path,
               {"ID", "Name", "Type", "Datacenters", "Priority", "Meta", "Update", "Reschedule",
                "TaskGroups", "Region", "Namespace", "NodePool", "Constraints", "Affinities",
                "Spreads", "Periodic", "ParameterizedJob", "UI"},
               /*server_fields=*/true);
    if (auto v = str(o, "ID", path)) j.id = *v;
    if (auto v = str(o, "Name", path)) j.name = *v;
    if (j.name.empty()) j.name = j.id;
    if (auto v = str(o, "Type", path)) {
      if (v->empty())
        j.type = JobType::Service;
      else if (auto t = job_type_from_string(*v))
        j.type = *t;
      else
        add(join(path, "Type"),
            "must be \"service\", \"batch\", \"system\" or \"sysbatch\" (got \"" + *v + "\")");
    }
    if (auto v = str(o, "Region", path); v && !v->empty()) j.region = *v;
    if (auto v = str(o, "Namespace", path); v && !v->empty()) j.namespace_name = *v;
    if (auto v = str(o, "NodePool", path); v && !v->empty()) j.node_pool = *v;
    j.placement = placement(o, path, /*with_spreads=*/true);
    if (array(o, "Datacenters", path)) {
      const json& dcs = o.at("Datacenters");
      for (std::size_t i = 0; i < dcs.size(); ++i) {
        if (dcs[i].is_string())
          j.datacenters.push_back(dcs[i].get<std::string>());
        else
          add(index(join(path, "Datacenters"), i), "must be a string");
      }
    }
    if (auto v = integer(o, "Priority", path)) j.priority = *v;
    j.meta = string_map(o, "Meta", path);
    if (object(o, "Update", path)) j.update = update(o.at("Update"), join(path, "Update"), {});
    if (object(o, "Reschedule", path))
      j.reschedule = read_reschedule(o.at("Reschedule"), join(path, "Reschedule"),
                                     default_reschedule_policy(j.type));
    if (array(o, "TaskGroups", path)) {
      const json& groups = o.at("TaskGroups");
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::string gp = index(join(path, "TaskGroups"), i);
        if (!groups[i].is_object()) {
          add(gp, std::string("must be an object (got ") + groups[i].type_name() + ")");
          continue;
        }
        j.groups.push_back(group(groups[i], gp, j.type, j.update, j.reschedule));
      }
    }
    launches(o, j);
  }

  // Periodic and ParameterizedJob: how the job launches children (job.hpp). Absent fields
  // take Nomad's defaults (enabled, UTC, payload optional).
  void launches(const json& o, Job& j) {
    if (object(o, "Periodic", "Job")) {
      const std::string pp = "Job.Periodic";
      const json& p = o.at("Periodic");
      check_keys(p, pp, {"Enabled", "Spec", "Specs", "SpecType", "ProhibitOverlap", "TimeZone"});
      Periodic out;
      auto spec = str(p, "Spec", pp);
      auto specs = strings(p, "Specs", pp);
      if (spec && !spec->empty() && !specs.empty())
        add(join(pp, "Specs"), "use Spec or Specs, not both");
      if (spec && !spec->empty()) out.crons.push_back(*spec);
      out.crons.insert(out.crons.end(), specs.begin(), specs.end());
      if (auto v = str(p, "SpecType", pp); v && !v->empty() && *v != "cron")
        add(join(pp, "SpecType"), "must be \"cron\" (got \"" + *v + "\")");
      if (auto v = boolean(p, "ProhibitOverlap", pp)) out.prohibit_overlap = *v;
      if (auto v = str(p, "TimeZone", pp); v && !v->empty()) out.time_zone = *v;
      if (auto v = boolean(p, "Enabled", pp)) out.enabled = *v;
      j.periodic = std::move(out);
    }
    if (object(o, "ParameterizedJob", "Job")) {
      const std::string pp = "Job.ParameterizedJob";
      const json& p = o.at("ParameterizedJob");
      check_keys(p, pp, {"Payload", "MetaRequired", "MetaOptional"});
      Parameterized out;
      if (auto v = str(p, "Payload", pp); v && !v->empty()) out.payload = *v;
      out.meta_required = strings(p, "MetaRequired", pp);
      out.meta_optional = strings(p, "MetaOptional", pp);
      j.parameterized = std::move(out);
    }
    if (object(o, "UI", "Job")) {
      const std::string up = "Job.UI";
      check_keys(o.at("UI"), up, {"Description", "Links"});
      JobUi ui;
      if (auto v = str(o.at("UI"), "Description", up)) ui.description = *v;
      // `nomad job run -output` writes URL (Nomad's api package), its API answers Url.
      objects(o.at("UI"), "Links", up, [&](const json& l, const std::string& lp) {
        check_keys(l, lp, {"Label", "URL", "Url"});
        UiLink link;
        if (auto v = str(l, "Label", lp)) link.label = *v;
        for (const char* key : {"URL", "Url"})
          if (auto v = str(l, key, lp); v && !v->empty()) link.url = *v;
        ui.links.push_back(std::move(link));
      });
      j.ui = std::move(ui);
    }
  }

 private:
  std::vector<Problem>& problems_;
};

}  // namespace

bool read_nomad_json_job(const json& doc, Job& job, std::vector<Problem>& problems) {
  NomadReader r(problems);
  for (const auto& [key, value] : doc.items()) {
    if (key != "Job" && !says_nothing(key, value))
      problems.push_back({key, "not supported by drover (a Nomad JSON job is {\"Job\": {...}})"});
  }
  const json& j = doc.at("Job");
  if (!j.is_object()) {
    problems.push_back({"Job", std::string("must be an object (got ") + j.type_name() + ")"});
    return false;
  }
  r.job(j, job);
  return true;
}

}  // namespace drover::jobspec::detail
