// Every alloc on this node: places a submitted job's allocs, stops jobs and allocs, recovers
// allocs from the state store on start, and answers the API's reads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drover/common/result.hpp"
#include "drover/loader/exec_session.hpp"
#include "jobspec/job.hpp"
#include "runner/alloc_index.hpp"
#include "runner/deadline_timer.hpp"
#include "runner/runner_context.hpp"
#include "state/alloc.hpp"
#include "state/state_store.hpp"

namespace drover::runner {

class AllocRunner;
class ExitWatcher;

struct SubmitReceipt {
  std::string eval_id;
  std::string job_id;
  std::vector<std::string> alloc_ids;
};

class AllocManager {
 public:
  explicit AllocManager(RunnerContext ctx);
  ~AllocManager();

  // Reads every alloc from the state store: live ones are recovered through their drivers,
  // terminal ones are kept for reads.
  void recover();
  // Places count allocs of every group. Submitting a job that runs unchanged is a no-op;
  // a changed job replaces the allocs of the old version.
  Result<SubmitReceipt> submit(const jobspec::Job& job);
  Result<std::string> stop_job(const state::JobKey& job);
  // Places one alloc that an upstream decided on (cluster mode): its id, job and group are
  // given. Placing an id that already runs is a no-op.
  Status place(const std::string& alloc_id, const jobspec::Job& job, const std::string& group,
               int index);
  Status set_deployment_status(const std::string& alloc_id, const nlohmann::json& status);
  // Stops the alloc's tasks; `reason` is the message of their Killing events.
  Status stop_alloc(const std::string& alloc_id, const std::string& reason = "Alloc stopped by user");
  // Restarts one task of the alloc, or all its running tasks when `task` is empty.
  Status restart_alloc(const std::string& alloc_id, const std::string& task);
  Status signal_alloc(const std::string& alloc_id, const std::string& task, const std::string& signal);
  Result<nlohmann::json> exec_alloc(const std::string& alloc_id, const std::string& task,
                                    const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout);
  // An interactive command inside one of the alloc's running tasks (`alloc exec -i -t`).
  Result<std::unique_ptr<plugins::ExecSession>> exec_stream(const std::string& alloc_id,
                                                            const std::string& task,
                                                            const plugins::ExecRequest& request);
  // The command line of the action `action` of the alloc's task, from the job version the alloc
  // runs (docs/jobspec.md, "actions"); refused when the alloc is not of job `job_id`.
  Result<std::vector<std::string>> action_command(const std::string& alloc_id, const std::string& job_id,
                                                  const std::string& task, const std::string& action);
  // Removes a terminal alloc: its dirs, logs and state. A live alloc is refused.
  Status gc_alloc(const std::string& alloc_id);
  // Removes the oldest terminal allocs while more than `max_allocs` are kept, or while the data
  // dir's disk is fuller than `disk_threshold_percent`. Returns how many were removed.
  int gc(int max_allocs, int disk_threshold_percent);
  // Measures each live alloc's dir against its group's ephemeral_disk size and fails the
  // allocs that outgrew it (runner/disk_budget.hpp). Returns how many were failed.
  int enforce_disk_budgets();
  // Nomad's job GC: removes each job whose allocs are all terminal and whose last change
  // (submit, or its allocs' last update) is older than `threshold`, with its allocs' dirs and
  // records. Returns how many jobs were removed.
  int gc_jobs(std::chrono::nanoseconds threshold);
  // Stops the job and removes its record at once (Nomad's ?purge=true); its allocs stay
  // readable until they end and are garbage collected.
  Result<std::string> purge_job(const state::JobKey& job);
  // Agent shutdown: tasks keep running, runner threads end.
  void shutdown();
  // A task event a driver emitted (e.g. image pull progress), kept like the task runner's own
  // (the last state::kMaxTaskEvents). Dropped when the alloc or the task is unknown.
  void record_task_event(const std::string& alloc_id, const std::string& task, state::TaskEvent e);

  std::vector<state::Alloc> allocs();
  // Copies of the allocs `want` picks, in allocs()' order; `want` sees each alloc (under its
  // runner's lock, once each, one at a time) and decides without a copy: a reader that
  // needs a few of 1,000 allocs copies those.
  std::vector<state::Alloc> allocs_where(const std::function<bool(const state::Alloc&)>& want);
  std::vector<state::Alloc> job_allocs(const state::JobKey& job);
  std::optional<state::Alloc> alloc(const std::string& alloc_id);
  // A full id, or a unique prefix of one; errors say "not found" or "ambiguous".
  Result<std::string> resolve_alloc_id(const std::string& id_or_prefix);
  std::vector<state::JobRecord> jobs();
  std::optional<state::JobRecord> job(const state::JobKey& job);
  // pending (no alloc started), running (some alloc not terminal), dead (all terminal).
  // Reads only the job's own allocs (through the by-job index), never a snapshot of each.
  std::string job_status(const state::JobKey& job);

  const RunnerContext& ctx() const { return ctx_; }
  // Moves on every change of any alloc here, when one is garbage collected, and when a job is
  // submitted, stopped, purged or collected: what the API's blocking queries on allocs and
  // jobs wait on (runner/alloc_index.hpp).
  const AllocIndex& alloc_index() const { return alloc_index_; }
  // Set before recover() and before any submit: called after every alloc change.
  void set_on_alloc_change(std::function<void(const state::Alloc&)> fn) {
    ctx_.on_alloc_change = std::move(fn);
  }
  // Set before the API serves: called after a job is submitted, stopped or removed (the
  // periodic launcher rereads its jobs).
  void set_on_job_change(std::function<void(const state::JobKey&)> fn) {
    on_job_change_ = std::move(fn);
  }
  // Whether a job of `prefix.ns` whose id starts with `prefix.id` has an alloc that is not
  // terminal (prohibit_overlap: a periodic job's children are "<job>/periodic-<unix>").
  bool any_live_job_with_prefix(const state::JobKey& prefix);

 private:
  std::shared_ptr<AllocRunner> runner(const std::string& alloc_id);
  Result<SubmitReceipt> submit_locked(const jobspec::Job& job);
  // A new alloc's record (status pending, each task Received), not yet stored.
  static state::Alloc new_alloc(const std::string& alloc_id, const jobspec::Job& job,
                                const std::shared_ptr<const nlohmann::json>& job_json,
                                const jobspec::TaskGroup& group, int index,
                                std::vector<state::AllocatedNetwork> networks,
                                const std::string& previous_alloc = "");
  // Ports for allocs about to be placed, one entry per (group, alloc id), all or nothing: a
  // Conflict (409) names each port that does not fit and its holder. `replaced`: allocs this
  // submit stops, whose static ports the new version may take.
  Result<std::vector<std::vector<state::AllocatedNetwork>>> allocate_ports_locked(
      const std::string& job_id,
      const std::vector<std::pair<const jobspec::TaskGroup*, std::string>>& placements,
      const std::vector<std::shared_ptr<AllocRunner>>& replaced);

  // runners_ and allocs_by_job_ change together, under mu_.
  void add_runner_locked(const std::shared_ptr<AllocRunner>& r);
  void erase_runner_locked(const std::string& alloc_id);
  std::vector<std::shared_ptr<AllocRunner>> job_runners(const state::JobKey& job);

  AllocIndex alloc_index_;  // before ctx_, which points at it
  RunnerContext ctx_;
  std::unique_ptr<ExitWatcher> exit_watcher_;  // outlives the runners (declared before them)
  std::mutex mu_;  // guards runners_, allocs_by_job_, removed_alloc_ns_ and submissions
  std::map<std::string, std::shared_ptr<AllocRunner>> runners_;
  // job -> ids of its allocs in runners_: a job's reads cost its own allocs, not all.
  std::map<state::JobKey, std::set<std::string>> allocs_by_job_;
  // job -> last update of an alloc of it that was garbage collected (job GC's age of a
  // job whose allocs are already gone; lost on restart, then the submit time counts).
  std::map<state::JobKey, int64_t> removed_alloc_ns_;
  std::function<void(const state::JobKey&)> on_job_change_;
  void job_changed(const state::JobKey& job) {
    alloc_index_.next();  // a job submitted, stopped or purged is news to a blocking query
    if (on_job_change_) on_job_change_(job);
  }
  // Groups' max_run_duration deadlines; its thread calls into runners_, so it is declared
  // last and stops first.
  DeadlineTimer deadlines_;
};


}  // namespace drover::runner
