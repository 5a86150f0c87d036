// The API's HTTP server (api/http_server.hpp) with its deadlines made short: a client that
// sends its body a byte at a time is answered 408 once the request's deadline passes, however
// steady its pace, and others are served meanwhile (docs/threat-model.md, "slow requests").
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "api/http_server.hpp"

using namespace std::chrono_literals;

namespace {

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What the server sent until it closed, or `limit` passed.
std::string read_to_close(int fd, std::chrono::milliseconds limit) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0ms || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

TEST(HttpServer, ABodyTrickledInPastTheRequestDeadlineGets408AndOthersAreServed) {
  httplib::Server routes;
  routes.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(std::to_string(req.body.size()), "text/plain");
  });
  routes.Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
  drover::api::ServerLimits limits;
  limits.header_timeout = 300ms;
  limits.request_timeout = 600ms;
  drover::api::HttpServer server(routes, nullptr, limits);
  ASSERT_TRUE(server.bind("127.0.0.1", 0).ok());
  std::thread serving([&] { server.serve(); });

  int slow = connect_to(server.port());
  ASSERT_GE(slow, 0);
  const std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
  ASSERT_EQ(::send(slow, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  std::atomic<bool> answered{false};
  std::thread trickler([&] {  // a byte every 50 ms: never idle long, never done
    for (int i = 0; i < 1000 && !answered; ++i) {
      if (::send(slow, "x", 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(50ms);
    }
  });
  // Served meanwhile.
  httplib::Client c("127.0.0.1", server.port());
  auto pong = c.Get("/ping");
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->body, "pong");

  std::string reply = read_to_close(slow, 20s);
  answered = true;
  trickler.join();
  ::close(slow);
  EXPECT_EQ(reply.rfind("HTTP/1.1 408", 0), 0u) << reply;
  EXPECT_NE(reply.find("request body not received in time"), std::string::npos) << reply;
  // A complete request on a new connection is answered as before.
  auto echoed = c.Post("/echo", "abc", "text/plain");
  ASSERT_TRUE(echoed);
  EXPECT_EQ(echoed->body, "3");
  server.stop();
  serving.join();
}
