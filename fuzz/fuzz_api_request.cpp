// Fuzz target: raw HTTP requests to an in-process httplib server with the agent's pre-routing
// guard (token check by method and path). The connection layer in front of httplib (framing,
// caps, deadlines) has its own target, fuzz_http_layer. The
// bytes go over a loopback socket, so httplib's request parser sees exactly what a client sent.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <thread>

#include "api/acl.hpp"
#include "api/json_reply.hpp"
#include "drover/common/result.hpp"

namespace {

struct Fixture {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  Fixture() {
    server.set_read_timeout(0, 200000);
    server.set_payload_max_length(1 << 16);
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      auto need = drover::api::required_policy(req.method, req.path);
      auto token = drover::api::request_token(req.get_header_value("X-Nomad-Token"),
                                              req.get_header_value("Authorization"));
      if (need && token != "fuzz-secret") {
        drover::api::reply_error(res, 403, "Permission denied");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get(R"(/v1/job/([^/]+))", [](const httplib::Request& req, httplib::Response& res) {
      drover::api::reply_json(res, {{"ID", req.matches[1].str()}});
    });
    server.Post("/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
      drover::api::reply_json(res, {{"Bytes", req.body.size()}});
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture();
  // The token and policy logic alone, on the same bytes.
  std::string_view s(reinterpret_cast<const char*>(data), size);
  auto nl = s.find('\n');
  (void)drover::api::required_policy(s.substr(0, nl == s.npos ? 0 : nl), s);
  (void)drover::api::request_token("", s);
  (void)drover::api::is_loopback_address(std::string(s.substr(0, 64)));

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(fx->port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)send(fd, data, size, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }
  close(fd);
  return 0;
}
