// The exec driver: runs a task isolated (pid, mount, ipc, uts namespaces; capabilities;
// cgroup) through an OCI runtime CLI (runc by default, crun when configured) under its own
// drover-monitor, which starts the container with `run --detach` and stays its parent
// and subreaper. The driver keeps no per-task state: every call works from the handle
// (exec_handle.hpp).
#pragma once

#include <drover/sdk/driver.hpp>
#include <mutex>
#include <string>

#include "plugin_config.hpp"

namespace drover::exec {

class ExecDriver : public sdk::Driver {
 public:
  void set_config(const nlohmann::json& config) override;
  nlohmann::json fingerprint() override;
  std::vector<std::string> validate(const nlohmann::json& task_config) override;
  nlohmann::json start(const sdk::TaskSpec& task) override;
  int wait_fd(const nlohmann::json& handle) override;
  std::optional<sdk::ExitStatus> wait(const nlohmann::json& handle,
                                      std::chrono::milliseconds timeout) override;
  void stop(const nlohmann::json& handle, const std::string& signal,
            std::chrono::milliseconds timeout) override;
  void destroy(const nlohmann::json& handle) override;
  nlohmann::json inspect(const nlohmann::json& handle) override;
  void signal(const nlohmann::json& handle, const std::string& signal) override;
  nlohmann::json stats(const nlohmann::json& handle) override;
  nlohmann::json recover(const nlohmann::json& handle) override;
  std::unique_ptr<sdk::ExecStream> exec_stream(const nlohmann::json& handle,
                                               const sdk::ExecStreamRequest& request) override;
  sdk::ExecResult exec_task(const nlohmann::json& handle, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;

 private:
  PluginConfig config_;  // written once by set_config, before any other call
};

}  // namespace drover::exec
