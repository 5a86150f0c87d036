// exec's task Config (the job's config { ... } block): checks that name each bad key, and
// the parsed form. Unknown keys are refused: a job must not run as if a key it set applied.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::exec {

struct TaskConfig {
  std::string command;
  std::vector<std::string> args;
  std::string hostname;             // empty: the task's name
  std::string work_dir;             // inside the container; empty: /local
  bool network_none = false;        // network_mode = "none": a private, empty net namespace
  std::vector<std::string> cap_add, cap_drop;  // normalized "CAP_X" (or "ALL")
};

// Every problem with `config`, each naming its key; cap_add must stay within allow_caps.
std::vector<std::string> config_problems(const nlohmann::json& config,
                                         const std::vector<std::string>& allow_caps);
TaskConfig read_config(const nlohmann::json& config);  // after config_problems said none

// The task's capability set: the defaults, minus cap_drop, plus cap_add.
std::vector<std::string> task_caps(const TaskConfig& c);

}  // namespace drover::exec
