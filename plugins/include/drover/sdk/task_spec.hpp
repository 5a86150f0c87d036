// The task a driver's `start` receives (plugin.h, `start`; docs/plugins.md, "The task"): one
// typed struct that the agent writes once (to_json) and every driver reads through the same
// strict reader (task_spec_from_json), so that no two drivers disagree about what a field
// means, which values are allowed, or what a missing key defaults to.
//
// Header-only, like the rest of the SDK: an out-of-tree driver reads the task exactly as the
// in-tree ones do. A key the reader does not know is ignored (a newer agent may send more);
// a known key of the wrong type, or a value out of range, is refused naming the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace drover::sdk {

// The limits the agent's cgroup enforces; a driver whose runtime makes its own cgroup (docker)
// repeats them there. 0: unlimited / not asked for.
struct TaskResources {
  int64_t cpu_mhz = 0;
  int64_t memory_mb = 0;
  int64_t memory_max_mb = 0;  // 0: no separate hard limit above memory_mb; -1: no hard limit
  int64_t cores = 0;
  int64_t pids = 0;
  // The node's MHz per core (its cpu.frequency): how much of a core's time cpu_mhz is, for a
  // driver that caps CPU time (docker's cpu_hard_limit). 0: not known.
  int64_t cpu_mhz_per_core = 0;
};

// How the task's stdout and stderr files rotate (Nomad's `logs` block).
struct TaskLogConfig {
  int64_t max_files = 10;        // at least 1
  int64_t max_file_size_mb = 10;  // at least 1
  bool disabled = false;
};

// The cgroup the agent made for the task (with its limits) before start.
struct TaskCgroup {
  int version = 1;                       // 1 or 2
  std::vector<std::string> procs_files;  // write the task's pid into each (v1: one per controller)
  std::string relative_path;             // below each hierarchy's mount point
  std::string parent;                    // "/" + relative_path: where a runtime nests its own
};

// A device node the task may use (from a device plugin's reservation).
struct TaskDevice {
  std::string host_path;
  std::string container_path;
  std::string permissions = "rwm";
};

// A host path to show inside an isolated task (from a device plugin's reservation).
struct TaskMount {
  std::string host_path;
  std::string container_path;
  bool read_only = true;
};

// A group network's dns block (Nomad's DNSConfig): {"Servers", "Searches", "Options"}.
struct TaskDns {
  std::vector<std::string> servers, searches, options;
};

// A port the agent allocated to the task's alloc (docs/networking.md): Nomad's
// AllocatedPortMapping. A driver that maps ports (docker) publishes host_ip:value to `to`.
struct TaskPort {
  std::string label;
  int64_t value = 0;  // the host port
  int64_t to = 0;     // the port inside the task; 0: the host port
  std::string host_ip;
};

struct TaskSpec {
  std::string alloc_id;
  std::string job_id;
  std::string group_name;
  std::string task_name;
  std::string user;  // "": the driver's DefaultUser (plugin.h, fingerprint Capabilities)
  nlohmann::json config = nlohmann::json::object();  // the job's driver Config, interpolated
  std::map<std::string, std::string> env;             // names without '=' or NUL
  std::string alloc_dir;    // the alloc's root: <alloc_dir>/alloc is shared by its tasks
  std::string task_dir;     // <task_dir>/local and <task_dir>/secrets are the task's own
  std::string stdout_path;  // first log file ("<logs>/<task>.stdout.0") or /dev/null
  std::string stderr_path;
  TaskResources resources;
  std::string cpuset;  // cores the task may use ("0-1,4"); "": any
  std::string kill_signal = "SIGTERM";
  std::chrono::milliseconds kill_timeout{5000};
  std::string monitor_path;  // the drover-monitor binary, for drivers that supervise with it
  // The driver's own dirs for this task (docs/plugins.md, "A task's dirs"): state_dir is on the
  // data dir and survives a reboot, made by whoever first writes there; runtime_dir is made
  // (0700) before the start, meant for tmpfs: cheap to write, survives agent restarts, not a
  // reboot. Monitor sockets, pid files, exit records and bundles go in runtime_dir.
  std::string state_dir;
  std::string runtime_dir;
  TaskLogConfig log_config;
  std::optional<TaskCgroup> cgroup;  // none: the agent made no cgroup (tests, no controllers)
  std::vector<TaskDevice> devices;
  std::vector<TaskMount> mounts;
  std::vector<std::string> device_ids;
  std::vector<TaskPort> ports;  // "Ports": the group's and this task's own
  // "NetworkNamespace": the alloc's network namespace (a path to join) in network mode bridge
  // or none; "": the host's network. Only drivers whose NetIsolation capability is "group" get
  // one (plugin.h).
  std::string network_namespace;
  // "NetworkLabels": what the driver that made the alloc's namespace said of it (plugin.h,
  // drover_driver_create_network_v1), e.g. docker's pause container id; empty otherwise.
  std::map<std::string, std::string> network_labels;
  // "DNS": the group network's dns block (docs/plugins.md): the resolv.conf a driver with a
  // filesystem of its own gives the task instead of the host's; none: the driver's default.
  std::optional<TaskDns> dns;
  // "Hostname": the alloc's hostname (its group network's `hostname`, interpolated) in network
  // mode bridge or none, for a driver that gives its task a hostname of its own; "": the
  // driver's default. "AllocAddress": the alloc's address there ("" in mode none), for the
  // task's /etc/hosts (drover/sdk/hostname.hpp).
  std::string hostname;
  std::string alloc_address;
};

namespace detail {

class TaskSpecReader {
 public:
  explicit TaskSpecReader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail("", "must be a JSON object");
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    std::string where = path_ + key;  // "LogConfig.MaxFiles", or "LogConfig." for the object
    if (!where.empty() && where.back() == '.') where.pop_back();
    throw std::invalid_argument("task" + (where.empty() ? "" : " " + where) + ": " + what);
  }
  const nlohmann::json* find(const char* key) const {
    auto it = j_.find(key);
    return (it == j_.end() || it->is_null()) ? nullptr : &*it;
  }
  void str(const char* key, std::string& out, bool allow_nul = false) const {
    if (auto* v = find(key)) {
      if (!v->is_string()) fail(key, "must be a string");
      out = v->get<std::string>();
      if (!allow_nul && out.find('\0') != std::string::npos) fail(key, "must not contain NUL");
    }
  }
  void int64(const char* key, int64_t& out, int64_t min) const {
    if (auto* v = find(key)) {
      if (!v->is_number_integer()) fail(key, "must be an integer");
      out = v->get<int64_t>();
      if (out < min) fail(key, "must be at least " + std::to_string(min));
    }
  }
  void boolean(const char* key, bool& out) const {
    if (auto* v = find(key)) {
      if (!v->is_boolean()) fail(key, "must be true or false");
      out = v->get<bool>();
    }
  }
  void strings(const char* key, std::vector<std::string>& out) const {
    if (auto* v = find(key)) {
      if (!v->is_array()) fail(key, "must be a list of strings");
      for (const auto& s : *v) {
        if (!s.is_string()) fail(key, "must be a list of strings");
        out.push_back(s.get<std::string>());
      }
    }
  }
  template <typename F>
  void objects(const char* key, F&& each) const {
    if (auto* v = find(key)) {
      if (!v->is_array()) fail(key, "must be a list of objects");
      for (std::size_t i = 0; i < v->size(); ++i)
        each(TaskSpecReader((*v)[i], path_ + key + "[" + std::to_string(i) + "]."));
    }
  }
  template <typename F>
  bool object(const char* key, F&& read) const {
    auto* v = find(key);
    if (!v) return false;
    read(TaskSpecReader(*v, path_ + key + "."));
    return true;
  }
  const nlohmann::json& json() const { return j_; }

 private:
  const nlohmann::json& j_;
  std::string path_;
};

}  // namespace detail

// Throws std::invalid_argument ("task LogConfig.MaxFiles: must be at least 1"); the SDK's
// glue turns that into the start call's error, so a bad task fails before anything runs.
inline TaskSpec task_spec_from_json(const nlohmann::json& j) {
  detail::TaskSpecReader r(j, "");
  TaskSpec t;
  r.str("AllocID", t.alloc_id);
  r.str("JobID", t.job_id);
  r.str("GroupName", t.group_name);
  r.str("TaskName", t.task_name);
  r.str("User", t.user);
  if (auto* c = r.find("Config")) {
    if (!c->is_object()) r.fail("Config", "must be an object");
    t.config = *c;
  }
  if (auto* env = r.find("Env")) {
    if (!env->is_object()) r.fail("Env", "must be an object of strings");
    for (const auto& [k, v] : env->items()) {
      if (k.empty() || k.find_first_of(std::string("=\0", 2)) != std::string::npos)
        r.fail("Env", "bad variable name \"" + k + "\"");
      if (!v.is_string()) r.fail("Env." + k, "must be a string");
      if (v.get_ref<const std::string&>().find('\0') != std::string::npos)
        r.fail("Env." + k, "must not contain NUL");
      t.env[k] = v.get<std::string>();
    }
  }
  r.str("AllocDir", t.alloc_dir);
  r.str("TaskDir", t.task_dir);
  r.str("StdoutPath", t.stdout_path);
  r.str("StderrPath", t.stderr_path);
  r.object("Resources", [&](const detail::TaskSpecReader& x) {
    x.int64("CPU", t.resources.cpu_mhz, 0);
    x.int64("MemoryMB", t.resources.memory_mb, 0);
    x.int64("MemoryMaxMB", t.resources.memory_max_mb, -1);
    x.int64("Cores", t.resources.cores, 0);
    x.int64("Pids", t.resources.pids, 0);
    x.int64("CPUMHzPerCore", t.resources.cpu_mhz_per_core, 0);
  });
  r.str("Cpuset", t.cpuset);
  r.str("KillSignal", t.kill_signal);
  if (t.kill_signal.empty()) t.kill_signal = "SIGTERM";
  int64_t kill_ms = t.kill_timeout.count();
  r.int64("KillTimeoutMs", kill_ms, 0);
  t.kill_timeout = std::chrono::milliseconds(kill_ms);
  r.str("MonitorPath", t.monitor_path);
  r.str("StateDir", t.state_dir);
  r.str("RuntimeDir", t.runtime_dir);
  r.object("LogConfig", [&](const detail::TaskSpecReader& x) {
    x.int64("MaxFiles", t.log_config.max_files, 1);
    x.int64("MaxFileSizeMB", t.log_config.max_file_size_mb, 1);
    x.boolean("Disabled", t.log_config.disabled);
  });
  TaskCgroup cg;
  if (r.object("Cgroup", [&](const detail::TaskSpecReader& x) {
        int64_t version = cg.version;
        x.int64("Version", version, 1);
        if (version > 2) x.fail("Version", "must be 1 or 2");
        cg.version = static_cast<int>(version);
        x.strings("ProcsFiles", cg.procs_files);
        x.str("RelativePath", cg.relative_path);
        x.str("Parent", cg.parent);
      }))
    t.cgroup = std::move(cg);
  r.objects("Devices", [&](const detail::TaskSpecReader& x) {
    TaskDevice d;
    x.str("HostPath", d.host_path);
    x.str("ContainerPath", d.container_path);
    x.str("Permissions", d.permissions);
    t.devices.push_back(std::move(d));
  });
  r.objects("Mounts", [&](const detail::TaskSpecReader& x) {
    TaskMount m;
    x.str("HostPath", m.host_path);
    x.str("ContainerPath", m.container_path);
    x.boolean("ReadOnly", m.read_only);
    t.mounts.push_back(std::move(m));
  });
  r.strings("DeviceIDs", t.device_ids);
  r.objects("Ports", [&](const detail::TaskSpecReader& x) {
    TaskPort p;
    x.str("Label", p.label);
    x.int64("Value", p.value, 0);
    x.int64("To", p.to, 0);
    x.str("HostIP", p.host_ip);
    t.ports.push_back(std::move(p));
  });
  r.object("DNS", [&](const detail::TaskSpecReader& x) {
    TaskDns d;
    x.strings("Servers", d.servers);
    x.strings("Searches", d.searches);
    x.strings("Options", d.options);
    t.dns = std::move(d);
  });
  r.str("NetworkNamespace", t.network_namespace);
  r.str("Hostname", t.hostname);
  r.str("AllocAddress", t.alloc_address);
  if (auto* labels = r.find("NetworkLabels")) {
    if (!labels->is_object()) r.fail("NetworkLabels", "must be an object of strings");
    for (const auto& [k, v] : labels->items()) {
      if (!v.is_string()) r.fail("NetworkLabels." + k, "must be a string");
      t.network_labels[k] = v.get<std::string>();
    }
  }
  return t;
}

inline nlohmann::json to_json(const TaskSpec& t) {
  nlohmann::json j = {
      {"AllocID", t.alloc_id},
      {"JobID", t.job_id},
      {"GroupName", t.group_name},
      {"TaskName", t.task_name},
      {"User", t.user},
      {"Config", t.config},
      {"Env", t.env},
      {"AllocDir", t.alloc_dir},
      {"TaskDir", t.task_dir},
      {"StdoutPath", t.stdout_path},
      {"StderrPath", t.stderr_path},
      {"Resources",
       {{"CPU", t.resources.cpu_mhz},
        {"MemoryMB", t.resources.memory_mb},
        {"MemoryMaxMB", t.resources.memory_max_mb},
        {"Cores", t.resources.cores},
        {"Pids", t.resources.pids},
        {"CPUMHzPerCore", t.resources.cpu_mhz_per_core}}},
      {"KillSignal", t.kill_signal},
      {"KillTimeoutMs", t.kill_timeout.count()},
      {"MonitorPath", t.monitor_path},
      {"StateDir", t.state_dir},
      {"RuntimeDir", t.runtime_dir},
      {"LogConfig",
       {{"MaxFiles", t.log_config.max_files},
        {"MaxFileSizeMB", t.log_config.max_file_size_mb},
        {"Disabled", t.log_config.disabled}}},
  };
  if (!t.cpuset.empty()) j["Cpuset"] = t.cpuset;
  if (t.cgroup) {
    j["Cgroup"] = {{"Version", t.cgroup->version},
                   {"ProcsFiles", t.cgroup->procs_files},
                   {"RelativePath", t.cgroup->relative_path},
                   {"Parent", t.cgroup->parent}};
  }
  if (!t.devices.empty() || !t.mounts.empty() || !t.device_ids.empty()) {
    j["Devices"] = nlohmann::json::array();
    for (const auto& d : t.devices)
      j["Devices"].push_back(
          {{"HostPath", d.host_path}, {"ContainerPath", d.container_path}, {"Permissions", d.permissions}});
    j["Mounts"] = nlohmann::json::array();
    for (const auto& m : t.mounts)
      j["Mounts"].push_back(
          {{"HostPath", m.host_path}, {"ContainerPath", m.container_path}, {"ReadOnly", m.read_only}});
    j["DeviceIDs"] = t.device_ids;
  }
  if (!t.ports.empty()) {
    j["Ports"] = nlohmann::json::array();
    for (const auto& p : t.ports)
      j["Ports"].push_back({{"Label", p.label}, {"Value", p.value}, {"To", p.to}, {"HostIP", p.host_ip}});
  }
  if (!t.network_namespace.empty()) j["NetworkNamespace"] = t.network_namespace;
  if (!t.network_labels.empty()) j["NetworkLabels"] = t.network_labels;
  if (t.dns) j["DNS"] = {{"Servers", t.dns->servers}, {"Searches", t.dns->searches}, {"Options", t.dns->options}};
  if (!t.hostname.empty()) j["Hostname"] = t.hostname;
  if (!t.alloc_address.empty()) j["AllocAddress"] = t.alloc_address;
  return j;
}

// For a driver's start: the value of a field the driver cannot start without.
inline const std::string& required(const std::string& value, const char* key) {
  if (value.empty()) throw std::invalid_argument(std::string("task ") + key + ": required");
  return value;
}

}  // namespace drover::sdk
