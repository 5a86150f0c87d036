// Parsing the docker plugin's operator config (see plugin_config.hpp). Unknown keys are
// refused by path: an operator who mistypes `allow_privileged` must not get silent defaults.
#include "plugin_config.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <sys/utsname.h>

namespace drover::docker {
namespace {

const std::string kPrefix = "plugin.docker.config.";

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw std::runtime_error(kPrefix + key + ": " + what);
}

bool boolean(const nlohmann::json& v, const std::string& key) {
  if (!v.is_boolean()) bad(key, "must be true or false");
  return v.get<bool>();
}

std::set<std::string> string_set(const nlohmann::json& v, const std::string& key, bool caps) {
  if (!v.is_array()) bad(key, "must be a list of strings");
  std::set<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
      bad(key, "must be a list of non-empty strings");
    }
    out.insert(caps ? normalize_cap(e.get<std::string>()) : e.get<std::string>());
  }
  return out;
}

}  // namespace

const std::set<std::string>& docker_default_caps() {
  static const std::set<std::string> caps{
      "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER", "FSETID",  "KILL",   "MKNOD",
      "NET_BIND_SERVICE", "NET_RAW", "SETFCAP",      "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"};
  return caps;
}

std::string normalize_cap(std::string cap) {
  std::transform(cap.begin(), cap.end(), cap.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (cap.rfind("CAP_", 0) == 0) cap.erase(0, 4);
  return cap;
}

std::chrono::milliseconds parse_duration(const nlohmann::json& v, const std::string& key) {
  if (v.is_number_integer()) {
    if (v.get<long long>() < 0) bad(key, "must not be negative");
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(v.get<long long>()));
  }
  if (!v.is_string()) bad(key, "must be a duration such as \"30s\" or \"5m\"");
  const std::string& s = v.get_ref<const std::string&>();
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) bad(key, "must be a duration such as \"30s\" or \"5m\"");
  double n = 0;
  try {
    n = std::stod(s.substr(0, i));
  } catch (...) {
    bad(key, "must be a duration such as \"30s\" or \"5m\"");
  }
  std::string unit = s.substr(i);
  double ms;
  if (unit == "ms")
    ms = n;
  else if (unit == "s")
    ms = n * 1000;
  else if (unit == "m")
    ms = n * 60000;
  else if (unit == "h")
    ms = n * 3600000;
  else
    bad(key, "unknown unit \"" + unit + "\" (use ms, s, m or h)");
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

std::string PluginConfig::default_infra_image() {
  struct utsname u {};
  std::string arch = ::uname(&u) == 0 ? u.machine : "x86_64";
  if (arch == "x86_64") arch = "amd64";
  else if (arch == "aarch64") arch = "arm64";
  return "registry.k8s.io/pause-" + arch + ":3.3";
}

PluginConfig parse_plugin_config(const nlohmann::json& config) {
  PluginConfig c;
  c.allow_caps = docker_default_caps();
  c.allow_caps.erase("NET_RAW");
  if (config.is_null()) return c;
  if (!config.is_object()) throw std::runtime_error("plugin.docker.config: must be an object");
  for (const auto& [key, v] : config.items()) {
    if (key == "enabled") {
      c.enabled = boolean(v, key);
    } else if (key == "endpoint") {
      if (!v.is_string()) bad(key, "must be a string such as unix:///var/run/docker.sock");
      c.endpoint = v.get<std::string>();
    } else if (key == "allow_privileged") {
      c.allow_privileged = boolean(v, key);
    } else if (key == "volumes") {
      if (!v.is_object()) bad(key, "must be an object such as {enabled: true}");
      for (const auto& [k2, v2] : v.items()) {
        if (k2 != "enabled") bad(key + "." + k2, "unknown key");
        c.volumes_enabled = boolean(v2, key + ".enabled");
      }
    } else if (key == "allow_caps") {
      c.allow_caps = string_set(v, key, true);
    } else if (key == "allow_runtimes") {
      c.allow_runtimes = string_set(v, key, false);
    } else if (key == "pull_timeout") {
      c.pull_timeout = parse_duration(v, key);
    } else if (key == "infra_image") {
      if (!v.is_string() || v.get_ref<const std::string&>().empty())
        bad(key, "must be an image name such as registry.k8s.io/pause-amd64:3.3");
      c.infra_image = v.get<std::string>();
    } else if (key == "infra_command") {
      if (!v.is_array()) bad(key, "must be a list of strings");
      c.infra_command.clear();
      for (const auto& e : v) {
        if (!e.is_string()) bad(key, "must be a list of strings");
        c.infra_command.push_back(e.get<std::string>());
      }
    } else if (key == "pull_progress_interval") {
      c.pull_progress_interval = parse_duration(v, key);
    } else if (key == "gc") {
      if (!v.is_object()) bad(key, "must be an object");
      for (const auto& [k2, v2] : v.items()) {
        const std::string path = "gc." + k2;
        if (k2 == "image") {
          c.gc_image = boolean(v2, path);
        } else if (k2 == "image_delay") {
          c.gc_image_delay = parse_duration(v2, path);
        } else if (k2 == "container") {
          c.gc_container = boolean(v2, path);
        } else if (k2 == "dangling_containers") {
          if (!v2.is_object()) bad(path, "must be an object");
          for (const auto& [k3, v3] : v2.items()) {
            const std::string p3 = path + "." + k3;
            if (k3 == "enabled")
              c.gc_dangling_enabled = boolean(v3, p3);
            else if (k3 == "period")
              c.gc_dangling_period = parse_duration(v3, p3);
            else if (k3 == "creation_grace")
              c.gc_dangling_grace = parse_duration(v3, p3);
            else
              bad(p3, "unknown key");
          }
        } else {
          bad(path, "unknown key");
        }
      }
    } else {
      bad(key, "unknown key");
    }
  }
  return c;
}

}  // namespace drover::docker
