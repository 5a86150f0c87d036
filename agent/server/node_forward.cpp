// Forwarding alloc requests to the alloc's node; see node_forward.hpp.
#include "server/node_forward.hpp"

#include <httplib.h>

#include <algorithm>
#include <memory>

#include "api/json_reply.hpp"
#include "api/monitor_endpoint.hpp"
#include "api/query_params.hpp"
#include "api/tls_transport.hpp"
#include "drover/common/encoding.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using nlohmann::json;

namespace {

void forward(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  auto t = node_target(ctx, id);
  if (!t) return reply_error(res, gateway_status(t.code()), t.message());
  const std::string path = forwarded_target(req, id, t->alloc_id);
  httplib::Headers headers;
  for (auto& h : token_headers(req)) headers.insert(std::move(h));
  // A followed log, and a file stream (which follows unless told not to, as Nomad's), last as
  // long as the client reads: relayed chunk by chunk.
  const bool file_stream = req.path.rfind("/v1/client/fs/stream/", 0) == 0;
  if (req.get_param_value("follow") == "true" || (file_stream && req.get_param_value("follow") != "false")) {
    res.set_chunked_content_provider(
        "text/plain",
        [base = t->base, path, headers, tls = ctx.tls](size_t, httplib::DataSink& sink) {
          auto c = api::make_peer_client(base, tls);
          c->set_read_timeout(3600, 0);
          auto r = c->Get(path.c_str(), headers,
                         [&](const char* data, size_t len) { return sink.write(data, len); });
          sink.done();
          return true;
        });
    return;
  }
  auto client = api::make_peer_client(t->base, ctx.tls);
  auto& c = *client;
  c.set_connection_timeout(5, 0);
  // An exec runs for as long as its TimeoutMs (the node caps it); the node answers after.
  int64_t read_s = 60;
  if (std::string(req.matches[2]) == "exec") {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_object() && body.value("TimeoutMs", json()).is_number_integer())
      read_s = std::max<int64_t>(read_s, body["TimeoutMs"].get<int64_t>() / 1000 + 30);
  }
  c.set_read_timeout(read_s, 0);
  httplib::Result r = req.method == "POST" ? c.Post(path.c_str(), headers, req.body,
                                                    req.get_header_value("Content-Type").c_str())
                                           : c.Get(path.c_str(), headers);
  if (!r)
    return reply_error(res, 502,
                       "node at " + t->base + " unreachable: " + httplib::to_string(r.error()));
  res.status = r->status;
  res.set_content(r->body, r->get_header_value("Content-Type").c_str());
}

// A live node by id or unique prefix, and its API's URL: NotFound (no such node, or down),
// Ambiguous, Internal (etcd did not answer, the node key has no address).
struct NodeAddr {
  std::string id, base;
};
Result<NodeAddr> live_node(const ServerApiContext& ctx, const std::string& node_id) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.nodes());
  if (!r) return make_error(r.message(), Errc::Internal);
  std::vector<json> found;
  for (const auto& kv : r.value().kvs) {
    json n = json::parse(kv.value, nullptr, false);
    if (!n.is_object()) continue;
    const std::string id = n.value("ID", "");
    if (id == node_id) {
      found = {n};
      break;
    }
    if (id.rfind(node_id, 0) == 0) found.push_back(n);
  }
  if (found.empty())
    return make_error("node \"" + node_id + "\" not found (or down)", Errc::NotFound);
  if (found.size() > 1)
    return make_error("node prefix \"" + node_id + "\" matches " + std::to_string(found.size()),
                      Errc::Ambiguous);
  const std::string full = found[0].value("ID", ""), addr = found[0].value("HTTPAddr", "");
  if (addr.empty())
    return make_error("node " + full + " has no HTTPAddr in its node key", Errc::Internal);
  return NodeAddr{full, api::peer_url(addr, ctx.tls)};
}

httplib::Headers forwarded_token(const httplib::Request& req) {
  httplib::Headers headers;
  for (auto& h : token_headers(req)) headers.insert(std::move(h));
  return headers;
}

// Nomad's /v1/client/metadata on a server: passed on to the node named by `node_id` (the
// query, or a body's NodeID; an id prefix works), whose agent keeps its metadata.
void forward_node_meta(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::string node_id = req.get_param_value("node_id");
  if (node_id.empty() && req.method != "GET") {
    json body = json::parse(req.body, nullptr, false);
    if (body.is_object() && body.value("NodeID", json()).is_string())
      node_id = body["NodeID"].get<std::string>();
  }
  if (node_id.empty())
    return reply_error(res, 400, "node_id: a server needs the node whose metadata this is");
  auto node = live_node(ctx, node_id);
  if (!node) return reply_error(res, gateway_status(node.code()), node.message());
  auto client = api::make_peer_client(node->base, ctx.tls);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(30, 0);
  const std::string path = "/v1/client/metadata?node_id=" + node->id;
  const auto headers = forwarded_token(req);
  httplib::Result fwd = req.method == "GET"
                            ? client->Get(path.c_str(), headers)
                            : client->Put(path.c_str(), headers, req.body, "application/json");
  if (!fwd)
    return reply_error(res, 502, "node at " + node->base + " unreachable: " + httplib::to_string(fwd.error()));
  res.status = fwd->status;
  res.set_content(fwd->body, fwd->get_header_value("Content-Type").c_str());
}

// A live server's API by its name (`server members`), or the leader's for "leader"; empty
// when it is this server.
Result<std::string> server_base(const ServerApiContext& ctx, const std::string& server_id) {
  if (server_id == ctx.name) return std::string();
  if (server_id == "leader") {
    std::string why;
    const std::string addr = leader_addr(ctx, &why);
    if (addr.empty()) return make_error("no leader: " + why, Errc::Internal);
    return addr == ctx.http_addr ? std::string() : addr;
  }
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.servers());
  if (!r) return make_error(r.message(), Errc::Internal);
  for (const auto& kv : r.value().kvs) {
    json m = json::parse(kv.value, nullptr, false);
    if (m.is_object() && m.value("Name", "") == server_id) {
      const std::string addr = m.value("HTTPAddr", "");
      if (addr.empty()) return make_error("server " + server_id + " has no HTTPAddr", Errc::Internal);
      return addr;
    }
  }
  return make_error("server \"" + server_id + "\" not found (`drover server members` lists them)",
                    Errc::NotFound);
}

// GET /v1/agent/monitor on a server: its own log, or with ?node_id= a node's agent's, with
// ?server_id= another server's (Nomad's), relayed as it comes. The options are checked here
// first, so a mistake is a 400 from this server, not a line in a relayed stream.
void monitor(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string node_id = req.get_param_value("node_id"),
                    server_id = req.get_param_value("server_id");
  if (!node_id.empty() && !server_id.empty())
    return reply_error(res, 400, "node_id and server_id: name one agent to follow, not both");
  std::string base;
  if (!node_id.empty()) {
    auto node = live_node(ctx, node_id);
    if (!node) return reply_error(res, gateway_status(node.code()), node.message());
    base = node->base;
  } else if (!server_id.empty()) {
    auto server = server_base(ctx, server_id);
    if (!server) return reply_error(res, gateway_status(server.code()), server.message());
    base = server.value();
  }
  if (base.empty()) return api::serve_monitor(ctx.log_monitor, req, res);
  if (auto bad = api::monitor_options_refusal(req); !bad.empty()) return reply_error(res, 400, bad);
  // Always framed from the node: its heartbeats (every 10 s) let the relay see a client that
  // went away even while the log is quiet. A plain client gets the frames' text.
  std::string path = "/v1/agent/monitor?plain=false";
  for (const char* k : {"log_level", "log_json"})
    if (req.has_param(k))
      path += std::string("&") + k + "=" + httplib::detail::encode_query_param(req.get_param_value(k));
  const bool plain = api::bool_param(req, "plain", false).value();
  res.set_chunked_content_provider(
      plain ? "text/plain" : "application/json",
      [base, path, plain, headers = forwarded_token(req), tls = ctx.tls](size_t,
                                                                         httplib::DataSink& sink) {
        auto c = api::make_peer_client(base, tls);
        c->set_connection_timeout(5, 0);
        c->set_read_timeout(60, 0);  // six heartbeats missed: the node is gone
        std::string pending;
        c->Get(path.c_str(), headers, [&](const char* data, size_t len) {
          pending.append(data, len);
          for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;
               pending.erase(0, nl + 1)) {
            std::string out = pending.substr(0, nl + 1);
            if (plain) {
              json frame = json::parse(out, nullptr, false);
              const json bytes = frame.is_object() ? frame.value("Data", json()) : json();
              // A heartbeat, or the node's refusal ({"error": ...}, shown as it came).
              if (!bytes.is_string()) {
                if (frame.is_object() && frame.contains("error")) out = frame.dump() + "\n";
                else if (!sink.is_writable()) return false;
                else continue;
              } else {
                out = base64_decode(bytes.get<std::string>()).value_or("");
              }
            }
            if (!sink.write(out.data(), out.size())) return false;
          }
          return true;
        });
        sink.done();
        return true;
      });
}

}  // namespace

int gateway_status(Errc code) { return code == Errc::Internal ? 502 : api::http_status(code); }

Result<NodeTarget> node_target(const ServerApiContext& ctx, const std::string& id) {
  auto a = find_alloc_key(ctx, id);  // its node is in its key: no need of its value
  if (!a) return a.error();
  upstream::EtcdClient etcd(ctx.etcd);
  auto node = etcd.get(ctx.keys.nodes() + a->node_id);
  if (!node) return make_error(node.message(), Errc::Internal);
  if (!node.value())
    return make_error("alloc \"" + a->id + "\": its node " + a->node_id + " is down", Errc::NotFound);
  auto n = json::parse(*node.value(), nullptr, false);
  const std::string addr = n.is_object() ? n.value("HTTPAddr", "") : "";
  if (addr.empty())
    return make_error("node " + a->node_id + " has no HTTPAddr in its node key", Errc::Internal);
  return NodeTarget{a->id, api::peer_url(addr, ctx.tls)};
}

std::string forwarded_target(const httplib::Request& req, const std::string& short_id,
                             const std::string& full_id) {
  std::string path = req.path;
  auto at = path.find(short_id);
  if (at != std::string::npos) path.replace(at, short_id.size(), full_id);
  std::string query;
  for (const auto& [k, v] : req.params)
    query += (query.empty() ? "?" : "&") + httplib::detail::encode_query_param(k) + "=" +
             httplib::detail::encode_query_param(v);
  return path + query;
}

void register_node_forward_routes(ServerApiContext& ctx, httplib::Server& s) {
  auto fwd = [&ctx](const httplib::Request& req, httplib::Response& res) {
    forward(ctx, req, res);
  };
  s.Get(R"(/v1/client/fs/logs/([^/]+))", fwd);
  s.Get(R"(/v1/client/fs/(?:ls|stat|cat|readat|stream)/([^/]+))", fwd);
  s.Get(R"(/v1/client/allocation/([^/]+)/(stats|checks))", fwd);
  // Acting on one alloc on its node (restart, signal, exec); stopping goes through the job.
  s.Post(R"(/v1/client/allocation/([^/]+)/(restart|signal|exec))", fwd);
  auto meta = [&ctx](const httplib::Request& req, httplib::Response& res) {
    forward_node_meta(ctx, req, res);
  };
  s.Get("/v1/client/metadata", meta);
  s.Get("/v1/agent/monitor", [&ctx](const httplib::Request& req, httplib::Response& res) {
    monitor(ctx, req, res);
  });
  s.Put("/v1/client/metadata", meta);
  s.Post("/v1/client/metadata", meta);
}

}  // namespace drover::server
