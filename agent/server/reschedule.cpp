// Nomad's reschedule arithmetic; see reschedule.hpp.
#include "server/reschedule.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxPastEvents = 5;  // Nomad's maxPastRescheduleEvents, when unlimited

const json& events_of(const json& alloc) {
  static const json kNone = json::array();
  if (!alloc.is_object()) return kNone;
  auto t = alloc.find("RescheduleTracker");
  if (t == alloc.end() || !t->is_object()) return kNone;
  auto e = t->find("Events");
  return e != t->end() && e->is_array() ? *e : kNone;
}

int64_t delay_of(const json& event) { return event.value("Delay", int64_t{0}); }
int64_t time_of(const json& event) { return event.value("RescheduleTime", int64_t{0}); }

}  // namespace

int64_t next_reschedule_delay_ns(const jobspec::ReschedulePolicy& p, const json& alloc,
                                 int64_t failed_at_ns) {
  const int64_t base = p.delay.count(), ceiling = p.max_delay.count();
  const json& events = events_of(alloc);
  if (events.empty()) return base;
  int64_t d = base;
  const json& last = events.back();
  if (p.delay_function == "exponential") {
    d = delay_of(last) * 2;
  } else if (p.delay_function == "fibonacci") {
    if (events.size() >= 2) {
      int64_t n1 = delay_of(last), n2 = delay_of(events[events.size() - 2]);
      // The series started over after the ceiling: the next one is delay again.
      d = n2 == ceiling && n1 == base ? n1 : n1 + n2;
    }
  } else {
    return base;  // constant
  }
  if (ceiling > 0 && d > ceiling) {
    d = ceiling;
    // An alloc that ran longer than the ceiling before failing starts the series over.
    if (failed_at_ns - time_of(last) > d) d = base;
  }
  return d;
}

std::optional<int64_t> next_reschedule_at_ns(const jobspec::ReschedulePolicy& p, const json& alloc,
                                             int64_t failed_at_ns) {
  if (p.attempts <= 0 && !p.unlimited) return std::nullopt;
  const int64_t d = next_reschedule_delay_ns(p, alloc, failed_at_ns);
  const json& events = events_of(alloc);
  if (p.unlimited || events.empty()) return failed_at_ns + d;
  // Attempts count within the interval before the failure.
  const int64_t interval = p.interval.count();
  int attempted = 0;
  for (const auto& e : events)
    if (failed_at_ns - time_of(e) < interval) ++attempted;
  if (attempted < p.attempts && d < interval) return failed_at_ns + d;
  return std::nullopt;
}

json next_reschedule_tracker(const jobspec::ReschedulePolicy& p, const json& prev,
                             int64_t failed_at_ns, int64_t now_ns) {
  const json& past = events_of(prev);
  json events = json::array();
  if (p.attempts > 0) {
    // Only the events that still count against the attempts.
    for (const auto& e : past)
      if (p.interval.count() > 0 && now_ns - time_of(e) <= p.interval.count()) events.push_back(e);
  } else {
    std::size_t start = past.size() > kMaxPastEvents ? past.size() - kMaxPastEvents : 0;
    for (std::size_t i = start; i < past.size(); ++i) events.push_back(past[i]);
  }
  events.push_back({{"RescheduleTime", now_ns},
                    {"PrevAllocID", prev.value("ID", "")},
                    {"PrevNodeID", prev.value("NodeID", "")},
                    {"Delay", next_reschedule_delay_ns(p, prev, failed_at_ns)}});
  return {{"Events", events}};
}

}  // namespace drover::server
