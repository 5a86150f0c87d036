// exec's monitor launch (see launch.hpp): the monitor's OCI-mode flags; spawn_monitor
// (../monitored/monitor_client.hpp) starts it.
#include "launch.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace drover::exec {

monitored::MonitorStarted launch(const Launch& r, std::chrono::milliseconds timeout) {
  if (access(r.monitor_path.c_str(), X_OK) != 0)
    throw std::runtime_error("task monitor " + r.monitor_path + ": " + std::strerror(errno));
  const std::string status_fd = std::to_string(monitored::kMonitorStatusFd);
  std::vector<std::string> a = {r.monitor_path, "--state-dir",  r.state_dir,   "--status-fd",
                                status_fd,      "--oci-bundle", r.bundle_dir,  "--oci-id",
                                r.container_id, "--oci-log",    "runtime.log"};
  for (auto& l : r.logs.monitor_args()) a.push_back(std::move(l));
  a.push_back("--");
  for (auto& g : r.runtime.global_args()) a.push_back(g);
  return monitored::spawn_monitor(std::move(a), timeout);
}

}  // namespace drover::exec
