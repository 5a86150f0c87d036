#include "runner/restart_tracker.hpp"

namespace drover::runner {

std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d < seconds(1)) return std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
  auto total = duration_cast<seconds>(d).count();
  std::string out;
  if (total >= 3600) out += std::to_string(total / 3600) + "h";
  if (total % 3600 >= 60) out += std::to_string(total % 3600 / 60) + "m";
  if (total % 60 || out.empty()) out += std::to_string(total % 60) + "s";
  return out;
}

std::chrono::nanoseconds RestartTracker::jittered_delay() {
  auto base = policy_.delay.count();
  if (base <= 0) return std::chrono::nanoseconds(0);
  std::uniform_int_distribution<int64_t> jitter(0, base / 4);
  return std::chrono::nanoseconds(base + jitter(rng_));
}

RestartTracker::Decision RestartTracker::on_exit(bool success, Clock::time_point now) {
  Decision d;
  // A batch task that succeeded is done; a service task is restarted even on success.
  if (success && batch_) {
    d.reason = "Task completed successfully";
    return d;
  }
  if (count_ == 0 || now - window_start_ >= policy_.interval) {
    window_start_ = now;
    count_ = 0;
  }
  ++count_;
  if (count_ <= policy_.attempts) {
    d.restart = true;
    d.delay = jittered_delay();
    d.reason = success ? "Restart within policy: task exited" : "Restart within policy: task failed";
    return d;
  }
  if (policy_.mode == "delay") {
    // Wait for the window to end, then start a new one.
    d.restart = true;
    d.delay = std::max(policy_.interval - (now - window_start_), jittered_delay());
    d.reason = "Exceeded allowed attempts " + std::to_string(policy_.attempts) + " in interval " +
               format_duration(policy_.interval) + "; delaying until the interval ends";
    count_ = 0;
    return d;
  }
  d.failed = true;
  d.reason = "Exceeded allowed attempts " + std::to_string(policy_.attempts) + " in interval " +
             format_duration(policy_.interval) + " and mode is \"fail\"";
  return d;
}

}  // namespace drover::runner
