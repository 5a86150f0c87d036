// Runs one task through its driver: setup, start, wait, restart policy, kill; records every
// transition as a task event in the state store before or right after acting on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "drover/common/detached_thread.hpp"
#include "drover/common/result.hpp"
#include "drover/loader/exec_session.hpp"
#include "jobspec/job.hpp"
#include "runner/restart_tracker.hpp"
#include "runner/task_hook.hpp"
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
  // Stops the task (kill_signal, SIGKILL after kill_timeout); returns at once. With
  // `event_type` (e.g. "Sibling Task Failed"), that event is recorded first.
  // `fails_task`: the task ends failed, not killed (an alloc over its disk budget).
  void kill(const std::string& reason, const std::string& event_type = "", bool fails_task = false);
  // Restarts a running task now, outside the restart policy ("Restart Signaled").
  Status restart(const std::string& reason);
  // Runs argv inside the running task (its namespaces and cgroup), through the driver.
  Result<nlohmann::json> exec(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);
  // Starts an interactive command inside the running task for the caller to stream
  // (plugin.h, drover_driver_exec_stream_v1); Unsupported when its driver cannot.
  Result<std::unique_ptr<plugins::ExecSession>> exec_stream(const plugins::ExecRequest& request);
  // Sends a signal to the running task ("Signaling").
  Status signal(const std::string& signal);
  // Leaves the task running and ends the runner thread (agent shutdown).
  void detach();
  void join();
  const std::string& name() const { return task_.name; }

 private:
  // The live handle to exec into when `driver_can`; Conflict (not running) or Unsupported.
  Result<nlohmann::json> exec_handle(bool driver_can);
  void run();
  TaskHookContext hook_context(sdk::TaskSpec& spec);
  void release_all();
  void guarded(const std::function<void()>& body) noexcept;
  void stop_task(const nlohmann::json& handle, const std::string& signal,
                 std::chrono::nanoseconds timeout, const std::string& reason);
  void carry_on(bool running);
  bool park();
  void on_exit_fd();
  void resume();
  bool after_exit();
  bool recover();
  bool start_once();
  void reset_exit();
  bool check_exit(const nlohmann::json& handle, std::chrono::milliseconds timeout);
  void wait_for_exit();
  void on_exit();
  bool kill_requested();
  void begin_stop_locked();
  // Appends an event and applies `also`, stored in one write; `ended` when the task has ended
  // or is about to be started again: its driver handle is cleared in the same transaction.
  void record(state::TaskEvent event, const std::function<void(state::TaskState&)>& also = {},
              bool ended = false);
  // The same with the driver's handle of a task just started stored in that write, so that
  // the store never holds a running task without its handle, nor a handle without Started.
  void record_with_handle(state::TaskEvent event,
                          const std::function<void(state::TaskState&)>& also,
                          const nlohmann::json& handle);
  // An event held in memory until the task's next write (TaskHookContext::record_unwritten).
  void record_unwritten(state::TaskEvent event);
  void store_event(state::TaskEvent event, const std::function<void(state::TaskState&)>& also,
                   const nlohmann::json* handle);
  bool sleep_unless_killed(std::chrono::nanoseconds d);

  AllocRunner& alloc_;
  const jobspec::Task& task_;
  plugins::DriverPlugin* driver_ = nullptr;
  RestartTracker restarts_;

  std::mutex mu_;
  std::condition_variable cv_;
  nlohmann::json handle_;  // non-null while the driver holds a started task
  bool handle_live_ = false;  // handle_ was returned by start or confirmed by recover
  // handle_ may serve exec and take a restart request: set just before Started is recorded
  // (handle_live_ just after, so a stop never overtakes that event), since a client that saw
  // the task running may act on it at once.
  bool exec_ready_ = false;
  bool kill_requested_ = false;
  bool kill_fails_ = false;  // the kill ends the task failed (kill's fails_task)
  bool restart_requested_ = false;
  std::vector<std::unique_ptr<TaskHook>> hooks_;  // setup and teardown, in order (task_hook.hpp)
  std::string log_name_;  // "alloc <id> task <name>", for the trace log of each start step
  bool stop_issued_ = false;
  std::string kill_reason_;
  std::atomic<bool> detached_{false};
  // The runner's current thread: one per phase (start, then after each exit), none while the
  // task is parked with the exit watcher (watch_id_ != 0). Detached: the phase that parks the
  // task ends, and its stack goes with it, long before anyone joins it.
  std::mutex thread_mu_;
  DetachedThread thread_;
  uint64_t watch_id_ = 0;
  std::thread stopper_;
  // The shutdown_delay wait, on its own lock: join() holds mu_ while it joins the stopper.
  std::mutex delay_mu_;
  std::condition_variable delay_cv_;
  int exit_code_ = 0, exit_signal_ = 0;
  bool oom_killed_ = false;
  bool lost_ = false;  // the driver cannot say how the task ended
  std::string exit_err_;
  int64_t exited_at_ns_ = 0;  // when the exit was seen: the Terminated event's time
};

}  // namespace drover::runner
