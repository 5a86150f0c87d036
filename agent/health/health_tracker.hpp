// The health state machine of one alloc (Nomad's `update` semantics), on an injected clock so
// that tests can drive it: healthy once every non-ephemeral task has run (and its checks have
// passed) continuously for min_healthy_time; unhealthy when a task fails or healthy_deadline
// passes first. The verdict is given once.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "jobspec/job.hpp"
#include "state/alloc.hpp"

namespace drover::health {

using Clock = std::chrono::steady_clock;

struct HealthSettings {
  std::string mode = "checks";  // checks | task_states | manual
  std::chrono::nanoseconds min_healthy_time = std::chrono::seconds(10);
  std::chrono::nanoseconds healthy_deadline = std::chrono::minutes(5);
};

// The group's update block, else the job's, else the group's migrate block, else Nomad's
// defaults. A group without any check is judged on task states alone, as Nomad does.
HealthSettings health_settings(const jobspec::Job& job, const jobspec::TaskGroup& group);

// Tasks that are allowed to finish: prestart and poststart tasks that are not sidecars, and
// poststop tasks. Their failure still fails the alloc.
std::set<std::string> ephemeral_tasks(const jobspec::TaskGroup& group);

struct Verdict {
  bool healthy = false;
  std::string reason;
};

class HealthTracker {
 public:
  HealthTracker(HealthSettings settings, std::set<std::string> ephemeral, Clock::time_point start);

  // Looks at the alloc as it is now. `checks_passing`: every check of the alloc passes (true
  // when it has none). Returns the verdict the first time one is reached, nullopt otherwise
  // and forever after.
  std::optional<Verdict> observe(const state::Alloc& alloc, bool checks_passing,
                                 Clock::time_point now);
  bool decided() const { return decided_; }

 private:
  HealthSettings settings_;
  std::set<std::string> ephemeral_;
  Clock::time_point start_;
  std::optional<Clock::time_point> healthy_since_;
  // A restart between two looks resets the min_healthy_time window even if both looks saw
  // the task running.
  std::map<std::string, std::pair<int, int64_t>> last_seen_;  // task -> (restarts, started_at)
  bool decided_ = false;
};

std::string format_duration_short(std::chrono::nanoseconds d);

}  // namespace drover::health
