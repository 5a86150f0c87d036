// The server's side of a websocket upgrade (RFC 6455, section 4.2), shared by the agent's
// `alloc exec` endpoint (api/exec_endpoint.hpp) and the server's forwarding of it
// (server/exec_forward.hpp): the checks that turn a bad request into a 4xx instead of an
// upgrade, the cap on sessions that each hold an API worker, and the 101 written by hand on
// the connection the handler takes over (api/http_server.hpp).
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace drover::api {
class UpgradedConnection;

// The client's Sec-WebSocket-Key when the request is a websocket upgrade this side speaks
// (Upgrade and Connection headers, version 13, a well-formed key); otherwise nullopt, with
// the 400 or 426 that says why already in `res`.
std::optional<std::string> websocket_key(const httplib::Request& req, httplib::Response& res);

// One of at most `limit` sessions counted in `count`, for as long as it lives; held() is
// false when the limit was reached (the count is given back either way).
class SessionSlot {
 public:
  SessionSlot(std::atomic<int>& count, int limit)
      : count_(count), held_(count.fetch_add(1) < limit) {}
  ~SessionSlot() { count_.fetch_sub(1); }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<int>& count_;
  bool held_;
};

// Takes over the request's connection and writes the 101 that accepts `key`: the connection,
// or nullptr when it cannot be taken (`res` then holds a 500) or the 101 did not go out.
UpgradedConnection* accept_websocket(httplib::Response& res, std::string_view key);

}  // namespace drover::api
