// The exec websocket passed on to the alloc's node; see exec_forward.hpp.
#include "server/exec_forward.hpp"

#include <httplib.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "api/acl.hpp"
#include "api/exec_endpoint.hpp"
#include "api/exec_frames.hpp"
#include "api/http_server.hpp"
#include "api/json_reply.hpp"
#include "api/peer_socket.hpp"
#include "api/request_facts.hpp"
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

// A node's refusal of the upgrade that is the client's to fix (a 4xx: an unknown task or
// action, a bad parameter), passed on as the node said it.
struct NodeRefusal {
  int status = 0;
  std::string body;
};

// Opens the node's exec websocket for `target`; the bytes the node sent after its 101 (the
// session's first frames) in `early`. An error says how the node answered; a 4xx is also in
// `refusal`.
Status upgrade_at_node(api::PeerSocket& node, const std::string& base, const api::PeerTls& tls,
                       const std::string& target, const std::string& key,
                       const std::vector<std::pair<std::string, std::string>>& token_headers,
                       std::string& early, NodeRefusal& refusal) {
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
  // The node's refusal, with its JSON reason when it sent one (read to its Content-Length).
  const int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
  std::size_t length = 0;
  for (std::size_t at = head.find("\r\n"); at != std::string::npos;) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    if (strncasecmp(line.c_str(), "Content-Length:", 15) == 0)
      length = std::min<std::size_t>(std::strtoul(line.c_str() + 15, nullptr, 10), 64 * 1024);
    at = next;
  }
  while (early.size() < length) {
    long n = node.read(buf, sizeof buf);
    if (n <= 0) break;
    early.append(buf, static_cast<std::size_t>(n));
  }
  if (status >= 400 && status < 500) refusal = {status, early};
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

// Where a session goes at the node: the request as it came, the alloc's full id in the place
// of the one given (the path's for an exec, the allocID parameter's for an action).
std::string node_path(const httplib::Request& req, bool action, const std::string& given,
                      const std::string& full_id) {
  if (!action) return forwarded_target(req, given, full_id);
  std::string query;
  for (const auto& [k, v] : req.params)
    query += (query.empty() ? "?" : "&") + httplib::detail::encode_query_param(k) + "=" +
             httplib::detail::encode_query_param(k == "allocID" ? full_id : v);
  return req.path + query;
}

void forward_session(ServerApiContext& ctx, const api::TokenStore* tokens,
                     const httplib::Request& req, httplib::Response& res, bool action) {
  // An action names its alloc in a parameter (api/exec_endpoint.hpp); the node checks the rest.
  const std::string id = action ? req.get_param_value("allocID") : std::string(req.matches[1]);
  if (id.empty()) return api::reply_error(res, 400, "allocID: required");
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
  api::PeerSocket node;
  std::string early;
  NodeRefusal refusal;
  auto open_node = [&]() -> Status {
    auto t = node_target(ctx, id);
    if (!t) return t.error();
    return upgrade_at_node(node, t->base, tls, node_path(req, action, id, t->alloc_id), *key,
                           token_headers(req), early, refusal);
  };
  // With the token in a header (checked before routing) the node is reached first, so that a
  // refusal is still an HTTP reply: the node's own, when it is the client's to fix.
  if (!token_later)
    if (auto st = open_node(); !st) {
      if (refusal.status != 0) {
        res.status = refusal.status;
        return res.set_content(refusal.body, "application/json");
      }
      return api::reply_error(res, gateway_status(st.code()), st.message());
    }

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
    if (auto refusal = api::authorize(*tokens, api::exec_facts(req, hs.token), "this server",
                                      alloc_namespace_lookup(ctx)))
      return close(ws::kPolicyViolation, refusal->message.substr(0, 123));
    // Application close codes (4000 + the HTTP status), as the agent closes.
    if (auto st = open_node(); !st) {
      if (refusal.status != 0) {
        auto why = nlohmann::json::parse(refusal.body, nullptr, false);
        return close(static_cast<uint16_t>(4000 + refusal.status),
                     why.is_object() ? why.value("error", st.message()) : st.message());
      }
      return close(static_cast<uint16_t>(4000 + gateway_status(st.code())), st.message());
    }
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
          forward_session(ctx, tokens, req, res, /*action=*/false);
        });
}

void register_action_forward_route(ServerApiContext& ctx, httplib::Server& s,
                                   const api::TokenStore* tokens) {
  s.Get(R"(/v1/job/(.+)/action)",
        [&ctx, tokens](const httplib::Request& req, httplib::Response& res) {
          forward_session(ctx, tokens, req, res, /*action=*/true);
        });
}

}  // namespace drover::server
