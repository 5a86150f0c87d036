// The API's connection layer: the listening socket, one poll thread that accepts, applies the
// per-address cap at accept, does TLS handshakes and reads each request whole (api/
// http_framing.hpp) under a deadline, and a pool of workers that only ever get complete
// requests. A slow client (one header byte a second, a stalled handshake, a trickled body)
// therefore holds a socket and a little memory, never a worker. httplib is used for what it
// does well, routing and writing replies: each framed request goes through its
// process_request, on a stream that replays the request and writes to the socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string_view>
#include <string>

#include "drover/common/result.hpp"

namespace httplib {
class Server;
}
typedef struct ssl_ctx_st SSL_CTX;

namespace drover::api {

// A reply sent as it comes (the event stream, a followed log, a file stream, the monitor): never gzipped,
// since httplib 0.11.4's compressor holds a chunked reply's chunks until its buffer fills.
// The agent and the server drop such a request's Accept-Encoding before routing.
inline bool is_live_stream(std::string_view path) {
  return path == "/v1/event/stream" || path == "/v1/agent/monitor" ||
         path.starts_with("/v1/client/fs/logs/") ||
         path.starts_with("/v1/client/fs/stream/");
}

struct ServerLimits {
  std::size_t max_request_bytes = 1 << 20;  // a body, after chunked decoding
  std::size_t max_head_bytes = 64 * 1024;   // request line and headers
  std::size_t max_conns_per_client = 12;    // per remote address, taken at accept
  std::size_t max_connections = 512;        // all clients together
  std::size_t workers = 16;
  std::size_t max_requests_per_connection = 100;
  // The whole head (or a TLS handshake) must arrive within this of the request's first byte;
  // not per read, so a byte a second does not keep it going.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds request_timeout{60000};  // head and body together
  std::chrono::milliseconds keep_alive{5000};        // idle between requests
  std::chrono::milliseconds write_timeout{10000};    // each write of a reply
};

// A connection taken over by a route handler after an HTTP/1.1 Upgrade (a websocket): bytes
// both ways, through TLS when the API uses it. Valid until that handler returns; the
// connection closes then.
class UpgradedConnection {
 public:
  static constexpr long kWouldBlock = -2;
  virtual ~UpgradedConnection() = default;
  // What is there now, without waiting: >0 bytes, 0 at EOF, -1 on error, kWouldBlock.
  virtual long read_some(char* buf, std::size_t n) = 0;
  // All of it, or false (an error, or the client did not take it within the write timeout).
  virtual bool write_all(const std::string& data) = 0;
  // The socket, to poll for POLLIN; bytes may be ready without it (pending()).
  virtual int fd() const = 0;
  virtual bool pending() const = 0;
  // The server is stopping: the handler ends the session soon (stop() waits for it).
  virtual bool stopping() const = 0;
};

// For a route handler, on the worker that runs it: takes over the connection of the request it
// answers (the handler then writes everything itself, the 101 included; what httplib would
// write after it is dropped). nullptr outside HttpServer or when taken already.
UpgradedConnection* take_connection();

class HttpServer {
 public:
  // `routes` holds the handlers (and pre-routing, error and exception handlers); `tls` is
  // its SSL_CTX for TLS, or null. Both outlive the server.
  HttpServer(httplib::Server& routes, SSL_CTX* tls, ServerLimits limits);
  ~HttpServer();
  // Binds and listens; port 0 takes a free one (port() says which).
  Status bind(const std::string& addr, int port);
  int port() const;
  // Serves until stop(); blocks.
  void serve();
  void stop();
  // Serves one connected socket (and closes it) on the calling thread, with the same framing,
  // deadlines and routes: for the fuzz target, which has no listener.
  void serve_socket(int fd);
  std::size_t connections(const std::string& client_addr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace drover::api
