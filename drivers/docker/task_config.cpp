// docker task Config checks (see task_config.hpp). Unknown keys are refused by name: a job
// that sets a key this driver does not honour must not run as if it did. Security refusals
// are made here and again at start, before any call to the daemon.
#include "task_config.hpp"

#include <algorithm>
#include <set>

namespace drover::docker {
namespace {

const std::set<std::string> kKnownKeys{
    "image",    "command",      "args",     "entrypoint", "work_dir",   "labels",
    "hostname", "network_mode", "cap_add",  "cap_drop",   "privileged", "volumes",
    "mounts",   "force_pull",   "load",     "auth",       "shm_size",   "ulimit",
    "ports",    "port_map",     "pid_mode", "ipc_mode",   "runtime"};

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

}  // namespace

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
  if (auto ms = c.get("mounts"); ms) {
    if (!ms->is_array()) {
      c.problem("mounts", "must be a list of mount objects");
    } else {
      for (size_t i = 0; i < ms->size(); ++i) {
        const auto& m = (*ms)[i];
        const std::string key = "mounts[" + std::to_string(i) + "]";
        if (!m.is_object()) {
          c.problem(key, "must be an object with type, source, target, readonly");
          continue;
        }
        for (const auto& [k, v] : m.items()) {
          if (k != "type" && k != "source" && k != "target" && k != "readonly" &&
              k != "tmpfs_options") {
            c.problem(key + "." + k, "unknown key");
          }
        }
        if ((m.contains("type") && !m["type"].is_string()) ||
            (m.contains("source") && !m["source"].is_string()) ||
            (m.contains("target") && !m["target"].is_string())) {
          c.problem(key, "type, source and target must be strings");
          continue;
        }
        std::string type = m.value("type", "bind");
        std::string source =
            m.contains("source") && m["source"].is_string() ? m["source"].get<std::string>() : "";
        std::string target =
            m.contains("target") && m["target"].is_string() ? m["target"].get<std::string>() : "";
        if (target.empty() || target[0] != '/')
          c.problem(key + ".target", "must be an absolute path");
        if (m.contains("readonly") && !m["readonly"].is_boolean()) {
          c.problem(key + ".readonly", "must be true or false");
        }
        if (type == "bind") {
          if (source.empty())
            c.problem(key + ".source", "required for a bind mount");
          else if (source[0] == '/' && !plugin.volumes_enabled) {
            c.problem(key,
                      "host bind mounts are disabled on this node (set "
                      "plugin.docker.config.volumes.enabled: true)");
          }
        } else if (type == "volume") {
          if (!plugin.volumes_enabled) {
            c.problem(key,
                      "named volumes are disabled on this node (set "
                      "plugin.docker.config.volumes.enabled: true)");
          }
        } else if (type == "tmpfs") {
          if (auto t = m.find("tmpfs_options"); t != m.end() && !t->is_null()) {
            if (!t->is_object())
              c.problem(key + ".tmpfs_options", "must be {size, mode}");
            else {
              for (const auto& [k, v] : t->items()) {
                if ((k != "size" && k != "mode") || !v.is_number_integer() ||
                    v.get<long long>() < 0) {
                  c.problem(key + ".tmpfs_options." + k,
                            "must be size or mode, a non-negative integer");
                }
              }
            }
          }
        } else {
          c.problem(key + ".type", "must be bind, volume or tmpfs");
        }
      }
    }
  }
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
  if (auto it = c.find("mounts"); it != c.end() && it->is_array()) {
    for (const auto& m : *it) {
      Mount x;
      x.type = m.value("type", "bind");
      x.source = m.value("source", "");
      x.target = m.value("target", "");
      x.readonly = m.value("readonly", false);
      if (auto o = m.find("tmpfs_options"); o != m.end() && o->is_object()) {
        x.tmpfs_size = o->value("size", 0LL);
        x.tmpfs_mode = o->value("mode", 0);
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
  return t;
}

}  // namespace drover::docker
