// Runs one allocation: builds its alloc dir, runs its tasks in lifecycle order (prestart,
// main with sidecars, poststart, poststop), keeps the alloc's client status in step with its
// tasks (Nomad's rules), and persists every change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "drover/common/detached_thread.hpp"
#include "drover/common/result.hpp"
#include "drover/loader/exec_session.hpp"
#include "drover/sdk/task_spec.hpp"
#include "jobspec/job.hpp"
#include "runner/task_env.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/lifecycle.hpp"
#include "runner/node_resources.hpp"
#include "runner/runner_context.hpp"
#include "state/alloc.hpp"
#include "state/job_key.hpp"

namespace drover::runner {

class TaskRunner;

class AllocRunner {
 public:
  // `alloc.job` holds the canonical job JSON; the runner runs alloc.group of it. `job` is that
  // JSON already parsed (shared by the allocs of one job); parsed here when null.
  AllocRunner(RunnerContext& ctx, state::Alloc alloc, std::shared_ptr<const jobspec::Job> job = nullptr);
  ~AllocRunner();
  AllocRunner(const AllocRunner&) = delete;
  AllocRunner& operator=(const AllocRunner&) = delete;

  // Starts the lifecycle. With `recovering`, tasks with a persisted handle are reattached and
  // tasks already dead are left alone. An alloc with a sticky predecessor (set_previous)
  // first waits, off the caller's thread, for it to stop and takes over its data.
  void start(bool recovering);
  // The alloc this one replaces on this node, whose alloc/data and tasks' local/ it takes
  // over (the group's ephemeral_disk is sticky; runner/sticky_disk.hpp). Before start().
  void set_previous(std::shared_ptr<AllocRunner> previous) { previous_ = std::move(previous); }
  // The Starting handles a new alloc's placement stores, by task (docs/design.md, "Written
  // before acting"): one for each task its lifecycle starts first whose driver resolves a
  // Starting handle itself (plugin.h, RecoversStarting) and that holds no cores or devices
  // (those are recorded with the Starting handle its hook writes). Their first start writes
  // none: a crash before the driver's start finds the handle, and the driver says the task
  // never started. None for an alloc with a predecessor to wait for.
  static std::map<std::string, nlohmann::json> starting_handles_ahead(
      RunnerContext& ctx, const state::Alloc& alloc, const jobspec::TaskGroup& group);
  // The Starting handles the placement stored (starting_handles_ahead). Before start().
  void set_starting_stored(const std::map<std::string, nlohmann::json>& handles) {
    for (const auto& [task, handle] : handles) starting_stored_.insert(task);
  }
  // True once for such a task: its first start's Starting handle is already stored.
  bool take_starting_stored(const std::string& task);
  // A start's Starting handle: what the driver's recover needs to find the task (plugin.h).
  static nlohmann::json starting_handle(const std::string& state_dir, const std::string& runtime_dir,
                                        const std::string& kill_signal);
  int index() const { return alloc_.index; }  // never changes
  // Desired stop: main tasks first, then sidecars, then poststop tasks run.
  void stop(const std::string& reason);
  // The group's max_run_duration ran out (AllocManager's deadline): every task is killed, no
  // poststop task starts, and the alloc is complete, "allocation exceeded max_run_duration",
  // as in Nomad. Its desired status stays run. Nothing for an alloc already terminal.
  void exceed_max_run_duration();
  // Kills every task that runs and fails the alloc: each task gets a failing `event_type`
  // event with `reason` (the alloc outgrew its ephemeral_disk; runner/disk_budget.hpp).
  void fail_tasks(const std::string& reason, const std::string& event_type);
  // Agent shutdown: the tasks keep running; the runner threads end.
  void detach();
  void join();

  // Restarts one task (or every running task when `task` is empty); `reason` is the
  // "Restart Signaled" event's message (a template's change_mode restart gives its own).
  Status restart_task(const std::string& task,
                      const std::string& reason = "User requested task to restart");
  Status signal_task(const std::string& task, const std::string& signal);
  Result<nlohmann::json> exec_task(const std::string& task, const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout);
  Result<std::unique_ptr<plugins::ExecSession>> exec_stream(const std::string& task,
                                                            const plugins::ExecRequest& request);

  state::Alloc snapshot() const;
  // A snapshot when `want` (called under the lock) says so.
  std::optional<state::Alloc> snapshot_if(const std::function<bool(const state::Alloc&)>& want) const;
  // Records the alloc's health (Nomad's DeploymentStatus) and persists it.
  void set_deployment_status(const nlohmann::json& status);
  const std::string& id() const { return id_; }
  bool terminal() const;
  // Cheap reads for listings: no snapshot of the task states.
  std::string client_status() const {
    std::lock_guard lock(mu_);
    return alloc_.client_status;
  }
  // Set when the alloc was made and never changed: read without the lock.
  int64_t create_time_ns() const { return alloc_.create_time_ns; }
  int64_t modify_time_ns() const {
    std::lock_guard lock(mu_);
    return alloc_.modify_time_ns;
  }

  // Called by task runners: applies `fn` to the task's state, persists it, updates the
  // alloc's client status.
  // Changes a task's state and stores it with the alloc's status in one transaction, with the
  // task's driver handle when `handle` is given: null when the task has ended (cleared), the
  // driver's when it has started (state/state_store.hpp, put_task_update).
  void update_task(const std::string& task, const std::function<void(state::TaskState&)>& fn,
                   const nlohmann::json* handle = nullptr);
  // The same in memory only (shown at once, blocking queries woken): written with the task's
  // next write, at the latest its Starting handle's before the driver's start. For a step
  // whose loss in a crash changes nothing, since the start then begins again (docs/design.md,
  // "State").
  void update_task_unwritten(const std::string& task,
                             const std::function<void(state::TaskState&)>& fn);
  // Stores the task's Starting handle (hooks/starting_handle_hook.cpp), with whatever of its
  // state and the alloc's status is not written yet, in one transaction.
  Status put_starting_handle(const std::string& task, const nlohmann::json& handle);
  // The task's cgroup made ahead at the alloc's first start (start_now), for its cgroup hook
  // to take; null when there is none (made inline then).
  std::shared_ptr<NodeResources::Ahead> take_cgroup_ahead(const std::string& task);
  // The cores the task's cgroup holds (resources.cores), shown with the alloc; written with
  // the task's Starting handle.
  void set_reserved_cores(const std::string& task, std::vector<int> cores);

  RunnerContext& ctx() { return ctx_; }
  const jobspec::Job& job() const { return *job_; }
  const std::shared_ptr<const jobspec::Job>& shared_job() const { return job_; }
  // Never changes: read without the lock (and without a snapshot).
  const std::string& job_id() const { return job_key_.id; }
  const state::JobKey& job_key() const { return job_key_; }
  const std::shared_ptr<const nlohmann::json>& job_json() const { return job_json_; }
  // Its ports: chosen before it was first persisted, never changed (no lock needed).
  const std::vector<state::AllocatedNetwork>& networks() const { return alloc_.networks; }
  // Not terminal and not asked to stop.
  bool live_and_wanted() const;
  // Null when the alloc's group is not in its job (the alloc failed at start).
  const jobspec::TaskGroup* group_or_null() const { return group_; }
  const jobspec::TaskGroup& group() const { return *group_; }
  // batch and sysbatch tasks run to completion; service and system tasks are restarted.
  bool batch() const { return jobspec::runs_to_completion(job_->type); }
  AllocDir dir() const { return alloc_dir_for(ctx_.data_dir, id_); }
  // The alloc's own address in network mode bridge ("" otherwise, or before it is up).
  std::string alloc_ip() const {
    std::lock_guard lock(mu_);
    return alloc_ip_;
  }
  // The JSON a driver's start call receives for `task`.
  sdk::TaskSpec task_spec(const jobspec::Task& task) const;
  // The task's env and ${...} interpolation, its dirs as the task sees them (/alloc, /local
  // and /secrets for a driver that isolates the filesystem): what task_spec interpolates the
  // config with, and hooks a job's other text (artifact sources, volume_mount destinations).
  TaskEnv task_env(const jobspec::Task& task) const;
  // The group network's hostname interpolated with the alloc's variables (those of its first
  // task: NOMAD_ALLOC_INDEX, NOMAD_JOB_NAME, NOMAD_META_<key>, ${node.*}), in mode bridge or none;
  // "" when it has none.
  std::string alloc_hostname() const;

 private:
  // The runner of `task` when it is running; NotFound or Conflict (naming it) otherwise.
  Result<TaskRunner*> running_task(const std::string& task);
  static TaskRole role_of(const jobspec::Task& t);
  // The driver's private dirs for `task` of alloc `id` (task_spec's StateDir and RuntimeDir).
  static std::string state_dir_of(const RunnerContext& ctx, const std::string& id, const std::string& task);
  static std::string runtime_dir_of(const RunnerContext& ctx, const std::string& id, const std::string& task);
  // The runners of `task` (every task when empty) that are running: NotFound for a task the
  // alloc does not have, Conflict when none runs.
  Result<std::vector<TaskRunner*>> running_tasks(const std::string& task);
  std::vector<LifecycleTask> lifecycle_view() const;
  void step_locked(std::unique_lock<std::mutex>& lock);
  void advance_locked();
  void fail_alloc(const std::string& description);
  void start_now(bool recovering);
  // Has the cgroups of the tasks that start first made while the alloc dir is built.
  void prepare_cgroups_ahead();
  // Removes the cgroup made ahead for `task` (every task when empty) and not taken; mu_ held.
  void discard_cgroups_ahead_locked(const std::string& task = "");
  // Waits for previous_ to be terminal, moves its data here, then start_now (own thread).
  void take_over_previous();
  // Starts the runner of each task with `role` that has none yet and is not dead.
  void start_role(TaskRole role, bool recovering);
  void start_task(const jobspec::Task& task, bool recovering);
  void notify_change();
  void touched_locked();
  // update_task and update_task_unwritten: the change, the lifecycle's step, the observers.
  void change_task(const std::string& task, const std::function<void(state::TaskState&)>& fn,
                   const nlohmann::json* handle, bool write);
  // Applies fn to the task's state and persists it (unless !write); mu_ held.
  void update_task_locked(const std::string& task, const std::function<void(state::TaskState&)>& fn,
                          const nlohmann::json* handle = nullptr, bool write = true);
  void kill_role(TaskRole role, const std::string& reason, const std::string& event_type);
  // The group's network mode when it gives the alloc its own namespace, else "".
  std::string isolated_mode() const;
  // Creates (or, recovering, finds again) the alloc's network namespace before any task
  // starts (runner/alloc_network.hpp); false when the alloc failed for it.
  bool start_network(bool recovering);
  // Tears the namespace down once the alloc is terminal; only the first call does anything.
  void release_network();

  RunnerContext& ctx_;
  std::string id_;
  state::JobKey job_key_;
  std::shared_ptr<const nlohmann::json> job_json_;
  std::shared_ptr<const jobspec::Job> job_;
  const jobspec::TaskGroup* group_ = nullptr;
  mutable std::mutex mu_;
  state::Alloc alloc_;
  bool stop_requested_ = false;
  std::string stop_reason_;
  bool max_run_exceeded_ = false;  // exceed_max_run_duration() was called
  bool detached_ = false;
  // The lifecycle's progress, advanced by step_locked on every change.
  bool started_ = false, recovering_ = false, stepping_ = false, dirty_ = false;
  Lifecycle lifecycle_;
  std::map<std::string, std::unique_ptr<TaskRunner>> runners_;  // by task name
  std::shared_ptr<AllocRunner> previous_;
  DetachedThread previous_waiter_;  // its stack goes when the wait is over
  // The alloc's network namespace and its address (set before any task starts; "" when the
  // alloc shares the host's network).
  std::string netns_path_, alloc_ip_;
  std::map<std::string, std::string> network_labels_;  // from the driver that made it
  bool network_up_ = false;  // under mu_
  // Changes held in memory until the next write (update_task_unwritten); under mu_.
  std::set<std::string> unwritten_tasks_;
  bool alloc_row_unwritten_ = false;
  // Cgroups made ahead and not yet taken by their task's cgroup hook, by task; under mu_.
  std::map<std::string, std::shared_ptr<NodeResources::Ahead>> cgroups_ahead_;
  // Tasks whose Starting handle the placement stored and whose first start has not taken
  // it yet; under mu_.
  std::set<std::string> starting_stored_;
};

// Nomad's client status from task states: failed, else running, else pending, else complete.
std::pair<std::string, std::string> client_status_of(const std::map<std::string, state::TaskState>& tasks);

}  // namespace drover::runner
