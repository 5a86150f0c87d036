// Runs one allocation: builds its alloc dir, runs one TaskRunner per task, keeps the alloc's
// client status in step with its tasks (Nomad's rules), and persists every change.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobspec/job.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/runner_context.hpp"
#include "state/alloc.hpp"

namespace drover::runner {

class TaskRunner;

class AllocRunner {
 public:
  // `alloc.job` holds the canonical job JSON; the runner runs alloc.group of it.
  AllocRunner(RunnerContext& ctx, state::Alloc alloc);
  ~AllocRunner();
  AllocRunner(const AllocRunner&) = delete;
  AllocRunner& operator=(const AllocRunner&) = delete;

  // Starts the tasks. With `recovering`, tasks with a persisted handle are reattached and
  // tasks already dead are left alone.
  void start(bool recovering);
  // Desired stop: kills every task that still runs.
  void stop(const std::string& reason);
  // Agent shutdown: the tasks keep running; the runner threads end.
  void detach();
  void join();

  state::Alloc snapshot() const;
  const std::string& id() const { return id_; }
  bool terminal() const;

  // Called by task runners: applies `fn` to the task's state, persists it, updates the
  // alloc's client status.
  void update_task(const std::string& task, const std::function<void(state::TaskState&)>& fn);

  RunnerContext& ctx() { return ctx_; }
  const jobspec::Job& job() const { return job_; }
  const jobspec::TaskGroup& group() const { return *group_; }
  bool batch() const { return job_.type == jobspec::JobType::Batch; }
  AllocDir dir() const { return alloc_dir_for(ctx_.data_dir, id_); }
  // The JSON a driver's start call receives for `task`.
  nlohmann::json task_spec(const jobspec::Task& task) const;

 private:
  void kill_tasks(const std::string& reason, const std::string& except);

  RunnerContext& ctx_;
  std::string id_;
  jobspec::Job job_;
  const jobspec::TaskGroup* group_ = nullptr;
  mutable std::mutex mu_;
  state::Alloc alloc_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<TaskRunner>> tasks_;
};

// Nomad's client status from task states: failed, else running, else pending, else complete.
std::pair<std::string, std::string> client_status_of(const std::map<std::string, state::TaskState>& tasks);

}  // namespace drover::runner
