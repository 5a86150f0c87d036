// Fixed names in a text replaced by their values, left to right, each once where it stands:
// for the few `${NAME}` sets that are not a task's env (Nomad's ${JOB}/${TASK} in service names,
// the task-dir variables in template and artifact paths). A task's env has its own
// interpolation (agent/runner/task_env.hpp).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace drover {

inline std::string substitute(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::string_view>> vars) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [name, value] : vars)
      if (!name.empty() && text.substr(i, name.size()) == name) {
        out += value;
        i += name.size();
        replaced = true;
        break;
      }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace drover
