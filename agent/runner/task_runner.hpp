// Runs one task through its driver: setup, start, wait, restart policy, kill; records every
// transition as a task event in the state store before or right after acting on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "jobspec/job.hpp"
#include "runner/restart_tracker.hpp"
#include "state/alloc.hpp"

namespace drover::plugins {
class DriverPlugin;
}

namespace drover::runner {

class AllocRunner;

class TaskRunner {
 public:
  // `recovered_handle` is the persisted driver handle when the agent restarts with this task
  // running; null for a fresh start.
  TaskRunner(AllocRunner& alloc, const jobspec::Task& task, nlohmann::json recovered_handle);
  ~TaskRunner();

  void start();
  // Stops the task (kill_signal, SIGKILL after kill_timeout); returns at once.
  void kill(const std::string& reason);
  // Leaves the task running and ends the runner thread (agent shutdown).
  void detach();
  void join();
  const std::string& name() const { return task_.name; }

 private:
  void run();
  bool recover();
  bool start_once();
  void wait_for_exit();
  void on_exit();
  bool kill_requested();
  void begin_stop_locked();
  void record(state::TaskEvent event, const std::function<void(state::TaskState&)>& also = {});
  bool sleep_unless_killed(std::chrono::nanoseconds d);

  AllocRunner& alloc_;
  const jobspec::Task& task_;
  plugins::DriverPlugin* driver_ = nullptr;
  RestartTracker restarts_;

  std::mutex mu_;
  std::condition_variable cv_;
  nlohmann::json handle_;  // non-null while the driver holds a started task
  bool kill_requested_ = false;
  bool stop_issued_ = false;
  std::string kill_reason_;
  std::atomic<bool> detached_{false};
  std::thread thread_;
  std::thread stopper_;
  int exit_code_ = 0, exit_signal_ = 0;
  bool oom_killed_ = false;
  std::string exit_err_;
};

}  // namespace drover::runner
