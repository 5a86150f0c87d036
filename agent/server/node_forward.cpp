// Forwarding alloc requests to the alloc's node; see node_forward.hpp.
#include "server/node_forward.hpp"

#include <httplib.h>

#include <algorithm>
#include <memory>

#include "api/json_reply.hpp"
#include "api/tls_transport.hpp"
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
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.nodes());
  if (!r) return reply_error(res, 502, r.message());
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
  if (found.size() != 1)
    return reply_error(res, found.empty() ? 404 : 400,
                       found.empty() ? "node \"" + node_id + "\" not found (or down)"
                                     : "node prefix \"" + node_id + "\" matches " +
                                           std::to_string(found.size()));
  const std::string full = found[0].value("ID", ""), addr = found[0].value("HTTPAddr", "");
  if (addr.empty()) return reply_error(res, 502, "node " + full + " has no HTTPAddr in its node key");
  httplib::Headers headers;
  for (auto& h : token_headers(req)) headers.insert(std::move(h));
  auto client = api::make_peer_client(api::peer_url(addr, ctx.tls), ctx.tls);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(30, 0);
  const std::string path = "/v1/client/metadata?node_id=" + full;
  httplib::Result fwd = req.method == "GET"
                            ? client->Get(path.c_str(), headers)
                            : client->Put(path.c_str(), headers, req.body, "application/json");
  if (!fwd)
    return reply_error(res, 502, "node at " + addr + " unreachable: " + httplib::to_string(fwd.error()));
  res.status = fwd->status;
  res.set_content(fwd->body, fwd->get_header_value("Content-Type").c_str());
}

}  // namespace

int gateway_status(Errc code) { return code == Errc::Internal ? 502 : api::http_status(code); }

Result<NodeTarget> node_target(const ServerApiContext& ctx, const std::string& id) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.all());
  if (!r) return make_error(r.message(), Errc::Internal);
  auto st = read_cluster_state(r.value(), ctx.keys);
  std::vector<std::string> found;
  for (auto it = st.allocs.lower_bound(id); it != st.allocs.end() && it->first.rfind(id, 0) == 0;
       ++it)
    found.push_back(it->first);
  if (found.empty()) return make_error("alloc \"" + id + "\" not found", Errc::NotFound);
  if (found.size() > 1)
    return make_error("alloc prefix \"" + id + "\" matches " + std::to_string(found.size()),
                      Errc::Ambiguous);
  const auto& a = st.allocs.at(found[0]);
  auto node = st.nodes.find(a.node_id);
  if (node == st.nodes.end())
    return make_error("alloc \"" + a.id + "\": its node " + a.node_id + " is down", Errc::NotFound);
  std::string addr = node->second.value("HTTPAddr", "");
  if (addr.empty())
    return make_error("node " + a.node_id + " has no HTTPAddr in its node key", Errc::Internal);
  return NodeTarget{a.id, api::peer_url(addr, ctx.tls)};
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
  s.Put("/v1/client/metadata", meta);
  s.Post("/v1/client/metadata", meta);
}

}  // namespace drover::server
