// The exec websocket passed on to the alloc's node; see exec_forward.hpp.
#include "server/exec_forward.hpp"

#include <httplib.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include "api/acl.hpp"
#include "api/exec_endpoint.hpp"
#include "api/exec_frames.hpp"
#include "api/http_server.hpp"
#include "api/json_reply.hpp"
#include "api/peer_socket.hpp"
#include "api/websocket.hpp"
#include "api/ws_upgrade.hpp"
#include "server/api_support.hpp"
#include "server/node_forward.hpp"

namespace drover::server {

namespace ws = api::ws;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);  // the agent's
constexpr std::size_t kMaxHandshakeBytes = 64 * 1024;
// Each session holds one of the API's workers for as long as it lasts: at most this many, as
// on the agent, so that the rest of the API still answers.
constexpr int kMaxSessions = 8;
std::atomic<int> sessions{0};

// The client's bytes before the relay: its first message (ws_handshake), kept whole to pass
// on, and parsed here to read its token.
struct FirstMessage {
  std::string raw;   // every byte read so far
  std::string text;  // the first text message
};

std::optional<FirstMessage> read_first_message(api::UpgradedConnection& conn) {
  FirstMessage out;
  ws::FrameReader reader(kMaxHandshakeBytes, /*clients_mask=*/true);
  auto deadline = Clock::now() + kHandshakeTimeout;
  char buf[4096];
  for (;;) {
    long n = conn.read_some(buf, sizeof buf);
    if (n == 0 || n == -1) return std::nullopt;
    if (n > 0) {
      out.raw.append(buf, static_cast<std::size_t>(n));
      reader.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      while (auto m = reader.next())
        if (m->opcode == ws::Opcode::Text) {
          out.text = m->payload;
          return out;
        }
      if (reader.failed() || out.raw.size() > kMaxHandshakeBytes) return std::nullopt;
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{conn.fd(), POLLIN, 0};
    if (!conn.pending()) ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

// Opens the node's exec websocket for `target`; the bytes the node sent after its 101 (the
// session's first frames) in `early`. An error says how the node answered.
Status upgrade_at_node(api::PeerSocket& node, const std::string& base, const api::PeerTls& tls,
                       const std::string& target, const std::string& key,
                       const std::vector<std::pair<std::string, std::string>>& token_headers,
                       std::string& early) {
  if (auto st = node.connect(base, tls); !st) return st;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + node.host_header() +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                        key + "\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& [name, value] : token_headers) request += name + ": " + value + "\r\n";
  if (!node.write_all(request + "\r\n"))
    return make_error("node at " + base + " closed the connection", Errc::Internal);
  std::string head;
  char buf[4096];
  std::size_t end;
  while ((end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > 64 * 1024) return make_error("node at " + base + ": reply head too long", Errc::Internal);
    long n = node.read(buf, sizeof buf);
    if (n <= 0) return make_error("node at " + base + " closed the connection", Errc::Internal);
    head.append(buf, static_cast<std::size_t>(n));
  }
  early = head.substr(end + 4);
  head.resize(end);
  if (head.rfind("HTTP/1.1 101", 0) == 0) return {};
  // The node's refusal, with its JSON reason when it sent one.
  auto status_end = head.find("\r\n");
  return make_error("node at " + base + " refused the session: " + head.substr(0, status_end) +
                        (early.empty() ? "" : " " + early),
                    Errc::Internal);
}

// Bytes both ways until either side ends or the server stops.
void relay(api::UpgradedConnection& client, api::PeerSocket& node) {
  char buf[16384];
  while (!client.stopping()) {
    pollfd p[2] = {{client.fd(), POLLIN, 0}, {node.fd(), POLLIN, 0}};
    if (!client.pending() && !node.pending()) {
      int r = ::poll(p, 2, 500);
      if (r < 0 && errno != EINTR) return;
      if (r <= 0) continue;
    }
    if (client.pending() || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      long n = client.read_some(buf, sizeof buf);
      if (n == 0 || n == -1) return;
      if (n > 0 && !node.write_all(std::string(buf, static_cast<std::size_t>(n)))) return;
    }
    if (node.pending() || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      long n = node.read(buf, sizeof buf);
      if (n <= 0) return;
      if (!client.write_all(std::string(buf, static_cast<std::size_t>(n)))) return;
    }
  }
}

void forward_session(ServerApiContext& ctx, const api::TokenStore* tokens,
                     const httplib::Request& req, httplib::Response& res) {
  const std::optional<std::string> key = api::websocket_key(req, res);
  if (!key) return;
  const bool token_later =
      tokens != nullptr &&
      api::exec_token_in_first_message(
          req.method, req.path, req.get_header_value("Upgrade"), req.get_param_value("ws_handshake"),
          api::request_token(req.get_header_value("X-Nomad-Token"), req.get_header_value("Authorization")));
  const api::SessionSlot slot(sessions, kMaxSessions);
  if (!slot.held())
    return api::reply_error(res, 429, "too many exec sessions on this server (the limit is " +
                                          std::to_string(kMaxSessions) + ")");
  const api::PeerTls tls{ctx.tls.ca_file, ctx.tls.cert_file, ctx.tls.key_file};
  const std::string id = req.matches[1];
  api::PeerSocket node;
  std::string early;
  auto open_node = [&]() -> Status {
    auto t = node_target(ctx, id);
    if (!t) return t.error();
    return upgrade_at_node(node, t->base, tls, forwarded_target(req, id, t->alloc_id), *key,
                           token_headers(req), early);
  };
  // With the token in a header (checked before routing) the node is reached first, so that a
  // refusal is still an HTTP reply.
  if (!token_later)
    if (auto st = open_node(); !st) return api::reply_error(res, gateway_status(st.code()), st.message());

  api::UpgradedConnection* conn = api::accept_websocket(res, *key);
  if (conn == nullptr) return;
  auto close = [&](uint16_t code, const std::string& why) {
    (void)conn->write_all(ws::encode_frame(ws::Opcode::Close, ws::close_payload(code, why)));
  };
  std::string from_client;
  if (token_later) {
    auto first = read_first_message(*conn);
    if (!first) return close(ws::kPolicyViolation, "no handshake message in time");
    auto hs = api::parse_exec_handshake(first->text);
    if (!hs.error.empty()) return close(ws::kPolicyViolation, hs.error);
    auto why = api::token_refusal(*tokens, api::Policy::operate, hs.token, "exec", "in a task",
                                  "this server");
    if (!why.empty()) return close(ws::kPolicyViolation, why);
    // Application close codes (4000 + the HTTP status), as the agent closes.
    if (auto st = open_node(); !st)
      return close(static_cast<uint16_t>(4000 + gateway_status(st.code())), st.message());
    from_client = std::move(first->raw);
  }
  if (!from_client.empty() && !node.write_all(from_client)) return;
  if (!early.empty() && !conn->write_all(early)) return;
  spdlog::info("exec: alloc {} session passed on to its node", id);
  relay(*conn, node);
}

}  // namespace

void register_exec_forward_route(ServerApiContext& ctx, httplib::Server& s,
                                 const api::TokenStore* tokens) {
  s.Get(R"(/v1/client/allocation/([^/]+)/exec)",
        [&ctx, tokens](const httplib::Request& req, httplib::Response& res) {
          forward_session(ctx, tokens, req, res);
        });
}

}  // namespace drover::server
