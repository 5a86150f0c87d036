#include "monitor_logs.hpp"

namespace drover::monitored {
namespace {

std::string log_base(const std::string& path) {
  if (path.empty() || path == "/dev/null") return {};
  if (path.size() > 2 && path.compare(path.size() - 2, 2, ".0") == 0) return path.substr(0, path.size() - 2);
  return path;
}

}  // namespace

std::vector<std::string> MonitorLogs::monitor_args() const {
  if (stdout_base.empty()) return {};
  return {"--stdout",    stdout_base, "--stderr", stderr_base, "--max-files", std::to_string(max_files),
          "--max-file-size", std::to_string(max_file_size)};
}

MonitorLogs monitor_logs(const sdk::TaskSpec& task) {
  MonitorLogs l;
  if (task.log_config.disabled) return l;
  l.stdout_base = log_base(task.stdout_path);
  l.stderr_base = log_base(task.stderr_path);
  if (l.stdout_base.empty() != l.stderr_base.empty())
    (l.stdout_base.empty() ? l.stdout_base : l.stderr_base) = "/dev/null";
  // task_spec_from_json refused values below 1.
  l.max_files = static_cast<unsigned>(task.log_config.max_files);
  l.max_file_size = static_cast<uint64_t>(task.log_config.max_file_size_mb) << 20;
  return l;
}

}  // namespace drover::monitored
