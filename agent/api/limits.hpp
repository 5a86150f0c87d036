// A cap on concurrent connections per client address, so one client cannot take every worker
// of the API (docs/threat-model.md, "The API"). httplib gives no hook per connection, so the
// task queue that runs each connection notes which address the worker is serving (at its
// first request) and forgets it when the connection closes.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace httplib {
class Server;
class TaskQueue;
}  // namespace httplib

namespace drover::api {

class ConnectionLimiter {
 public:
  ConnectionLimiter(std::size_t workers, std::size_t max_per_client)
      : workers_(workers), max_per_client_(max_per_client) {}
  // The queue the server runs connections on (server.new_task_queue returns it).
  httplib::TaskQueue* make_task_queue();
  // Called at each request: false when this connection is one too many for its address
  // (the caller answers 429 and the connection closes).
  bool admit(const std::string& client_addr);
  std::size_t connections(const std::string& client_addr) const;

 private:
  friend class LimitingQueue;
  void release_current();
  std::size_t workers_, max_per_client_;
  mutable std::mutex mu_;
  std::map<std::string, std::size_t> per_client_;
};

}  // namespace drover::api
