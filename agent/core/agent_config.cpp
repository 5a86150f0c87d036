#include "core/agent_config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "api/host_check.hpp"
#include "drover/common/json_text.hpp"
#include "jobspec/did_you_mean.hpp"
#include "jobspec/parse.hpp"
#include "vars/oidc_issuer.hpp"
#include "drover/common/names.hpp"
#include "drover/common/json_text.hpp"

namespace drover::agent {
namespace {

// yaml-cpp scalars are untyped: plain true/false and numbers become JSON bools and numbers,
// quoted scalars stay strings.
nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      auto j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      auto j = nlohmann::json::array();
      for (const auto& item : n) j.push_back(yaml_to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const auto& s = n.Scalar();
      if (n.Tag() == "!") return s;
      if (s == "true") return true;
      if (s == "false") return false;
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0') return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0') return d;
      return s;
    }
    default:
      return nullptr;
  }
}

Status apply_file(const std::string& path, AgentConfig& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return make_error("config " + path + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    return make_error("config " + path + ": line " + std::to_string(e.mark.line + 1) +
                      ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return {};
  if (!root.IsMap()) return make_error("config " + path + ": the top level must be a map");
  nlohmann::json j;
  try {
    j = yaml_to_json(root);
  } catch (const YAML::Exception& e) {
    // A map key that is itself a map or list (found by fuzz_agent_config): an error, not a crash.
    return make_error("config " + path + ": line " + std::to_string(e.mark.line + 1) +
                      ", column " + std::to_string(e.mark.column + 1) +
                      ": map keys must be plain strings");
  }
  static const std::set<std::string> known = {"data_dir",
                                              "plugin_dir",
                                              "runtime_dir",
                                              "bind_addr",
                                              "port",
                                              "log_level",
                                              "name",
                                              "datacenter",
                                              "meta",
                                              "node_class",
                                              "node_pool",
                                              "plugin",
                                              "upstream",
                                              "max_request_bytes",
                                              "max_kill_timeout",
                                              "gc_interval",
                                              "collection_interval",
                                              "gc_max_allocs",
                                              "fingerprint_period",
                                              "gc_disk_usage_threshold",
                                              "job_gc_threshold",
                                              "cgroup_parent",
                                              "cgroup_backend",
                                              "cgroup_favor_dynmods",
                                              "reserved",
                                              "default_pids_max",
                                              "acl",
                                              "tls",
                                              "insecure_listen",
                                              "limits",
                                              "http_allowed_hosts",
                                              "min_dynamic_port",
                                              "max_dynamic_port",
                                              "network_interface",
                                              "host_network",
                                              "artifact",
                                              "host_volume",
                                              "host_volumes_dir",
                                              "host_volume_plugin_dir",
                                              "cni_path",
                                              "cni_config_dir",
                                              "keyring_file",
                                              "oidc_issuer"};
  std::string errors;
  const std::vector<std::string_view> known_list(known.begin(), known.end());
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) errors += "\n  " + k + ": unknown key" + jobspec::detail::did_you_mean(k, known_list);
  auto str = [&](const char* key, auto& out) {
    if (!j.contains(key)) return;
    if (!j[key].is_string()) errors += std::string("\n  ") + key + ": must be a string";
    else out = j[key].get<std::string>();
  };
  std::string data_dir, plugin_dir, runtime_dir;
  str("data_dir", data_dir);
  str("plugin_dir", plugin_dir);
  str("runtime_dir", runtime_dir);
  if (!runtime_dir.empty() && runtime_dir.front() != '/')
    errors += "\n  runtime_dir: must be an absolute path";
  str("bind_addr", c.bind_addr);
  str("log_level", c.log_level);
  str("name", c.node_name);
  str("datacenter", c.datacenter);
  str("node_class", c.node_class);
  str("node_pool", c.node_pool);
  str("keyring_file", c.keyring_file);
  str("oidc_issuer", c.oidc_issuer);
  if (!c.oidc_issuer.empty() && !vars::valid_oidc_issuer(c.oidc_issuer))
    errors += std::string("\n  oidc_issuer: ") + vars::kOidcIssuerRule;
  str("host_volumes_dir", c.host_volumes_dir);
  str("host_volume_plugin_dir", c.host_volume_plugin_dir);
  for (const auto& [key, dir] : {std::pair{"host_volumes_dir", &c.host_volumes_dir},
                                 std::pair{"host_volume_plugin_dir", &c.host_volume_plugin_dir}})
    if (!dir->empty() && dir->front() != '/')
      errors += std::string("\n  ") + key + ": must be an absolute path";
  std::string cni_path, cni_config_dir;
  str("cni_path", cni_path);
  str("cni_config_dir", cni_config_dir);
  if (j.contains("cni_path") && j["cni_path"].is_string()) {
    if (auto dirs = runner::parse_cni_path(cni_path); !dirs)
      errors += "\n  cni_path: " + dirs.message() + " (absolute dirs, separated by ':')";
    else
      c.cni.plugin_dirs = std::move(*dirs);
  }
  if (!cni_config_dir.empty() && cni_config_dir.front() != '/')
    errors += "\n  cni_config_dir: must be an absolute path";
  else if (!cni_config_dir.empty())
    c.cni.config_dir = cni_config_dir;
  if (j.contains("node_pool") && j["node_pool"].is_string()) {
    const auto pool = j["node_pool"].get<std::string>();
    // "all" is not a pool a node can be in: it is what a job asks for to run anywhere.
    if (pool.empty() || pool == "all" || pool.find_first_of("/ \t\n") != std::string::npos)
      errors += "\n  node_pool: must be a pool name (not empty, not \"all\", no spaces or '/')";
  }
  if (!data_dir.empty()) c.data_dir = data_dir;
  if (!plugin_dir.empty()) c.plugin_dir = plugin_dir;
  if (!runtime_dir.empty()) c.runtime_dir = runtime_dir;
  if (j.contains("port")) {
    if (!j["port"].is_number_integer() || j["port"] < 1 || j["port"] > 65535)
      errors += "\n  port: must be an integer from 1 to 65535";
    else c.port = j["port"];
  }
  if (j.contains("max_request_bytes")) {
    if (!j["max_request_bytes"].is_number_integer() || j["max_request_bytes"] < 1024)
      errors += "\n  max_request_bytes: must be an integer of at least 1024";
    else c.max_request_bytes = j["max_request_bytes"];
  }
  if (j.contains("max_kill_timeout")) {
    if (!j["max_kill_timeout"].is_number_integer() || j["max_kill_timeout"] < 1)
      errors += "\n  max_kill_timeout: must be a whole number of seconds, at least 1";
    else c.max_kill_timeout_s = j["max_kill_timeout"];
  }
  // A duration key: a string such as "30s", at least `min` (spelt `min_text` in the error).
  auto duration = [&](const char* key, std::chrono::nanoseconds min, const char* min_text,
                      const char* example, std::chrono::nanoseconds& out) {
    if (!j.contains(key)) return;
    auto d = j[key].is_string() ? jobspec::parse_duration(j[key].get<std::string>())
                                : Result<jobspec::Duration>(make_error("not a string"));
    if (!d || d.value() < min)
      errors += std::string("\n  ") + key + ": must be a duration of at least " + min_text +
                ", such as \"" + example + "\"";
    else
      out = d.value();
  };
  duration("gc_interval", std::chrono::seconds(1), "1s", "1m", c.gc_interval);
  duration("collection_interval", std::chrono::milliseconds(10), "10ms", "1s",
           c.collection_interval);
  duration("job_gc_threshold", std::chrono::seconds(1), "1s", "4h", c.job_gc_threshold);
  duration("fingerprint_period", std::chrono::milliseconds(100), "100ms", "30s",
           c.fingerprint_period);
  if (j.contains("gc_max_allocs")) {
    if (!j["gc_max_allocs"].is_number_integer() || j["gc_max_allocs"] < 0)
      errors += "\n  gc_max_allocs: must be a non-negative integer";
    else c.gc_max_allocs = j["gc_max_allocs"];
  }
  if (j.contains("gc_disk_usage_threshold")) {
    if (!j["gc_disk_usage_threshold"].is_number_integer() || j["gc_disk_usage_threshold"] < 1 ||
        j["gc_disk_usage_threshold"] > 100)
      errors += "\n  gc_disk_usage_threshold: must be a percentage from 1 to 100";
    else c.gc_disk_usage_threshold = j["gc_disk_usage_threshold"];
  }
  str("cgroup_parent", c.cgroup_parent);
  if (j.contains("cgroup_backend")) {
    auto b = j["cgroup_backend"].is_string()
                 ? cgroups::parse_backend(j["cgroup_backend"].get<std::string>())
                 : Result<cgroups::Backend>(make_error("must be a string"));
    if (!b) errors += "\n  cgroup_backend: " + b.message() + " (plain is the default)";
    else c.cgroup_backend = b.value();
  }
  if (j.contains("default_pids_max")) {
    if (!j["default_pids_max"].is_number_integer() || j["default_pids_max"] < 1)
      errors += "\n  default_pids_max: must be a positive integer";
    else c.default_pids_max = j["default_pids_max"];
  }
  if (j.contains("reserved")) {
    const auto& r = j["reserved"];
    if (!r.is_object()) {
      errors += "\n  reserved: must be a map with cpu (MHz), memory (MB), cores";
    } else {
      for (const auto& [k, v] : r.items()) {
        if (k == "cpu" || k == "memory") {
          if (!v.is_number_integer() || v < 0) errors += "\n  reserved." + k + ": must be a non-negative integer";
          else (k == "cpu" ? c.reserved_cpu_mhz : c.reserved_memory_mb) = v;
        } else if (k == "reserved_ports") {
          if (!v.is_string() && !v.is_number_integer())
            errors +=
                "\n  reserved.reserved_ports: must be a port list such as \"22,80,8500-8600\"";
          else if (auto ports =
                       runner::parse_port_list(v.is_string() ? v.get<std::string>() : json_text(v));
                   !ports)
            errors += "\n  reserved.reserved_ports: " + ports.message();
          else
            c.reserved_ports = v.is_string() ? v.get<std::string>() : json_text(v);
        } else if (k == "cores") {
          if (!v.is_string() && !v.is_number_integer()) errors += "\n  reserved.cores: must be a cpu list such as \"0\" or \"0-1\"";
          else c.reserved_cores = v.is_string() ? v.get<std::string>() : std::to_string(v.get<int>());
        } else {
          errors += "\n  reserved." + k + ": unknown key (use cpu, memory, cores, reserved_ports)";
        }
      }
    }
  }
  // A block of known keys: reports unknown ones, and keys of the wrong type, by path.
  auto block = [&](const char* name, const std::set<std::string>& keys) -> const nlohmann::json* {
    if (!j.contains(name)) return nullptr;
    if (!j[name].is_object()) {
      errors += std::string("\n  ") + name + ": must be a map";
      return nullptr;
    }
    const std::vector<std::string_view> list(keys.begin(), keys.end());
    for (const auto& [k, v] : j[name].items())
      if (!keys.count(k))
        errors += std::string("\n  ") + name + "." + k + ": unknown key" + jobspec::detail::did_you_mean(k, list);
    return &j[name];
  };
  auto flag = [&](const nlohmann::json& obj, const std::string& path, const char* key, bool& out) {
    if (!obj.contains(key)) return;
    if (!obj[key].is_boolean()) errors += "\n  " + path + key + ": must be true or false";
    else out = obj[key];
  };
  if (const auto* acl = block("acl", {"enabled"})) flag(*acl, "acl.", "enabled", c.acl_enabled);
  if (j.contains("tls")) api::read_tls_config(j["tls"], c.tls, errors);
  flag(j, "", "insecure_listen", c.insecure_listen);
  flag(j, "", "cgroup_favor_dynmods", c.cgroup_favor_dynmods);
  if (const auto* lim = block("limits", {"http_max_conns_per_client"})) {
    if (lim->contains("http_max_conns_per_client")) {
      const auto& v = (*lim)["http_max_conns_per_client"];
      if (!v.is_number_integer() || v < 1 || v > 1000)
        errors += "\n  limits.http_max_conns_per_client: must be an integer from 1 to 1000";
      else c.http_max_conns_per_client = v;
    }
  }
  if (j.contains("http_allowed_hosts") &&
      !api::read_allowed_hosts(j["http_allowed_hosts"], c.http_allowed_hosts))
    errors += "\n  http_allowed_hosts: must be a list of host names (no scheme or port), "
              "e.g. [drover.example.com]";
  // --- Ports (docs/networking.md) ---
  for (auto [key, out] : {std::pair{"min_dynamic_port", &c.min_dynamic_port},
                          std::pair{"max_dynamic_port", &c.max_dynamic_port}}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_number_integer() || j[key] < 1 || j[key] > 65535)
      errors += std::string("\n  ") + key + ": must be a port from 1 to 65535";
    else
      *out = j[key];
  }
  if (c.min_dynamic_port > c.max_dynamic_port)
    errors += "\n  min_dynamic_port: " + std::to_string(c.min_dynamic_port) +
              " is above max_dynamic_port " + std::to_string(c.max_dynamic_port);
  str("network_interface", c.network_interface);
  if (j.contains("host_network")) {
    // host_network: {name: {cidr | interface, reserved_ports}}, Nomad's host_network blocks.
    if (!j["host_network"].is_object()) {
      errors +=
          "\n  host_network: must be a map of network name to {cidr | interface, reserved_ports}";
    } else {
      for (const auto& [name, h] : j["host_network"].items()) {
        const std::string p = "\n  host_network." + name;
        if (!h.is_object()) {
          errors += p + ": must be a map with cidr or interface, and reserved_ports";
          continue;
        }
        runner::HostNetworkConfig hn;
        hn.name = name;
        for (const auto& [k, v] : h.items()) {
          if ((k == "cidr" || k == "interface") && v.is_string()) {
            (k == "cidr" ? hn.cidr : hn.interface) = v.get<std::string>();
          } else if (k == "reserved_ports" && (v.is_string() || v.is_number_integer())) {
            hn.reserved_ports = v.is_string() ? v.get<std::string>() : json_text(v);
            if (auto ports = runner::parse_port_list(hn.reserved_ports); !ports)
              errors += p + ".reserved_ports: " + ports.message();
          } else if (k == "cidr" || k == "interface" || k == "reserved_ports") {
            errors += p + "." + k + ": must be a string";
          } else {
            errors += p + "." + k + ": unknown key" +
                      jobspec::detail::did_you_mean(k, {"cidr", "interface", "reserved_ports"});
          }
        }
        if (hn.cidr.empty() == hn.interface.empty())
          errors += p + ": needs one of cidr or interface";
        else if (!hn.cidr.empty())
          if (auto a = runner::address_in_cidr(hn.cidr); !a) errors += p + ".cidr: " + a.message();
        if (name == "default")
          errors += p + ": \"default\" is the node's own network (set network_interface)";
        std::erase_if(c.host_networks, [&](const auto& o) { return o.name == name; });
        c.host_networks.push_back(std::move(hn));
      }
    }
  }
  // --- end ports ---
  if (j.contains("host_volume")) {
    // host_volume: {name: {path, read_only}}, Nomad's client host_volume blocks.
    if (!j["host_volume"].is_object()) {
      errors += "\n  host_volume: must be a map of volume name to {path, read_only}";
    } else {
      for (const auto& [name, h] : j["host_volume"].items()) {
        const std::string p = "\n  host_volume." + name;
        if (auto why = plain_name_problem(name)) {
          errors += p + ": " + *why;
          continue;
        }
        if (!h.is_object()) {
          errors += p + ": must be a map with path and read_only";
          continue;
        }
        runner::HostVolume hv;
        for (const auto& [k, v] : h.items()) {
          if (k == "path" && v.is_string()) {
            hv.path = v.get<std::string>();
          } else if (k == "read_only" && v.is_boolean()) {
            hv.read_only = v.get<bool>();
          } else if (k == "path" || k == "read_only") {
            errors += p + "." + k + (k == "path" ? ": must be a string" : ": must be true or false");
          } else {
            errors += p + "." + k + ": unknown key" +
                      jobspec::detail::did_you_mean(k, {"path", "read_only"});
          }
        }
        if (auto ok = runner::check_host_volume(hv); !ok) errors += p + "." + ok.message();
        c.host_volumes[name] = std::move(hv);
      }
    }
  }
  if (j.contains("upstream")) c.upstream = j["upstream"];
  if (j.contains("meta")) {
    if (!j["meta"].is_object()) errors += "\n  meta: must be a map";
    else
      for (const auto& [k, v] : j["meta"].items())
        c.meta[k] = v.is_string() ? v.get<std::string>() : json_text(v);
  }
  if (j.contains("plugin")) {
    if (!j["plugin"].is_object()) {
      errors += "\n  plugin: must be a map of plugin name to {enabled, config}";
    } else {
      for (const auto& [name, p] : j["plugin"].items()) {
        if (!p.is_object()) {
          errors += "\n  plugin." + name + ": must be a map with enabled and/or config";
          continue;
        }
        nlohmann::json cfg = nlohmann::json::object();
        for (const auto& [k, v] : p.items()) {
          if (k == "config") {
            if (!v.is_object() && !v.is_null()) errors += "\n  plugin." + name + ".config: must be a map";
            else if (v.is_object()) cfg.update(v);
          } else if (k == "enabled") {
            if (!v.is_boolean()) errors += "\n  plugin." + name + ".enabled: must be true or false";
            else cfg["enabled"] = v;
          } else {
            errors += "\n  plugin." + name + "." + k + ": unknown key" +
                      jobspec::detail::did_you_mean(k, {"enabled", "config"}) +
                      " (use enabled or config)";
          }
        }
        // A later file (an agent.d drop-in) adds to a plugin's config instead of replacing it.
        if (!c.plugins.contains(name)) c.plugins[name] = nlohmann::json::object();
        c.plugins[name].update(cfg);
      }
    }
  }
  // --- Artifacts (docs/artifacts.md, "Agent config") ---
  if (const auto* art =
          block("artifact", {"http_read_timeout", "http_max_size", "http_retries", "git_timeout",
                             "decompression_size_limit", "decompression_file_count_limit",
                             "file_allowed_dirs", "git_allow_sshkey"})) {
    auto& a = c.artifact;
    for (auto [key, out] : {std::pair{"http_read_timeout", &a.http_read_timeout},
                            std::pair{"git_timeout", &a.git_timeout}}) {
      if (!art->contains(key)) continue;
      auto d = (*art)[key].is_string() ? jobspec::parse_duration((*art)[key].get<std::string>())
                                       : Result<jobspec::Duration>(make_error(""));
      if (!d || d->count() < 1'000'000'000)
        errors += std::string("\n  artifact.") + key +
                  ": must be a duration of at least 1s, such as \"30m\"";
      else
        *out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
    // Sizes: a whole number of bytes, or a number with KB, MB, GB (powers of 1000) or KiB,
    // MiB, GiB (powers of 1024), as "100GB" in Nomad's config.
    auto size = [&](const char* key, std::uint64_t& out) {
      if (!art->contains(key)) return;
      const auto& v = (*art)[key];
      std::optional<std::uint64_t> bytes;
      if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() > 0)) {
        bytes = v.get<std::uint64_t>();
      } else if (v.is_string()) {
        const std::string s = v.get<std::string>();
        std::size_t digits = 0;
        while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
        static const std::map<std::string, std::uint64_t> units = {{"", 1},
                                                                   {"B", 1},
                                                                   {"KB", 1000},
                                                                   {"MB", 1000'000},
                                                                   {"GB", 1000'000'000},
                                                                   {"KiB", 1 << 10},
                                                                   {"MiB", 1 << 20},
                                                                   {"GiB", 1 << 30}};
        auto unit = units.find(s.substr(digits));
        if (digits > 0 && digits < 12 && unit != units.end())
          bytes = std::stoull(s.substr(0, digits)) * unit->second;
      }
      if (!bytes || *bytes == 0)
        errors += std::string("\n  artifact.") + key +
                  ": must be a size such as \"2GiB\" or \"500MB\", or a number of bytes";
      else
        out = *bytes;
    };
    size("http_max_size", a.http_max_size);
    size("decompression_size_limit", a.decompression_size_limit);
    if (art->contains("decompression_file_count_limit")) {
      const auto& v = (*art)["decompression_file_count_limit"];
      if (!v.is_number_integer() || v < 1)
        errors += "\n  artifact.decompression_file_count_limit: must be a whole number, at least 1";
      else
        a.decompression_file_count_limit = v.get<std::uint64_t>();
    }
    if (art->contains("http_retries")) {
      const auto& v = (*art)["http_retries"];
      if (!v.is_number_integer() || v < 0 || v > 10)
        errors += "\n  artifact.http_retries: must be a whole number from 0 to 10";
      else
        a.http_retries = v;
    }
    if (art->contains("file_allowed_dirs")) {
      const auto& v = (*art)["file_allowed_dirs"];
      bool ok = v.is_array();
      if (ok)
        for (const auto& d : v)
          ok = ok && d.is_string() && !d.get<std::string>().empty() &&
               d.get<std::string>()[0] == '/';
      if (!ok) {
        errors += "\n  artifact.file_allowed_dirs: must be a list of absolute directory paths";
      } else {
        a.file_allowed_dirs.clear();
        for (const auto& d : v) a.file_allowed_dirs.emplace_back(d.get<std::string>());
      }
    }
    flag(*art, "artifact.", "git_allow_sshkey", a.git_allow_sshkey);
  }
  if (!errors.empty()) return make_error("config " + path + ":" + errors);
  return {};
}

// A file, or a directory whose *.yaml / *.yml / *.json files are applied in name order (as
// /etc/drover/agent.d/). Every file is read even after one fails, so that one run reports
// every error.
Status apply_path(const std::string& path, AgentConfig& c) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return apply_file(path, c);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    auto ext = e.path().extension().string();
    if ((ext == ".yaml" || ext == ".yml" || ext == ".json") && !e.is_directory())
      files.push_back(e.path().string());
  }
  if (ec) return make_error("config " + path + ": cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  std::string errors;
  for (const auto& f : files)
    if (auto st = apply_file(f, c); !st) errors += (errors.empty() ? "" : "\n") + st.message();
  if (!errors.empty()) return make_error(errors);
  return {};
}

}  // namespace

Status validate_agent_config(const std::vector<std::string>& paths) {
  AgentConfig c;
  std::string errors;
  for (const auto& p : paths)
    if (auto st = apply_path(p, c); !st) errors += (errors.empty() ? "" : "\n") + st.message();
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  if (!levels.count(c.log_level))
    errors += (errors.empty() ? "" : "\n") + std::string("log_level: \"") + c.log_level +
              "\" is not one of trace, debug, info, warn, error";
  if (!errors.empty()) return make_error(errors);
  return {};
}

std::filesystem::path default_plugin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto build_tree = exe.parent_path().parent_path() / "plugins-out";
    if (std::filesystem::is_directory(build_tree, ec)) return build_tree;
    auto installed = exe.parent_path().parent_path() / "lib" / "drover" / "plugins";
    if (std::filesystem::is_directory(installed, ec)) return installed;
  }
  return "/usr/lib/drover/plugins";
}

Result<AgentConfig> load_agent_config(const AgentFlags& flags) {
  AgentConfig c;
  c.dev = flags.dev;
  {
    std::string errors;
    for (const auto& p : flags.config_paths)
      if (auto st = apply_path(p, c); !st) errors += (errors.empty() ? "" : "\n") + st.message();
    if (!errors.empty()) return make_error(errors);
  }
  if (!flags.data_dir.empty()) c.data_dir = flags.data_dir;
  if (!flags.plugin_dir.empty()) c.plugin_dir = flags.plugin_dir;
  if (!flags.bind.empty()) c.bind_addr = flags.bind;
  if (flags.port != 0) {
    if (flags.port < 1 || flags.port > 65535) return make_error("-port: must be from 1 to 65535");
    c.port = flags.port;
  }
  if (!flags.log_level.empty()) c.log_level = flags.log_level;
  static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
  if (!levels.count(c.log_level))
    return make_error("log_level: \"" + c.log_level + "\" is not one of trace, debug, info, warn, error");
  if (c.node_name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    c.node_name = host;
  }
  if (c.plugin_dir.empty()) c.plugin_dir = default_plugin_dir();
  if (c.dev) {
    // Dev mode runs the example jobs on this machine: raw_exec on unless the file says no.
    if (!c.plugins.contains("raw_exec")) c.plugins["raw_exec"] = nlohmann::json::object();
    if (!c.plugins["raw_exec"].contains("enabled")) c.plugins["raw_exec"]["enabled"] = true;
    // As Nomad's -dev: ports are handed out on the loopback interface.
    if (c.network_interface.empty()) c.network_interface = "lo";
    if (c.data_dir.empty()) {
      char tmpl[] = "/tmp/drover-dev-XXXXXX";
      if (!mkdtemp(tmpl)) return make_error("-dev: cannot create a temp data dir in /tmp");
      c.data_dir = tmpl;
      c.data_dir_is_temp = true;
    }
  }
  if (auto st = api::check_tls_config(c.tls); !st) return st.error();
  if (c.data_dir.empty())
    return make_error("data_dir: required (set it in the config file, or pass -data-dir, or use -dev)");
  // A throwaway dev agent keeps everything under its temp dir; any other shares /run/drover
  // (its task dirs are named by alloc ID, which no two agents share).
  if (c.runtime_dir.empty()) c.runtime_dir = c.data_dir_is_temp ? c.data_dir / "run" : "/run/drover";
  return c;
}

}  // namespace drover::agent
