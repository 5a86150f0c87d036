// The docker task Config (Nomad's keys): checking it, including the secure defaults of the
// plugin config, and reading it into a struct.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plugin_config.hpp"

namespace drover::docker {

struct Mount {
  std::string type = "bind";  // bind, volume, tmpfs
  std::string source, target;
  bool readonly = false;
  long long tmpfs_size = 0;  // bytes, tmpfs only
  int tmpfs_mode = 0;        // tmpfs only
  std::string propagation;   // bind only: private, rprivate, shared, rshared, slave, rslave
  bool no_copy = false;      // volume only
  std::map<std::string, std::string> volume_labels;  // volume only
  std::string volume_driver;                         // volume only; "" : local
  std::map<std::string, std::string> volume_driver_options;
};

// A host device node in the container (Nomad's `devices`).
struct Device {
  std::string host_path, container_path, cgroup_permissions = "rwm";
};

struct Ulimit {
  std::string name;
  long long soft = 0, hard = 0;
};

struct TaskConfig {
  std::string image;
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> entrypoint;
  std::string work_dir;
  std::map<std::string, std::string> labels;
  std::string hostname;
  std::string network_mode;
  std::vector<std::string> cap_add, cap_drop;  // normalized: NET_ADMIN
  bool privileged = false;
  std::vector<std::string> volumes;  // "source:target[:ro]"
  std::vector<Mount> mounts;
  bool force_pull = false;
  std::string load;        // image tarball, relative to the task dir
  nlohmann::json auth;     // {username, password, email, server_address}
  long long shm_size = 0;  // bytes
  std::vector<Ulimit> ulimits;
  std::vector<std::string> ports;       // port labels
  std::map<std::string, int> port_map;  // label -> container port
  std::string pid_mode, ipc_mode, runtime;
  // Nomad's further docker options (docs/drivers/docker.md, "Config").
  std::vector<std::string> dns_servers, dns_search_domains, dns_options, extra_hosts;
  bool init = false, readonly_rootfs = false, auth_soft_fail = false, healthchecks_disabled = false;
  std::vector<std::string> security_opt, group_add;
  std::map<std::string, std::string> sysctl;
  std::string uts_mode, userns_mode, mac_address;
  long long image_pull_timeout_ms = 0;  // 0: the plugin's pull_timeout
  int oom_score_adj = 0;
  long long pids_limit = 0;  // 0: the task's resources.pids only
  // cpu_hard_limit: the task's cpu (MHz) as a CFS quota per cpu_cfs_period, not only a weight.
  bool cpu_hard_limit = false;
  long long cpu_cfs_period_us = 100000;
  std::vector<Device> devices;
  std::string logging_type;  // "" : the daemon's default
  std::map<std::string, std::string> logging_config;
};

// Every problem, each naming its key ("config.image: required"); the security refusals name
// the plugin option that would allow them. Empty when fine.
std::vector<std::string> config_problems(const nlohmann::json& config, const PluginConfig& plugin);

// Reads a Config that config_problems accepted.
TaskConfig read_config(const nlohmann::json& config);

// A security_opt that turns a protection off (seccomp or apparmor unconfined, SELinux labels
// disabled, no-new-privileges false): allowed only with allow_privileged.
bool weakens_isolation(const std::string& security_opt);

// "src:dst[:ro|rw]" -> {src, dst, readonly}; false when malformed.
bool split_volume(const std::string& spec, std::string& src, std::string& dst, bool& readonly);

}  // namespace drover::docker
