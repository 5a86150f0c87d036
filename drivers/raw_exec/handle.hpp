// A raw_exec task handle: what the agent persists to find a task again after a restart.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>

namespace drover::raw_exec {

struct Handle {
  int monitor_pid = 0;
  uint64_t monitor_start = 0;
  int task_pid = 0;
  uint64_t task_start = 0;
  int pgid = 0;
  std::string state_dir;
  std::string kill_signal;
};

// Throws std::runtime_error naming the bad field.
Handle parse_handle(const nlohmann::json& j);
nlohmann::json to_json(const Handle& h);

// True when the PID still names the process that had this start time and it has not exited.
bool same_process_alive(int pid, uint64_t start_time);

}  // namespace drover::raw_exec
