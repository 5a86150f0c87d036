// A task run every period on a thread of its own until stopped: the loop the agent's watchers
// (node fingerprint, status reporter, systemd watchdog) each wrote by hand with a stop flag,
// written once on std::jthread, whose stop request wakes the wait at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace drover {

class Periodic {
 public:
  enum class First { AfterAPeriod, Now };

  Periodic() = default;
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Calls `tick` every `period` (the first time now, or after one period) until stop().
  void start(std::chrono::nanoseconds period, std::function<void()> tick,
             First first = First::AfterAPeriod) {
    thread_ = std::jthread([this, period, tick = std::move(tick), first](std::stop_token stop) {
      if (first == First::Now) tick();
      std::unique_lock lock(mu_);
      for (;;) {
        cv_.wait_for(lock, stop, period, [this] { return woken_; });
        if (stop.stop_requested()) return;
        woken_ = false;
        lock.unlock();
        tick();
        lock.lock();
      }
    });
  }

  // Runs the next tick now rather than at the end of the period.
  void wake() {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }

  // Ends the loop (a tick under way finishes first) and joins; safe to call twice.
  void stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  bool woken_ = false;
  std::jthread thread_;
};

}  // namespace drover
