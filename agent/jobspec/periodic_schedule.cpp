// Periodic launch times (see periodic_schedule.hpp).
#include "jobspec/periodic_schedule.hpp"

namespace drover::jobspec {

bool periodic_active(const Job& job) {
  return job.periodic && job.periodic->enabled && !(job.parameterized && !job.dispatched);
}

Status can_force_periodic(const Job& job, bool stopped) {
  if (!job.periodic) return make_error("job \"" + job.id + "\" is not periodic", Errc::Invalid);
  if (!periodic_active(job))
    return make_error("job \"" + job.id + "\" does not launch periodically (" +
                          (job.periodic->enabled ? "it is parameterized: dispatch it"
                                                 : "its periodic block is disabled") +
                          ")",
                      Errc::Invalid);
  if (stopped) return make_error("job \"" + job.id + "\" is stopped", Errc::Invalid);
  return {};
}

Job periodic_child(const Job& parent, int64_t unix) {
  Job child = parent;
  child.id = parent.id + "/periodic-" + std::to_string(unix);
  child.name = child.id;
  child.parent_id = parent.id;
  child.periodic.reset();
  return child;
}

Result<PeriodicSchedule> PeriodicSchedule::of(const Periodic& periodic) {
  PeriodicSchedule s;
  for (const auto& text : periodic.crons) {
    auto cron = CronExpr::parse(text);
    if (!cron) return make_error("cron \"" + text + "\": " + cron.message(), Errc::Invalid);
    s.crons_.push_back(*cron);
  }
  auto zone = TimeZone::load(periodic.time_zone);
  if (!zone) return zone.error();
  s.zone_ = std::move(*zone);
  return s;
}

std::optional<int64_t> PeriodicSchedule::next_after(int64_t after) const {
  std::optional<int64_t> best;
  for (const auto& c : crons_)
    if (auto t = c.next(after, zone_); t && (!best || *t < *best)) best = t;
  return best;
}

std::optional<int64_t> PeriodicSchedule::due(int64_t done_until, int64_t now) const {
  auto next = next_after(done_until);
  if (!next || *next > now) return std::nullopt;
  return now - *next > kPeriodicOnTimeSlack ? now : *next;
}

}  // namespace drover::jobspec
