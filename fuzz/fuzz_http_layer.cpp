// Fuzz target: the API's connection layer (api/http_server.hpp, api/http_framing.hpp) with raw
// client bytes: chunked and Content-Length bodies, refused encodings, pipelined requests,
// partial heads. Byte 0 says how the rest is cut into reads, so slow and split clients are
// covered too. Two passes on the same bytes:
//  1. RequestFramer alone, fed in slices: every request it hands on has one Content-Length
//     that matches its body, and no body above the cap.
//  2. HttpServer::serve_socket over a socketpair, with httplib routes behind it: the bytes
//     are sent as a client would, and the server must close the connection by itself.
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "api/http_framing.hpp"
#include "api/http_server.hpp"

namespace {

constexpr std::size_t kMaxBody = 4096;

drover::api::ServerLimits fuzz_limits() {
  drover::api::ServerLimits l;
  l.max_request_bytes = kMaxBody;
  l.max_head_bytes = 2048;
  l.header_timeout = std::chrono::milliseconds(200);
  l.request_timeout = std::chrono::milliseconds(400);
  l.keep_alive = std::chrono::milliseconds(200);
  l.write_timeout = std::chrono::milliseconds(500);
  l.workers = 1;
  return l;
}

struct Fixture {
  httplib::Server routes;
  drover::api::HttpServer server{routes, nullptr, fuzz_limits()};
  Fixture() {
    routes.set_payload_max_length(kMaxBody);
    routes.Get("/v1/agent/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"ok\":true}", "application/json");
    });
    routes.Post("/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
      if (req.body.size() > kMaxBody) std::abort();  // the cap must hold before a handler
      res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    routes.Get("/v1/event/stream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
        sink.write("{}\n", 3);
        sink.done();
        return true;
      });
    });
  }
};

void check_framer(std::string_view input, std::size_t slice) {
  drover::api::RequestFramer framer({2048, kMaxBody, true});
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto n = std::min(slice, input.size() - pos);
    auto st = framer.feed(input.substr(pos, n));
    pos += n;
    while (st == drover::api::RequestFramer::State::Ready) {
      std::string req = framer.take_request();
      auto end = req.find("\r\n\r\n");
      auto cl = req.rfind("Content-Length: ", end);
      if (end == std::string::npos || cl == std::string::npos) std::abort();
      auto len = std::stoull(req.substr(cl + 16, end - cl - 16));
      if (len > kMaxBody || req.size() - end - 4 != len) std::abort();
      if (drover::api::first_invalid_utf8(std::string_view(req).substr(end + 4))) std::abort();
      st = framer.state();
    }
    if (st == drover::api::RequestFramer::State::Refused) {
      if (framer.status() < 400 || framer.reason().empty()) std::abort();
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture();
  if (size == 0) return 0;
  std::size_t slice = 1 + (data[0] % 8 == 0 ? size : data[0] % 64);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_framer(input, slice);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  std::thread client([&] {
    for (std::size_t pos = 0; pos < input.size();) {
      auto n = std::min(slice, input.size() - pos);
      ssize_t w = send(sv[1], input.data() + pos, n, MSG_NOSIGNAL);
      if (w <= 0) break;
      pos += static_cast<std::size_t>(w);
    }
    shutdown(sv[1], SHUT_WR);
    char buf[4096];
    while (recv(sv[1], buf, sizeof buf, 0) > 0) {
    }
    close(sv[1]);
  });
  fx->server.serve_socket(sv[0]);  // closes sv[0]
  client.join();
  return 0;
}
