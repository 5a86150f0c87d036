// The docker plugin's operator config (plugin.docker.config), with Nomad's names and secure
// defaults: no privileged containers, no host volumes, Docker's capabilities minus NET_RAW.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace drover::docker {

struct PluginConfig {
  bool enabled = true;
  std::string endpoint = "unix:///var/run/docker.sock";
  bool allow_privileged = false;     // also gates pid_mode/ipc_mode "host"
  bool volumes_enabled = false;      // host paths in volumes and bind mounts, named volumes
  std::set<std::string> allow_caps;  // upper case, no CAP_ prefix; "ALL" allows any
  std::set<std::string> allow_runtimes{"runc"};
  bool gc_image = true;
  std::chrono::milliseconds gc_image_delay{std::chrono::minutes(3)};
  bool gc_container = true;  // remove a container on destroy (false: keep it for debugging)
  bool gc_dangling_enabled = true;
  std::chrono::milliseconds gc_dangling_period{std::chrono::minutes(5)};
  std::chrono::milliseconds gc_dangling_grace{std::chrono::minutes(5)};
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(5)};
  // Least time between two "Downloading Image" progress events of one pull.
  std::chrono::milliseconds pull_progress_interval{std::chrono::seconds(2)};
  // The "pause" container that holds an alloc's network namespace in bridge mode (network.cpp):
  // its image (Nomad's default, pulled when absent) and command (empty: the image's own).
  std::string infra_image = default_infra_image();
  std::vector<std::string> infra_command;

  // Nomad's: registry.k8s.io/pause-<arch>:3.3 for this machine's architecture.
  static std::string default_infra_image();
};

// Docker's default capability set (what a container gets with no cap_add / cap_drop).
const std::set<std::string>& docker_default_caps();
// "cap_net_raw" -> "NET_RAW".
std::string normalize_cap(std::string cap);

// Throws std::runtime_error naming the key ("plugin.docker.config.gc.image: must be ...").
PluginConfig parse_plugin_config(const nlohmann::json& config);

// "90s", "5m", "1h", "250ms", or an integer count of nanoseconds (Nomad's JSON). Throws.
std::chrono::milliseconds parse_duration(const nlohmann::json& value, const std::string& key);

}  // namespace drover::docker
