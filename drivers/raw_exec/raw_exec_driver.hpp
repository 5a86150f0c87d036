// The raw_exec driver: runs a task as a plain host process in its own session, tracks it by
// PID + /proc start time (so a reused PID is never mistaken for the task) and a pidfd.
#pragma once

#include <drover/sdk/driver.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace drover::raw_exec {

// One task this driver started or recovered.
struct Task {
  int pid = 0;
  uint64_t start_time = 0;
  int pgid = 0;
  int pidfd = -1;
  bool child = false;  // our child: waitid gives the real exit status
  std::string kill_signal;

  std::mutex mu;  // guards `exit` and reaping
  std::optional<sdk::ExitStatus> exit;

  ~Task();
};

class RawExecDriver : public sdk::Driver {
 public:
  void set_config(const nlohmann::json& config) override;
  nlohmann::json fingerprint() override;
  std::vector<std::string> validate(const nlohmann::json& task_config) override;
  nlohmann::json start(const nlohmann::json& task) override;
  std::optional<sdk::ExitStatus> wait(const nlohmann::json& handle,
                                      std::chrono::milliseconds timeout) override;
  void stop(const nlohmann::json& handle, const std::string& signal,
            std::chrono::milliseconds timeout) override;
  void destroy(const nlohmann::json& handle) override;
  nlohmann::json inspect(const nlohmann::json& handle) override;
  void signal(const nlohmann::json& handle, const std::string& signal) override;
  nlohmann::json stats(const nlohmann::json& handle) override;
  nlohmann::json recover(const nlohmann::json& handle) override;

 private:
  std::shared_ptr<Task> find(const nlohmann::json& handle) const;     // nullptr if untracked
  std::shared_ptr<Task> tracked(const nlohmann::json& handle) const;  // throws if untracked
  void track(const std::shared_ptr<Task>& task);

  bool enabled_ = false;  // written once by set_config, before any other call
  mutable std::mutex mu_;
  std::map<int, std::shared_ptr<Task>> tasks_;  // by PID
};

}  // namespace drover::raw_exec
