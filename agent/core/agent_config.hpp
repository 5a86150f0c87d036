// The agent's configuration: defaults, then the config file (-config), then flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/tls_config.hpp"
#include "artifact/limits.hpp"
#include "core/agent.hpp"
#include "drover/cgroups/cgroups.hpp"
#include "drover/common/result.hpp"
#include "runner/cni_config.hpp"
#include "runner/host_networks.hpp"
#include "runner/host_volumes.hpp"

namespace drover::agent {

struct AgentConfig {
  bool dev = false;
  std::filesystem::path data_dir;
  std::filesystem::path plugin_dir;
  // Where each task's runtime state lives (monitor socket and pid, exit record, OCI bundle):
  // <runtime_dir>/tasks/<alloc>/<task>. Meant for tmpfs, as /run is on a systemd host: it
  // outlives an agent restart, not a reboot (docs/design.md, "Runtime state"). Empty: /run/drover,
  // or <data_dir>/run for a -dev agent with a throwaway data dir.
  std::filesystem::path runtime_dir;
  std::string bind_addr = "127.0.0.1";
  int port = 4646;
  std::string log_level = "info";
  std::string node_name;  // default: the hostname
  std::string datacenter = "dc1";
  std::map<std::string, std::string> meta;
  // Nomad's client node_class and node_pool: shown in GET /v1/node, judged by job constraints
  // (${node.class}, ${node.pool}) and by a job's node_pool.
  std::string node_class;
  std::string node_pool = "default";
  // plugin name -> config object handed to the plugin (with "enabled" when set).
  nlohmann::json plugins = nlohmann::json::object();
  std::size_t max_request_bytes = 1 << 20;
  int max_kill_timeout_s = 30;
  // Garbage collection of terminal allocs (Nomad's client gc_* settings).
  std::chrono::nanoseconds gc_interval = std::chrono::minutes(1);
  int gc_max_allocs = 50;
  int gc_disk_usage_threshold = 80;
  // Nomad's job_gc_threshold: a job whose allocs are all terminal is removed (record, allocs,
  // their dirs) once it has not changed for this long.
  std::chrono::nanoseconds job_gc_threshold = std::chrono::hours(4);
  // The parent cgroup of every task: "drover" on v1, "drover.slice" on v2 when empty.
  std::string cgroup_parent;
  // `cgroup_backend: plain | libcgroup`: how task cgroups are made and written on v1
  // (docs/cgroups.md, "How files are written"); v2 always uses plain files.
  cgroups::Backend cgroup_backend = cgroups::Backend::PlainFiles;
  // `cgroup_favor_dynmods: true`: at start, remount cgroup2 with favordynmods (faster task
  // attach, slower fork/exit host-wide; docs/cgroups.md). Off: the host is left as it is.
  bool cgroup_favor_dynmods = false;
  // Resources kept back for the system (Nomad's client `reserved` block).
  int reserved_cpu_mhz = 0;
  int reserved_memory_mb = 0;
  std::string reserved_cores;  // "0" or "0-1": never handed to a task
  int default_pids_max = 4096;
  // Ports (docs/networking.md): Nomad's client settings of the same names.
  int min_dynamic_port = 20000;
  int max_dynamic_port = 32000;
  std::string reserved_ports;     // reserved.reserved_ports: "22,80,8500-8600"
  std::string network_interface;  // the default network's; "": the default route's, lo in -dev
  std::vector<runner::HostNetworkConfig> host_networks;
  // Nomad's cni_path (the plugin dirs, ':'-separated) and cni_config_dir (the network configs
  // a group's `mode = "cni/<name>"` names; docs/networking.md, "CNI networks").
  runner::CniSettings cni;
  // Nomad's client `host_volume "name" { path, read_only }` (docs/jobspec.md, "volumes").
  runner::HostVolumes host_volumes;
  // Dynamic host volumes (docs/volumes.md): where the mkdir plugin makes them, and where
  // external plugins are; empty: <data_dir>/host_volumes and <data_dir>/host_volume_plugins.
  std::string host_volumes_dir;
  std::string host_volume_plugin_dir;
  // Nomad's telemetry collection_interval: how often the one stats collector reads every
  // task's cgroup (GET /v1/client/allocation/:id/stats serves its latest sample).
  std::chrono::nanoseconds collection_interval = std::chrono::seconds(1);
  // How often driver health and free storage are re-read.
  std::chrono::nanoseconds fingerprint_period = std::chrono::seconds(30);
  bool data_dir_is_temp = false;
  // API hardening (docs/security.md): tokens, TLS, and the explicit opt-out that allows an
  // open API on a non-loopback address.
  bool acl_enabled = false;
  api::TlsSettings tls;  // the `tls:` block, read as a server reads it (api/tls_config.hpp)
  bool insecure_listen = false;
  int http_max_conns_per_client = 12;
  // Names besides IP addresses, localhost and the host's own that the API answers to (the
  // Host header; api/host_check.hpp): what a browser or client uses to reach the agent.
  std::vector<std::string> http_allowed_hosts;
  // The `upstream` block as written; upstream/upstream_config.hpp reads it.
  nlohmann::json upstream;
  // The keys that seal Nomad Variables, the same file on every node of a cluster (required
  // with upstream.backend etcd); empty: <data_dir>/keyring, made on first start
  // (docs/variables.md, "Keys").
  std::string keyring_file;
  // Nomad's oidc_issuer: the `iss` of workload identity tokens and the issuer that
  // /.well-known/openid-configuration names; empty: tokens carry no `iss` and that document
  // is not served (docs/variables.md, "Workload identities").
  std::string oidc_issuer;
  // The `artifact` block: download and unpack limits, allowed file:// dirs (docs/artifacts.md).
  artifact::Limits artifact;
};

// Builds the config from flags and the file they name. Errors name the key or the flag.
Result<AgentConfig> load_agent_config(const AgentFlags& flags);

// `drover config validate`: reads every file (and directory of *.yaml) in `paths` as the
// agent would and reports every error, each naming its file and key path, unknown keys with
// a "did you mean" hint. Does not require data_dir: a drop-in alone is checkable.
Status validate_agent_config(const std::vector<std::string>& paths);

// Where the built-in plugins are: next to the binary in a build tree (bin/../plugins-out),
// or the install's plugin dir.
std::filesystem::path default_plugin_dir();

}  // namespace drover::agent
