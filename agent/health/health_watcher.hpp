// Watches every live alloc of the node: runs its tasks' checks and decides its health once
// (healthy or unhealthy, with a reason), recorded as Nomad's DeploymentStatus through
// AllocManager::set_deployment_status. Polls every 500 ms (as Nomad does) and wakes early on
// an alloc change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "health/check_runner.hpp"
#include "health/check_scheduler.hpp"
#include "health/health_tracker.hpp"
#include "state/alloc.hpp"

namespace drover::runner {
class AllocManager;
}

namespace drover::health {

class HealthWatcher {
 public:
  struct Options {
    std::chrono::milliseconds poll = std::chrono::milliseconds(500);
  };
  explicit HealthWatcher(runner::AllocManager& manager) : HealthWatcher(manager, Options{}) {}
  HealthWatcher(runner::AllocManager& manager, Options opts);
  ~HealthWatcher();

  void start();
  void stop();
  // Hook for AllocManager's change callback: look again now.
  void alloc_changed(const state::Alloc& alloc);
  // Called with (alloc_id, DeploymentStatus) when a verdict is recorded.
  void set_on_verdict(std::function<void(const std::string&, const nlohmann::json&)> fn) {
    on_verdict_ = std::move(fn);
  }

  // GET /v1/client/allocation/:id/checks: check id -> result. Empty object for an alloc
  // without checks (or not watched).
  nlohmann::json checks(const std::string& alloc_id) const;

 private:
  struct TaskClock {
    int64_t started_at_ns = -1;
    Clock::time_point started{};
  };
  struct Watch {
    std::unique_ptr<HealthTracker> tracker;  // null: health already decided, manual, or batch
    std::vector<std::unique_ptr<CheckRunner>> checks;
    std::map<std::string, TaskClock> clocks;
    uint64_t seen_index = 0;  // the alloc's modify_index when last looked at
    uint64_t scan = 0;        // the last scan that found its alloc live
  };

  void loop(std::stop_token stop);
  void scan();
  std::unique_ptr<Watch> make_watch(const state::Alloc& alloc);

  runner::AllocManager& manager_;
  Options opts_;
  std::function<void(const std::string&, const nlohmann::json&)> on_verdict_;
  CheckScheduler scheduler_;  // before watches_: it outlives every CheckRunner
  mutable std::mutex mu_;  // guards watches_ (the loop and API readers)
  std::map<std::string, std::unique_ptr<Watch>> watches_;
  uint64_t scan_ = 0;  // scans so far; guarded by mu_
  std::mutex wake_mu_;
  std::condition_variable_any wake_cv_;
  bool wake_ = false;
  std::jthread thread_;
};

}  // namespace drover::health
