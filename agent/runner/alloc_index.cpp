// The node's alloc index; see alloc_index.hpp.
#include "runner/alloc_index.hpp"

namespace drover::runner {

AllocIndex::AllocIndex()
    : index_(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count())) {}

std::uint64_t AllocIndex::next() {
  std::uint64_t v;
  {
    std::lock_guard lock(mu_);
    v = ++index_;
  }
  cv_.notify_all();
  return v;
}

std::uint64_t AllocIndex::current() const {
  std::lock_guard lock(mu_);
  return index_;
}

std::uint64_t AllocIndex::wait_past(std::uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return index_ > after; });
  return index_;
}

}  // namespace drover::runner
