// A cap on concurrent connections per client address, so one client cannot take every
// connection slot of the API (docs/threat-model.md, "The API"). The server
// (api/http_server.hpp) asks at accept, before it reads a byte of the client's request, and
// gives the slot back when the connection closes.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace drover::api {

class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(std::size_t max_per_client) : max_per_client_(max_per_client) {}
  // False when `client_addr` already holds its share (the caller refuses with 429).
  bool try_acquire(const std::string& client_addr);
  void release(const std::string& client_addr);
  std::size_t connections(const std::string& client_addr) const;
  std::size_t max_per_client() const { return max_per_client_; }

 private:
  std::size_t max_per_client_;
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> per_client_;
};

}  // namespace drover::api
