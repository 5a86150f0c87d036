// A websocket client for end-to-end tests of the agent's exec websocket: a plain TCP socket,
// the RFC 6455 handshake written out by hand, and frames through the agent's own framing
// module (agent/api/websocket.hpp, unit-tested against the RFC's examples). Blocking, with a
// deadline on every read.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/websocket.hpp"

namespace drover::testing {

class WsTestClient {
 public:
  // Connects to 127.0.0.1:port and asks to upgrade `target` (path and query). status() is 101
  // on success; otherwise the reply's status and body say why (0: no connection).
  static std::unique_ptr<WsTestClient> open(int port, const std::string& target,
                                            const std::map<std::string, std::string>& headers = {});
  ~WsTestClient();

  int status() const { return status_; }
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }

  bool send_text(const std::string& text);
  bool send_close(uint16_t code);
  // The next message (a close frame too), or nullopt at EOF, error or the deadline.
  std::optional<api::ws::Message> next(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  int fd_ = -1;
  int status_ = 0;
  std::string head_, body_;
  api::ws::FrameReader reader_{16 << 20, /*clients_mask=*/false};
};

// Percent-encodes a query value.
std::string url_encode(const std::string& s);

}  // namespace drover::testing
