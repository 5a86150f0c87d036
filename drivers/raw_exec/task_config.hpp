// raw_exec's task Config ({"command": str, "args": [str], "work_dir": str}): checking it and reading it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::raw_exec {

struct TaskConfig {
  std::string command;
  std::vector<std::string> args;
  std::string work_dir;  // empty: the task dir
};

// Every problem, each naming its key ("config.command: required"); empty when fine.
std::vector<std::string> config_problems(const nlohmann::json& config);

// Reads a Config that config_problems accepted.
TaskConfig read_config(const nlohmann::json& config);

}  // namespace drover::raw_exec
