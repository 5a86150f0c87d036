// An exec task handle: what the agent persists to find the task again after a restart. The
// monitor and the container's init are named by PID + /proc start time; the container by its
// runtime, runtime root and id.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "handle.hpp"
#include "runtime.hpp"

namespace drover::exec {

struct ExecHandle {
  // The monitor and the container's init (as the host sees it); pgid 0: a signal without the
  // monitor reaches the init alone, whose death ends the container's pid namespace.
  monitored::Handle task;
  std::string container_id;
  std::string runtime_path, runtime_root;
  int cgroup_version = 0;    // 0: the runtime's default cgroup
  std::string cgroup_path;   // the container's own cgroup, "/<task cgroup>/runc"
  // Cgroup dirs the runtime made above its own in v1 controllers the agent does not use:
  // removed at destroy, so nothing is left behind.
  std::vector<std::string> foreign_cgroups;

  Runtime runtime() const { return {runtime_path, runtime_root, task.state_dir + "/runtime.log"}; }
};

// Throws std::runtime_error naming the bad field.
ExecHandle parse_exec_handle(const nlohmann::json& j);
nlohmann::json to_json(const ExecHandle& h);

}  // namespace drover::exec
