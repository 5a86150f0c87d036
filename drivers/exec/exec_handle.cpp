// exec handle <-> JSON (see exec_handle.hpp).
#include "exec_handle.hpp"

#include <stdexcept>

namespace drover::exec {

ExecHandle parse_exec_handle(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("handle: must be an object");
  ExecHandle h;
  try {
    h.task.monitor_pid = j.at("MonitorPID").get<int>();
    h.task.monitor_start = j.at("MonitorStart").get<uint64_t>();
    h.task.task_pid = j.at("TaskPID").get<int>();
    h.task.task_start = j.at("TaskStart").get<uint64_t>();
    h.task.state_dir = j.at("StateDir").get<std::string>();
    h.task.kill_signal = j.value("KillSignal", "");
    h.container_id = j.at("ContainerID").get<std::string>();
    h.runtime_path = j.at("Runtime").get<std::string>();
    h.runtime_root = j.at("RuntimeRoot").get<std::string>();
    h.cgroup_version = j.value("CgroupVersion", 0);
    h.cgroup_path = j.value("CgroupPath", "");
    h.foreign_cgroups = j.value("ForeignCgroups", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("handle: ") + e.what());
  }
  if (h.task.monitor_pid <= 0 || h.task.task_pid <= 0 || h.task.state_dir.empty() ||
      h.container_id.empty())
    throw std::runtime_error("handle: incomplete");
  return h;
}

nlohmann::json to_json(const ExecHandle& h) {
  return {{"MonitorPID", h.task.monitor_pid}, {"MonitorStart", h.task.monitor_start},
          {"TaskPID", h.task.task_pid},       {"TaskStart", h.task.task_start},
          {"StateDir", h.task.state_dir},     {"KillSignal", h.task.kill_signal},
          {"ContainerID", h.container_id},    {"Runtime", h.runtime_path},
          {"RuntimeRoot", h.runtime_root},    {"CgroupVersion", h.cgroup_version},
          {"CgroupPath", h.cgroup_path},      {"ForeignCgroups", h.foreign_cgroups}};
}

}  // namespace drover::exec
