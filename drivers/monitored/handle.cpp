// Handle fields and identity checks (see handle.hpp).
#include "handle.hpp"

#include <stdexcept>

#include "proc.hpp"

namespace drover::monitored {
namespace {

template <typename T>
T number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<long long>() <= 0 ||
      (sizeof(T) == 4 && it->get<long long>() > INT32_MAX)) {
    throw std::runtime_error(std::string("handle.") + key + ": must be a positive integer");
  }
  return it->get<T>();
}

}  // namespace

Handle parse_handle(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("handle: must be a JSON object");
  Handle h;
  h.monitor_pid = number<int>(j, "MonitorPID");
  h.monitor_start = number<uint64_t>(j, "MonitorStartTime");
  h.task_pid = number<int>(j, "TaskPID");
  h.task_start = number<uint64_t>(j, "TaskStartTime");
  h.pgid = j.contains("Pgid") ? number<int>(j, "Pgid") : h.task_pid;
  auto sd = j.find("StateDir");
  if (sd == j.end() || !sd->is_string() || sd->get_ref<const std::string&>().empty()) {
    throw std::runtime_error("handle.StateDir: must be a non-empty string");
  }
  h.state_dir = sd->get<std::string>();
  if (auto ks = j.find("KillSignal"); ks != j.end() && ks->is_string()) h.kill_signal = *ks;
  return h;
}

nlohmann::json to_json(const Handle& h) {
  return {{"MonitorPID", h.monitor_pid},
          {"MonitorStartTime", h.monitor_start},
          {"TaskPID", h.task_pid},
          {"TaskStartTime", h.task_start},
          {"Pgid", h.pgid},
          {"StateDir", h.state_dir},
          {"KillSignal", h.kill_signal}};
}

std::string starting_dir(const nlohmann::json& starting) {
  std::string dir = starting.value("RuntimeDir", "");
  return dir.empty() ? starting.value("StateDir", "") : dir;
}

bool same_process_alive(int pid, uint64_t start_time) {
  auto st = read_proc_stat(pid);
  return st && st->start_time == start_time && st->state != 'Z' && st->state != 'X';
}

}  // namespace drover::monitored
