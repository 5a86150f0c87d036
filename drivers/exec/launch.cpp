// exec's monitor launch (see launch.hpp): the monitor's OCI-mode flags; spawn_monitor
// (raw_exec's monitor_client.hpp) starts it.
#include "launch.hpp"

#include "monitor_client.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace drover::exec {

Started launch(const Launch& r, std::chrono::milliseconds timeout) {
  if (access(r.monitor_path.c_str(), X_OK) != 0)
    throw std::runtime_error("task monitor " + r.monitor_path + ": " + std::strerror(errno));
  std::vector<std::string> a = {r.monitor_path, "--state-dir", r.state_dir, "--status-fd",
                                std::to_string(raw_exec::kMonitorStatusFd), "--oci-bundle", r.bundle_dir,
                                "--oci-id", r.container_id, "--oci-log", "runtime.log",
                                "--detach"};
  if (!r.stdout_base.empty())
    a.insert(a.end(), {"--stdout", r.stdout_base, "--stderr", r.stderr_base, "--max-files",
                       std::to_string(r.max_files), "--max-file-size", std::to_string(r.max_file_size)});
  a.push_back("--");
  for (auto& g : r.runtime.global_args()) a.push_back(g);
  auto st = raw_exec::spawn_monitor(std::move(a), timeout);
  return Started{st.task_pid, st.task_start, st.monitor_pid, st.monitor_start};
}

}  // namespace drover::exec
