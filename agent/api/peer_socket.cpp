// PeerSocket (peer_socket.hpp): getaddrinfo and connect, then OpenSSL's client handshake for
// https, verifying the peer's certificate and name.
#include "api/peer_socket.hpp"

#include <netdb.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace drover::api {

PeerSocket::~PeerSocket() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

Status PeerSocket::connect(const std::string& address, const PeerTls& tls_files) {
  std::string rest = address;
  bool tls = false;
  if (rest.rfind("https://", 0) == 0) {
    tls = true;
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else {
    return make_error("address " + address + ": must start with http:// or https://");
  }
  rest = rest.substr(0, rest.find('/'));
  std::string host = rest, port = tls ? "443" : "80";
  if (!rest.empty() && rest[0] == '[') {  // [v6]:port
    auto end = rest.find(']');
    host = rest.substr(1, end - 1);
    if (end + 1 < rest.size() && rest[end + 1] == ':') port = rest.substr(end + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  host_header_ = rest;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0)
    return make_error("cannot reach " + address + ": unknown host", Errc::Internal);
  for (auto* ai = found; ai && fd_ < 0; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ >= 0 && ::connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return make_error("cannot reach " + address + ": connection refused", Errc::Internal);
  if (!tls) return {};
  ctx_ = SSL_CTX_new(TLS_client_method());
  const auto& ca = tls_files.ca_file;
  if (!ca.empty() ? SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1
                  : SSL_CTX_set_default_verify_paths(ctx_) != 1)
    return make_error("TLS: cannot load the CA " + (ca.empty() ? std::string("(system)") : ca));
  if (!tls_files.cert_file.empty() && !tls_files.key_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx_, tls_files.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_, tls_files.key_file.c_str(), SSL_FILETYPE_PEM) != 1))
    return make_error("TLS: cannot load the client certificate " + tls_files.cert_file);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, host.c_str());
  SSL_set1_host(ssl_, host.c_str());
  if (SSL_connect(ssl_) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    return make_error("TLS handshake with " + address + " failed: " + buf, Errc::Internal);
  }
  return {};
}

long PeerSocket::read(char* buf, std::size_t n) {
  if (ssl_) {
    int r = SSL_read(ssl_, buf, static_cast<int>(n));
    return r > 0 ? r : (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
  }
  ssize_t r;
  while ((r = ::recv(fd_, buf, n, 0)) < 0 && errno == EINTR) {
  }
  return r;
}

bool PeerSocket::write_all(const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    long w;
    if (ssl_) {
      w = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
    } else {
      w = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
    }
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace drover::api
