// A task config's `work_dir` (Nomad's), checked the same way by raw_exec and exec: the task's
// working directory, absolute, or starting with an interpolation such as ${NOMAD_TASK_DIR}
// that the agent resolves to one before the driver starts the task.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace drover::monitored {

// The problem with config.work_dir, or "" when it is absent or fine.
inline std::string work_dir_problem(const nlohmann::json& config) {
  auto w = config.find("work_dir");
  if (w == config.end() || w->is_null()) return {};
  if (!w->is_string() || w->get_ref<const std::string&>().find('\0') != std::string::npos)
    return "config.work_dir: must be a path";
  const auto& s = w->get_ref<const std::string&>();
  if (s.empty() || (s[0] != '/' && s.rfind("${", 0) != 0))
    return "config.work_dir: must be an absolute path (got \"" + s + "\")";
  return {};
}

}  // namespace drover::monitored
