// Batches alloc updates to the upstream: at most one write per window (200 ms, Nomad's tick),
// the latest update per alloc wins, an update equal to the last one acknowledged is dropped,
// a failed write is retried with exponential backoff, and the queue is bounded. The clock is
// passed in so that tests can drive it; start() runs it on a thread with the real clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "drover/common/periodic.hpp"
#include "upstream/upstream.hpp"

namespace drover::upstream {

class AllocReporter {
 public:
  using Clock = std::chrono::steady_clock;
  using SendFn = std::function<Status(const std::vector<AllocUpdate>&)>;
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
  // Sends one batch if one is due at `now`. Returns true when a write was attempted.
  bool tick(Clock::time_point now);
  // Sends at the next tick whatever the backoff says (the upstream came back).
  void retry_now();

  std::size_t pending() const;
  uint64_t dropped() const;
  uint64_t writes() const;
  bool last_write_ok() const;

  void start();
  void stop();

 private:
  SendFn send_;
  Options opts_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> pending_;
  std::deque<std::string> order_;  // alloc ids in first-queued order, for eviction and fairness
  // The last status the upstream acknowledged per alloc, as text: compared on every enqueue and
  // kept for every alloc, where a JSON tree would cost several times as much.
  std::map<std::string, std::string> acked_;
  Clock::time_point next_send_{};
  std::chrono::milliseconds backoff_{0};
  uint64_t dropped_ = 0, writes_ = 0;
  bool last_ok_ = true;
  bool sending_ = false;

  Periodic loop_;  // last: stopped before the rest goes
};

}  // namespace drover::upstream
