// Where a task start spends its time inside the agent: each hook's prestart and poststart, the
// driver's start, the alloc's own setup. Summed per step since the agent started, and served
// on /v1/metrics as drover_task_start_step_seconds_total and drover_task_start_steps_total,
// so an operator or bench/ reads the mean of each step without a debug build.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace drover::runner {

class StepTimings {
 public:
  struct Step {
    std::string name;  // "prestart:cgroup", "driver:start", "poststart:starting_handle", ...
    std::uint64_t count = 0;
    std::chrono::nanoseconds total{0};
  };

  void add(const std::string& step, std::chrono::nanoseconds took);
  // Every step seen so far, by name.
  std::vector<Step> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Step> steps_;
};

// Times one step from construction to finish() (or destruction) into `timings` (may be null),
// and says what it took on the trace log, as Nomad's task runner does for its hooks.
class StepTimer {
 public:
  // `who` (say "alloc 1a2b task web") outlives the timer.
  StepTimer(StepTimings* timings, std::string step, const std::string& who);
  ~StepTimer() { finish(); }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;
  void finish();

 private:
  StepTimings* timings_;
  std::string step_;
  const std::string& who_;
  std::chrono::steady_clock::time_point t0_;
  bool done_ = false;
};

}  // namespace drover::runner
