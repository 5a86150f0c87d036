// What names a task under drover-monitor, so that a driver finds it again after an agent
// restart: the monitor and the task by PID + /proc start time (a reused PID is never mistaken
// for them) and the task's private state dir (the monitor's socket and exit file).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "monitor_client.hpp"

namespace drover::monitored {

// The monitor and the task as the monitor reported them at start (MonitorStarted), plus what
// a driver needs to reach them later.
struct Handle : MonitorStarted {
  // What a signal reaches when the monitor is gone: the task's process group (raw_exec's task
  // leads its own session), or 0 for the task alone (a container's init, whose death ends its
  // pid namespace).
  int pgid = 0;
  std::string state_dir;
  std::string kill_signal;
};

// The JSON layout raw_exec persists ({"MonitorPID", "MonitorStartTime", "TaskPID",
// "TaskStartTime", "Pgid", "StateDir", "KillSignal"}); a driver with fields of its own (exec)
// keeps its own layout around a Handle. Throws std::runtime_error naming the bad field.
Handle parse_handle(const nlohmann::json& j);
nlohmann::json to_json(const Handle& h);

// The monitor's dir a Starting handle names (plugin.h): its RuntimeDir, or the StateDir of one
// written before tasks had runtime dirs, when the monitor kept its files there.
std::string starting_dir(const nlohmann::json& starting);

// True when the PID still names the process that had this start time and it has not exited.
bool same_process_alive(int pid, uint64_t start_time);

}  // namespace drover::monitored
