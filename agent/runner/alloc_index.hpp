// The node's alloc index: one number that moves on every change of any alloc on this node
// (each change stamps the alloc's ModifyIndex with the next value) and of any job's record
// (submitted, stopped, purged, collected), so that a client can ask "anything new since N?"
// and wait for the answer: Nomad's blocking queries on the allocation and job endpoints
// (docs/nomad-compat.md, "Blocking queries").
//
// It starts at the wall clock in microseconds, not at 0: an index a client got before the
// agent restarted must still be behind the new agent's, or its next blocking query would hang
// until it timed out. It stays ahead across a restart as long as the node made fewer than a
// million alloc changes a second on average, and no clock stepped back further than that.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace drover::runner {

class AllocIndex {
 public:
  AllocIndex();
  // The next index, for a change being made now; wakes every waiter.
  std::uint64_t next();
  std::uint64_t current() const;
  // Waits until the index passes `after` or `timeout` elapses; the index then.
  std::uint64_t wait_past(std::uint64_t after, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::uint64_t index_;
};

}  // namespace drover::runner
