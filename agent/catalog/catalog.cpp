// The catalog's change index and notifications, shared by both stores; see catalog.hpp.
#include "catalog/catalog.hpp"

#include <algorithm>

namespace drover::catalog {

uint64_t Catalog::index() const {
  std::lock_guard lock(mu_);
  return index_;
}

uint64_t Catalog::wait_for_change(uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return index_ > after; });
  return index_;
}

uint64_t Catalog::subscribe(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  subs_[next_sub_] = std::move(fn);
  return next_sub_++;
}

void Catalog::unsubscribe(uint64_t id) {
  std::lock_guard call(call_mu_);
  std::lock_guard lock(mu_);
  subs_.erase(id);
}

void Catalog::changed() {
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard lock(mu_);
    ++index_;
    for (const auto& [id, fn] : subs_) fns.push_back(fn);
  }
  cv_.notify_all();
  std::lock_guard call(call_mu_);
  for (const auto& fn : fns) fn();
}

void sort_registrations(std::vector<ServiceRegistration>& list) {
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return std::tie(a.service_name, a.id) < std::tie(b.service_name, b.id);
  });
}

}  // namespace drover::catalog
