// WsTestClient (ws_test_client.hpp).
#include "ws_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::testing {
namespace {

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads into buf until `done(buf)` or EOF or the deadline; false on the last two.
template <typename Done>
bool read_until(int fd, std::string& buf, Done done, std::chrono::steady_clock::time_point deadline) {
  while (!done(buf)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  return true;
}

const std::array<uint8_t, 4> kMask{0x12, 0x34, 0x56, 0x78};

}  // namespace

std::unique_ptr<WsTestClient> WsTestClient::open(int port, const std::string& target,
                                                 const std::map<std::string, std::string>& headers) {
  auto c = std::unique_ptr<WsTestClient>(new WsTestClient());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return c;
  std::map<std::string, std::string> h = {{"Host", "127.0.0.1:" + std::to_string(port)},
                                          {"Upgrade", "websocket"},
                                          {"Connection", "Upgrade"},
                                          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                          {"Sec-WebSocket-Version", "13"}};
  for (const auto& [k, v] : headers) {
    if (v.empty()) h.erase(k);
    else h[k] = v;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : h) req += k + ": " + v + "\r\n";
  if (!send_all(c->fd_, req + "\r\n")) return c;
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  if (!read_until(c->fd_, buf, [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, deadline))
    return c;
  auto end = buf.find("\r\n\r\n");
  c->head_ = buf.substr(0, end);
  buf.erase(0, end + 4);
  c->status_ = std::atoi(c->head_.c_str() + c->head_.find(' ') + 1);
  if (c->status_ != 101) {
    // The error's body: read it to the end (the agent closes after a refusal or keeps alive;
    // Content-Length says how much).
    auto cl = c->head_.find("Content-Length: ");
    std::size_t len = cl == std::string::npos ? 0 : std::stoul(c->head_.substr(cl + 16));
    read_until(c->fd_, buf, [len](const std::string& b) { return b.size() >= len; }, deadline);
    c->body_ = buf;
    return c;
  }
  if (c->head_.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos)
    c->status_ = -101;  // upgraded with a wrong accept key
  c->reader_.feed(buf);
  return c;
}

WsTestClient::~WsTestClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool WsTestClient::send_text(const std::string& text) {
  return send_all(fd_, api::ws::encode_frame(api::ws::Opcode::Text, text, kMask));
}

bool WsTestClient::send_close(uint16_t code) {
  return send_all(fd_, api::ws::encode_frame(api::ws::Opcode::Close, api::ws::close_payload(code, ""), kMask));
}

std::optional<api::ws::Message> WsTestClient::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto m = reader_.next()) return m;
    if (reader_.failed()) return std::nullopt;
    std::string buf;
    if (!read_until(fd_, buf, [](const std::string& b) { return !b.empty(); }, deadline))
      return std::nullopt;
    reader_.feed(buf);
  }
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace drover::testing
