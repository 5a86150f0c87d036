// Validation of a parsed job: every rule names the field's path, and every problem is
// reported at once. Limits follow Nomad where it has one; the rest bound hostile input.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "artifact/source.hpp"
#include "drover/common/names.hpp"
#include "drover/common/relative_path.hpp"
#include "drover/sdk/hostname.hpp"
#include "drover/sdk/signals.hpp"
#include "jobspec/constraint.hpp"
#include "jobspec/cron.hpp"
#include "jobspec/identity.hpp"
#include "jobspec/parse.hpp"
#include "template/template.hpp"

namespace drover::jobspec {

bool host_volume_access_mode(const std::string& mode) {
  return mode == "single-node-reader-only" || mode == "single-node-writer" ||
         mode == "single-node-single-writer" || mode == "single-node-multi-writer";
}

namespace {

// A group's count: a cluster job spreads over many nodes (issue 20's scale: one job of
// 10,000 allocs over 1,000 nodes); a standalone agent is bounded by its own resources first.
constexpr int kMaxCount = 10000;
constexpr int kMaxCpuMhz = 1000000;
constexpr int kMinMemoryMb = 10;
constexpr int kMaxMemoryMb = 16777216;  // 16 TiB
constexpr int kMaxCores = 4096;
constexpr int kMaxPids = 4194304;  // the kernel's pid_max ceiling
constexpr int kMaxDeviceCount = 1024;
constexpr Duration kMaxKillTimeout = std::chrono::hours(24);
constexpr Duration kMinRestartInterval = std::chrono::seconds(5);  // Nomad's minimum
// Nomad's ReschedulePolicyMinDelay.
constexpr Duration kMinRescheduleDelay = std::chrono::seconds(5);
// Nomad asks for 1s; drover allows shorter checks (tests, fast local probes).
constexpr Duration kMinCheckInterval = std::chrono::milliseconds(100);
constexpr int kMaxChecksPerTask = 32;
// Ports per group (its network and its tasks' together): each dynamic one costs a probe of
// the host at submit, for every alloc of the group.
constexpr std::size_t kMaxPortsPerGroup = 128;

// "host:port" or "port" with the port in 1..65535; nullopt when fine.
std::optional<std::string> port_problem(const std::string& value) {
  auto colon = value.rfind(':');
  std::string host = colon == std::string::npos ? "" : value.substr(0, colon);
  std::string port = colon == std::string::npos ? value : value.substr(colon + 1);
  if (colon != std::string::npos && host.empty()) return "has an empty host";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return "must be a port label, a port number or \"host:port\"";
  int n = std::stoi(port);
  if (n < 1 || n > 65535) return "port must be 1..65535";
  return std::nullopt;
}

// --- Networks and ports (docs/networking.md) ---------------------------------------------
// Port labels become env names (NOMAD_PORT_<label>) and service references: Nomad allows any
// string and cleans it for the env; drover asks for a plain name so a label reads the same in
// the job, the env and the API.
bool port_label_ok(const std::string& label) {
  static const std::regex kLabel("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
  return std::regex_match(label, kLabel);
}
// --- end networks ------------------------------------------------------------------------

// Printable form of a bad value for a message: control bytes as \xNN, long values cut.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

class Validator {
 public:
  explicit Validator(const std::vector<std::string>& drivers) : drivers_(drivers) {}

  std::vector<Problem> problems;

  void add(std::string path, std::string message) {
    problems.push_back({std::move(path), std::move(message)});
  }

  void plain_name(const std::string& path, const std::string& value) {
    if (value.empty()) {
      add(path, "is required");
    } else if (auto why = plain_name_problem(value)) {
      add(path, *why + " (got \"" + printable(value) + "\")");
    }
  }


  void range(const std::string& path, long long v, long long min, long long max,
             const char* unit = nullptr) {
    std::string u = unit ? std::string(" (") + unit + ")" : "";
    if (v < 0 && min >= 0)
      add(path, "must not be negative (got " + std::to_string(v) + ")");
    else if (v < min)
      add(path, "must be at least " + std::to_string(min) + u);
    else if (v > max)
      add(path, "must be at most " + std::to_string(max) + u);
  }

  // env and meta keys become environment variables: no '=', no NUL, not empty.
  void keys(const std::string& path, const std::map<std::string, std::string>& m,
            bool check_values) {
    for (const auto& [key, value] : m) {
      if (key.empty())
        add(path, "keys must not be empty");
      else if (key.find('=') != std::string::npos)
        add(path, "key \"" + printable(key) + "\" must not contain '='");
      else if (key.find('\0') != std::string::npos)
        add(path, "key \"" + printable(key) + "\" must not contain a NUL byte");
      if (check_values && value.find('\0') != std::string::npos)
        add(path + "." + key, "must not contain a NUL byte");
    }
  }

  void update(const std::string& path, const UpdateStrategy& u) {
    if (u.health_check != "checks" && u.health_check != "task_states" && u.health_check != "manual")
      add(path + ".health_check", "must be \"checks\", \"task_states\" or \"manual\" (got \"" +
                                      printable(u.health_check) + "\")");
    if (u.min_healthy_time.count() < 0) add(path + ".min_healthy_time", "must not be negative");
    if (u.max_parallel < 0) add(path + ".max_parallel", "must not be negative");
    if (u.canary < 0) add(path + ".canary", "must not be negative");
    if (u.stagger.count() < 0) add(path + ".stagger", "must not be negative");
    if (u.progress_deadline.count() < 0) add(path + ".progress_deadline", "must not be negative");
    if (u.healthy_deadline.count() <= 0)
      add(path + ".healthy_deadline", "must be greater than 0");
    else if (u.min_healthy_time >= u.healthy_deadline)
      add(path + ".healthy_deadline",
          "must be longer than min_healthy_time (" + format_duration(u.min_healthy_time) + ")");
  }

  // Nomad's ReschedulePolicy.Validate: a policy that reschedules at all needs a delay of at
  // least 5s, a known delay function, a ceiling not under the delay, and attempts that fit
  // their interval; attempts and unlimited together are ambiguous.
  void reschedule(const std::string& path, const ReschedulePolicy& r) {
    const auto& f = r.delay_function;
    if (f != "constant" && f != "exponential" && f != "fibonacci")
      add(path + ".delay_function",
          "must be \"constant\", \"exponential\" or \"fibonacci\" (got \"" + printable(f) + "\")");
    if (r.attempts < 0) add(path + ".attempts", "must not be negative");
    if (r.interval.count() < 0) add(path + ".interval", "must not be negative");
    if (r.max_delay.count() < 0) add(path + ".max_delay", "must not be negative");
    if (r.attempts <= 0 && !r.unlimited) return;  // never rescheduled: nothing else matters
    if (r.attempts > 0 && r.unlimited)
      add(path + ".unlimited", "cannot be true with attempts " + std::to_string(r.attempts) +
                                   " (ambiguous: set attempts to 0 or unlimited to false)");
    if (r.attempts > 0 && r.interval.count() <= 0)
      add(path + ".interval", "must be greater than 0 when attempts is set");
    if (r.delay < kMinRescheduleDelay) {
      add(path + ".delay", "must be at least " + format_duration(kMinRescheduleDelay) + " (got " +
                               format_duration(r.delay) + ")");
      return;
    }
    if (f != "constant" && r.max_delay.count() > 0 && r.max_delay < r.delay)
      add(path + ".max_delay", "must not be shorter than delay (" + format_duration(r.delay) + ")");
    if (f == "constant" && r.attempts > 0 && r.interval.count() > 0 &&
        r.interval < r.delay * r.attempts)
      add(path + ".interval", "cannot fit " + std::to_string(r.attempts) + " attempts " +
                                  format_duration(r.delay) + " apart in " +
                                  format_duration(r.interval) + " (make it at least " +
                                  format_duration(r.delay * r.attempts) + ")");
  }

  // Nomad's ScalingPolicy.Validate for a group (horizontal) and TaskGroup.Validate's count
  // within the bounds.
  void scaling(const std::string& group, const Scaling& s, int count) {
    const std::string path = group + ".scaling";
    if (system_)
      add(path, "a " + std::string(system_batch_ ? "sysbatch" : "system") +
                    " job runs one alloc on each node and has no count to scale");
    if (s.type != "horizontal")
      add(path + ".type",
          "must be \"horizontal\" for a group (got \"" + printable(s.type) + "\")");
    range(path + ".min", s.min, 0, kMaxCount);
    if (s.max == -1)
      add(path + ".max", "required: the most allocs the group may be scaled to");
    else
      range(path + ".max", s.max, 0, kMaxCount);
    if (s.max >= 0 && s.max < s.min)
      add(path + ".max", "must not be less than min (" + std::to_string(s.min) + "), got " +
                             std::to_string(s.max));
    if (count < s.min)
      add(group + ".count", "must not be less than scaling.min (" + std::to_string(s.min) +
                                "), got " + std::to_string(count));
    if (s.max >= 0 && count > s.max)
      add(group + ".count", "must not be greater than scaling.max (" + std::to_string(s.max) +
                                "), got " + std::to_string(count));
  }

  // Nomad's MigrateStrategy.Validate.
  void migrate(const std::string& path, const MigrateStrategy& m) {
    if (m.max_parallel < 0) add(path + ".max_parallel", "must not be negative");
    if (m.health_check != "checks" && m.health_check != "task_states")
      add(path + ".health_check",
          "must be \"checks\" or \"task_states\" (got \"" + printable(m.health_check) + "\")");
    if (m.min_healthy_time.count() < 0) add(path + ".min_healthy_time", "must not be negative");
    if (m.healthy_deadline <= m.min_healthy_time)
      add(path + ".healthy_deadline",
          "must be longer than min_healthy_time (" + format_duration(m.min_healthy_time) + ")");
  }

  // Nomad's DisconnectStrategy.Validate.
  void disconnect(const std::string& path, const DisconnectStrategy& d) {
    if (d.lost_after.count() < 0) add(path + ".lost_after", "must not be negative");
    if (d.stop_on_client_after) {
      if (d.stop_on_client_after->count() < 0)
        add(path + ".stop_on_client_after", "must not be negative");
      if (type_ != JobType::Service && type_ != JobType::Batch)
        add(path + ".stop_on_client_after",
            "only service and batch jobs may have it (this job is " +
                std::string(to_string(type_)) + ")");
      if (d.lost_after.count() != 0)
        add(path + ".stop_on_client_after",
            "cannot be given with lost_after: the node stops its allocs, or the servers wait "
            "for it, not both");
    }
    static const std::set<std::string> kReconcile = {"best_score", "keep_original",
                                                     "keep_replacement", "longest_running"};
    if (!kReconcile.count(d.reconcile))
      add(path + ".reconcile",
          "must be best_score, keep_original, keep_replacement or longest_running (got \"" +
              printable(d.reconcile) + "\")");
  }

  void restart(const std::string& path, const RestartPolicy& r) {
    if (r.mode != "fail" && r.mode != "delay")
      add(path + ".mode", "must be \"fail\" or \"delay\" (got \"" + printable(r.mode) + "\")");
    if (r.attempts < 0)
      add(path + ".attempts", "must not be negative (got " + std::to_string(r.attempts) + ")");
    else if (r.attempts == 0 && r.mode == "delay")
      add(path + ".attempts", "0 attempts with mode \"delay\" is ambiguous (use mode \"fail\")");
    if (r.delay.count() < 0) add(path + ".delay", "must not be negative");
    if (r.interval < kMinRestartInterval) {
      add(path + ".interval", "must be at least " + format_duration(kMinRestartInterval) +
                                  " (got " + format_duration(r.interval) + ")");
    } else if (r.attempts > 0 && r.delay.count() > 0 && r.delay > r.interval / r.attempts) {
      add(path + ".interval", "cannot fit " + std::to_string(r.attempts) + " restarts " +
                                  format_duration(r.delay) + " apart in " +
                                  format_duration(r.interval));
    }
  }

  void resources(const std::string& path, const Resources& r) {
    if (r.cores > 0 && r.cpu_mhz > 0)
      add(path + ".cpu", "cannot be set together with cores (ask for cpu or cores, not both)");
    else if (r.cores == 0)
      range(path + ".cpu", r.cpu_mhz, 1, kMaxCpuMhz, "MHz");
    else if (r.cpu_mhz < 0)
      add(path + ".cpu", "must not be negative (got " + std::to_string(r.cpu_mhz) + ")");
    range(path + ".cores", r.cores, 0, kMaxCores);
    if (!r.numa_affinity.empty()) {
      const auto& a = r.numa_affinity;
      if (a != "none" && a != "prefer" && a != "require")
        add(path + ".numa.affinity",
            "must be \"none\", \"prefer\" or \"require\" (got \"" + printable(a) + "\")");
      else if (r.cores == 0)
        add(path + ".numa", "places the task's cores: it needs cores (Nomad's rule)");
    }
    for (std::size_t i = 0; i < r.numa_devices.size(); ++i) {
      const std::string dp = path + ".numa.devices[" + std::to_string(i) + "]";
      const auto& name = r.numa_devices[i];
      if (r.numa_affinity != "prefer" && r.numa_affinity != "require")
        add(dp, "puts devices on the NUMA node of the task's cores: it needs affinity \"prefer\" "
                "or \"require\"");
      if (std::none_of(r.devices.begin(), r.devices.end(),
                       [&](const DeviceRequest& d) { return d.name == name; }))
        add(dp, "\"" + printable(name) + "\" is not one of the task's device blocks");
    }
    range(path + ".memory", r.memory_mb, kMinMemoryMb, kMaxMemoryMb, "MB");
    if (r.disk_mb < 0)
      add(path + ".disk", "must not be negative (got " + std::to_string(r.disk_mb) + ")");
    // Nomad's sentinels: 0 is no separate hard limit, -1 no hard limit at all.
    if (r.memory_max_mb < -1)
      add(path + ".memory_max", "must be -1 (no hard limit), 0 or at least memory (got " +
                                    std::to_string(r.memory_max_mb) + ")");
    else if (r.memory_max_mb > 0 && r.memory_max_mb < r.memory_mb)
      add(path + ".memory_max",
          "must be 0 or at least memory (" + std::to_string(r.memory_mb) + " MB)");
    else if (r.memory_max_mb > kMaxMemoryMb)
      range(path + ".memory_max", r.memory_max_mb, 0, kMaxMemoryMb, "MB");
    range(path + ".pids", r.pids, 0, kMaxPids);
    for (std::size_t i = 0; i < r.devices.size(); ++i) {
      const auto& d = r.devices[i];
      const std::string p = path + ".devices[" + std::to_string(i) + "]";
      if (d.name.empty())
        add(p + ".name", "is required (e.g. \"nvidia/gpu\" or \"gpu\")");
      else if (printable(d.name) != d.name)
        add(p + ".name", "must not contain control characters");
      range(p + ".count", d.count, 1, kMaxDeviceCount);
      for (std::size_t c = 0; c < d.constraints.size(); ++c) constraint(p, c, d.constraints[c]);
      for (std::size_t a = 0; a < d.affinities.size(); ++a)
        affinity(p + ".affinities[" + std::to_string(a) + "]", d.affinities[a]);
    }
  }

  void constraint(const std::string& device_path, std::size_t i, const nlohmann::json& c) {
    const std::string p = device_path + ".constraints[" + std::to_string(i) + "]";
    std::string attribute = c.value("attribute", "");
    std::string op = c.value("operator", "");
    if (attribute.empty()) add(p + ".attribute", "is required (e.g. \"${device.attr.memory}\")");
    // A device is one instance: counting allocs per host or property means nothing here.
    if (!known_constraint_operator(op) || op == "distinct_hosts" || op == "distinct_property")
      add(p + ".operator", "unknown operator \"" + printable(op) + "\"");
    else if (auto why = constraint_value_problem(op, c.value("value", "")))
      add(p + ".value", *why);
  }

  // --- Placement (issue 17): the rules of Nomad's Constraint, Affinity and Spread Validate. ---

  // The operator and value rules constraints and affinities share; false when the operator is
  // unknown.
  void operand(const std::string& p, const std::string& op, const std::string& attribute,
               const std::string& value, bool affinity) {
    const bool distinct = op == "distinct_hosts" || op == "distinct_property";
    if (!known_constraint_operator(op) ||
        (affinity && (distinct || op == "is_set" || op == "is_not_set"))) {
      add(p + ".operator", "unknown operator \"" + printable(op) +
                               "\" (use =, !=, <, <=, >, >=, regexp, set_contains, "
                               "set_contains_any, set_contains_all, version, semver" +
                               (affinity ? ""
                                         : ", is_set, is_not_set, distinct_hosts, "
                                           "distinct_property") +
                               ")");
      return;
    }
    if (attribute.empty() && op != "distinct_hosts")
      add(p + ".attribute", "is required (e.g. \"${attr.kernel.name}\" or \"${meta.rack}\")");
    if ((op == "is_set" || op == "is_not_set") && !value.empty())
      add(p + ".value", "operator " + op + " takes no value");
    else if (!distinct && op != "is_set" && op != "is_not_set" && value.empty())
      add(p + ".value", "is required by operator \"" + op + "\"");
    else if (auto why = constraint_value_problem(op, value))
      add(p + ".value", *why);
  }

  void affinity(const std::string& p, const Affinity& a) {
    operand(p, a.op, a.attribute, a.value, true);
    if (a.weight == 0)
      add(p + ".weight", "must not be 0");
    else
      range(p + ".weight", a.weight, -100, 100);
  }

  void placement(const std::string& prefix, const Placement& pl, bool system) {
    for (std::size_t i = 0; i < pl.constraints.size(); ++i) {
      const auto& c = pl.constraints[i];
      operand(prefix + "constraints[" + std::to_string(i) + "]", c.op, c.attribute, c.value, false);
    }
    // As in Nomad: a system job runs on every node, so preferring some means nothing.
    if (system && !pl.affinities.empty())
      add(prefix + "affinities", "system and sysbatch jobs may not have affinities");
    if (system && !pl.spreads.empty())
      add(prefix + "spreads", "system and sysbatch jobs may not have spreads");
    for (std::size_t i = 0; i < pl.affinities.size(); ++i)
      affinity(prefix + "affinities[" + std::to_string(i) + "]", pl.affinities[i]);
    for (std::size_t i = 0; i < pl.spreads.size(); ++i) {
      const auto& sp = pl.spreads[i];
      const std::string p = prefix + "spreads[" + std::to_string(i) + "]";
      if (sp.attribute.empty()) add(p + ".attribute", "is required (e.g. \"${node.datacenter}\")");
      range(p + ".weight", sp.weight, 0, 100);
      int sum = 0;
      std::map<std::string, std::size_t> seen;
      for (std::size_t t = 0; t < sp.targets.size(); ++t) {
        const std::string tp = p + ".targets[" + std::to_string(t) + "]";
        range(tp + ".percent", sp.targets[t].percent, 0, 100);
        sum += sp.targets[t].percent;
        if (sp.targets[t].value.empty()) add(tp + ".value", "is required");
        auto [it, fresh] = seen.emplace(sp.targets[t].value, t);
        if (!fresh && !sp.targets[t].value.empty())
          add(tp + ".value", "duplicate target \"" + printable(sp.targets[t].value) +
                                 "\" (also targets[" + std::to_string(it->second) + "])");
      }
      if (sum > 100)
        add(p + ".targets", "percentages add up to " + std::to_string(sum) + ", over 100");
    }
  }

  // --- end of placement ---

  void task(const std::string& path, const Task& t) {
    plain_name(path + ".name", t.name);
    if (t.restart) restart(path + ".restart", *t.restart);
    if (t.shutdown_delay.count() < 0) add(path + ".shutdown_delay", "must not be negative");
    placement(path + ".", t.placement, system_);
    if (is_reserved_task_name(t.name))
      add(path + ".name", "\"" + t.name +
                              "\" is reserved for the alloc dir's folders (alloc, "
                              "local, secrets, tmp)");
    plain_name(path + ".driver", t.driver);
    if (!t.driver.empty() && !drivers_.empty() &&
        std::find(drivers_.begin(), drivers_.end(), t.driver) == drivers_.end()) {
      std::string loaded;
      for (const auto& d : drivers_) loaded += (loaded.empty() ? "" : ", ") + d;
      add(path + ".driver",
          "unknown driver \"" + printable(t.driver) + "\" (loaded drivers: " + loaded + ")");
    }
    if (printable(t.user) != t.user) add(path + ".user", "must not contain control characters");
    if (!t.config.is_object()) add(path + ".config", "must be a map");
    keys(path + ".env", t.env, /*check_values=*/true);
    resources(path + ".resources", t.resources);
    if (t.kill_timeout.count() < 0)
      add(path + ".kill_timeout", "must not be negative");
    else if (t.kill_timeout > kMaxKillTimeout)
      add(path + ".kill_timeout", "must be at most " + format_duration(kMaxKillTimeout) + " (got " +
                                      format_duration(t.kill_timeout) + ")");
    // The drivers' own parser: a name accepted here is one the driver can send at stop.
    if (!t.kill_signal.empty() && !sdk::signal_number(t.kill_signal))
      add(path + ".kill_signal", "must be a signal name like \"SIGTERM\" or \"SIGRTMIN+1\" (got \"" +
                                     printable(t.kill_signal) + "\")");
    range(path + ".logs.max_files", t.logs.max_files, 1, 1000);
    range(path + ".logs.max_file_size", t.logs.max_file_size_mb, 1, 1048576, "MB");
    const auto& l = t.lifecycle;
    if (!l.hook.empty() && l.hook != "prestart" && l.hook != "poststart" && l.hook != "poststop")
      add(path + ".lifecycle.hook", "must be \"prestart\", \"poststart\" or \"poststop\" (got \"" +
                                        printable(l.hook) + "\")");
    if (l.sidecar && l.hook.empty())
      add(path + ".lifecycle.sidecar", "needs a hook (prestart or poststart)");
    else if (l.sidecar && l.hook == "poststop")
      add(path + ".lifecycle.sidecar", "cannot be used with the poststop hook");
    keys(path + ".meta", t.meta, /*check_values=*/true);
    std::size_t checks = 0;
    for (std::size_t i = 0; i < t.services.size(); ++i) {
      service(path + ".services[" + std::to_string(i) + "]", t.services[i]);
      checks += t.services[i].checks.size();
    }
    if (checks > kMaxChecksPerTask)
      add(path + ".services", "at most " + std::to_string(kMaxChecksPerTask) + " checks per task");
    if (t.dispatch_payload) dispatch_payload(path + ".dispatch_payload.file", t.dispatch_payload->file);
    for (std::size_t i = 0; i < t.artifacts.size(); ++i)
      artifact(path + ".artifacts[" + std::to_string(i) + "]", t.name, t.artifacts[i]);
    for (std::size_t i = 0; i < t.templates.size(); ++i)
      template_block(path + ".templates[" + std::to_string(i) + "]", t.name, t.templates[i]);
    if (t.identity) {
      identity(path + ".identity", t.name, *t.identity);
      if (!t.identity->audience.empty())
        add(path + ".identity.aud",
            "the default identity is for this agent's API (aud \"nomadproject.io\"); give another "
            "audience a named identity");
    }
    std::set<std::string> identity_names;
    for (std::size_t i = 0; i < t.identities.size(); ++i) {
      const std::string ip = path + ".identities[" + std::to_string(i) + "]";
      const auto& id = t.identities[i];
      identity(ip, t.name, id);
      if (id.name.empty() || id.name == "default")
        add(ip + ".name", "is required: only one identity block, the default, goes without a name");
      else if (!identity_names.insert(id.name).second)
        add(ip + ".name", "\"" + printable(id.name) + "\" names two identities of the task");
    }
    actions(path + ".actions", t.actions);
  }

  // Nomad's rules for an action: a name of 1 to 128 bytes with no whitespace or NUL, unique in
  // its task; a command. What runs is command and args as written, with no shell between.
  void actions(const std::string& path, const std::vector<Action>& list) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string p = path + "[" + std::to_string(i) + "]";
      const Action& a = list[i];
      const bool blank = std::any_of(a.name.begin(), a.name.end(), [](unsigned char c) {
        return c == '\0' || std::isspace(c);
      });
      if (a.name.empty() || a.name.size() > 128 || blank)
        add(p + ".name", "must be 1 to 128 characters with no whitespace (got \"" +
                             printable(a.name) + "\")");
      else if (!seen.insert(a.name).second)
        add(p + ".name", "another action of this task is named \"" + printable(a.name) + "\"");
      if (a.command.empty())
        add(p + ".command", "required");
      else if (a.command.find('\0') != std::string::npos)
        add(p + ".command", "must not contain a NUL byte");
      for (std::size_t j = 0; j < a.args.size(); ++j)
        if (a.args[j].find('\0') != std::string::npos)
          add(p + ".args[" + std::to_string(j) + "]", "must not contain a NUL byte");
    }
  }

  // An artifact is refused at submit for what the fetcher would refuse later: an unknown or
  // refused scheme, a bad checksum, a destination outside the task dir and the alloc's shared
  // dir (docs/artifacts.md). Text with ${...} is interpolated at run time and checked then.
  void artifact(const std::string& path, const std::string& task, const Artifact& a) {
    // The artifact module's messages start with the field they concern ("options.ref: ...").
    auto add_field = [&](const std::string& message) {
      auto colon = message.find(": ");
      if (colon == std::string::npos) return add(path, message);
      add(path + "." + message.substr(0, colon), message.substr(colon + 2));
    };
    bool interpolated = a.source.find("${") != std::string::npos;
    for (const auto& [k, v] : a.options)
      interpolated = interpolated || v.find("${") != std::string::npos;
    if (a.source.empty()) {
      add(path + ".source", "is required");
    } else if (!interpolated) {
      if (auto s = artifact::parse_source(a.source, a.options); !s) add_field(s.message());
    }
    if (auto st = artifact::check_mode(a.mode); !st) add_field(st.message());
    const std::string dest_text = task_dir_variables_as_relative(a.destination);
    if (a.destination.find('\0') != std::string::npos) {
      add(path + ".destination", "must not hold a NUL byte");
    } else if (!dest_text.empty() && dest_text.front() == '/') {
      add(path + ".destination", "\"" + a.destination +
                                     "\" is absolute; it is relative to the task dir (such as "
                                     "\"local/app\" or \"${NOMAD_ALLOC_DIR}/app\")");
    } else if (dest_text.find("${") == std::string::npos) {
      auto dest = beneath_task_or_shared(task, dest_text.empty() ? "local" : dest_text);
      if (!dest)
        add(path + ".destination", dest.message());
      else if (a.mode == "file" && (*dest == task || *dest == "alloc"))
        add(path + ".destination", "with mode \"file\" it names the file to write");
    }
    for (const auto& [k, v] : a.headers)
      if (auto st = artifact::check_header(k, v); !st) add(path + ".headers." + k, st.message());
  }

  // A path a template reads or writes, from the task dir (local/x, ${NOMAD_ALLOC_DIR}/x): it
  // must name a file beneath the task dir or the alloc's shared dir, as the hook resolves it
  // (common/relative_path.hpp). Other `${...}` is interpolated at run time, and checked then.
  void task_file_path(const std::string& path, const std::string& task, const std::string& file) {
    if (file.size() > 1024) return add(path, "must be at most 1024 bytes");
    if (printable(file) != file) return add(path, "must not contain control characters");
    const std::string rel = task_dir_variables_as_relative(file);
    if (rel.find("${") != std::string::npos) return;
    if (rel.front() == '/')
      return add(
          path, "must be relative to the task dir (e.g. \"local/app.conf\"), got \"" + file + "\"");
    auto beneath = beneath_task_or_shared(task, rel);
    if (!beneath) return add(path, beneath.message());
    if (*beneath == task || *beneath == "alloc")
      return add(path, "\"" + file + "\" names a dir; it must name a file (e.g. \"local/app.conf\")");
  }

  // An `identity` block (docs/variables.md, "Workload identities"). A name goes into an env
  // var's name and a file name: letters, digits, '_' and '-'.
  void identity(const std::string& path, const std::string& task, const Identity& id) {
    if (id.name.size() > 128 || id.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
      add(path + ".name", "must be at most 128 letters, digits, '_' or '-' (got \"" +
                              printable(id.name) + "\")");
    for (std::size_t i = 0; i < id.audience.size(); ++i)
      if (id.audience[i].empty() || printable(id.audience[i]) != id.audience[i])
        add(path + ".aud[" + std::to_string(i) + "]", "must be a non-empty printable string");
    if (!id.filepath.empty()) {
      if (!id.file)
        add(path + ".filepath", "needs file = true (it says where the file goes)");
      else
        task_file_path(path + ".filepath", task, id.filepath);
    }
    if (id.ttl.count() < 0)
      add(path + ".ttl", "must not be negative");
    else if (id.ttl.count() > 0 && id.ttl < std::chrono::seconds(1))
      add(path + ".ttl", "must be at least 1s (the token is renewed before it expires)");
    if (id.change_mode != "noop" && id.change_mode != "restart" && id.change_mode != "signal")
      add(path + ".change_mode",
          "must be \"noop\", \"restart\" or \"signal\" (got \"" + printable(id.change_mode) + "\")");
    if (id.change_mode == "signal" && id.change_signal.empty())
      add(path + ".change_signal", "is required with change_mode \"signal\"");
    if (!id.change_signal.empty() && !sdk::signal_number(id.change_signal))
      add(path + ".change_signal",
          "must be a signal name like \"SIGHUP\" (got \"" + printable(id.change_signal) + "\")");
    for (const auto& [name, value] : id.extra_claims) {
      if (name.empty() || reserved_claim(name))
        add(path + ".extra_claims." + printable(name),
            "is a claim drover sets (aud, exp, iat, iss, jti, nbf, sub, nomad_*): not one a job may set");
      else if (auto v = interpolate_claim(value, {}); !v)
        add(path + ".extra_claims." + printable(name), v.message());
    }
  }

  // A `template` block (docs/templates.md): where it renders, how it reacts to changes, and
  // the template itself, parsed now so that a bad one is refused at submit with its line.
  void template_block(const std::string& path, const std::string& task, const Template& t) {
    if (t.data.empty() && t.source.empty()) add(path, "needs data or source");
    if (!t.data.empty() && !t.source.empty())
      add(path + ".source", "cannot be set together with data (one template per block)");
    if (!t.source.empty()) task_file_path(path + ".source", task, t.source);
    if (t.destination.empty())
      add(path + ".destination",
          "is required (a file beneath the task dir, e.g. \"local/app.conf\")");
    else
      task_file_path(path + ".destination", task, t.destination);
    static const std::vector<std::string> kModes = {"noop", "restart", "signal", "script"};
    if (std::find(kModes.begin(), kModes.end(), t.change_mode) == kModes.end())
      add(path + ".change_mode", "must be \"noop\", \"restart\", \"signal\" or \"script\" (got \"" +
                                     printable(t.change_mode) + "\")");
    if (t.change_mode == "signal" && t.change_signal.empty())
      add(path + ".change_signal", "is required with change_mode \"signal\"");
    if (!t.change_signal.empty() && !sdk::signal_number(t.change_signal))
      add(path + ".change_signal",
          "must be a signal name like \"SIGHUP\" (got \"" + printable(t.change_signal) + "\")");
    if (t.change_mode == "script" && (!t.change_script || t.change_script->command.empty()))
      add(path + ".change_script.command", "is required with change_mode \"script\"");
    if (t.change_script && t.change_script->timeout.count() < 0)
      add(path + ".change_script.timeout", "must not be negative");
    bool perms_ok = !t.perms.empty() && t.perms.size() <= 4;
    for (char c : t.perms) perms_ok = perms_ok && c >= '0' && c <= '7';
    if (!perms_ok)
      add(path + ".perms",
          "must be an octal mode like \"0644\" (got \"" + printable(t.perms) + "\")");
    if (t.uid && *t.uid < 0) add(path + ".uid", "must not be negative");
    if (t.gid && *t.gid < 0) add(path + ".gid", "must not be negative");
    if (t.splay.count() < 0) add(path + ".splay", "must not be negative");
    if (t.wait && (t.wait->min.count() < 0 || t.wait->max.count() < 0))
      add(path + ".wait", "must not be negative");
    else if (t.wait && t.wait->max.count() > 0 && t.wait->min > t.wait->max)
      add(path + ".wait.min", "must not be greater than wait.max");
    if (t.left_delimiter.empty()) add(path + ".left_delimiter", "must not be empty");
    if (t.right_delimiter.empty()) add(path + ".right_delimiter", "must not be empty");
    if (!t.data.empty() && !t.left_delimiter.empty() && !t.right_delimiter.empty()) {
      tmpl::Options o;
      o.left_delim = t.left_delimiter;
      o.right_delim = t.right_delimiter;
      o.error_on_missing_key = t.error_on_missing_key;
      auto parsed =
          tmpl::Template::parse(t.destination.empty() ? "data" : t.destination, t.data, o);
      if (!parsed) add(path + ".data", parsed.message());
    }
  }

  // A path under the task's local/ dir: relative, never leaving it (the write itself also
  // goes through fs::open_beneath).
  void dispatch_payload(const std::string& path, const std::string& file) {
    if (file.empty()) return add(path, "is required (a file name under the task's local/ dir)");
    if (file.size() > 1024) return add(path, "must be at most 1024 bytes");
    if (file.front() == '/') return add(path, "must be relative to the task's local/ dir");
    if (printable(file) != file) return add(path, "must not contain control characters");
    std::size_t start = 0;
    for (;;) {
      auto slash = file.find('/', start);
      auto part = file.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (part == ".." || part.empty() || part == ".")
        return add(path, "\"" + file + "\" must name a file under local/ (no empty, . or .. parts)");
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }

  // The ui block's links become links on the job's page: an absolute http or https URL only
  // (a javascript: or data: URL there would run in the UI's origin).
  void ui_links(const std::vector<UiLink>& links) {
    for (std::size_t i = 0; i < links.size(); ++i) {
      const std::string path = "ui.links[" + std::to_string(i) + "]";
      const std::string& url = links[i].url;
      const bool web = url.starts_with("https://") || url.starts_with("http://");
      const bool plain = std::none_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; });
      if (!web || !plain || url.size() > 2048)
        add(path + ".url", "must be an http or https URL without spaces, at most 2048 characters (got \"" +
                               printable(url) + "\")");
      if (printable(links[i].label) != links[i].label || links[i].label.size() > 256)
        add(path + ".label", "must be at most 256 characters, no control characters");
    }
  }

  // periodic and parameterized: Nomad's rules (batch and sysbatch jobs; a cron per launch
  // time). A sysbatch child runs on every node, as its parent would.
  void launches(const Job& j) {
    if (j.periodic) {
      const auto& p = *j.periodic;
      if (j.type != JobType::Batch && j.type != JobType::SysBatch)
        add("periodic", "only batch and sysbatch jobs can be periodic (the job's type is \"" +
                            std::string(to_string(j.type)) + "\")");
      if (p.enabled && p.crons.empty()) add("periodic.cron", "is required (or crons)");
      for (std::size_t i = 0; i < p.crons.size(); ++i) {
        auto cron = CronExpr::parse(p.crons[i]);
        if (!cron)
          add(p.crons.size() == 1 ? "periodic.cron" : "periodic.crons[" + std::to_string(i) + "]",
              "\"" + printable(p.crons[i]) + "\": " + cron.message());
      }
      if (auto zone = TimeZone::load(p.time_zone); !zone) add("periodic.time_zone", zone.message());
    }
    if (j.parameterized) {
      const auto& p = *j.parameterized;
      if (j.type != JobType::Batch && j.type != JobType::SysBatch)
        add("parameterized", "only batch and sysbatch jobs can be parameterized (the job's type is \"" +
                                 std::string(to_string(j.type)) + "\")");
      if (p.payload != "optional" && p.payload != "required" && p.payload != "forbidden")
        add("parameterized.payload", "must be \"optional\", \"required\" or \"forbidden\" (got \"" +
                                         printable(p.payload) + "\")");
      std::map<std::string, std::string> seen;
      auto keys = [&](const char* field, const std::vector<std::string>& list) {
        for (std::size_t i = 0; i < list.size(); ++i) {
          const std::string path = std::string("parameterized.") + field + "[" + std::to_string(i) + "]";
          if (list[i].empty() || list[i].find('=') != std::string::npos || printable(list[i]) != list[i])
            add(path, "must be a meta key (not empty, no '=' or control characters)");
          else if (auto [it, fresh] = seen.emplace(list[i], field); !fresh)
            add(path, "\"" + list[i] + "\" is also in " + it->second);
        }
      };
      keys("meta_required", p.meta_required);
      keys("meta_optional", p.meta_optional);
    }
  }

  // --- Networks and ports ---
  // A group network's dns block: what goes into its tasks' resolv.conf, one word per entry.
  void dns(const std::string& path, const DnsConfig& d, bool group_level) {
    if (!group_level) return add(path, "is set on the group's network block, not a task's");
    for (std::size_t i = 0; i < d.servers.size(); ++i) {
      in6_addr a6{};
      in_addr a4{};
      const std::string& v = d.servers[i];
      if (inet_pton(AF_INET, v.c_str(), &a4) != 1 && inet_pton(AF_INET6, v.c_str(), &a6) != 1)
        add(path + ".servers[" + std::to_string(i) + "]",
            "must be an IPv4 or IPv6 address (got \"" + printable(v) + "\")");
    }
    for (const auto& [name, list] : {std::pair{"searches", &d.searches}, std::pair{"options", &d.options}})
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string& v = (*list)[i];
        if (v.empty() || v.size() > 253 || printable(v) != v ||
            v.find_first_of(" \t#;") != std::string::npos)
          add(path + "." + name + "[" + std::to_string(i) + "]",
              "must be one word of at most 253 characters, without spaces, '#' or ';' (got \"" +
                  printable(v) + "\")");
      }
  }

  // A group network's hostname: a DNS name a UTS namespace can hold (63 bytes), checked again
  // after interpolation at start when it holds ${...} (Nomad's rule).
  void hostname(const std::string& path, const std::string& h, bool group_level) {
    if (!group_level) return add(path, "is set on the group's network block, not a task's");
    if (h.find("${") != std::string::npos) return;
    if (!sdk::is_host_name(h))
      add(path, "must be a host name: letters, digits, '-' and '.', at most 63 characters, no "
                "label empty or starting or ending with '-' (got \"" + printable(h) + "\")");
  }

  // One network block: its mode, its ports' labels, numbers and host networks. `labels` gathers
  // the labels of the whole group (a label names one port of the alloc).
  void network(const std::string& path, const Network& n, const TaskGroup& g,
               std::map<std::string, std::string>& labels, bool group_level) {
    // bridge and none give the whole alloc one namespace (docs/networking.md, "Bridge mode"):
    // a group's choice, as in Nomad.
    const bool cni = is_cni_mode(n.mode);
    const bool isolated = isolated_network_mode(n.mode);
    if (isolated && !group_level)
      add(path + ".mode", "\"" + printable(n.mode) +
                              "\" networking is set on the group's network block, not a task's");
    else if (cni && !is_cni_network_name(n.mode.substr(4)))
      add(path + ".mode", "\"" + printable(n.mode) +
                              "\" must name a CNI network after \"cni/\": a letter or digit, then "
                              "letters, digits, '_', '.' or '-'");
    else if (n.mode != "host" && !isolated)
      add(path + ".mode", "must be \"host\", \"bridge\", \"none\" or \"cni/<network>\" (got \"" +
                              printable(n.mode) + "\")");
    // CNI_ARGS is "k=v;k=v": a key or value that holds a separator would be read apart.
    for (const auto& [k, v] : n.cni_args) {
      const std::string ap = path + ".cni.args." + printable(k);
      if (k.empty() || k.find_first_of("=;") != std::string::npos || printable(k) != k)
        add(ap, "a CNI arg's name must be printable, not empty, without '=' or ';'");
      else if (v.find(';') != std::string::npos || printable(v) != v)
        add(ap, "a CNI arg's value must be printable, without ';'");
    }
    if (!n.cni_args.empty() && n.mode != "bridge" && !cni)
      add(path + ".cni.args", "reach the CNI plugins of network mode \"bridge\" or \"cni/<network>\" "
                              "(the mode is \"" + printable(n.mode) + "\")");
    if (n.mbits < 0) add(path + ".mbits", "must not be negative");
    if (n.dns) dns(path + ".dns", *n.dns, group_level);
    if (!n.hostname.empty()) hostname(path + ".hostname", n.hostname, group_level);
    bool docker_only =
        !g.tasks.empty() && std::all_of(g.tasks.begin(), g.tasks.end(),
                                        [](const Task& t) { return t.driver == "docker"; });
    for (const auto* list : {&n.reserved_ports, &n.dynamic_ports}) {
      for (const auto& p : *list) {
        const std::string pp = path + ".ports." + printable(p.label);
        if (!port_label_ok(p.label)) {
          add(pp,
              "a port label must be 1-64 letters, digits, '_', '.' or '-', starting with a "
              "letter, digit or '_' (got \"" +
                  printable(p.label) + "\")");
          continue;
        }
        if (auto [it, fresh] = labels.emplace(p.label, pp); !fresh)
          add(pp, "duplicate port label \"" + p.label + "\" (also " + it->second + ")");
        if (list == &n.reserved_ports) range(pp + ".static", p.value, 1, 65535);
        range(pp + ".to", p.to, -1, 65535);
        // In host mode nothing maps a port but docker's publishing: `to` on another driver's
        // task would tell the task a port that nobody forwards to.
        if (p.to > 0 && p.to != p.value && !docker_only && n.mode != "bridge" && !cni)
          add(pp + ".to",
              "maps a port only in network mode \"bridge\" or \"cni/<network>\" or for docker "
              "tasks (the group has a task of another driver and mode \"" + printable(n.mode) + "\")");
        if (n.mode == "none")
          add(pp, "network mode \"none\" has no ports (the alloc has loopback only)");
        if (!p.host_network.empty() && !port_label_ok(p.host_network))
          add(pp + ".host_network",
              "must be a plain name (got \"" + printable(p.host_network) + "\")");
      }
    }
  }

  // A service's or check's port: a label of the group's ports, a number or "host:port".
  void service_port(const std::string& path, const std::string& value) {
    if (labels_ && labels_->count(value)) return;
    bool literal = value.find(':') != std::string::npos ||
                   value.find_first_not_of("0123456789") == std::string::npos;
    if (!literal) {
      std::string known;
      if (labels_)
        for (const auto& [l, _] : *labels_) known += (known.empty() ? "" : ", ") + l;
      add(path,
          "\"" + printable(value) + "\" is not a port label of the group's network" +
              (known.empty() ? std::string(" (it has no ports)") : " (labels: " + known + ")"));
      return;
    }
    if (auto why = port_problem(value)) add(path, *why);
  }
  // --- end networks ---

  void service(const std::string& path, const Service& s) {
    if (s.name.empty())
      add(path + ".name", "is required");
    else if (printable(s.name) != s.name || s.name.size() > 128)
      add(path + ".name", "must be printable and at most 128 characters");
    if (!s.port.empty()) service_port(path + ".port", s.port);
    if (s.address_mode != "auto" && s.address_mode != "host" && s.address_mode != "driver" &&
        s.address_mode != "alloc")
      add(path + ".address_mode", "must be \"auto\", \"host\", \"driver\" or \"alloc\" (got \"" +
                                      printable(s.address_mode) + "\")");
    else if (s.address_mode == "alloc" && group_mode_ != "bridge" && !is_cni_mode(group_mode_))
      add(path + ".address_mode",
          "\"alloc\" registers the alloc's own address, which only network mode \"bridge\" or "
          "\"cni/<network>\" gives (the group's mode is \"" +
              printable(group_mode_.empty() ? "host" : group_mode_) + "\")");
    for (std::size_t i = 0; i < s.checks.size(); ++i) {
      const auto& c = s.checks[i];
      const std::string p = path + ".checks[" + std::to_string(i) + "]";
      if (printable(c.name) != c.name) add(p + ".name", "must be printable");
      if (c.type != "http" && c.type != "tcp" && c.type != "script") {
        add(p + ".type", "must be \"http\", \"tcp\" or \"script\" (got \"" + printable(c.type) + "\")");
        continue;
      }
      if (c.type == "http") {
        if (c.path.empty() || c.path[0] != '/')
          add(p + ".path", "must start with '/' (got \"" + printable(c.path) + "\")");
        else if (printable(c.path) != c.path || c.path.find(' ') != std::string::npos)
          add(p + ".path", "must not contain spaces or control characters");
        if (c.protocol != "http" && c.protocol != "https")
          add(p + ".protocol", "must be \"http\" or \"https\"");
        static const std::regex kMethod("[A-Z]{1,16}");
        if (!std::regex_match(c.method, kMethod)) add(p + ".method", "must be an HTTP method like GET");
        for (const auto& [k, v] : c.header)
          for (const auto& x : v)
            if (printable(k) != k || printable(x) != x || k.empty())
              add(p + ".header", "names and values must be printable");
      }
      if (c.type == "script" && c.command.empty()) add(p + ".command", "is required for a script check");
      if (c.type != "script") {
        if (c.port.empty() && s.port.empty())
          add(p + ".port", "is required (on the check or its service) for a " + c.type + " check");
        else if (!c.port.empty())
          service_port(p + ".port", c.port);
      }
      if (c.interval < kMinCheckInterval)
        add(p + ".interval", "must be at least " + format_duration(kMinCheckInterval));
      if (c.timeout < kMinCheckInterval)
        add(p + ".timeout", "must be at least " + format_duration(kMinCheckInterval));
      if (c.on_update != "require_healthy" && c.on_update != "ignore_warnings" && c.on_update != "ignore")
        add(p + ".on_update", "must be \"require_healthy\", \"ignore_warnings\" or \"ignore\" (got \"" +
                                  printable(c.on_update) + "\")");
      if (!c.initial_status.empty() && c.initial_status != "passing" && c.initial_status != "warning" &&
          c.initial_status != "critical")
        add(p + ".initial_status", "must be \"passing\", \"warning\" or \"critical\" (got \"" +
                                       printable(c.initial_status) + "\")");
      if (c.check_restart) {
        if (c.check_restart->limit < 0) add(p + ".check_restart.limit", "must not be negative");
        if (c.check_restart->grace.count() < 0) add(p + ".check_restart.grace", "must not be negative");
      }
    }
  }

  // Nomad's host volume access and attachment modes ("" leaves either open): the problem, and
  // whether it is the access mode's (else the attachment mode's).
  static std::optional<std::pair<bool, std::string>> host_volume_mode_problem(
      const std::string& access, const std::string& attachment) {
    if (!access.empty() && !host_volume_access_mode(access))
      return std::pair(true, "must be single-node-reader-only, single-node-writer, "
                             "single-node-single-writer or single-node-multi-writer (got \"" +
                                 printable(access) + "\")");
    if (!attachment.empty() && attachment != "file-system" && attachment != "block-device")
      return std::pair(false, "must be file-system or block-device (got \"" +
                                  printable(attachment) + "\")");
    return std::nullopt;
  }

  // Group volumes and the tasks' volume_mounts (docs/jobspec.md, "volumes"). Whether the
  // node has the host volume is admission's question (runner/admission.cpp).
  void volumes(const std::string& path, const TaskGroup& g) {
    std::set<std::string> names;
    for (const auto& v : g.volumes) {
      const std::string p = path + ".volumes." + v.name;
      plain_name(p + ".name", v.name);
      names.insert(v.name);
      if (v.type == "csi") {
        add(p + ".type",
            "csi volumes need a CSI plugin and Nomad's servers: not supported by drover (use a "
            "host volume: type = \"host\" and an agent host_volume)");
        continue;
      }
      if (v.type != "host")
        add(p + ".type", "must be \"host\" (got \"" + printable(v.type) + "\")");
      if (v.source.empty())
        add(p + ".source", "is required: the name of a host_volume in the agent's config");
      else
        plain_name(p + ".source", v.source);
      if (auto why = host_volume_mode_problem(v.access_mode, v.attachment_mode))
        add(p + (why->first ? ".access_mode" : ".attachment_mode"), why->second);
    }
    if (g.ephemeral_disk.size_mb < 0) add(path + ".ephemeral_disk.size", "must not be negative");
    // Nomad's rule: a task's rotated logs must fit in the alloc's disk with room to spare.
    for (std::size_t i = 0; i < g.tasks.size(); ++i) {
      const auto& l = g.tasks[i].logs;
      const long long logs_mb = static_cast<long long>(l.max_files) * l.max_file_size_mb;
      if (!l.disabled && g.ephemeral_disk.size_mb > 0 && logs_mb >= g.ephemeral_disk.size_mb)
        add(path + ".tasks[" + std::to_string(i) + "].logs",
            "log storage (" + std::to_string(logs_mb) + " MB: max_files x max_file_size) must be "
            "less than the group's ephemeral_disk size (" +
                std::to_string(g.ephemeral_disk.size_mb) + " MB)");
    }
    for (std::size_t i = 0; i < g.tasks.size(); ++i) {
      std::set<std::string> destinations;
      for (std::size_t m = 0; m < g.tasks[i].volume_mounts.size(); ++m) {
        const auto& vm = g.tasks[i].volume_mounts[m];
        const std::string p =
            path + ".tasks[" + std::to_string(i) + "].volume_mounts[" + std::to_string(m) + "]";
        if (vm.volume.empty())
          add(p + ".volume", "is required: the name of a volume of the group");
        else if (!names.count(vm.volume))
          add(p + ".volume", "the group has no volume \"" + printable(vm.volume) + "\"" +
                                 (names.empty() ? std::string(" (it declares none)") : ""));
        const std::string& d = vm.destination;
        // ${NOMAD_TASK_DIR}/x and the like are interpolated at start and checked then.
        if (d.find("${") != std::string::npos) {
          if (printable(d) != d) add(p + ".destination", "must not contain control characters");
        } else if (auto why = mount_destination_problem(d))
          add(p + ".destination", *why);
        else if (!destinations.insert(d).second)
          add(p + ".destination", "another volume_mount of the task already mounts at \"" + d + "\"");
        if (vm.propagation_mode != "private")
          add(p + ".propagation_mode",
              "must be \"private\" (host-to-task and bidirectional are not supported yet)");
      }
    }
  }

  void group(const std::string& path, const TaskGroup& g) {
    plain_name(path + ".name", g.name);
    // A group with scaling bounds may be scaled to 0 (Nomad allows it whenever min is 0).
    range(path + ".count", g.count, g.scaling ? 0 : 1, kMaxCount);
    if (g.scaling) scaling(path, *g.scaling, g.count);
    // Nomad: a system or sysbatch job runs one alloc of each group per node.
    if (system_ && g.count > 1)
      add(path + ".count",
          "must be 1 (or left out) in a " + std::string(system_batch_ ? "sysbatch" : "system") +
              " job: it runs one alloc on each node (got " + std::to_string(g.count) + ")");
    if (g.shutdown_delay.count() < 0) add(path + ".shutdown_delay", "must not be negative");
    if (g.max_run_duration.count() < 0)
      add(path + ".max_run_duration", "must be greater than zero");
    else if (g.max_run_duration.count() > 0 && !runs_to_completion(type_))
      add(path + ".max_run_duration",
          "job type \"" + std::string(to_string(type_)) +
              "\" does not allow max_run_duration (batch and sysbatch jobs do)");
    placement(path + ".", g.placement, system_);
    restart(path + ".restart", g.restart);
    if (g.update) update(path + ".update", *g.update);
    if (g.migrate) migrate(path + ".migrate", *g.migrate);
    if (g.disconnect) disconnect(path + ".disconnect", *g.disconnect);
    if (g.reschedule && g.reschedule != job_reschedule_)
      reschedule(path + ".reschedule", *g.reschedule);
    keys(path + ".meta", g.meta, /*check_values=*/true);
    if (g.tasks.empty()) add(path + ".tasks", "at least one task is required");
    std::map<std::string, std::string> labels;
    if (g.networks.size() > 1) add(path + ".network", "a group has at most one network block");
    for (const auto& n : g.networks) network(path + ".network", n, g, labels, true);
    for (std::size_t i = 0; i < g.tasks.size(); ++i) {
      const auto& rn = g.tasks[i].resources.networks;
      const std::string p = path + ".tasks[" + std::to_string(i) + "].resources.network";
      if (rn.size() > 1) add(p, "a task has at most one network block");
      for (const auto& n : rn) network(p, n, g, labels, false);
    }
    if (labels.size() > kMaxPortsPerGroup)
      add(path + ".network", "at most " + std::to_string(kMaxPortsPerGroup) +
                                 " ports per group (got " + std::to_string(labels.size()) + ")");
    volumes(path, g);
    labels_ = &labels;
    group_mode_ = g.networks.empty() ? "host" : g.networks.front().mode;
    // Group services: their checks go with the group's main task (jobspec/job.hpp).
    for (std::size_t i = 0; i < g.services.size(); ++i) {
      const std::string sp = path + ".services[" + std::to_string(i) + "]";
      service(sp, g.services[i]);
      // A script check there runs in the task it names (Nomad's `task`, required there).
      for (std::size_t c = 0; c < g.services[i].checks.size(); ++c) {
        const Check& check = g.services[i].checks[c];
        const std::string cp = sp + ".checks[" + std::to_string(c) + "]";
        if (check.type == "script" && check.task.empty())
          add(cp + ".task", "is required for a script check of a group service: the task it runs in");
        else if (!check.task.empty() && check.type != "script")
          add(cp + ".task", "is only for script checks (a " + printable(check.type) +
                                " check probes the service's address)");
        else if (!check.task.empty() &&
                 std::none_of(g.tasks.begin(), g.tasks.end(), [&](const Task& t) { return t.name == check.task; }))
          add(cp + ".task", "\"" + printable(check.task) + "\" is not a task of group \"" +
                                printable(g.name) + "\"");
      }
    }
    // A task's own services run their checks in that task: `task` can only name it (the
    // readers drop it then), as in Nomad.
    for (std::size_t t = 0; t < g.tasks.size(); ++t)
      for (std::size_t i = 0; i < g.tasks[t].services.size(); ++i)
        for (std::size_t c = 0; c < g.tasks[t].services[i].checks.size(); ++c)
          if (!g.tasks[t].services[i].checks[c].task.empty())
            add(path + ".tasks[" + std::to_string(t) + "].services[" + std::to_string(i) + "].checks[" +
                    std::to_string(c) + "].task",
                "may only name the task the check belongs to (\"" + printable(g.tasks[t].name) +
                    "\"), got \"" + printable(g.tasks[t].services[i].checks[c].task) + "\"");
    // Lifecycle tasks run around main tasks; a group of them alone would start its sidecars
    // and end them at once (docs/jobspec.md, "lifecycle").
    if (!g.tasks.empty() && std::all_of(g.tasks.begin(), g.tasks.end(),
                                        [](const Task& t) { return !t.lifecycle.hook.empty(); }))
      add(path + ".tasks", "at least one main task (a task without a lifecycle block) is required");
    std::map<std::string, std::size_t> seen;
    std::optional<std::size_t> leader;
    for (std::size_t i = 0; i < g.tasks.size(); ++i) {
      const std::string p = path + ".tasks[" + std::to_string(i) + "]";
      task(p, g.tasks[i]);
      if (!g.tasks[i].name.empty()) {
        auto [it, inserted] = seen.emplace(g.tasks[i].name, i);
        if (!inserted)
          add(p + ".name", "duplicate task name \"" + printable(g.tasks[i].name) +
                               "\" (also tasks[" + std::to_string(it->second) + "])");
      }
      if (g.tasks[i].leader) {
        if (leader)
          add(p + ".leader", "only one task per group may be the leader (tasks[" +
                                 std::to_string(*leader) + "] already is)");
        else
          leader = i;
      }
    }
    labels_ = nullptr;
  }

  void job(const Job& j) {
    system_ = j.type == JobType::System || j.type == JobType::SysBatch;
    system_batch_ = j.type == JobType::SysBatch;
    type_ = j.type;
    plain_name("id", j.id);
    plain_name("region", j.region);
    if (j.namespace_name.empty())
      add("namespace", "is required");
    else if (auto why = namespace_name_problem(j.namespace_name))
      add("namespace", *why + " (got \"" + printable(j.namespace_name) + "\")");
    plain_name("node_pool", j.node_pool);
    placement("", j.placement, system_);
    // The name defaults to the id: with neither, "id: is required" says it all.
    if (!j.name.empty() || !j.id.empty()) plain_name("name", j.name);
    range("priority", j.priority, 1, 100);
    for (std::size_t i = 0; i < j.datacenters.size(); ++i)
      plain_name("datacenters[" + std::to_string(i) + "]", j.datacenters[i]);
    keys("meta", j.meta, /*check_values=*/true);
    if (j.update) update("update", *j.update);
    job_reschedule_ = j.reschedule;
    if (j.reschedule) reschedule("reschedule", *j.reschedule);
    launches(j);
    if (j.ui) ui_links(j.ui->links);
    if (j.groups.empty()) add("groups", "at least one group is required");
    std::map<std::string, std::size_t> seen;
    for (std::size_t i = 0; i < j.groups.size(); ++i) {
      const std::string p = "groups[" + std::to_string(i) + "]";
      group(p, j.groups[i]);
      if (!j.groups[i].name.empty()) {
        auto [it, inserted] = seen.emplace(j.groups[i].name, i);
        if (!inserted)
          add(p + ".name", "duplicate group name \"" + printable(j.groups[i].name) +
                               "\" (also groups[" + std::to_string(it->second) + "])");
      }
    }
  }

 private:
  const std::vector<std::string>& drivers_;
  const std::map<std::string, std::string>* labels_ = nullptr;  // the group's port labels
  std::string group_mode_;  // the group's network mode, while its services are checked
  bool system_ = false;        // a system or sysbatch job
  bool system_batch_ = false;  // sysbatch
  JobType type_ = JobType::Service;
  std::optional<ReschedulePolicy> job_reschedule_;  // checked once, not again in each group
};

}  // namespace

std::vector<Problem> validate(const Job& job, const std::vector<std::string>& known_drivers) {
  Validator v(known_drivers);
  v.job(job);
  return std::move(v.problems);
}

std::optional<std::string> mount_destination_problem(const std::string& d) {
  if (d.empty() || d[0] != '/')
    return "must be an absolute path inside the task (got \"" + printable(d) + "\")";
  if (printable(d) != d || d.find("/../") != std::string::npos || d.ends_with("/..") || d == "/")
    return std::string("must be a plain absolute path below / without \"..\"");
  return std::nullopt;
}

}  // namespace drover::jobspec
