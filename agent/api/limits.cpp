// ConnectionLimiter: per-address connection counting, taken at accept.
#include "api/limits.hpp"

namespace drover::api {

bool ConnectionLimiter::try_acquire(const std::string& client_addr) {
  std::lock_guard lock(mu_);
  auto& n = per_client_[client_addr];
  if (n >= max_per_client_) {
    if (n == 0) per_client_.erase(client_addr);
    return false;
  }
  ++n;
  return true;
}

void ConnectionLimiter::release(const std::string& client_addr) {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client_addr);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

std::size_t ConnectionLimiter::connections(const std::string& client_addr) const {
  std::lock_guard lock(mu_);
  auto it = per_client_.find(client_addr);
  return it == per_client_.end() ? 0 : it->second;
}

}  // namespace drover::api
