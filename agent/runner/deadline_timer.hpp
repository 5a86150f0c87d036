// One thread that runs work at wall-clock times: the deadlines of every alloc with a group
// `max_run_duration` (docs/jobspec.md, "groups"), without a thread per alloc. A deadline
// is anchored to the alloc's create time, so it holds across agent restarts; the wait is on
// the system clock because the deadline is a time of day.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace drover::runner {

class DeadlineTimer {
 public:
  using Clock = std::chrono::system_clock;

  DeadlineTimer() = default;
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Runs `work` on the timer's thread at `when` (at once when it has passed). Work runs one
  // at a time, in deadline order; it must not call at() of this timer while holding a lock
  // the caller of at() holds.
  void at(Clock::time_point when, std::function<void()> work);
  // Ends the thread; work not yet due never runs.
  void stop();

 private:
  void loop(std::stop_token st);

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::multimap<Clock::time_point, std::function<void()>> due_;
  std::jthread thread_;
};

}  // namespace drover::runner
