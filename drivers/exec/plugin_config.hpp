// exec's plugin config (plugin "exec" { config { ... } }): which runtime, where its state
// lives, which host dirs go into a task's root, and what a job may ask for beyond the
// defaults (root, capabilities).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::exec {

struct PluginConfig {
  std::string runtime_path = "runc";           // a name is looked up in PATH
  std::string runtime_root = "/run/drover/exec";  // the runtime's --root (its state)
  std::vector<std::string> chroot_env;         // host dirs bind-mounted read-only
  std::vector<std::string> allow_caps;         // what cap_add may ask for
  bool allow_root = false;                     // may a task run as root
};

// Docker's default capability set minus NET_RAW, as "CAP_X" (docs/threat-model.md,
// "Privileges and isolation").
const std::vector<std::string>& default_caps();

// Throws std::runtime_error naming the key (plugin.exec.config.KEY) on anything wrong or
// unknown.
PluginConfig parse_plugin_config(const nlohmann::json& config);

// "net_raw", "NET_RAW", "CAP_NET_RAW" -> "CAP_NET_RAW"; "ALL" stays "ALL".
std::string normalize_cap(const std::string& name);

}  // namespace drover::exec
