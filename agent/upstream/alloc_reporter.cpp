// The batched alloc update reporter; see alloc_reporter.hpp.
#include "upstream/alloc_reporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>
#include "drover/common/json_text.hpp"

namespace drover::upstream {

AllocReporter::AllocReporter(SendFn send, Options opts) : send_(std::move(send)), opts_(opts) {}

AllocReporter::~AllocReporter() { stop(); }

void AllocReporter::enqueue(AllocUpdate u) {
  std::lock_guard lock(mu_);
  evicted_.erase(u.alloc_id);  // its status as of now: what the refill would have queued
  auto acked = acked_.find(u.alloc_id);
  bool same_as_acked = acked != acked_.end() && acked->second == json_text(u.status);
  auto it = pending_.find(u.alloc_id);
  if (it != pending_.end()) {
    // Back to what the upstream already has: nothing to send for this alloc.
    if (same_as_acked) {
      pending_.erase(it);
      order_.erase(std::find(order_.begin(), order_.end(), u.alloc_id));
    } else {
      it->second = std::move(u.status);
    }
    return;
  }
  if (same_as_acked) return;
  if (pending_.size() >= opts_.max_pending) {
    // Full: the oldest alloc's update goes; its id stays for the refill (or its next change).
    pending_.erase(order_.front());
    evicted_.insert(order_.front());
    order_.pop_front();
    ++dropped_;
  }
  order_.push_back(u.alloc_id);
  pending_.emplace(u.alloc_id, std::move(u.status));
}

bool AllocReporter::tick(Clock::time_point now) {
  std::vector<AllocUpdate> batch;
  {
    std::lock_guard lock(mu_);
    if (sending_ || pending_.empty() || now < next_send_) return false;
    for (std::size_t i = 0; i < order_.size() && batch.size() < opts_.max_batch; ++i)
      batch.push_back({order_[i], pending_.at(order_[i])});
    sending_ = true;
  }
  Status st = send_(batch);
  std::vector<std::string> refill;
  {
    std::lock_guard lock(mu_);
    after_send_locked(batch, st, now, refill);
  }
  // Pushed-out allocs come back while there is room for them: half the bound at most.
  if (!refill.empty() && refill_) refill_(refill);
  return true;
}

void AllocReporter::after_send_locked(const std::vector<AllocUpdate>& batch, const Status& st,
                                      Clock::time_point now, std::vector<std::string>& refill) {
  sending_ = false;
  ++writes_;
  last_ok_ = st.ok();
  if (!st.ok()) {
    backoff_ =
        backoff_.count() == 0 ? opts_.backoff_min : std::min(backoff_ * 2, opts_.backoff_max);
    next_send_ = now + backoff_;
    spdlog::debug("alloc updates not sent ({}), retrying in {} ms", st.message(), backoff_.count());
    return;
  }
  backoff_ = std::chrono::milliseconds(0);
  next_send_ = now + opts_.window;
  for (auto& u : batch) {
    auto it = pending_.find(u.alloc_id);
    // A newer update that came in during the write stays queued.
    if (it != pending_.end() && it->second == u.status) {
      pending_.erase(it);
      order_.erase(std::find(order_.begin(), order_.end(), u.alloc_id));
    }
    acked_[u.alloc_id] = json_text(u.status);
  }
  const std::size_t room = opts_.max_pending / 2;
  while (!evicted_.empty() && pending_.size() + refill.size() < room) {
    refill.push_back(*evicted_.begin());
    evicted_.erase(evicted_.begin());
  }
}

void AllocReporter::retry_now() {
  {
    std::lock_guard lock(mu_);
    next_send_ = {};
    backoff_ = std::chrono::milliseconds(0);
  }
  loop_.wake();
}

bool AllocReporter::flush(std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    {
      std::lock_guard lock(mu_);
      if (pending_.empty() && !sending_) return true;
      next_send_ = {};
    }
    if (!tick(Clock::now())) {
      // The loop's own write is in flight: wait for it.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (!last_write_ok()) return false;
  }
  return false;
}

std::size_t AllocReporter::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}
uint64_t AllocReporter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
uint64_t AllocReporter::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}
bool AllocReporter::last_write_ok() const {
  std::lock_guard lock(mu_);
  return last_ok_;
}

void AllocReporter::start() {
  loop_.start(std::chrono::milliseconds(50), [this] { tick(Clock::now()); });
}

void AllocReporter::stop() { loop_.stop(); }

}  // namespace drover::upstream
