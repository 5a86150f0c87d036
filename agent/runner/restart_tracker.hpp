// The restart policy of one task (docs/nomad-compat.md, "Restart policy"): attempts within an
// interval, a delay with 0-25 % jitter, and mode fail (give up) or delay (wait for the window
// to end).
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "jobspec/job.hpp"

namespace drover::runner {

class RestartTracker {
 public:
  using Clock = std::chrono::steady_clock;

  RestartTracker(jobspec::RestartPolicy policy, bool batch)
      : policy_(std::move(policy)), batch_(batch) {}

  struct Decision {
    bool restart = false;
    std::chrono::nanoseconds delay{0};
    std::string reason;  // for the Restarting / Not Restarting event
    bool failed = false;  // when not restarting: does the task end failed?
  };

  // Called when the task exited; `success` is exit code 0 without a signal.
  Decision on_exit(bool success, Clock::time_point now = Clock::now());

 private:
  std::chrono::nanoseconds jittered_delay();

  jobspec::RestartPolicy policy_;
  bool batch_;
  int count_ = 0;
  Clock::time_point window_start_{};
  std::mt19937_64 rng_{std::random_device{}()};
};

std::string format_duration(std::chrono::nanoseconds d);  // "15s", "1m30s", "250ms"

}  // namespace drover::runner
