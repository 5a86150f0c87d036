// One thread that runs the work posted to it, in order, while its poster goes on: for a step
// that can overlap the rest of a task's start (runner/node_resources.hpp, cgroups made
// ahead). A thread made per piece of work would cost as much as the overlap saves
// (bench/results/2026-12-06-fresh-boot-profile.md); this one waits on a condition variable
// between pieces. Work posted before stop() still runs: stop() returns once the queue is
// empty and the thread has ended.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

namespace drover {

class WorkThread {
 public:
  WorkThread() = default;
  ~WorkThread() { stop(); }
  WorkThread(const WorkThread&) = delete;
  WorkThread& operator=(const WorkThread&) = delete;

  // Runs `work` on the thread, after what was posted before it; starts the thread the first
  // time. After stop(), runs it here, on the caller's thread.
  void post(std::function<void()> work) {
    {
      std::lock_guard lock(mu_);
      if (!stopped_) {
        if (!thread_.joinable()) thread_ = std::jthread([this](std::stop_token st) { loop(st); });
        queue_.push_back(std::move(work));
        cv_.notify_one();
        return;
      }
    }
    work();
  }

  // Runs what is queued, then ends and joins the thread; safe to call twice.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop(std::stop_token st) {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, st, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested with nothing left
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> queue_;
  bool stopped_ = false;
  std::jthread thread_;
};

}  // namespace drover
