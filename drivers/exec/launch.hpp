// Starting an exec task: drover-monitor in OCI mode (monitor/README.md), reached through a
// posix_spawn in a session of its own (monitored/monitor_reaper.hpp), and its one-line report.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "monitor_client.hpp"
#include "monitor_logs.hpp"
#include "runtime.hpp"

namespace drover::exec {

struct Launch {
  std::string monitor_path, state_dir, bundle_dir, container_id;
  Runtime runtime;
  monitored::MonitorLogs logs;
};

// Throws std::runtime_error with the runtime's own message when the container did not start.
monitored::MonitorStarted launch(const Launch& req, std::chrono::milliseconds timeout);

}  // namespace drover::exec
