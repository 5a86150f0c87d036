// The server's side of a websocket upgrade: see api/ws_upgrade.hpp.
#include "api/ws_upgrade.hpp"

#include <httplib.h>

#include "api/http_server.hpp"
#include "api/json_reply.hpp"
#include "api/websocket.hpp"

namespace drover::api {

std::optional<std::string> websocket_key(const httplib::Request& req, httplib::Response& res) {
  if (!ws::header_has(req.get_header_value("Upgrade"), "websocket") ||
      !ws::header_has(req.get_header_value("Connection"), "upgrade")) {
    reply_error(res, 400,
                "this endpoint is a websocket (Upgrade: websocket); POST runs a command "
                "without a terminal");
    return std::nullopt;
  }
  if (req.get_header_value("Sec-WebSocket-Version") != "13") {
    res.set_header("Sec-WebSocket-Version", "13");
    reply_error(res, 426, "Sec-WebSocket-Version: only 13 (RFC 6455) is spoken here");
    return std::nullopt;
  }
  std::string key = req.get_header_value("Sec-WebSocket-Key");
  if (!ws::valid_client_key(key)) {
    reply_error(res, 400, "Sec-WebSocket-Key: must be the base64 of 16 bytes");
    return std::nullopt;
  }
  return key;
}

UpgradedConnection* accept_websocket(httplib::Response& res, std::string_view key) {
  UpgradedConnection* conn = take_connection();
  if (conn == nullptr) {
    reply_error(res, 500, "this connection cannot be upgraded");
    return nullptr;
  }
  res.status = 101;  // for httplib's logger: the reply itself is written here, by hand
  if (!conn->write_all("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       ws::accept_key(key) + "\r\n\r\n"))
    return nullptr;
  return conn;
}

}  // namespace drover::api
