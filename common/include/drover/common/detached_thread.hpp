// A thread whose stack goes back to the system as soon as it ends, while its owner can still
// wait for it to end. A std::thread that has ended keeps its stack (8 MiB mapped, the pages
// it touched resident) until someone joins it: a task runner's start thread ends when it
// hands the running task to the exit watcher, and was joined only at the task's exit, so
// 1,000 running tasks held 1,000 dead stacks, ~20 MiB resident.
//
// The thread runs `fn`, destroys it, then says it is done through a block it shares with
// the owner, so the owner's join() returns once nothing of the owner's can still be touched.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace drover {

class DetachedThread {
 public:
  DetachedThread() = default;
  template <class F>
  explicit DetachedThread(F&& fn) : done_(std::make_shared<Done>()) {
    std::thread t([done = done_, fn = std::forward<F>(fn)]() mutable {
      {
        auto body = std::move(fn);  // its captures go before the owner is told
        body();
      }
      done->set();
    });
    done_->id = t.get_id();
    t.detach();
  }
  DetachedThread(DetachedThread&&) noexcept = default;
  DetachedThread& operator=(DetachedThread&& o) noexcept {
    if (joinable()) std::terminate();  // as std::thread: a running thread is never forgotten
    done_ = std::move(o.done_);
    return *this;
  }
  ~DetachedThread() {
    if (joinable()) std::terminate();
  }

  bool joinable() const { return done_ != nullptr; }
  // Whether the caller is this thread (which must not join itself).
  bool is_current() const { return done_ && done_->id == std::this_thread::get_id(); }

  // Waits until the function has returned (and its captures are destroyed).
  void join() {
    if (!done_) throw std::system_error(std::make_error_code(std::errc::invalid_argument));
    if (is_current())
      throw std::system_error(std::make_error_code(std::errc::resource_deadlock_would_occur));
    done_->wait();
    done_.reset();
  }

 private:
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread::id id;
    void set() {
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();  // under the lock: the block is shared, so it outlives this call anyway
    }
    void wait() {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done; });
    }
  };
  std::shared_ptr<Done> done_;
};

}  // namespace drover
