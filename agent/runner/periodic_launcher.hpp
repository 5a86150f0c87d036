// The periodic launcher: on its own thread, launches a child job of every enabled periodic job
// at each time its crons name, as Nomad's leader does. A child is the parent's copy with the
// id "<job>/periodic-<unix>" and ParentID set; it runs as any batch job. Each launch is
// written to the state store before its child is submitted, so that an agent restart never
// launches one twice, and an agent that was down over launch times launches once when it
// starts (Nomad's catch-up: one, not one per missed time).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"
#include "jobspec/periodic_schedule.hpp"
#include "state/job_key.hpp"

namespace drover::state {
class StateStore;
struct JobRecord;
}  // namespace drover::state

namespace drover::runner {

class AllocManager;

class PeriodicLauncher {
 public:
  // `clock`: unix seconds now (tests move it; the agent's is the system clock).
  PeriodicLauncher(AllocManager& allocs, state::StateStore& store,
                   std::function<int64_t()> clock = {});
  ~PeriodicLauncher();
  PeriodicLauncher(const PeriodicLauncher&) = delete;
  PeriodicLauncher& operator=(const PeriodicLauncher&) = delete;

  // Starts the thread; its first turn launches what was missed while the agent was down.
  void start();
  void stop();
  // A job was submitted, stopped or removed: reread that one job at the next turn, now.
  void job_changed(const state::JobKey& job);
  // One turn now, on the caller's thread (tests): launches what is due.
  void run_once();

  // `drover job periodic force`: launches a child now, whatever the schedule (which it leaves
  // as it was). Errors: NotFound, Invalid (not an enabled periodic job, or stopped),
  // Conflict (a child of this second exists).
  Result<std::string> force(const state::JobKey& job);
  // The next launch of a periodic job (unix seconds); nothing when it has none.
  std::optional<int64_t> next_launch(const state::JobKey& job);

 private:
  struct Entry {
    jobspec::Job job;
    jobspec::PeriodicSchedule schedule;
    int64_t submit_s = 0;
  };
  struct LastLaunch {
    int64_t time = 0;      // unix seconds the last child is named by (0: none yet)
    int64_t until = 0;     // launch times up to here are done (a catch-up covers them all)
    bool pending = false;  // recorded, its child maybe not submitted yet
  };

  // Every periodic job from the store (the first turn), then only the jobs that changed: a
  // submit costs one job's read, not a parse of every job the store holds.
  void refresh_locked();
  void reload_one_locked(const state::JobRecord& rec);
  // One turn: launches every due job; returns the earliest next launch (unix seconds).
  std::optional<int64_t> turn_locked(int64_t now);
  LastLaunch last_launch(const state::JobKey& job);
  void put_last_launch(const state::JobKey& job, const LastLaunch& l);
  // Submits the child launched at `unix` unless it exists; false when it could not.
  bool submit_child(const Entry& e, int64_t unix);

  AllocManager& allocs_;
  state::StateStore& store_;
  std::function<int64_t()> clock_;

  std::mutex mu_;  // entries_ and every launch (the thread's turns and force)
  std::map<state::JobKey, Entry> entries_;
  // Filled by job_changed(), which a launch's own submit calls while mu_ is held: not under mu_.
  std::mutex changed_mu_;
  bool reload_all_ = true;
  std::set<state::JobKey> changed_;
  std::mutex wake_mu_;  // woken_
  std::condition_variable_any cv_;
  bool woken_ = false;
  std::jthread thread_;
};

}  // namespace drover::runner
