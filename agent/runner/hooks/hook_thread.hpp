// The thread a task hook keeps while its task runs (the template watcher, the identity
// renewer): started once the task started, stopped when it exits or starts again, and woken
// at once from its sleeps to stop. A body that asks for its own task's restart is stopped from
// its own thread by that restart, and is then left to return by itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace drover::runner {

class HookThread {
 public:
  using Clock = std::chrono::steady_clock;

  HookThread() = default;
  ~HookThread() { stop(); }
  HookThread(const HookThread&) = delete;
  HookThread& operator=(const HookThread&) = delete;

  // Runs `body` on a new thread (after stopping one still running).
  void start(std::function<void()> body) {
    stop();
    {
      std::lock_guard lock(mu_);
      stop_ = false;
    }
    thread_ = std::thread(std::move(body));
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
      thread_.join();
    else if (thread_.joinable())
      thread_.detach();
  }

  // Sleeps until `t` (a year at most); false once stop() was asked.
  bool sleep_until(Clock::time_point t) {
    const auto cap = Clock::now() + std::chrono::hours(24 * 365);
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, std::min(t, cap), [&] { return stop_; });
  }
  bool sleep_for(std::chrono::nanoseconds d) {
    return sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(d));
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace drover::runner
