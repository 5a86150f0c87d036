#include "runner/task_env.hpp"

#include <cctype>

namespace drover::runner {
namespace {

std::string env_key(std::string key) {
  for (auto& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return key;
}

// --- Ports (docs/networking.md) ---
// Nomad cleans the keys of NOMAD_ADDR_, NOMAD_IP_, NOMAD_PORT_ and NOMAD_HOST_PORT_ variables
// (helper.CleanEnvVar: anything but letters, digits, '_' and '.' becomes '_'), and only those:
// NOMAD_HOST_IP_, NOMAD_HOST_ADDR_ and NOMAD_ALLOC_PORT_ keep the label as written.
std::string clean_port_key(std::string key) {
  for (auto& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
  return key;
}

std::string host_port(const std::string& ip, int port) {
  // net.JoinHostPort: an IPv6 address in brackets.
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

// Nomad's addPorts for one port of the alloc (or of this task's older network block).
// In bridge mode the alloc's own address and the port inside its namespace are
// NOMAD_ALLOC_IP_/NOMAD_ALLOC_ADDR_ too (Nomad's addGroupNetwork with a network status).
void add_port_env(std::map<std::string, std::string>& env, const state::AllocatedPort& p,
                  const std::string& alloc_ip) {
  const std::string& l = p.label;
  const std::string addr = host_port(p.host_ip, p.value);
  const std::string task_port = std::to_string(p.to > 0 ? p.to : p.value);
  env[clean_port_key("NOMAD_ADDR_" + l)] = addr;
  env["NOMAD_HOST_ADDR_" + l] = addr;
  env[clean_port_key("NOMAD_IP_" + l)] = p.host_ip;
  env["NOMAD_HOST_IP_" + l] = p.host_ip;
  env[clean_port_key("NOMAD_PORT_" + l)] = task_port;
  env["NOMAD_ALLOC_PORT_" + l] = task_port;
  env[clean_port_key("NOMAD_HOST_PORT_" + l)] = std::to_string(p.value);
  if (!alloc_ip.empty()) {
    env["NOMAD_ALLOC_IP_" + l] = alloc_ip;
    env["NOMAD_ALLOC_ADDR_" + l] = host_port(alloc_ip, p.to > 0 ? p.to : p.value);
  }
}
// --- end ports ---

}  // namespace

TaskEnv::TaskEnv(const TaskEnvInput& in) : node_(in.node) {
  const auto& job = *in.job;
  const auto& group = *in.group;
  const auto& task = *in.task;
  // A sane PATH unless the job sets one: tasks do not inherit the agent's.
  env_["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  env_["NOMAD_ALLOC_DIR"] = in.alloc_dir;
  env_["NOMAD_TASK_DIR"] = in.task_dir;
  env_["NOMAD_SECRETS_DIR"] = in.secrets_dir;
  env_["NOMAD_ALLOC_ID"] = in.alloc_id;
  env_["NOMAD_SHORT_ALLOC_ID"] = in.alloc_id.substr(0, 8);
  env_["NOMAD_ALLOC_NAME"] = in.alloc_name;
  env_["NOMAD_ALLOC_INDEX"] = std::to_string(in.alloc_index);
  env_["NOMAD_TASK_NAME"] = task.name;
  env_["NOMAD_GROUP_NAME"] = group.name;
  env_["NOMAD_JOB_ID"] = job.id;
  env_["NOMAD_JOB_NAME"] = job.name.empty() ? job.id : job.name;
  env_["NOMAD_NAMESPACE"] = job.namespace_name;
  env_["NOMAD_REGION"] = "global";
  if (node_) env_["NOMAD_DC"] = node_->datacenter;
  if (task.resources.cores > 0)
    env_["NOMAD_CPU_CORES"] = std::to_string(task.resources.cores);
  else
    env_["NOMAD_CPU_LIMIT"] = std::to_string(task.resources.cpu_mhz);
  env_["NOMAD_MEMORY_LIMIT"] = std::to_string(task.resources.memory_mb);
  if (task.resources.memory_max_mb > 0)
    env_["NOMAD_MEMORY_MAX_LIMIT"] = std::to_string(task.resources.memory_max_mb);
  // Meta: job, then group, then task; the narrower wins as in Nomad.
  std::map<std::string, std::string> meta = job.meta;
  for (const auto& [k, v] : group.meta) meta[k] = v;
  for (const auto& [k, v] : task.meta) meta[k] = v;
  for (const auto& [k, v] : meta) env_["NOMAD_META_" + env_key(k)] = v;
  // Ports: the group's and this task's own; another task's older task-level ports as
  // NOMAD_{ADDR,IP,PORT}_<task>_<label>, as Nomad names them.
  if (in.networks)
    for (const auto& n : *in.networks)
      for (const auto& p : n.ports) {
        if (n.task.empty() || n.task == task.name) {
          add_port_env(env_, p, n.task.empty() ? in.alloc_ip : std::string());
          continue;
        }
        const std::string key = n.task + "_" + p.label;
        env_[clean_port_key("NOMAD_ADDR_" + key)] = host_port(p.host_ip, p.value);
        env_[clean_port_key("NOMAD_IP_" + key)] = p.host_ip;
        env_[clean_port_key("NOMAD_PORT_" + key)] = std::to_string(p.value);
      }
  // The job's own env last, interpolated against everything above.
  for (const auto& [k, v] : task.env) env_[k] = interpolate(v);
}

std::optional<std::string> TaskEnv::lookup(const std::string& name) const {
  auto from = [](const std::map<std::string, std::string>& m,
                 const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
  if (name.rfind("NOMAD_", 0) == 0) return from(env_, name);
  if (name.rfind("env[\"", 0) == 0 && name.size() > 7 && name.substr(name.size() - 2) == "\"]")
    return from(env_, name.substr(5, name.size() - 7));
  if (!node_) return std::nullopt;
  if (name == "node.unique.id") return node_->id;
  if (name == "node.unique.name") return node_->name;
  if (name == "node.datacenter") return node_->datacenter;
  if (name.rfind("attr.", 0) == 0) return from(node_->attributes, name.substr(5));
  if (name.rfind("meta.", 0) == 0) return node_->meta_value(name.substr(5));
  if (name.rfind("node.meta.", 0) == 0) return node_->meta_value(name.substr(10));
  return std::nullopt;
}

std::string TaskEnv::interpolate(const std::string& text) const {
  return interpolate_with(text, nullptr);
}

std::string TaskEnv::interpolate(const std::string& text,
                                 const std::map<std::string, std::string>& env) const {
  return interpolate_with(text, &env);
}

std::string TaskEnv::interpolate_with(const std::string& text,
                                      const std::map<std::string, std::string>* first) const {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find("${", i);
    if (open == std::string::npos) break;
    auto close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    const std::string name = text.substr(open + 2, close - open - 2);
    std::optional<std::string> value;
    if (first)
      if (auto it = first->find(name); it != first->end()) value = it->second;
    if (!value) value = lookup(name);
    if (value)
      out += *value;
    else
      out.append(text, open, close - open + 1);  // unknown names stay as written
    i = close + 1;
  }
  out.append(text, i);
  return out;
}

nlohmann::json TaskEnv::interpolate(const nlohmann::json& value) const {
  if (value.is_string()) return interpolate(value.get<std::string>());
  if (value.is_array() || value.is_object()) {
    nlohmann::json out = value;
    for (auto& item : out) item = interpolate(item);
    return out;
  }
  return value;
}

}  // namespace drover::runner
