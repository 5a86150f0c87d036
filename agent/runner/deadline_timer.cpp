// The deadline thread (deadline_timer.hpp).
#include "runner/deadline_timer.hpp"

namespace drover::runner {

DeadlineTimer::~DeadlineTimer() { stop(); }

void DeadlineTimer::at(Clock::time_point when, std::function<void()> work) {
  std::lock_guard lock(mu_);
  due_.emplace(when, std::move(work));
  if (!thread_.joinable()) thread_ = std::jthread([this](std::stop_token st) { loop(st); });
  cv_.notify_one();
}

void DeadlineTimer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_one();
  thread_.join();
}

void DeadlineTimer::loop(std::stop_token st) {
  std::unique_lock lock(mu_);
  while (!st.stop_requested()) {
    if (due_.empty()) {
      cv_.wait(lock, st, [&] { return !due_.empty(); });
      continue;
    }
    const auto next = due_.begin()->first;
    if (Clock::now() < next) {
      // Woken early by a new, sooner deadline or by stop; either way look again.
      cv_.wait_until(lock, st, next, [&] { return due_.begin()->first < next; });
      continue;
    }
    auto work = std::move(due_.begin()->second);
    due_.erase(due_.begin());
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace drover::runner
