// raw_exec's task Config checks (see task_config.hpp). Unknown keys are refused, never
// ignored: a job that sets a key raw_exec does not honour must not run as if it did.
#include "task_config.hpp"

#include "work_dir.hpp"

namespace drover::raw_exec {

std::vector<std::string> config_problems(const nlohmann::json& config) {
  std::vector<std::string> problems;
  if (!config.is_object()) {
    problems.push_back("config: must be an object with at least \"command\"");
    return problems;
  }
  auto cmd = config.find("command");
  if (cmd == config.end() || cmd->is_null()) {
    problems.push_back("config.command: required");
  } else if (!cmd->is_string()) {
    problems.push_back("config.command: must be a string");
  } else if (cmd->get_ref<const std::string&>().empty()) {
    problems.push_back("config.command: must not be empty");
  } else if (cmd->get_ref<const std::string&>().find('\0') != std::string::npos) {
    problems.push_back("config.command: must not contain NUL");
  }
  if (auto args = config.find("args"); args != config.end() && !args->is_null()) {
    if (!args->is_array()) {
      problems.push_back("config.args: must be an array of strings");
    } else {
      for (std::size_t i = 0; i < args->size(); ++i) {
        const auto& a = (*args)[i];
        if (!a.is_string()) {
          problems.push_back("config.args[" + std::to_string(i) + "]: must be a string");
        } else if (a.get_ref<const std::string&>().find('\0') != std::string::npos) {
          problems.push_back("config.args[" + std::to_string(i) + "]: must not contain NUL");
        }
      }
    }
  }
  if (auto p = monitored::work_dir_problem(config); !p.empty()) problems.push_back(p);
  for (const auto& [key, value] : config.items()) {
    if (key != "command" && key != "args" && key != "work_dir") {
      problems.push_back("config." + key + ": unknown key for the raw_exec driver");
    }
  }
  return problems;
}

TaskConfig read_config(const nlohmann::json& config) {
  TaskConfig c;
  c.command = config.at("command").get<std::string>();
  if (auto args = config.find("args"); args != config.end() && args->is_array()) {
    c.args = args->get<std::vector<std::string>>();
  }
  if (auto w = config.find("work_dir"); w != config.end() && w->is_string()) c.work_dir = *w;
  return c;
}

}  // namespace drover::raw_exec
