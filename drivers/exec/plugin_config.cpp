// exec's plugin config parsing (see plugin_config.hpp). Unknown keys are refused by name.
#include "plugin_config.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace drover::exec {
namespace {

std::vector<std::string> strings(const nlohmann::json& v, const std::string& key) {
  if (!v.is_array()) throw std::runtime_error("plugin.exec.config." + key + ": must be a list of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) throw std::runtime_error("plugin.exec.config." + key + ": must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

const std::vector<std::string>& default_caps() {
  static const std::vector<std::string> caps = {
      "CAP_AUDIT_WRITE", "CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FOWNER", "CAP_FSETID",
      "CAP_KILL",        "CAP_MKNOD",  "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
      "CAP_SETPCAP",     "CAP_SETUID", "CAP_SYS_CHROOT"};
  return caps;
}

std::string normalize_cap(const std::string& name) {
  std::string up = name;
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up == "ALL" || up.rfind("CAP_", 0) == 0) return up;
  return "CAP_" + up;
}

PluginConfig parse_plugin_config(const nlohmann::json& config) {
  PluginConfig c;
  // Nomad's default chroot_env, as mount sources: the host's own dirs, never copied.
  c.chroot_env = {"/bin", "/etc", "/lib", "/lib32", "/lib64", "/sbin", "/usr", "/run/resolvconf"};
  c.allow_caps = default_caps();
  if (config.is_null()) return c;
  if (!config.is_object()) throw std::runtime_error("plugin.exec.config: must be an object");
  for (const auto& [key, v] : config.items()) {
    const std::string k = "plugin.exec.config." + key;
    if (key == "enabled") {
      if (!v.is_boolean()) throw std::runtime_error(k + ": must be true or false");
    } else if (key == "runtime_path" || key == "runtime_root") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        throw std::runtime_error(k + ": must be a non-empty string");
      const auto& s = v.get_ref<const std::string&>();
      if (key == "runtime_root" && s.front() != '/') throw std::runtime_error(k + ": must be absolute");
      (key == "runtime_path" ? c.runtime_path : c.runtime_root) = s;
    } else if (key == "chroot_env") {
      c.chroot_env = strings(v, key);
      for (const auto& d : c.chroot_env)
        if (d.empty() || d.front() != '/' || d.find("..") != std::string::npos || d == "/")
          throw std::runtime_error(k + ": \"" + d + "\" must be an absolute dir other than /, without \"..\"");
    } else if (key == "allow_caps") {
      c.allow_caps.clear();
      for (const auto& s : strings(v, key)) c.allow_caps.push_back(normalize_cap(s));
    } else if (key == "allow_root") {
      if (!v.is_boolean()) throw std::runtime_error(k + ": must be true or false");
      c.allow_root = v.get<bool>();
    } else {
      throw std::runtime_error(k + ": unknown key");
    }
  }
  return c;
}

}  // namespace drover::exec
