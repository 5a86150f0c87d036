// The raw_exec driver: runs a task as a plain host process under its own drover-monitor
// (monitor/README.md), so the task, its logs and its exit code outlive the agent. The driver
// keeps no per-task state: every call works from the handle, which names the monitor and the
// task by PID + /proc start time (a reused PID is never mistaken for them) and the task's
// private state dir (the monitor's socket and exit file).
#pragma once

#include <drover/sdk/driver.hpp>
#include <string>

namespace drover::raw_exec {

class RawExecDriver : public sdk::Driver {
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
  sdk::ExecResult exec_task(const nlohmann::json& handle, const std::vector<std::string>& argv,
                            std::chrono::milliseconds timeout) override;
  std::unique_ptr<sdk::ExecStream> exec_stream(const nlohmann::json& handle,
                                               const sdk::ExecStreamRequest& request) override;

 private:
  bool enabled_ = false;  // written once by set_config, before any other call
};

}  // namespace drover::raw_exec
