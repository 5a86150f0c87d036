// The health state machine; see health_tracker.hpp.
#include "health/health_tracker.hpp"

namespace drover::health {

HealthSettings health_settings(const jobspec::Job& job, const jobspec::TaskGroup& group) {
  jobspec::UpdateStrategy u;
  if (group.update)
    u = *group.update;
  else if (job.update)
    u = *job.update;
  HealthSettings s{u.health_check, u.min_healthy_time, u.healthy_deadline};
  // No rolling update says how: the migrate block does (Nomad judges allocs outside a
  // deployment by it).
  if (!group.update && !job.update && group.migrate)
    s = {group.migrate->health_check, group.migrate->min_healthy_time,
         group.migrate->healthy_deadline};
  // Checks of the group's own services count as its tasks' do (they were left out: a group
  // whose checks all sat in group services was judged by task states alone).
  bool any_check = false;
  for (const auto& svc : group.services) any_check = any_check || !svc.checks.empty();
  for (const auto& t : group.tasks)
    for (const auto& svc : t.services) any_check = any_check || !svc.checks.empty();
  if (s.mode == "checks" && !any_check) s.mode = "task_states";
  return s;
}

std::set<std::string> ephemeral_tasks(const jobspec::TaskGroup& group) {
  std::set<std::string> out;
  for (const auto& t : group.tasks) {
    const auto& hook = t.lifecycle.hook;
    if (hook == "poststop" || ((hook == "prestart" || hook == "poststart") && !t.lifecycle.sidecar))
      out.insert(t.name);
  }
  return out;
}

std::string format_duration_short(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(d).count();
  if (ms % 60000 == 0 && ms >= 60000) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

HealthTracker::HealthTracker(HealthSettings settings, std::set<std::string> ephemeral,
                             Clock::time_point start)
    : settings_(std::move(settings)), ephemeral_(std::move(ephemeral)), start_(start) {}

std::optional<Verdict> HealthTracker::observe(const state::Alloc& alloc, bool checks_passing,
                                              Clock::time_point now) {
  if (decided_ || settings_.mode == "manual") return std::nullopt;
  auto decide = [&](bool healthy, std::string reason) {
    decided_ = true;
    return Verdict{healthy, std::move(reason)};
  };

  std::string not_ready;  // why it is not healthy yet, for the deadline's reason
  bool restarted = false;
  for (const auto& [name, ts] : alloc.tasks) {
    if (ts.state == state::TaskPhase::Dead && ts.failed) return decide(false, "task \"" + name + "\" failed");
    auto seen = std::make_pair(ts.restarts, ts.started_at_ns);
    auto it = last_seen_.find(name);
    if (it != last_seen_.end() && it->second != seen) restarted = true;
    last_seen_[name] = seen;
    if (ephemeral_.count(name)) continue;
    if (ts.state != state::TaskPhase::Running && not_ready.empty())
      not_ready = "task \"" + name + "\" is " + state::to_string(ts.state);
  }
  if (not_ready.empty() && settings_.mode == "checks" && !checks_passing)
    not_ready = "checks are not passing";

  if (!not_ready.empty() || restarted) {
    healthy_since_.reset();
  }
  if (not_ready.empty()) {
    if (!healthy_since_) healthy_since_ = now;
    if (now - *healthy_since_ >= settings_.min_healthy_time) {
      std::string what =
          settings_.mode == "checks" ? "tasks running and checks passing" : "tasks running";
      return decide(true,
                    "all " + what + " for " + format_duration_short(settings_.min_healthy_time));
    }
  }
  if (now - start_ >= settings_.healthy_deadline) {
    if (not_ready.empty()) not_ready = "min_healthy_time not reached";
    return decide(false, "healthy deadline (" + format_duration_short(settings_.healthy_deadline) +
                             ") passed: " + not_ready);
  }
  return std::nullopt;
}

}  // namespace drover::health
