// Starting a raw_exec task under drover-monitor: the env memfd, the monitor's flags, a
// posix_spawn in a session of its own (monitored/monitor_reaper.hpp), and the monitor's
// one-line report (task started, or why not).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "monitor_client.hpp"
#include "monitor_logs.hpp"

namespace drover::raw_exec {

struct MonitorLaunch {
  std::string monitor_path;           // absolute path of drover-monitor
  std::string state_dir;              // private (0700), made by the agent
  std::string work_dir;               // the task's dir
  monitored::MonitorLogs logs;
  bool set_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<std::string> cgroup_procs;
  std::vector<std::string> env;   // "KEY=VALUE", exactly what the task gets
  std::vector<std::string> argv;  // argv[0] as the job wrote it; the monitor searches PATH
};

// Looks up a user name; throws when there is no such user.
void resolve_user(const std::string& name, MonitorLaunch& req);

// Throws std::runtime_error with the monitor's message (naming the command) when the task
// could not be started.
monitored::MonitorStarted launch_monitor(const MonitorLaunch& req,
                                         std::chrono::milliseconds timeout);

}  // namespace drover::raw_exec
