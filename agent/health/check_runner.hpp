// Runs one check of one task on its interval while the task runs, keeps its last result, and
// applies check_restart (restart the task after `limit` consecutive failures, not within
// `grace` of the task's start). Its probes run on the node's CheckScheduler.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "drover/common/result.hpp"
#include "health/check_probe.hpp"
#include "health/check_scheduler.hpp"
#include "jobspec/job.hpp"

namespace drover::health {

struct CheckSpec {
  std::string id;  // stable: a hash of alloc, task, service and check position
  std::string alloc_id, group, task, service;
  // The catalog registration of its service (catalog/service_registration.hpp), whose health
  // this check's result feeds.
  std::string registration_id;
  std::string driver;
  // Script checks run inside the task (its driver isolates the filesystem), else on the host.
  bool inside_task = false;
  jobspec::Check check;
  jobspec::Service service_block;
  std::filesystem::path task_dir;  // where a script check runs
  std::map<std::string, std::string> env;
  // For tasks in their own namespaces (exec, docker): runs argv inside the task through its
  // driver, returning {"Stdout", "Stderr", "ExitCode"}. Unset for raw_exec (run on the host).
  std::function<Result<nlohmann::json>(const std::vector<std::string>&, std::chrono::milliseconds)>
      exec_in_task;
};

class CheckRunner {
 public:
  using RestartFn = std::function<void(const std::string& alloc_id, const std::string& task)>;
  // The first run is due at once; it waits for set_task(true) if the task is not running.
  CheckRunner(CheckSpec spec, RestartFn restart, CheckScheduler& scheduler);
  ~CheckRunner();  // waits for a probe in flight
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // The watcher says whether the task runs, and when it (re)started on the monotonic clock.
  void set_task(bool running, std::chrono::steady_clock::time_point started);
  bool passing() const;
  // Whether its result lets the alloc count as healthy (jobspec Check::on_update, as Nomad's
  // allochealth tracker): success always; a warning with ignore_warnings or ignore; a failure
  // with ignore. No result yet never does.
  bool healthy_for_deployment() const;
  // The last result's Status (pending, success, warning, failure), without its output.
  std::string status() const;
  // Nomad's check result shape: {ID, Check, Group, Task, Service, Mode, Status, StatusCode,
  // Output, Timestamp}.
  nlohmann::json result_json() const;
  const CheckSpec& spec() const { return spec_; }
  int restarts_triggered() const { return restarts_; }

 private:
  // One turn on the scheduler: a probe if the task runs; when the next is due.
  std::optional<CheckScheduler::Clock::time_point> tick();
  ProbeResult run_once();

  CheckSpec spec_;
  RestartFn restart_;
  CheckScheduler& scheduler_;
  mutable std::mutex mu_;
  bool running_ = false;
  std::chrono::steady_clock::time_point started_{};
  ProbeResult last_;
  int64_t last_time_s_ = 0;
  int consecutive_failures_ = 0;
  std::atomic<int> restarts_{0};
  CheckScheduler::Id job_ = 0;  // last: the scheduler may run it as soon as it is added
};

std::string check_id(const std::string& alloc_id, const std::string& task,
                     const std::string& service, std::size_t index);

}  // namespace drover::health
