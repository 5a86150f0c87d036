// Building the container create body (see container_spec.hpp). Nomad's mapping: memory ->
// Memory (memory_max -> Memory, MemoryReservation = memory), cpu -> CpuShares (and with
// cpu_hard_limit CpuQuota per CpuPeriod), cores ->
// CpusetCpus, pids -> PidsLimit; the alloc, local and secrets dirs appear as /alloc, /local
// and /secrets inside the container.
#include "container_spec.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace drover::docker {
namespace {

namespace fs = std::filesystem;

// A relative source is taken from the task dir, as Nomad does. The resolved path (symlinks
// followed) must stay inside the alloc dir: a task must not reach the host through a link.
std::string resolve_source(const std::string& src, const sdk::TaskSpec& task,
                           const std::string& key) {
  const std::string& task_dir = task.task_dir;
  const std::string& alloc_dir = task.alloc_dir;
  if (task_dir.empty() || alloc_dir.empty()) {
    throw std::runtime_error(key + ": relative source needs the task's TaskDir and AllocDir");
  }
  std::error_code ec;
  fs::path resolved = fs::canonical(fs::path(task_dir) / src, ec);
  if (ec) throw std::runtime_error(key + ": source " + src + ": " + ec.message());
  fs::path root = fs::canonical(alloc_dir, ec);
  if (ec) throw std::runtime_error(key + ": alloc dir " + alloc_dir + ": " + ec.message());
  auto rel = resolved.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") {
    throw std::runtime_error(key + ": source " + src + " resolves to " + resolved.string() +
                             ", outside the alloc dir");
  }
  return resolved.string();
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char ch : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
    out += ok ? ch : '_';
  }
  return out;
}

}  // namespace

void apply_dns(const sdk::TaskDns& dns, nlohmann::json& host_config) {
  if (!dns.servers.empty()) host_config["Dns"] = dns.servers;
  if (!dns.searches.empty()) host_config["DnsSearch"] = dns.searches;
  if (!dns.options.empty()) host_config["DnsOptions"] = dns.options;
}

std::string container_name(const sdk::TaskSpec& task) {
  std::string name = sanitize(task.task_name) + "-" + sanitize(task.alloc_id);
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) name = "t" + name;
  return name;
}

bool joins_alloc_hosts(const sdk::TaskSpec& task, const TaskConfig& cfg) {
  return !task.network_namespace.empty() && cfg.network_mode.empty() && !task.hostname.empty() &&
         !task.state_dir.empty();
}

nlohmann::json container_create_body(const sdk::TaskSpec& task, const TaskConfig& cfg,
                                     const PluginConfig& plugin) {
  nlohmann::json body;
  body["Image"] = cfg.image;
  if (!cfg.command.empty()) {
    nlohmann::json cmd = nlohmann::json::array({cfg.command});
    for (const auto& a : cfg.args) cmd.push_back(a);
    body["Cmd"] = cmd;
  } else if (!cfg.args.empty()) {
    body["Cmd"] = cfg.args;  // args to the image's entrypoint/cmd, as Nomad does
  }
  if (!cfg.entrypoint.empty()) body["Entrypoint"] = cfg.entrypoint;
  if (!cfg.work_dir.empty()) body["WorkingDir"] = cfg.work_dir;
  if (!cfg.hostname.empty()) body["Hostname"] = cfg.hostname;
  if (!task.user.empty()) body["User"] = task.user;
  body["AttachStdin"] = false;
  body["AttachStdout"] = false;
  body["AttachStderr"] = false;
  body["Tty"] = false;  // the log stream must be multiplexed, never a tty

  // Env: the task's own (already carrying NOMAD_*), with the dirs as the container sees them.
  std::map<std::string, std::string> env = task.env;  // names checked by task_spec_from_json
  const std::string& alloc_dir = task.alloc_dir;
  const std::string& task_dir = task.task_dir;
  nlohmann::json binds = nlohmann::json::array();
  auto bind_if_dir = [&](const fs::path& host, const std::string& inside, const char* var) {
    std::error_code ec;
    if (host.empty() || !fs::is_directory(host, ec)) return;
    binds.push_back(host.string() + ":" + inside);
    env[var] = inside;
  };
  if (!alloc_dir.empty()) bind_if_dir(fs::path(alloc_dir) / "alloc", "/alloc", "NOMAD_ALLOC_DIR");
  if (!task_dir.empty()) {
    bind_if_dir(fs::path(task_dir) / "local", "/local", "NOMAD_TASK_DIR");
    bind_if_dir(fs::path(task_dir) / "secrets", "/secrets", "NOMAD_SECRETS_DIR");
  }
  nlohmann::json env_list = nlohmann::json::array();
  for (const auto& [k, v] : env) env_list.push_back(k + "=" + v);
  body["Env"] = env_list;

  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : cfg.labels) labels[k] = v;
  labels[kLabelAllocID] = task.alloc_id;
  labels[kLabelTask] = task.task_name;
  labels[kLabelJobID] = task.job_id;
  if (!task.alloc_dir.empty()) labels[kLabelAllocDir] = task.alloc_dir;
  body["Labels"] = labels;

  nlohmann::json host;
  const sdk::TaskResources& res = task.resources;
  const long long mem = res.memory_mb, mem_max = res.memory_max_mb;
  if (mem > 0 && mem_max < 0) {
    // memory_max -1 (Nomad's): no hard limit; memory only reserves.
    host["MemoryReservation"] = mem * 1024 * 1024;
  } else if (mem > 0) {
    const long long limit = (mem_max > mem ? mem_max : mem) * 1024 * 1024;
    host["Memory"] = limit;
    host["MemorySwap"] = limit;  // no swap beyond the limit, as Nomad does
    if (mem_max > mem) host["MemoryReservation"] = mem * 1024 * 1024;
  }
  if (long long cpu = res.cpu_mhz; cpu > 0) {
    host["CpuShares"] = std::clamp<long long>(cpu, 2, 262144);
  }
  // Nomad's cpu_hard_limit: cpu MHz is that share of one core's time each period (Nomad's
  // PercentTicks x period x cores). A task of reserved cores has them whole: no quota.
  if (cfg.cpu_hard_limit && res.cpu_mhz > 0) {
    if (res.cpu_mhz_per_core <= 0)
      throw std::runtime_error("config.cpu_hard_limit: this node's MHz per core is not known (no cpu.frequency)");
    host["CpuPeriod"] = cfg.cpu_cfs_period_us;
    // The kernel's least quota is 1 ms.
    host["CpuQuota"] = std::max<long long>(1000, res.cpu_mhz * cfg.cpu_cfs_period_us / res.cpu_mhz_per_core);
  }
  if (res.pids > 0) host["PidsLimit"] = res.pids;
  if (!task.cpuset.empty()) host["CpusetCpus"] = task.cpuset;
  if (task.cgroup && !task.cgroup->parent.empty()) host["CgroupParent"] = task.cgroup->parent;

  // Security, checked again here (validate may have run under another plugin config).
  if (cfg.privileged && !plugin.allow_privileged) {
    throw std::runtime_error(
        "config.privileged: privileged containers are disabled on this node "
        "(set plugin.docker.config.allow_privileged: true)");
  }
  host["Privileged"] = cfg.privileged;
  std::vector<std::string> drop = cfg.cap_drop;
  for (const auto& cap : docker_default_caps()) {
    bool allowed = plugin.allow_caps.count("ALL") || plugin.allow_caps.count(cap);
    bool added = std::find(cfg.cap_add.begin(), cfg.cap_add.end(), cap) != cfg.cap_add.end();
    if (!allowed && !added && std::find(drop.begin(), drop.end(), cap) == drop.end()) {
      drop.push_back(cap);  // NET_RAW by default
    }
  }
  if (!cfg.cap_add.empty()) host["CapAdd"] = cfg.cap_add;
  if (!drop.empty()) host["CapDrop"] = drop;
  if (!cfg.network_mode.empty()) host["NetworkMode"] = cfg.network_mode;
  // The alloc's own network (group network mode bridge or none): the task joins the pause
  // container that holds it (network.cpp), unless the job names a network_mode itself, as in
  // Nomad. Docker refuses what would set up a network of the task's own in that mode.
  const bool joins_alloc = !task.network_namespace.empty() && cfg.network_mode.empty();
  if (joins_alloc) {
    auto sandbox = task.network_labels.find(kNetLabelSandbox);
    if (sandbox == task.network_labels.end())
      throw std::runtime_error(
          "the alloc's network namespace (" + task.network_namespace +
          ") was not made by the docker driver: a container can join only another container's "
          "network");
    host["NetworkMode"] = "container:" + sandbox->second;
    const std::pair<const char*, bool> own[] = {
        {"hostname", !cfg.hostname.empty()},         {"dns_servers", !cfg.dns_servers.empty()},
        {"dns_search_domains", !cfg.dns_search_domains.empty()},
        {"dns_options", !cfg.dns_options.empty()},   {"extra_hosts", !cfg.extra_hosts.empty()},
        {"mac_address", !cfg.mac_address.empty()}};
    for (const auto& [key, set] : own)
      if (set)
        throw std::runtime_error(std::string("config.") + key +
                                 ": not allowed for a task in the alloc's network (group network "
                                 "mode bridge or none): its tasks share one network");
  }
  if (!cfg.pid_mode.empty()) host["PidMode"] = cfg.pid_mode;
  if (!cfg.ipc_mode.empty()) host["IpcMode"] = cfg.ipc_mode;
  if (!cfg.runtime.empty()) host["Runtime"] = cfg.runtime;
  // Nomad's further options (docs/drivers/docker.md): checked by config_problems; the ones
  // that weaken isolation (uts/userns "host", unconfined security_opt, devices) again here.
  if ((cfg.uts_mode == "host" || cfg.userns_mode == "host" || !cfg.devices.empty()) &&
      !plugin.allow_privileged)
    throw std::runtime_error(
        "config: host namespaces and devices are disabled on this node (set "
        "plugin.docker.config.allow_privileged: true)");
  if (!cfg.uts_mode.empty()) host["UTSMode"] = cfg.uts_mode;
  if (!cfg.userns_mode.empty()) host["UsernsMode"] = cfg.userns_mode;
  if (!cfg.dns_servers.empty()) host["Dns"] = cfg.dns_servers;
  if (!cfg.dns_search_domains.empty()) host["DnsSearch"] = cfg.dns_search_domains;
  if (!cfg.dns_options.empty()) host["DnsOptions"] = cfg.dns_options;
  // The group network's dns block, where the task's config sets none of its own (as Nomad):
  // on this container, unless it joins the pause container, which has it (network.cpp).
  const bool own_dns = !cfg.dns_servers.empty() || !cfg.dns_search_domains.empty() ||
                       !cfg.dns_options.empty();
  if (task.dns && !own_dns && !joins_alloc) apply_dns(*task.dns, host);
  if (!cfg.extra_hosts.empty()) host["ExtraHosts"] = cfg.extra_hosts;
  if (cfg.init) host["Init"] = true;
  if (cfg.readonly_rootfs) host["ReadonlyRootfs"] = true;
  for (const auto& o : cfg.security_opt)
    if (!plugin.allow_privileged && weakens_isolation(o))
      throw std::runtime_error("config.security_opt: \"" + o +
                               "\" is disabled on this node (set "
                               "plugin.docker.config.allow_privileged: true)");
  if (!cfg.security_opt.empty()) host["SecurityOpt"] = cfg.security_opt;
  if (!cfg.group_add.empty()) host["GroupAdd"] = cfg.group_add;
  if (!cfg.sysctl.empty()) host["Sysctls"] = cfg.sysctl;
  if (cfg.oom_score_adj > 0) host["OomScoreAdj"] = cfg.oom_score_adj;
  // The tighter of the task's pids limit and the config's.
  if (cfg.pids_limit > 0 && (res.pids <= 0 || cfg.pids_limit < res.pids))
    host["PidsLimit"] = cfg.pids_limit;
  if (!cfg.devices.empty()) {
    nlohmann::json devs = nlohmann::json::array();
    for (const auto& d : cfg.devices)
      devs.push_back({{"PathOnHost", d.host_path},
                      {"PathInContainer", d.container_path.empty() ? d.host_path : d.container_path},
                      {"CgroupPermissions", d.cgroup_permissions}});
    host["Devices"] = devs;
  }
  if (!cfg.mac_address.empty()) body["MacAddress"] = cfg.mac_address;
  if (cfg.healthchecks_disabled) body["Healthcheck"] = {{"Test", {"NONE"}}};
  if (cfg.shm_size > 0) host["ShmSize"] = cfg.shm_size;
  if (!cfg.ulimits.empty()) {
    nlohmann::json u = nlohmann::json::array();
    for (const auto& l : cfg.ulimits)
      u.push_back({{"Name", l.name}, {"Soft", l.soft}, {"Hard", l.hard}});
    host["Ulimits"] = u;
  }

  for (size_t i = 0; i < cfg.volumes.size(); ++i) {
    std::string src, dst;
    bool ro = false;
    const std::string key = "config.volumes[" + std::to_string(i) + "]";
    if (!split_volume(cfg.volumes[i], src, dst, ro)) throw std::runtime_error(key + ": malformed");
    if (src[0] == '/') {
      if (!plugin.volumes_enabled) {
        throw std::runtime_error(key +
                                 ": host volumes are disabled on this node (set "
                                 "plugin.docker.config.volumes.enabled: true)");
      }
    } else {
      src = resolve_source(src, task, key);
    }
    binds.push_back(src + ":" + dst + (ro ? ":ro" : ""));
  }
  // The pause container has the alloc's hostname (network.cpp) and this task shares it; the
  // name resolves to the alloc's address through the hosts file the driver wrote (Nomad's).
  if (joins_alloc_hosts(task, cfg)) binds.push_back(task.state_dir + "/hosts:/etc/hosts:ro");
  host["Binds"] = binds;

  nlohmann::json mounts = nlohmann::json::array();
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    const Mount& m = cfg.mounts[i];
    const std::string key = "config.mounts[" + std::to_string(i) + "]";
    nlohmann::json out{{"Type", m.type}, {"Target", m.target}, {"ReadOnly", m.readonly}};
    if (m.type == "bind") {
      std::string src = m.source;
      if (src[0] == '/') {
        if (!plugin.volumes_enabled) {
          throw std::runtime_error(key +
                                   ": host bind mounts are disabled on this node (set "
                                   "plugin.docker.config.volumes.enabled: true)");
        }
      } else {
        src = resolve_source(src, task, key);
      }
      out["Source"] = src;
      if (!m.propagation.empty()) out["BindOptions"] = {{"Propagation", m.propagation}};
    } else if (m.type == "volume") {
      if (!plugin.volumes_enabled) {
        throw std::runtime_error(key +
                                 ": named volumes are disabled on this node (set "
                                 "plugin.docker.config.volumes.enabled: true)");
      }
      out["Source"] = m.source;
      nlohmann::json vo = nlohmann::json::object();
      if (m.no_copy) vo["NoCopy"] = true;
      if (!m.volume_labels.empty()) vo["Labels"] = m.volume_labels;
      if (!m.volume_driver.empty())
        vo["DriverConfig"] = {{"Name", m.volume_driver}, {"Options", m.volume_driver_options}};
      if (!vo.empty()) out["VolumeOptions"] = vo;
    } else {
      nlohmann::json opts = nlohmann::json::object();
      if (m.tmpfs_size > 0) opts["SizeBytes"] = m.tmpfs_size;
      if (m.tmpfs_mode > 0) opts["Mode"] = m.tmpfs_mode;
      out["TmpfsOptions"] = opts;
    }
    mounts.push_back(out);
  }
  // The agent's own mounts (host volumes of the job's volume_mount, device plugins' paths):
  // the operator listed them in the agent's config, so volumes.enabled does not gate them.
  for (const auto& m : task.mounts)
    mounts.push_back({{"Type", "bind"},
                      {"Source", m.host_path},
                      {"Target", m.container_path},
                      {"ReadOnly", m.read_only}});
  if (!mounts.empty()) host["Mounts"] = mounts;

  // Ports (docs/networking.md): each label the task lists (ports, or the older port_map) is
  // published from its host address and port, as the agent allocated them (the task's
  // "Ports": [{Label, Value, To, HostIP}]), to the port_map entry, else the port's `to`, else
  // the same number; TCP and UDP, as Nomad's docker driver. Without "Ports" (an older agent)
  // the host side comes from NOMAD_HOST_PORT_<label> and NOMAD_IP_<label>. On the host's
  // network (network_mode host) there is nothing to publish.
  std::vector<std::string> labels_used = cfg.ports;
  for (const auto& [label, port] : cfg.port_map) {
    if (std::find(labels_used.begin(), labels_used.end(), label) == labels_used.end()) {
      labels_used.push_back(label);
    }
  }
  // In the alloc's network the agent's CNI portmap publishes the group's ports.
  if (!labels_used.empty() && cfg.network_mode != "host" && !joins_alloc) {
    nlohmann::json exposed = nlohmann::json::object(), bindings = nlohmann::json::object();
    for (const auto& label : labels_used) {
      int cport = 0, hport = 0;
      std::string ip = "0.0.0.0";
      const sdk::TaskPort* allocated = nullptr;
      for (const auto& p : task.ports)
        if (p.label == label) allocated = &p;
      if (allocated) {
        hport = static_cast<int>(allocated->value);
        cport = allocated->to > 0 ? static_cast<int>(allocated->to) : hport;
        if (!allocated->host_ip.empty()) ip = allocated->host_ip;
      } else if (auto e = env.find("NOMAD_HOST_PORT_" + label); e != env.end()) {
        hport = std::atoi(e->second.c_str());
        cport = hport;
        if (auto i = env.find("NOMAD_IP_" + label); i != env.end()) ip = i->second;
      }
      if (auto it = cfg.port_map.find(label); it != cfg.port_map.end()) cport = it->second;
      if (hport <= 0)
        throw std::runtime_error("config.ports: no port \"" + label +
                                 "\" in the alloc's network (add port \"" + label +
                                 "\" to the group's network block)");
      for (const char* proto : {"/tcp", "/udp"}) {
        const std::string key = std::to_string(cport) + proto;
        exposed[key] = nlohmann::json::object();
        bindings[key] =
            nlohmann::json::array({{{"HostIp", ip}, {"HostPort", std::to_string(hport)}}});
      }
    }
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  // The driver supervises the task; docker must never restart it behind the agent's back.
  host["RestartPolicy"] = {{"Name", "no"}};
  // The task's log files are the driver's copy; docker's own stays small unless the job's
  // `logging` says otherwise (json-file and local keep a bound when it names none).
  nlohmann::json log_config = {{"max-size", "10m"}, {"max-file", "2"}};
  std::string log_type = "json-file";
  if (!cfg.logging_type.empty()) {
    log_type = cfg.logging_type;
    if (log_type == "journald") log_config = nlohmann::json::object();
    for (const auto& [k, v] : cfg.logging_config) log_config[k] = v;
  }
  host["LogConfig"] = {{"Type", log_type}, {"Config", log_config}};
  body["HostConfig"] = host;
  return body;
}

}  // namespace drover::docker
