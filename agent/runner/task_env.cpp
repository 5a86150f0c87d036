#include "runner/task_env.hpp"

#include <cctype>

namespace drover::runner {
namespace {

std::string env_key(std::string key) {
  for (auto& c : key)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return key;
}

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
  env_["NOMAD_NAMESPACE"] = "default";
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
  if (name.rfind("meta.", 0) == 0) return from(node_->meta, name.substr(5));
  if (name.rfind("node.meta.", 0) == 0) return from(node_->meta, name.substr(10));
  return std::nullopt;
}

std::string TaskEnv::interpolate(const std::string& text) const {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto open = text.find("${", i);
    if (open == std::string::npos) break;
    auto close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    auto value = lookup(text.substr(open + 2, close - open - 2));
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
