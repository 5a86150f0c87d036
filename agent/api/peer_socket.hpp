// A blocking client connection to a drover API (an agent's, or a server's), plain or TLS by
// the address's scheme, for what httplib cannot do: a websocket, whose bytes both ways are the
// caller's after the upgrade (the CLI's `alloc exec -i -t`, and the server passing an exec
// session on to the alloc's node).
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string>

#include "drover/common/result.hpp"

namespace drover::api {

// The CA to verify the peer by ("": the system's), and a client certificate when the peer
// asks for one ("" for none).
struct PeerTls {
  std::string ca_file, cert_file, key_file;
};

class PeerSocket {
 public:
  PeerSocket() = default;
  ~PeerSocket();
  PeerSocket(const PeerSocket&) = delete;
  PeerSocket& operator=(const PeerSocket&) = delete;

  // Connects to `address` (http[s]://host:port); an error names the address.
  Status connect(const std::string& address, const PeerTls& tls = {});
  // host:port as a Host header gives it.
  const std::string& host_header() const { return host_header_; }
  int fd() const { return fd_; }
  // Bytes TLS has read and not handed over yet (poll would not show them).
  bool pending() const { return ssl_ && SSL_pending(ssl_) > 0; }
  // >0 bytes, 0 at EOF, <0 on error.
  long read(char* buf, std::size_t n);
  bool write_all(const std::string& data);

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string host_header_;
};

}  // namespace drover::api
