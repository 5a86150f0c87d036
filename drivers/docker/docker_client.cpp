// The Docker Engine API client (see docker_client.hpp): cpp-httplib over AF_UNIX, a fresh
// connection per request so that calls from many threads never share a socket.
#include "docker_client.hpp"

#include <httplib.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

#include <stdexcept>

#include "drover/sdk/utf8.hpp"

namespace drover::docker {
namespace {

// The newest Engine API this driver was written against; older daemons are spoken to in
// their own version.
constexpr int kMaxApiMinor = 41;

template <class D>
std::pair<time_t, time_t> sec_usec(D d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us < 1000) us = 1000;
  return {static_cast<time_t>(us / 1000000), static_cast<time_t>(us % 1000000)};
}

Response from(const httplib::Result& r) {
  Response out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  return out;
}

}  // namespace

std::string Response::message() const {
  if (status == 0) return "docker daemon unreachable: " + error;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  if (!body.empty()) return sdk::utf8_truncate(body, 500);
  return "HTTP " + std::to_string(status);
}

nlohmann::json Response::json() const { return nlohmann::json::parse(body); }

void StreamCancel::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (stop_) stop_();
}

DockerClient::DockerClient(std::string endpoint) : endpoint_(std::move(endpoint)) {
  if (endpoint_.rfind("unix://", 0) == 0) {
    host_ = endpoint_.substr(7);
    if (host_.empty() || host_[0] != '/') {
      throw std::runtime_error("endpoint " + endpoint_ + ": unix socket path must be absolute");
    }
  } else if (endpoint_.rfind("tcp://", 0) == 0) {
    unix_ = false;
    std::string rest = endpoint_.substr(6);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("endpoint " + endpoint_ + ": no port");
    host_ = rest.substr(0, colon);
    port_ = std::atoi(rest.c_str() + colon + 1);
    if (port_ <= 0 || port_ > 65535)
      throw std::runtime_error("endpoint " + endpoint_ + ": bad port");
  } else {
    throw std::runtime_error("endpoint " + endpoint_ +
                             ": must be unix:///path/to/docker.sock or tcp://host:port");
  }
}

std::string DockerClient::prefix() const { return version_prefix_; }

static std::unique_ptr<httplib::Client> make_client(bool unix_sock, const std::string& host,
                                                    int port, std::chrono::milliseconds timeout) {
  std::unique_ptr<httplib::Client> c;
  if (unix_sock) {
    c = std::make_unique<httplib::Client>(host);
    c->set_address_family(AF_UNIX);
    // httplib would send the socket path as Host, which Go's server refuses.
    c->set_default_headers({{"Host", "docker"}});
  } else {
    c = std::make_unique<httplib::Client>(host, port);
  }
  auto [s, us] = sec_usec(std::chrono::milliseconds(2000));
  c->set_connection_timeout(s, us);
  auto [rs, rus] = sec_usec(timeout);
  c->set_read_timeout(rs, rus);
  c->set_write_timeout(rs, rus);
  return c;
}

Response DockerClient::negotiate() {
  auto c = make_client(unix_, host_, port_, std::chrono::milliseconds(3000));
  Response r = from(c->Get("/version"));
  if (!r.ok()) return r;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string v = j.is_object() ? j.value("ApiVersion", "") : "";
  int major = 0, minor = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) == 2 && major == 1) {
    version_prefix_ = "/v1." + std::to_string(std::min(minor, kMaxApiMinor));
  }
  return r;
}

int DockerClient::connect_socket() const {
  int fd = -1;
  if (unix_) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (host_.size() >= sizeof addr.sun_path) return -1;
    std::memcpy(addr.sun_path, host_.c_str(), host_.size() + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res) != 0) return -1;
  for (auto* a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

int DockerClient::open_wait(const std::string& container_id) const {
  int fd = connect_socket();
  if (fd < 0) return -1;
  const std::string req = "POST " + prefix() + "/containers/" + container_id +
                          "/wait?condition=not-running HTTP/1.1\r\nHost: docker\r\n"
                          "Content-Length: 0\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return -1;
  }
  return fd;
}

DockerClient::Hijacked DockerClient::hijack(const std::string& path, const nlohmann::json& body,
                                            std::chrono::milliseconds timeout) const {
  Hijacked out;
  int fd = connect_socket();
  if (fd < 0) {
    out.refused.error = "cannot connect to " + endpoint_;
    return out;
  }
  auto fail = [&](std::string why) {
    close(fd);
    out.refused.error = std::move(why);
    return out;
  };
  // The answer is read under a receive timeout, then the socket goes back to blocking.
  auto [s, us] = sec_usec(timeout);
  timeval tv{s, static_cast<suseconds_t>(us)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const std::string text = body.dump();
  const std::string req = "POST " + version_prefix_ + path + " HTTP/1.1\r\nHost: " +
                          (unix_ ? std::string("docker") : host_) +
                          "\r\nContent-Type: application/json\r\nConnection: Upgrade\r\n"
                          "Upgrade: tcp\r\nContent-Length: " + std::to_string(text.size()) +
                          "\r\n\r\n" + text;
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail(std::string("sending the request: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  // The head, a byte at a time: what follows it is the stream's and stays unread.
  std::string head;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n <= 0)
      return fail(n == 0 ? "the daemon hung up" : std::string("reading the answer: ") + std::strerror(errno));
    if (head.size() >= 16384) return fail("the daemon's answer has no end of headers");
    head.push_back(c);
  }
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) return fail("not an HTTP answer");
  if (status == 101 || status == 200) {
    timeval none{0, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    out.fd = fd;
    return out;
  }
  // A refusal carries a short JSON body ({"message": ...}) of Content-Length bytes.
  out.refused.status = status;
  std::string lower = head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t length = 0;
  if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
    length = std::min<size_t>(std::strtoul(lower.c_str() + at + 17, nullptr, 10), 65536);
  while (out.refused.body.size() < length) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, length - out.refused.body.size()), 0);
    if (n <= 0) break;
    out.refused.body.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

Response DockerClient::get(const std::string& path, std::chrono::milliseconds timeout) const {
  auto c = make_client(unix_, host_, port_, timeout);
  return from(c->Get((version_prefix_ + path).c_str()));
}

Response DockerClient::post(const std::string& path, const nlohmann::json& body,
                            std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, std::string>>& headers) const {
  auto c = make_client(unix_, host_, port_, timeout);
  httplib::Headers h{{"Host", unix_ ? "docker" : host_}};
  for (const auto& [k, v] : headers) h.emplace(k, v);
  std::string text = body.is_null() ? std::string() : body.dump();
  return from(c->Post((version_prefix_ + path).c_str(), h, text, "application/json"));
}

Response DockerClient::post_raw(const std::string& path, std::string body,
                                const std::string& content_type,
                                std::chrono::milliseconds timeout) const {
  auto c = make_client(unix_, host_, port_, timeout);
  return from(c->Post((version_prefix_ + path).c_str(), body, content_type.c_str()));
}

Response DockerClient::del(const std::string& path, std::chrono::milliseconds timeout) const {
  auto c = make_client(unix_, host_, port_, timeout);
  return from(c->Delete((version_prefix_ + path).c_str()));
}

Response DockerClient::post_stream(const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::function<bool(const char*, size_t)>& on_data,
                                   std::chrono::milliseconds read_timeout) const {
  auto c = make_client(unix_, host_, port_, read_timeout);
  httplib::Request req;
  req.method = "POST";
  req.path = version_prefix_ + path;
  req.headers = {{"Host", unix_ ? "docker" : host_}};
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  Response out;
  req.response_handler = [&](const httplib::Response& resp) {
    out.status = resp.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (out.status >= 300) {  // an error: keep its body for the message
      out.body.append(data, len);
      return true;
    }
    return on_data(data, len);
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  if (!c->send(req, res, err)) out.error = httplib::to_string(err);
  return out;
}

Response DockerClient::stream(const std::string& path,
                              const std::function<bool(const char*, size_t)>& on_data,
                              std::chrono::milliseconds read_timeout, StreamCancel* cancel) const {
  auto c = make_client(unix_, host_, port_, read_timeout);
  if (cancel) {
    std::lock_guard lock(cancel->mu_);
    if (cancel->cancelled_) return Response{0, "", "cancelled"};
    httplib::Client* raw = c.get();
    cancel->stop_ = [raw] { raw->stop(); };
  }
  Response out;
  auto r = c->Get((version_prefix_ + path).c_str(),
                  [&](const httplib::Response& resp) {
                    out.status = resp.status;
                    return true;
                  },
                  [&](const char* data, size_t len) {
                    if (out.status >= 300) {  // an error: keep its body for the message
                      out.body.append(data, len);
                      return true;
                    }
                    return on_data(data, len);
                  });
  if (cancel) {
    std::lock_guard lock(cancel->mu_);
    cancel->stop_ = nullptr;
  }
  if (!r && out.status == 0) out.error = httplib::to_string(r.error());
  if (!r && out.status != 0) out.error = httplib::to_string(r.error());
  return out;
}

void FrameDecoder::feed(const char* data, size_t len, const Sink& sink) {
  buf_.append(data, len);
  size_t pos = 0;
  while (buf_.size() - pos >= 8) {
    const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos);
    size_t size = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    if (buf_.size() - pos - 8 < size) break;
    sink(h[0], buf_.data() + pos + 8, size);
    pos += 8 + size;
  }
  buf_.erase(0, pos);
}

}  // namespace drover::docker
