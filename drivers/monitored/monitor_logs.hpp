// Where drover-monitor writes a task's stdout and stderr, and how it rotates them: read from
// the task's StdoutPath, StderrPath and LogConfig (sdk::TaskSpec) the same way by raw_exec and
// exec, and turned into the monitor's flags in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drover/sdk/task_spec.hpp"

namespace drover::monitored {

struct MonitorLogs {
  std::string stdout_base, stderr_base;  // "<alloc>/alloc/logs/<task>.stdout"; empty: no logs
  unsigned max_files = 10;
  uint64_t max_file_size = 10ull * 1024 * 1024;

  // --stdout/--stderr/--max-files/--max-file-size, or nothing when the task keeps no logs.
  std::vector<std::string> monitor_args() const;
};

// The agent names the first file ("<task>.stdout.0"); the monitor numbers from the base.
// Logs disabled, or both paths /dev/null: no logs. One stream without a file gets /dev/null.
MonitorLogs monitor_logs(const sdk::TaskSpec& task);

}  // namespace drover::monitored
