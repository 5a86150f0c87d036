// Batches alloc updates to the upstream: at most one write per window (200 ms, Nomad's tick),
// the latest update per alloc wins, an update equal to the last one acknowledged is dropped,
// a failed write is retried with exponential backoff, and the queue is bounded. An alloc whose
// update the bound pushed out is not lost: its id is kept, and once writes go through again
// and the queue has room, the refill function queues its status as it is then. The clock is
// passed in so that tests can drive it; start() runs it on a thread with the real clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "drover/common/periodic.hpp"
#include "upstream/upstream.hpp"

namespace drover::upstream {

class AllocReporter {
 public:
  using Clock = std::chrono::steady_clock;
  using SendFn = std::function<Status(const std::vector<AllocUpdate>&)>;
  // Queues (enqueue) the current status of each alloc named; called without the lock held.
  using RefillFn = std::function<void(const std::vector<std::string>& alloc_ids)>;
  struct Options {
    std::chrono::milliseconds window = std::chrono::milliseconds(200);
    std::chrono::milliseconds backoff_min = std::chrono::milliseconds(250);
    std::chrono::milliseconds backoff_max = std::chrono::seconds(5);
    std::size_t max_pending = 4096;  // allocs with an unsent update
    std::size_t max_batch = 128;     // updates per write
  };

  explicit AllocReporter(SendFn send) : AllocReporter(std::move(send), Options{}) {}
  AllocReporter(SendFn send, Options opts);
  ~AllocReporter();

  void enqueue(AllocUpdate update);
  // Set before start(); without one, an update pushed out stays lost until its alloc changes.
  void set_refill(RefillFn refill) { refill_ = std::move(refill); }
  // Sends one batch if one is due at `now`. Returns true when a write was attempted.
  bool tick(Clock::time_point now);
  // Sends at the next tick whatever the backoff says (the upstream came back).
  void retry_now();
  // Sends every queued update now, whatever the window and backoff say; false when a write
  // failed or `limit` ran out first.
  bool flush(std::chrono::milliseconds limit);

  std::size_t pending() const;
  uint64_t dropped() const;
  uint64_t writes() const;
  bool last_write_ok() const;

  void start();
  void stop();

 private:
  SendFn send_;
  RefillFn refill_;
  Options opts_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> pending_;
  std::deque<std::string> order_;  // alloc ids in first-queued order, for eviction and fairness
  std::set<std::string> evicted_;  // allocs whose latest update the bound pushed out
  // The last status the upstream acknowledged per alloc, as text: compared on every enqueue and
  // kept for every alloc, where a JSON tree would cost several times as much.
  std::map<std::string, std::string> acked_;
  Clock::time_point next_send_{};
  std::chrono::milliseconds backoff_{0};
  uint64_t dropped_ = 0, writes_ = 0;
  bool last_ok_ = true;
  bool sending_ = false;

  void after_send_locked(const std::vector<AllocUpdate>& batch, const Status& st,
                         Clock::time_point now, std::vector<std::string>& refill);

  Periodic loop_;  // last: stopped before the rest goes
};

}  // namespace drover::upstream
