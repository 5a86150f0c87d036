// When a periodic job launches, as Nomad's leader decides it (nomad/periodic.go): the pure
// part shared by the agent's launcher (runner/periodic_launcher.hpp) and the server's
// (server/periodic_launches.hpp). A child is the parent's copy named "<job>/periodic-<unix>";
// a launch found late (the launcher was down over one or more launch times) is one catch-up
// launch named by the time it happens, not one per missed time.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "drover/common/result.hpp"
#include "jobspec/cron.hpp"
#include "jobspec/job.hpp"

namespace drover::jobspec {

// A launch this late is a catch-up after downtime, named by the time it happens; an on-time
// one is named by its cron time.
inline constexpr int64_t kPeriodicOnTimeSlack = 5;

// The job launches children on its crons: an enabled periodic block (a parameterized parent's
// periodic block is for its dispatched children, Nomad's rule).
bool periodic_active(const Job& job);

// Whether `job` (stopped or not) may be forced to launch a child now (`job periodic force`).
// Errors (Invalid): not periodic, parameterized, its periodic block disabled, stopped.
Status can_force_periodic(const Job& job, bool stopped);

// The periodic child of `parent` launched at `unix` (seconds).
Job periodic_child(const Job& parent, int64_t unix);

class PeriodicSchedule {
 public:
  // The block's crons and time zone read; errors name the cron or the zone.
  static Result<PeriodicSchedule> of(const Periodic& periodic);

  // The first launch time strictly after `after` (unix seconds) of any cron.
  std::optional<int64_t> next_after(int64_t after) const;

  // The launch due at `now` when every launch time up to `done_until` is done (the last
  // launch's, or the job's submit time when it changed since): the time that names the child,
  // the cron time when on time and `now` when late (one launch covers every missed time);
  // nothing when no launch time has come.
  std::optional<int64_t> due(int64_t done_until, int64_t now) const;

 private:
  std::vector<CronExpr> crons_;
  TimeZone zone_ = TimeZone::utc();
};

}  // namespace drover::jobspec
