// ConnectionLimiter: per-address connection counting on httplib's worker threads.
#include "api/limits.hpp"

#include <httplib.h>

namespace drover::api {
namespace {

// The address the connection on this worker thread counts against, once admitted.
thread_local ConnectionLimiter* tl_limiter = nullptr;
thread_local std::string tl_client;
thread_local bool tl_counted = false;

}  // namespace

class LimitingQueue : public httplib::TaskQueue {
 public:
  LimitingQueue(ConnectionLimiter* limiter, std::size_t workers)
      : limiter_(limiter), pool_(workers) {}
  void enqueue(std::function<void()> fn) override {
    auto* limiter = limiter_;
    // One fn is one connection, from accept to close, run on one worker thread.
    pool_.enqueue([limiter, fn = std::move(fn)] {
      tl_limiter = limiter;
      fn();
      limiter->release_current();
    });
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  ConnectionLimiter* limiter_;
  httplib::ThreadPool pool_;
};

httplib::TaskQueue* ConnectionLimiter::make_task_queue() { return new LimitingQueue(this, workers_); }

bool ConnectionLimiter::admit(const std::string& client_addr) {
  // Requests served outside the limiting queue (tests, fuzzing) are not counted.
  if (tl_limiter != this) return true;
  if (tl_counted) return true;  // a later request on a connection already counted
  std::lock_guard lock(mu_);
  auto& n = per_client_[client_addr];
  if (n >= max_per_client_) return false;
  ++n;
  tl_client = client_addr;
  tl_counted = true;
  return true;
}

std::size_t ConnectionLimiter::connections(const std::string& client_addr) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client_addr);
  return it == per_client_.end() ? 0 : it->second;
}

void ConnectionLimiter::release_current() {
  if (tl_counted) {
    std::lock_guard lock(mu_);
    auto it = per_client_.find(tl_client);
    if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
  }
  tl_counted = false;
  tl_client.clear();
  tl_limiter = nullptr;
}

}  // namespace drover::api
