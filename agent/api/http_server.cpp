// HttpServer: accept, cap and frame on one poll thread; answer framed requests on workers.
#include "api/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api/http_framing.hpp"
#include "api/limits.hpp"

namespace drover::api {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr ssize_t kAgain = -2;
constexpr std::size_t kMaxLingering = 64;  // refused connections drained at once, at most
constexpr std::size_t kMaxDiscardFactor = 16;  // a refused request's bytes drained, in body caps

// httplib's request processing is protected; this reaches it for a Server of any kind.
struct RouteAccess : httplib::Server {
  static bool process(httplib::Server& s, httplib::Stream& strm, bool close, bool& closed) {
    static const std::function<void(httplib::Request&)> no_setup = [](httplib::Request&) {};
    return (s.*(&RouteAccess::process_request))(strm, close, closed, no_setup);
  }
  static void adopt_listener(httplib::Server& s, int fd) { (s.*(&RouteAccess::svr_sock_)) = fd; }
};

// httplib ends a streamed reply (events, logs -f) as soon as its server is not running, and
// only its own listen loop says it is. That loop is kept running, idle, on a listening socket
// nobody can reach (a unix socket whose path is removed at once); stopping it ends the streams.
int unreachable_listener() {
  char dir[] = "/tmp/drover-http-XXXXXX";
  if (!::mkdtemp(dir)) return -1;
  std::string path = std::string(dir) + "/s";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  bool ok =
      fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0;
  ::unlink(path.c_str());
  ::rmdir(dir);
  if (!ok && fd >= 0) ::close(fd);
  return ok ? fd : -1;
}

class IdleQueue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()>) override {}
  void shutdown() override {}
};

struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  std::string addr;
  int remote_port = 0;
  bool counted = false;  // holds a slot of its address in the limiter
  enum class Phase { Handshake, Reading, Lingering } phase = Phase::Reading;
  short events = POLLIN;
  RequestFramer framer;
  Clock::time_point deadline, request_start;
  bool continued = false;
  std::size_t served = 0, discarded = 0;
  explicit Connection(FramingLimits limits) : framer(limits) {}
};

std::string address_text(const sockaddr_storage& ss, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    port = ntohs(a.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
    port = ntohs(a.sin6_port);
  }
  return buf;
}

// Moves what is there: >0 bytes, 0 at EOF, -1 on error, kAgain with `want` the event to wait
// for (TLS may need to write to read, and the other way round).
ssize_t read_some(Connection& c, char* buf, std::size_t n, short& want) {
  if (c.ssl) {
    ERR_clear_error();
    int r = SSL_read(c.ssl, buf, static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
    if (r > 0) return r;
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      return kAgain;
    }
    return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }
  ssize_t r = ::recv(c.fd, buf, n, 0);
  if (r >= 0) return r;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    want = POLLIN;
    return kAgain;
  }
  return -1;
}

ssize_t write_some(Connection& c, const char* buf, std::size_t n, short& want) {
  if (c.ssl) {
    ERR_clear_error();
    int r = SSL_write(c.ssl, buf, static_cast<int>(std::min<std::size_t>(n, INT_MAX)));
    if (r > 0) return r;
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      return kAgain;
    }
    return -1;
  }
  ssize_t r = ::send(c.fd, buf, n, MSG_NOSIGNAL);
  if (r >= 0) return r;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    want = POLLOUT;
    return kAgain;
  }
  return -1;
}

// Waits for `events` on fd until `deadline`; false at the deadline.
bool wait_io(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (r > 0) return true;  // ready, or an error the next read or write reports
    if (r == 0 || errno != EINTR) return false;
  }
}

bool write_all(Connection& c, const char* p, std::size_t n, Clock::time_point deadline) {
  while (n > 0) {
    short want = POLLOUT;
    ssize_t w = write_some(c, p, n, want);
    if (w > 0) {
      p += w;
      n -= static_cast<std::size_t>(w);
    } else if (w != kAgain || !wait_io(c.fd, want, deadline)) {
      return false;
    }
  }
  return true;
}

// One try, no waiting: for the poll thread, which must never block on a client.
bool write_now(Connection& c, const std::string& text) {
  short want = 0;
  return write_some(c, text.data(), text.size(), want) == static_cast<ssize_t>(text.size());
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string error_reply(int status, const std::string& reason) {
  // The reason may quote client bytes: not-UTF-8 ones are replaced, never thrown on.
  auto body = nlohmann::json{{"error", reason}}.dump(-1, ' ', false,
                                                     nlohmann::json::error_handler_t::replace);
  return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

// A framed request replayed to httplib; replies go to the connection, each write bounded.
class ReplayStream final : public httplib::Stream {
 public:
  ReplayStream(Connection& c, std::string request, milliseconds write_timeout)
      : c_(c), request_(std::move(request)), write_timeout_(write_timeout) {}
  bool is_readable() const override { return pos_ < request_.size(); }
  // A streamed reply's DataSink::is_writable: a client that has closed its end (POLLRDHUP:
  // its FIN came) is gone, so a quiet stream that asks (the monitor) ends rather than waiting
  // for its next write. HTTP clients do not half-close while they wait for a reply.
  bool is_writable() const override {
    if (failed_) return false;
    pollfd p{c_.fd, POLLOUT | POLLRDHUP, 0};
    int r = ::poll(&p, 1, static_cast<int>(write_timeout_.count()));
    return r > 0 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP | POLLRDHUP));
  }
  ssize_t read(char* ptr, size_t size) override {
    auto n = std::min(size, request_.size() - pos_);
    std::memcpy(ptr, request_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (failed_ || !write_all(c_, ptr, size, Clock::now() + write_timeout_)) {
      failed_ = true;
      return -1;
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.addr;
    port = c_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    port = 0;
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      ip = address_text(ss, port);
  }
  socket_t socket() const override { return c_.fd; }
  bool failed() const { return failed_; }
  // After take_connection: httplib's reply goes nowhere and the connection closes after it.
  void silence() { failed_ = true; }

 private:
  Connection& c_;
  std::string request_;
  std::size_t pos_ = 0;
  milliseconds write_timeout_;
  bool failed_ = false;
};

enum class Next { Wait, Work, Close };

// The connection a worker is answering, for take_connection.
class Upgraded final : public UpgradedConnection {
 public:
  Upgraded(Connection& c, ReplayStream& strm, milliseconds write_timeout,
           const std::atomic<bool>& stopping)
      : c_(c), strm_(strm), write_timeout_(write_timeout), stopping_(stopping) {}
  long read_some(char* buf, std::size_t n) override {
    if (!leftover_.empty()) {
      std::size_t k = std::min(n, leftover_.size());
      std::memcpy(buf, leftover_.data(), k);
      leftover_.erase(0, k);
      return static_cast<long>(k);
    }
    short want = POLLIN;
    ssize_t r = drover::api::read_some(c_, buf, n, want);
    return r == kAgain ? kWouldBlock : static_cast<long>(r);
  }
  bool write_all(const std::string& data) override {
    return drover::api::write_all(c_, data.data(), data.size(), Clock::now() + write_timeout_);
  }
  int fd() const override { return c_.fd; }
  bool pending() const override {
    return !leftover_.empty() || (c_.ssl != nullptr && SSL_pending(c_.ssl) > 0);
  }
  bool stopping() const override { return stopping_; }
  bool take() {
    if (taken_) return false;
    taken_ = true;
    strm_.silence();
    leftover_ = c_.framer.take_buffered();
    return true;
  }

 private:
  Connection& c_;
  ReplayStream& strm_;
  milliseconds write_timeout_;
  const std::atomic<bool>& stopping_;
  std::string leftover_;
  bool taken_ = false;
};

thread_local Upgraded* current_request = nullptr;

}  // namespace

UpgradedConnection* take_connection() {
  return current_request != nullptr && current_request->take() ? current_request : nullptr;
}

struct HttpServer::Impl {
  httplib::Server& routes;
  SSL_CTX* tls;
  ServerLimits limits;
  ConnectionLimiter limiter;
  int listen_fd = -1, wake_fd = -1, port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> open{0};
  std::size_t lingering_refused = 0;  // poll thread only
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Connection>> ready;      // framed, waiting for a worker
  std::vector<std::unique_ptr<Connection>> returned;  // answered, kept alive

  Impl(httplib::Server& r, SSL_CTX* t, ServerLimits l)
      : routes(r), tls(t), limits(l), limiter(l.max_conns_per_client) {}

  FramingLimits framing() const { return {limits.max_head_bytes, limits.max_request_bytes}; }

  void close_conn(std::unique_ptr<Connection> c) {
    if (!c) return;
    if (c->ssl) SSL_free(c->ssl);
    if (c->fd >= 0) ::close(c->fd);
    if (c->counted) limiter.release(c->addr);
    if (c->phase == Connection::Phase::Lingering && !c->counted && lingering_refused > 0)
      --lingering_refused;
    --open;
  }

  // A refusal: the reason goes out if the socket takes it now, then what the client still
  // sends is read and dropped for a moment, so that closing does not reset the reply away.
  Next refuse(Connection& c, int status, const std::string& reason, Clock::time_point now) {
    if (!write_now(c, error_reply(status, reason)) || c.ssl) return Next::Close;
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Connection::Phase::Lingering;
    c.events = POLLIN;
    c.deadline = now + milliseconds(2000);
    return Next::Wait;
  }

  // Deadlines once a request is under way: its head within header_timeout, all of it within
  // request_timeout; the first request's clock starts at connect.
  void begin_request(Connection& c, Clock::time_point now) {
    if (c.served > 0) c.request_start = now;
    c.deadline = c.request_start + limits.header_timeout;
  }

  Next step(Connection& c, Clock::time_point now) {
    if (c.phase == Connection::Phase::Lingering) {
      char buf[16384];
      for (;;) {
        ssize_t r = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r <= 0) {
          if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
          return Next::Close;
        }
        c.discarded += static_cast<std::size_t>(r);
        // Read and dropped, never kept: a client still sending a body somewhat over the cap
        // (2 MiB against 1 MiB) finishes and reads its 413 instead of a reset; a flood is cut.
        if (c.discarded > kMaxDiscardFactor * limits.max_request_bytes) return Next::Close;
      }
      return now >= c.deadline ? Next::Close : Next::Wait;
    }
    if (c.phase == Connection::Phase::Handshake) {
      ERR_clear_error();
      int r = SSL_accept(c.ssl);
      if (r != 1) {
        int e = SSL_get_error(c.ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return Next::Close;
        c.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return now >= c.deadline ? Next::Close : Next::Wait;
      }
      c.phase = Connection::Phase::Reading;
      c.events = POLLIN;
    }
    char buf[16384];
    while (c.framer.state() == RequestFramer::State::NeedMore) {
      short want = POLLIN;
      ssize_t n = read_some(c, buf, sizeof buf, want);
      if (n == kAgain) {
        c.events = want;
        break;
      }
      if (n <= 0) return Next::Close;
      bool was_started = c.framer.started();
      bool had_head = c.framer.head_read();
      if (!was_started) begin_request(c, now);
      c.framer.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      if (!had_head && c.framer.head_read()) c.deadline = c.request_start + limits.request_timeout;
      if (c.framer.wants_continue() && !c.continued) {
        if (!write_now(c, "HTTP/1.1 100 Continue\r\n\r\n")) return Next::Close;
        c.continued = true;
      }
    }
    if (c.framer.state() == RequestFramer::State::Ready) return Next::Work;
    if (c.framer.state() == RequestFramer::State::Refused)
      return refuse(c, c.framer.status(), c.framer.reason(), now);
    if (now < c.deadline) return Next::Wait;
    if (c.framer.started() && !c.ssl)
      (void)write_now(
          c,
          error_reply(408, c.framer.head_read()
                               ? "request body not received in time"
                               : "request head not received within " +
                                     std::to_string(limits.header_timeout.count() / 1000) + " s"));
    return Next::Close;
  }

  // Answers the framed request (and any pipelined after it, in order); false when the
  // connection is to close.
  bool answer(Connection& c) {
    for (;;) {
      ReplayStream strm(c, c.framer.take_request(), limits.write_timeout);
      bool closed = false;
      bool last = stopping || ++c.served >= limits.max_requests_per_connection;
      bool ok = false;
      Upgraded upgrade(c, strm, limits.write_timeout, stopping);
      current_request = &upgrade;
      try {
        ok = RouteAccess::process(routes, strm, last, closed);
      } catch (const std::exception& e) {
        spdlog::error("http: request from {} failed: {}", c.addr, e.what());
      }
      current_request = nullptr;
      if (!ok || closed || last || strm.failed()) return false;
      c.continued = false;
      if (c.framer.state() != RequestFramer::State::Ready) return true;
    }
  }

  // After an answer, the connection waits idle for the next request (or for the rest of one
  // already begun).
  void after_answer(Connection& c, Clock::time_point now) {
    c.deadline = now + limits.keep_alive;
    if (c.framer.started()) {
      c.request_start = now;
      begin_request(c, now);
    }
  }

  void work(std::unique_ptr<Connection> c) {
    if (!answer(*c)) return close_conn(std::move(c));
    std::lock_guard lock(mu);
    returned.push_back(std::move(c));
    uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  void run_worker() {
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !ready.empty(); });
        if (ready.empty()) return;
        c = std::move(ready.front());
        ready.pop_front();
      }
      work(std::move(c));
    }
  }

  void dispatch(std::unique_ptr<Connection> c, Next next,
                std::vector<std::unique_ptr<Connection>>& keep) {
    if (next == Next::Wait) return keep.push_back(std::move(c));
    if (next == Next::Close) return close_conn(std::move(c));
    {
      std::lock_guard lock(mu);
      ready.push_back(std::move(c));
    }
    cv.notify_one();
  }

  void accept_new(std::vector<std::unique_ptr<Connection>>& conns, Clock::time_point now) {
    for (int i = 0; i < 64 && open < limits.max_connections; ++i) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Connection>(framing());
      c->fd = fd;
      c->addr = address_text(ss, c->remote_port);
      c->request_start = now;
      c->deadline = now + limits.header_timeout;
      ++open;
      // The per-address cap, before a byte of the request is read.
      if (!limiter.try_acquire(c->addr)) {
        if (tls || lingering_refused >= kMaxLingering) {
          close_conn(std::move(c));
          continue;
        }
        auto next = refuse(*c, 429,
                           "too many concurrent connections from " + c->addr + " (the limit is " +
                               std::to_string(limits.max_conns_per_client) + ")",
                           now);
        if (next == Next::Wait) {
          ++lingering_refused;
          conns.push_back(std::move(c));
        } else {
          close_conn(std::move(c));
        }
        continue;
      }
      c->counted = true;
      if (tls) {
        c->ssl = SSL_new(tls);
        if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
          close_conn(std::move(c));
          continue;
        }
        SSL_set_accept_state(c->ssl);
        c->phase = Connection::Phase::Handshake;
      }
      conns.push_back(std::move(c));
    }
  }

  void run_poller() {
    std::vector<std::unique_ptr<Connection>> conns, keep;
    std::vector<pollfd> pfds;
    while (!stopping) {
      auto now = Clock::now();
      std::vector<std::unique_ptr<Connection>> back;
      {
        std::lock_guard lock(mu);
        back.swap(returned);
      }
      // Back from a worker: what it left buffered may already be a request.
      for (auto& c : back) {
        after_answer(*c, now);
        auto next_step = step(*c, now);
        dispatch(std::move(c), next_step, conns);
      }
      pfds.clear();
      pfds.push_back({wake_fd, POLLIN, 0});
      pfds.push_back({open < limits.max_connections ? listen_fd : -1, POLLIN, 0});
      auto next = now + std::chrono::seconds(60);
      for (const auto& c : conns) {
        pfds.push_back({c->fd, c->events, 0});
        next = std::min(next, c->deadline);
      }
      auto wait_ms = std::chrono::duration_cast<milliseconds>(next - now).count() + 1;
      int r = ::poll(pfds.data(), pfds.size(), static_cast<int>(std::max<long long>(0, wait_ms)));
      if (r < 0 && errno != EINTR) {
        spdlog::error("http: poll failed: {}", std::strerror(errno));
        break;
      }
      now = Clock::now();
      if (pfds[0].revents) {
        uint64_t n;
        (void)!::read(wake_fd, &n, sizeof n);
      }
      std::size_t polled = conns.size();
      if (pfds[1].revents & POLLIN) accept_new(conns, now);
      keep.clear();
      for (std::size_t i = 0; i < conns.size(); ++i) {
        auto& c = conns[i];
        bool due = i >= polled || pfds[i + 2].revents || now >= c->deadline;
        if (!due) {
          keep.push_back(std::move(c));
          continue;
        }
        auto next_step =
            i >= polled && c->phase == Connection::Phase::Lingering ? Next::Wait : step(*c, now);
        dispatch(std::move(c), next_step, keep);
      }
      conns.swap(keep);
    }
    for (auto& c : conns) close_conn(std::move(c));
  }
};

HttpServer::HttpServer(httplib::Server& routes, SSL_CTX* tls, ServerLimits limits)
    : impl_(std::make_unique<Impl>(routes, tls, limits)) {
  impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  routes.new_task_queue = [] { return new IdleQueue; };
  routes.set_idle_interval(0, 100000);  // its idle loop sees stop() within 0.1 s
}

HttpServer::~HttpServer() {
  stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Status HttpServer::bind(const std::string& addr, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (::getaddrinfo(addr.empty() ? nullptr : addr.c_str(), service.c_str(), &hints, &found) != 0)
    return make_error("cannot listen on " + addr + ":" + service + " (not an address)");
  int fd = -1;
  for (auto* ai = found; ai && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 512) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    return make_error("cannot listen on " + addr + ":" + service +
                      " (address in use, or not an address of this host)");
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  address_text(ss, impl_->port);
  impl_->listen_fd = fd;
  return {};
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::serve() {
  auto& routes = impl_->routes;
  std::thread running;
  if (int fd = unreachable_listener(); fd >= 0) {
    RouteAccess::adopt_listener(routes, fd);
    running = std::thread([&routes] { routes.listen_after_bind(); });
    for (int i = 0; i < 1000 && !routes.is_running(); ++i)
      std::this_thread::sleep_for(milliseconds(1));
  } else {
    spdlog::warn("http: no idle listener for httplib ({}): streamed replies end at once",
                 std::strerror(errno));
  }
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < impl_->limits.workers; ++i)
    workers.emplace_back([this] { impl_->run_worker(); });
  impl_->run_poller();
  impl_->stopping = true;
  impl_->cv.notify_all();
  if (running.joinable()) {
    routes.stop();  // streamed replies end, so the workers can
    running.join();
  }
  for (auto& t : workers) t.join();
  std::lock_guard lock(impl_->mu);
  for (auto& c : impl_->returned) impl_->close_conn(std::move(c));
  impl_->returned.clear();
}

void HttpServer::stop() {
  impl_->stopping = true;
  uint64_t one = 1;
  if (impl_->wake_fd >= 0) (void)!::write(impl_->wake_fd, &one, sizeof one);
  impl_->cv.notify_all();
}

void HttpServer::serve_socket(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto c = std::make_unique<Connection>(impl_->framing());
  c->fd = fd;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c->addr = address_text(ss, c->remote_port);
  if (c->addr.empty()) c->addr = "local";
  ++impl_->open;
  auto now = Clock::now();
  c->request_start = now;
  c->deadline = now + impl_->limits.header_timeout;
  for (;;) {
    auto next = impl_->step(*c, now);
    if (next == Next::Close) break;
    if (next == Next::Work) {
      if (!impl_->answer(*c)) break;
      impl_->after_answer(*c, Clock::now());
    } else {
      wait_io(c->fd, c->events, c->deadline);
    }
    now = Clock::now();
  }
  impl_->close_conn(std::move(c));
}

std::size_t HttpServer::connections(const std::string& client_addr) const {
  return impl_->limiter.connections(client_addr);
}

}  // namespace drover::api
