// docker task Config checks (see task_config.hpp). Unknown keys are refused by name: a job
// that sets a key this driver does not honour must not run as if it did. Security refusals
// are made here and again at start, before any call to the daemon.
#include "task_config.hpp"

#include <algorithm>
#include <set>

namespace drover::docker {
namespace {

const std::set<std::string> kKnownKeys{
    "image",          "command",          "args",         "entrypoint",         "work_dir",
    "labels",         "hostname",         "network_mode", "cap_add",            "cap_drop",
    "privileged",     "volumes",          "mounts",       "mount",              "force_pull",
    "load",           "auth",             "shm_size",     "ulimit",             "ports",
    "port_map",       "pid_mode",         "ipc_mode",     "runtime",            "dns_servers",
    "dns_search_domains", "dns_options",  "extra_hosts",  "init",               "readonly_rootfs",
    "security_opt",   "sysctl",           "group_add",    "uts_mode",           "userns_mode",
    "auth_soft_fail", "image_pull_timeout", "memory_hard_limit", "oom_score_adj", "mac_address",
    "devices",        "logging",          "healthchecks", "pids_limit",         "cpu_hard_limit",
    "cpu_cfs_period"};

// HCL writes a nested block as a list of objects (`logging { config { ... } }` is
// "logging": [{"config": [{...}]}]); JSON and YAML write an object. Both mean one object.
const nlohmann::json* one_object(const nlohmann::json& v) {
  if (v.is_object()) return &v;
  if (v.is_array() && v.size() == 1 && v[0].is_object()) return &v[0];
  return nullptr;
}

// A map of strings, also from a list of maps (an HCL block); numbers and bools become text,
// as Nomad's HCL decoding makes them.
bool read_string_map(const nlohmann::json& v, std::map<std::string, std::string>* out) {
  std::vector<const nlohmann::json*> maps;
  if (v.is_object()) maps.push_back(&v);
  else if (v.is_array()) {
    for (const auto& m : v) {
      if (!m.is_object()) return false;
      maps.push_back(&m);
    }
  } else {
    return false;
  }
  for (const auto* m : maps)
    for (const auto& [k, e] : m->items()) {
      std::string text;
      if (e.is_string()) text = e.get<std::string>();
      else if (e.is_number() || e.is_boolean()) text = e.dump();
      else return false;
      if (text.find('\0') != std::string::npos || k.find('\0') != std::string::npos) return false;
      if (out) (*out)[k] = text;
    }
  return true;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

class Checker {
 public:
  Checker(const nlohmann::json& c, std::vector<std::string>& p) : c_(c), p_(p) {}

  const nlohmann::json* get(const std::string& key) const {
    auto it = c_.find(key);
    return (it == c_.end() || it->is_null()) ? nullptr : &*it;
  }
  void problem(const std::string& key, const std::string& what) {
    p_.push_back("config." + key + ": " + what);
  }
  void string(const std::string& key) {
    if (auto v = get(key)) {
      if (!v->is_string())
        problem(key, "must be a string");
      else if (has_nul(v->get<std::string>()))
        problem(key, "must not contain NUL");
    }
  }
  void boolean(const std::string& key) {
    if (auto v = get(key); v && !v->is_boolean()) problem(key, "must be true or false");
  }
  void string_list(const std::string& key) {
    if (auto v = get(key)) {
      if (!v->is_array()) return problem(key, "must be a list of strings");
      for (size_t i = 0; i < v->size(); ++i) {
        if (!(*v)[i].is_string() || has_nul((*v)[i].get<std::string>())) {
          problem(key + "[" + std::to_string(i) + "]", "must be a string without NUL");
        }
      }
    }
  }
  void string_map(const std::string& key) {
    if (auto v = get(key)) {
      if (!v->is_object()) return problem(key, "must be a map of strings");
      for (const auto& [k, e] : v->items()) {
        if (!e.is_string() || has_nul(e.get<std::string>()) || has_nul(k)) {
          problem(key + "." + k, "must be a string without NUL");
        }
      }
    }
  }

 private:
  const nlohmann::json& c_;
  std::vector<std::string>& p_;
};

std::string str(const nlohmann::json& c, const char* key) {
  auto it = c.find(key);
  return (it == c.end() || !it->is_string()) ? std::string() : it->get<std::string>();
}

bool parse_ulimit(const std::string& v, long long& soft, long long& hard) {
  auto colon = v.find(':');
  try {
    size_t used = 0;
    std::string a = v.substr(0, colon);
    soft = std::stoll(a, &used);
    if (used != a.size() || soft < 0) return false;
    if (colon == std::string::npos) {
      hard = soft;
      return true;
    }
    std::string b = v.substr(colon + 1);
    hard = std::stoll(b, &used);
    return used == b.size() && hard >= soft;
  } catch (...) {
    return false;
  }
}


// `mounts` (drover's first name) and `mount` (Nomad's block): bind, volume and tmpfs mounts.
void check_mounts(Checker& c, const std::string& list_key, const PluginConfig& plugin) {
  const nlohmann::json* ms = c.get(list_key);
  if (!ms) return;
  if (!ms->is_array()) return c.problem(list_key, "must be a list of mount objects");
  static const std::set<std::string> kMountKeys{"type",         "source",         "target",
                                                "readonly",     "tmpfs_options",  "bind_options",
                                                "volume_options"};
  for (size_t i = 0; i < ms->size(); ++i) {
    const auto& m = (*ms)[i];
    const std::string key = list_key + "[" + std::to_string(i) + "]";
    if (!m.is_object()) {
      c.problem(key, "must be an object with type, source, target, readonly");
      continue;
    }
    for (const auto& [k, v] : m.items())
      if (!kMountKeys.count(k)) c.problem(key + "." + k, "unknown key");
    if ((m.contains("type") && !m["type"].is_string()) ||
        (m.contains("source") && !m["source"].is_string()) ||
        (m.contains("target") && !m["target"].is_string())) {
      c.problem(key, "type, source and target must be strings");
      continue;
    }
    std::string type = m.value("type", "bind");
    std::string source = m.value("source", "");
    std::string target = m.value("target", "");
    if (target.empty() || target[0] != '/') c.problem(key + ".target", "must be an absolute path");
    if (m.contains("readonly") && !m["readonly"].is_boolean())
      c.problem(key + ".readonly", "must be true or false");
    auto options = [&](const char* name, bool allowed_here) -> const nlohmann::json* {
      auto it = m.find(name);
      if (it == m.end() || it->is_null()) return nullptr;
      if (!allowed_here) {
        c.problem(key + "." + name, "only for a " + std::string(name).substr(0, std::string(name).find('_')) + " mount");
        return nullptr;
      }
      const nlohmann::json* o = one_object(*it);
      if (!o) c.problem(key + "." + name, "must be an object");
      return o;
    };
    if (type == "bind") {
      if (source.empty())
        c.problem(key + ".source", "required for a bind mount");
      else if (source[0] == '/' && !plugin.volumes_enabled)
        c.problem(key,
                  "host bind mounts are disabled on this node (set "
                  "plugin.docker.config.volumes.enabled: true)");
      if (auto* b = options("bind_options", true)) {
        for (const auto& [k, v] : b->items()) {
          static const std::set<std::string> kProp{"private", "rprivate", "shared",
                                                   "rshared", "slave",    "rslave"};
          if (k != "propagation")
            c.problem(key + ".bind_options." + k, "unknown key (propagation)");
          else if (!v.is_string() || !kProp.count(v.get<std::string>()))
            c.problem(key + ".bind_options.propagation",
                      "must be private, rprivate, shared, rshared, slave or rslave");
        }
      }
    } else if (type == "volume") {
      if (!plugin.volumes_enabled)
        c.problem(key,
                  "named volumes are disabled on this node (set "
                  "plugin.docker.config.volumes.enabled: true)");
      if (auto* o = options("volume_options", true)) {
        for (const auto& [k, v] : o->items()) {
          if (k == "no_copy") {
            if (!v.is_boolean()) c.problem(key + ".volume_options.no_copy", "must be true or false");
          } else if (k == "labels") {
            if (!read_string_map(v, nullptr))
              c.problem(key + ".volume_options.labels", "must be a map of strings");
          } else if (k == "driver_config") {
            const nlohmann::json* d = one_object(v);
            if (!d) {
              c.problem(key + ".volume_options.driver_config", "must be {name, options}");
              continue;
            }
            for (const auto& [dk, dv] : d->items()) {
              if (dk == "name" ? !dv.is_string()
                               : dk == "options" ? !read_string_map(dv, nullptr) : true)
                c.problem(key + ".volume_options.driver_config." + dk,
                          "must be name (a string) or options (a map of strings)");
            }
          } else {
            c.problem(key + ".volume_options." + k, "unknown key (no_copy, labels, driver_config)");
          }
        }
      }
    } else if (type == "tmpfs") {
      if (auto* t = options("tmpfs_options", true)) {
        for (const auto& [k, v] : t->items()) {
          if ((k != "size" && k != "mode") || !v.is_number_integer() || v.get<long long>() < 0)
            c.problem(key + ".tmpfs_options." + k, "must be size or mode, a non-negative integer");
        }
      }
    } else {
      c.problem(key + ".type", "must be bind, volume or tmpfs");
      continue;
    }
    if (type != "bind") options("bind_options", false);
    if (type != "volume") options("volume_options", false);
    if (type != "tmpfs") options("tmpfs_options", false);
  }
}

// The options a Nomad user's docker jobs carry beyond the basics; each refusal names the key
// and, for one that weakens isolation, the plugin option that would allow it.
void further_options(Checker& c, const nlohmann::json& config, const PluginConfig& plugin) {
  for (const char* k : {"dns_servers", "dns_search_domains", "dns_options", "extra_hosts",
                        "security_opt", "group_add"})
    c.string_list(k);
  for (const char* k : {"init", "readonly_rootfs", "auth_soft_fail", "cpu_hard_limit"}) c.boolean(k);
  // Nomad's bounds: the kernel takes a CFS period of 1 ms to 1 s (0: the default, 100 ms).
  if (auto v = c.get("cpu_cfs_period"); v && (!v->is_number_integer() || (v->get<long long>() != 0 &&
                                                                          (v->get<long long>() < 1000 || v->get<long long>() > 1000000))))
    c.problem("cpu_cfs_period", "must be microseconds from 1000 to 1000000 (0: 100000)");
  for (const char* k : {"uts_mode", "userns_mode", "mac_address"}) c.string(k);
  if (auto v = c.get("extra_hosts"); v && v->is_array())
    for (size_t i = 0; i < v->size(); ++i)
      if ((*v)[i].is_string() && (*v)[i].get<std::string>().find(':') == std::string::npos)
        c.problem("extra_hosts[" + std::to_string(i) + "]", "must be \"host:ip\"");
  for (const char* k : {"uts_mode", "userns_mode"}) {
    std::string mode = str(config, k);
    if (!mode.empty() && mode != "host")
      c.problem(k, "must be \"host\" or left out (got \"" + mode + "\")");
    else if (mode == "host" && !plugin.allow_privileged)
      c.problem(k, std::string("the host's ") + (k[0] == 'u' && k[1] == 't' ? "uts" : "user") +
                       " namespace is disabled on this node (set "
                       "plugin.docker.config.allow_privileged: true)");
  }
  if (auto v = c.get("security_opt"); v && v->is_array() && !plugin.allow_privileged) {
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) continue;
      const std::string o = (*v)[i].get<std::string>();
      if (weakens_isolation(o))
        c.problem("security_opt[" + std::to_string(i) + "]",
                  "\"" + o + "\" turns a protection off and is disabled on this node (set "
                  "plugin.docker.config.allow_privileged: true)");
    }
  }
  if (auto v = c.get("sysctl"); v && !read_string_map(*v, nullptr))
    c.problem("sysctl", "must be a map of sysctl name to value");
  if (auto v = c.get("image_pull_timeout")) {
    try {
      (void)parse_duration(*v, "image_pull_timeout");
    } catch (const std::exception&) {
      c.problem("image_pull_timeout", "must be a duration such as \"5m\"");
    }
  }
  if (c.get("memory_hard_limit"))
    c.problem("memory_hard_limit",
              "not supported: use the task's resources.memory_max (Nomad's replacement for it), "
              "which the task's cgroup enforces");
  if (auto v = c.get("oom_score_adj");
      v && (!v->is_number_integer() || v->get<long long>() < 0 || v->get<long long>() > 1000))
    c.problem("oom_score_adj", "must be an integer from 0 to 1000 (a task may not protect itself)");
  if (auto v = c.get("pids_limit"); v && (!v->is_number_integer() || v->get<long long>() < 1))
    c.problem("pids_limit", "must be a positive integer");
  if (auto v = c.get("devices")) {
    if (!v->is_array()) {
      c.problem("devices", "must be a list of {host_path, container_path, cgroup_permissions}");
    } else {
      if (!v->empty() && !plugin.allow_privileged)
        c.problem("devices",
                  "host devices are disabled on this node (set "
                  "plugin.docker.config.allow_privileged: true; GPUs come through a device "
                  "plugin instead)");
      for (size_t i = 0; i < v->size(); ++i) {
        const auto& d = (*v)[i];
        const std::string key = "devices[" + std::to_string(i) + "]";
        if (!d.is_object()) {
          c.problem(key, "must be an object");
          continue;
        }
        for (const auto& [k, e] : d.items()) {
          if (k != "host_path" && k != "container_path" && k != "cgroup_permissions")
            c.problem(key + "." + k, "unknown key");
          else if (!e.is_string())
            c.problem(key + "." + k, "must be a string");
        }
        std::string host = d.value("host_path", "");
        if (host.rfind("/dev/", 0) != 0 || host.find("..") != std::string::npos)
          c.problem(key + ".host_path", "must be a device under /dev/");
        std::string perms = d.value("cgroup_permissions", "rwm");
        if (perms.empty() || perms.find_first_not_of("rwm") != std::string::npos)
          c.problem(key + ".cgroup_permissions", "must be letters of \"rwm\"");
      }
    }
  }
  if (auto v = c.get("logging")) {
    const nlohmann::json* l = one_object(*v);
    if (!l) {
      c.problem("logging", "must be {type, config}");
    } else {
      for (const auto& [k, e] : l->items()) {
        if (k == "type" || k == "driver") {
          static const std::set<std::string> kFollowable{"json-file", "local", "journald"};
          if (!e.is_string() || !kFollowable.count(e.get<std::string>()))
            c.problem("logging." + k,
                      "must be json-file, local or journald: the driver reads the container's "
                      "logs back through the Engine API, which other log drivers do not serve");
        } else if (k == "config") {
          if (!read_string_map(e, nullptr)) c.problem("logging.config", "must be a map of strings");
        } else {
          c.problem("logging." + k, "unknown key (type, config)");
        }
      }
    }
  }
  if (auto v = c.get("healthchecks")) {
    const nlohmann::json* h = one_object(*v);
    if (!h) c.problem("healthchecks", "must be {disable}");
    else
      for (const auto& [k, e] : h->items())
        if (k != "disable" || !e.is_boolean())
          c.problem("healthchecks." + k, "only disable = true or false");
  }
}

}  // namespace

bool weakens_isolation(const std::string& o) {
  return o.find("unconfined") != std::string::npos || o == "label=disable" ||
         o == "label:disable" || o == "no-new-privileges=false" || o == "no-new-privileges:false";
}

bool split_volume(const std::string& spec, std::string& src, std::string& dst, bool& readonly) {
  auto first = spec.find(':');
  if (first == std::string::npos || first == 0) return false;
  src = spec.substr(0, first);
  std::string rest = spec.substr(first + 1);
  readonly = false;
  auto second = rest.find(':');
  if (second != std::string::npos) {
    std::string mode = rest.substr(second + 1);
    rest = rest.substr(0, second);
    if (mode == "ro")
      readonly = true;
    else if (mode != "rw")
      return false;
  }
  dst = rest;
  return !dst.empty() && dst[0] == '/';
}

std::vector<std::string> config_problems(const nlohmann::json& config, const PluginConfig& plugin) {
  std::vector<std::string> p;
  if (!config.is_object()) {
    p.push_back("config: must be an object with at least \"image\"");
    return p;
  }
  Checker c(config, p);
  for (const auto& [key, value] : config.items()) {
    if (!kKnownKeys.count(key)) c.problem(key, "unknown key for the docker driver");
  }
  if (auto v = c.get("image"); !v) {
    c.problem("image", "required");
  } else if (!v->is_string() || v->get<std::string>().empty()) {
    c.problem("image", "must be a non-empty string");
  } else if (const auto& img = v->get_ref<const std::string&>();
             img.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789._/:@-") != std::string::npos ||
             img.find("..") != std::string::npos || img[0] == '/' || img[0] == '-') {
    // The name goes into Engine API paths: nothing that could steer the request elsewhere.
    c.problem("image", "\"" + img + "\" is not a valid image reference");
  }
  for (const char* k : {"command", "work_dir", "hostname", "network_mode", "load", "pid_mode",
                        "ipc_mode", "runtime"}) {
    c.string(k);
  }
  for (const char* k : {"privileged", "force_pull"}) c.boolean(k);
  for (const char* k : {"args", "entrypoint", "cap_add", "cap_drop", "volumes", "ports"}) {
    c.string_list(k);
  }
  c.string_map("labels");
  c.string_map("ulimit");
  if (auto w = c.get("work_dir");
      w && w->is_string() && !w->get<std::string>().empty() && w->get<std::string>()[0] != '/') {
    c.problem("work_dir", "must be an absolute path inside the container");
  }
  if (auto l = c.get("labels"); l && l->is_object()) {
    for (const auto& [k, v] : l->items()) {
      if (k.rfind("com.drover.", 0) == 0)
        c.problem("labels." + k, "the com.drover. prefix is reserved");
    }
  }
  if (auto l = c.get("load"); l && l->is_string()) {
    const auto& s = l->get_ref<const std::string&>();
    if (s.empty() || s[0] == '/' || s.find("..") != std::string::npos) {
      c.problem("load", "must be a path relative to the task dir, without \"..\"");
    }
  }
  if (auto s = c.get("shm_size"); s && (!s->is_number_integer() || s->get<long long>() < 0)) {
    c.problem("shm_size", "must be a non-negative number of bytes");
  }
  if (auto u = c.get("ulimit"); u && u->is_object()) {
    for (const auto& [k, v] : u->items()) {
      long long soft, hard;
      if (v.is_string() && !parse_ulimit(v.get<std::string>(), soft, hard)) {
        c.problem("ulimit." + k, "must be \"soft\" or \"soft:hard\" with soft <= hard");
      }
    }
  }
  if (auto a = c.get("auth"); a) {
    if (!a->is_object()) {
      c.problem("auth", "must be an object with username, password, email, server_address");
    } else {
      for (const auto& [k, v] : a->items()) {
        if (k != "username" && k != "password" && k != "email" && k != "server_address") {
          c.problem("auth." + k, "unknown key");
        } else if (!v.is_string()) {
          c.problem("auth." + k, "must be a string");
        }
      }
    }
  }
  // port_map: a map, or the list of maps an HCL `port_map { http = 8080 }` block becomes.
  if (auto pm = c.get("port_map"); pm) {
    bool list_of_maps = pm->is_array() && std::all_of(pm->begin(), pm->end(), [](const auto& m) {
                          return m.is_object();
                        });
    if (!pm->is_object() && !list_of_maps) {
      c.problem("port_map", "must be a map of port label to container port");
    } else {
      for (const auto& m : pm->is_object() ? nlohmann::json::array({*pm}) : *pm) {
        for (const auto& [k, v] : m.items()) {
          if (!v.is_number_integer() || v.get<int>() <= 0 || v.get<int>() > 65535) {
            c.problem("port_map." + k, "must be a port number 1-65535");
          }
        }
      }
    }
  }

  // Secure defaults: each refusal names the plugin option that would allow it.
  if (auto v = c.get("privileged");
      v && v->is_boolean() && v->get<bool>() && !plugin.allow_privileged) {
    c.problem("privileged",
              "privileged containers are disabled on this node (set "
              "plugin.docker.config.allow_privileged: true)");
  }
  for (const char* k : {"pid_mode", "ipc_mode"}) {
    if (str(config, k) == "host" && !plugin.allow_privileged) {
      c.problem(k, std::string("host ") + (k[0] == 'p' ? "pid" : "ipc") +
                       " namespace is disabled on this node (set "
                       "plugin.docker.config.allow_privileged: true)");
    }
  }
  if (std::string rt = str(config, "runtime"); !rt.empty() && !plugin.allow_runtimes.count(rt)) {
    c.problem("runtime", "runtime \"" + rt +
                             "\" is not allowed on this node (add it to "
                             "plugin.docker.config.allow_runtimes)");
  }
  if (auto add = c.get("cap_add"); add && add->is_array()) {
    std::vector<std::string> refused;
    for (const auto& e : *add) {
      if (!e.is_string()) continue;
      std::string cap = normalize_cap(e.get<std::string>());
      if (!plugin.allow_caps.count("ALL") && !plugin.allow_caps.count(cap)) refused.push_back(cap);
    }
    if (!refused.empty()) {
      std::string list;
      for (const auto& r : refused) list += (list.empty() ? "" : ", ") + r;
      c.problem("cap_add", "capabilities not allowed on this node: " + list +
                               " (add them to plugin.docker.config.allow_caps)");
    }
  }
  if (auto vols = c.get("volumes"); vols && vols->is_array()) {
    for (size_t i = 0; i < vols->size(); ++i) {
      if (!(*vols)[i].is_string()) continue;
      std::string src, dst;
      bool ro;
      const std::string key = "volumes[" + std::to_string(i) + "]";
      if (!split_volume((*vols)[i].get<std::string>(), src, dst, ro)) {
        c.problem(key, "must be \"source:/container/path[:ro]\"");
      } else if (src[0] == '/' && !plugin.volumes_enabled) {
        c.problem(key,
                  "host volumes are disabled on this node (set "
                  "plugin.docker.config.volumes.enabled: true)");
      }
    }
  }
  for (const char* list_key : {"mounts", "mount"}) check_mounts(c, list_key, plugin);
  further_options(c, config, plugin);
  return p;
}

TaskConfig read_config(const nlohmann::json& c) {
  TaskConfig t;
  auto list = [&](const char* k) {
    auto it = c.find(k);
    return (it == c.end() || it->is_null()) ? std::vector<std::string>{}
                                            : it->get<std::vector<std::string>>();
  };
  t.image = str(c, "image");
  t.command = str(c, "command");
  t.args = list("args");
  t.entrypoint = list("entrypoint");
  t.work_dir = str(c, "work_dir");
  if (auto it = c.find("labels"); it != c.end() && it->is_object()) {
    t.labels = it->get<std::map<std::string, std::string>>();
  }
  t.hostname = str(c, "hostname");
  t.network_mode = str(c, "network_mode");
  for (auto& cap : list("cap_add")) t.cap_add.push_back(normalize_cap(cap));
  for (auto& cap : list("cap_drop")) t.cap_drop.push_back(normalize_cap(cap));
  t.privileged = c.value("privileged", nlohmann::json(false)).is_boolean() &&
                 c.value("privileged", nlohmann::json(false)).get<bool>();
  t.volumes = list("volumes");
  for (const char* list_key : {"mounts", "mount"}) {
    auto it = c.find(list_key);
    if (it == c.end() || !it->is_array()) continue;
    for (const auto& m : *it) {
      Mount x;
      x.type = m.value("type", "bind");
      x.source = m.value("source", "");
      x.target = m.value("target", "");
      x.readonly = m.value("readonly", false);
      if (auto o = m.find("tmpfs_options"); o != m.end())
        if (const auto* t2 = one_object(*o)) {
          x.tmpfs_size = t2->value("size", 0LL);
          x.tmpfs_mode = t2->value("mode", 0);
        }
      if (auto o = m.find("bind_options"); o != m.end())
        if (const auto* b = one_object(*o)) x.propagation = b->value("propagation", "");
      if (auto o = m.find("volume_options"); o != m.end())
        if (const auto* v = one_object(*o)) {
          x.no_copy = v->value("no_copy", false);
          if (auto l = v->find("labels"); l != v->end()) read_string_map(*l, &x.volume_labels);
          if (auto d = v->find("driver_config"); d != v->end())
            if (const auto* dc = one_object(*d)) {
              x.volume_driver = dc->value("name", "");
              if (auto op = dc->find("options"); op != dc->end())
                read_string_map(*op, &x.volume_driver_options);
            }
        }
      t.mounts.push_back(x);
    }
  }
  t.force_pull = c.value("force_pull", nlohmann::json(false)).is_boolean() &&
                 c.value("force_pull", nlohmann::json(false)).get<bool>();
  t.load = str(c, "load");
  if (auto it = c.find("auth"); it != c.end() && it->is_object()) t.auth = *it;
  if (auto it = c.find("shm_size"); it != c.end() && it->is_number_integer()) {
    t.shm_size = it->get<long long>();
  }
  if (auto it = c.find("ulimit"); it != c.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      Ulimit u{k};
      parse_ulimit(v.get<std::string>(), u.soft, u.hard);
      t.ulimits.push_back(u);
    }
  }
  t.ports = list("ports");
  if (auto it = c.find("port_map"); it != c.end()) {
    for (const auto& m : it->is_object() ? nlohmann::json::array({*it}) : *it) {
      for (const auto& [k, v] : m.items()) t.port_map[k] = v.get<int>();
    }
  }
  t.pid_mode = str(c, "pid_mode");
  t.ipc_mode = str(c, "ipc_mode");
  t.runtime = str(c, "runtime");
  t.dns_servers = list("dns_servers");
  t.dns_search_domains = list("dns_search_domains");
  t.dns_options = list("dns_options");
  t.extra_hosts = list("extra_hosts");
  t.security_opt = list("security_opt");
  t.group_add = list("group_add");
  auto flag = [&](const char* k) {
    auto it = c.find(k);
    return it != c.end() && it->is_boolean() && it->get<bool>();
  };
  t.init = flag("init");
  t.readonly_rootfs = flag("readonly_rootfs");
  t.auth_soft_fail = flag("auth_soft_fail");
  t.cpu_hard_limit = flag("cpu_hard_limit");
  if (auto it = c.find("cpu_cfs_period"); it != c.end() && it->is_number_integer() && it->get<long long>() > 0)
    t.cpu_cfs_period_us = it->get<long long>();
  if (auto it = c.find("sysctl"); it != c.end() && !it->is_null()) read_string_map(*it, &t.sysctl);
  t.uts_mode = str(c, "uts_mode");
  t.userns_mode = str(c, "userns_mode");
  t.mac_address = str(c, "mac_address");
  if (auto it = c.find("image_pull_timeout"); it != c.end() && !it->is_null())
    t.image_pull_timeout_ms = parse_duration(*it, "image_pull_timeout").count();
  if (auto it = c.find("oom_score_adj"); it != c.end() && it->is_number_integer())
    t.oom_score_adj = it->get<int>();
  if (auto it = c.find("pids_limit"); it != c.end() && it->is_number_integer())
    t.pids_limit = it->get<long long>();
  if (auto it = c.find("devices"); it != c.end() && it->is_array())
    for (const auto& d : *it)
      t.devices.push_back({d.value("host_path", ""), d.value("container_path", d.value("host_path", "")),
                           d.value("cgroup_permissions", "rwm")});
  if (auto it = c.find("logging"); it != c.end())
    if (const auto* l = one_object(*it)) {
      t.logging_type = l->value("type", l->value("driver", ""));
      if (auto cf = l->find("config"); cf != l->end()) read_string_map(*cf, &t.logging_config);
    }
  if (auto it = c.find("healthchecks"); it != c.end())
    if (const auto* h = one_object(*it)) t.healthchecks_disabled = h->value("disable", false);
  return t;
}

}  // namespace drover::docker
