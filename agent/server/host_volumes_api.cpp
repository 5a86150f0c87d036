// The server's dynamic host volume routes; see host_volumes_api.hpp.
#include "server/host_volumes_api.hpp"

#include <httplib.h>

#include <algorithm>
#include <map>

#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/request_authz.hpp"
#include "api/tls_transport.hpp"
#include "runner/constraints.hpp"
#include "runner/dynamic_host_volumes.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

// Every node's key, parsed.
Result<std::vector<json>> nodes(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.nodes());
  if (!r) return make_error(r.message(), Errc::Internal);
  std::vector<json> out;
  for (const auto& kv : r.value().kvs) {
    json n = json::parse(kv.value, nullptr, false);
    if (n.is_object()) out.push_back(std::move(n));
  }
  return out;
}

// The node's dynamic volumes (HostVolumes entries with an ID).
std::vector<json> dynamic_volumes(const json& node) {
  std::vector<json> out;
  const json hv = node.value("HostVolumes", json::object());  // alive for the loop
  if (!hv.is_object()) return out;
  for (const auto& [name, v] : hv.items())
    if (v.is_object() && !v.value("ID", "").empty()) out.push_back(v);
  return out;
}

// Passes the request on to `node`'s agent at `path`, and its answer back.
void forward_to(ServerApiContext& ctx, const json& node, const std::string& path,
                const std::string& body, const httplib::Request& req, httplib::Response& res) {
  const std::string addr = node.value("HTTPAddr", "");
  if (addr.empty())
    return reply_error(res, 502, "node " + node.value("ID", "") + " has no HTTPAddr in its node key");
  httplib::Headers headers;
  for (auto& h : token_headers(req)) headers.insert(std::move(h));
  auto client = api::make_peer_client(api::peer_url(addr, ctx.tls), ctx.tls);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(90, 0);  // a plugin may take a minute
  httplib::Result r = req.method == "GET"      ? client->Get(path.c_str(), headers)
                      : req.method == "DELETE" ? client->Delete(path.c_str(), headers)
                                               : client->Put(path.c_str(), headers, body,
                                                             "application/json");
  if (!r)
    return reply_error(res, 502, "node at " + addr + " unreachable: " + httplib::to_string(r.error()));
  res.status = r->status;
  res.set_content(r->body, r->get_header_value("Content-Type").c_str());
}

// The node that has the volume with this id, or null.
const json* holder(const std::vector<json>& all, const std::string& id) {
  for (const auto& n : all)
    for (const auto& v : dynamic_volumes(n))
      if (v.value("ID", "") == id) return &n;
  return nullptr;
}

}  // namespace

void register_host_volume_routes(ServerApiContext& ctx, httplib::Server& s) {
  auto write = [&ctx](const char* op) {
    return [&ctx, op](const httplib::Request& req, httplib::Response& res) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.value("Volume", json()).is_object())
        return reply_error(res, 400, "the body must be {\"Volume\": {...}}");
      json& v = body["Volume"];
      if (!v.value("NodeID", json("")).is_string() || !v.value("NodePool", json("")).is_string())
        return reply_error(res, 400, "Volume.NodeID and Volume.NodePool: must be strings");
      // A token of ACL policies: host-volume-create (or -register) in the volume's namespace.
      const json in = v.value("Namespace", json("default"));
      const std::string ns =
          in.is_string() && !in.get<std::string>().empty() ? in.get<std::string>() : "default";
      if (auto why = api::request_namespace_refusal(ns, std::string("host-volume-") + op);
          !why.empty())
        return reply_error(res, 403, why);
      auto all = nodes(ctx);
      if (!all) return reply_error(res, 502, all.message());
      const std::string want = v.value("NodeID", "");
      const json* target = nullptr;
      if (!want.empty()) {
        int matches = 0;
        for (const auto& n : *all)
          if (n.value("ID", "").rfind(want, 0) == 0) {
            target = &n;
            ++matches;
          }
        if (matches != 1)
          return reply_error(res, matches ? 400 : 404,
                             "Volume.NodeID: \"" + want + "\" " +
                                 (matches ? "matches " + std::to_string(matches) + " nodes"
                                          : "is no node that is up"));
      } else if (std::string(op) == "register") {
        return reply_error(res, 400, "Volume.NodeID: a registered volume is on the node that has "
                                     "its host_path: name it");
      } else {
        // Nomad places a volume as it places an alloc; here: a ready node of the pool, the
        // one with the fewest dynamic volumes (then the lowest id), that has none of its name.
        // Its constraints, as Nomad's, judged as a job's on each node's facts.
        const std::string pool = v.value("NodePool", "").empty() ? "default" : v.value("NodePool", "");
        const std::string name = v.value("Name", "");
        auto constraints = runner::volume_constraints(v.value("Constraints", json()));
        if (!constraints) return reply_error(res, constraints.error());
        std::map<std::string, int> filtered;  // constraint -> nodes it ruled out
        std::size_t fewest = SIZE_MAX;
        for (const auto& n : *all) {
          if (!node_ready(n) || n.value("NodePool", "default") != pool) continue;
          auto mine = dynamic_volumes(n);
          const json hv = n.value("HostVolumes", json::object());
          if (hv.is_object() && hv.contains(name)) continue;
          if (!constraints->empty()) {
            const runner::NodeInfo info = runner::node_info_from_json(n);
            auto failed = std::find_if(
                constraints->begin(), constraints->end(),
                [&](const jobspec::Constraint& c) { return runner::unmet_constraint(c, info); });
            if (failed != constraints->end()) {
              filtered[runner::constraint_text(*failed)]++;
              continue;
            }
          }
          if (mine.size() < fewest ||
              (mine.size() == fewest && n.value("ID", "") < target->value("ID", ""))) {
            fewest = mine.size();
            target = &n;
          }
        }
        if (!target) {
          std::string why;
          for (const auto& [c, count] : filtered)
            why += "; constraint \"" + c + "\" filtered " + std::to_string(count) + " node" +
                   (count == 1 ? "" : "s");
          return reply_error(res, 409, "no ready node in node pool \"" + pool +
                                           "\" can take host volume \"" + name + "\"" + why);
        }
      }
      v["NodeID"] = target->value("ID", "");
      forward_to(ctx, *target, std::string("/v1/volume/host/") + op, body.dump(), req, res);
    };
  };
  s.Put("/v1/volume/host/create", write("create"));
  s.Post("/v1/volume/host/create", write("create"));
  s.Put("/v1/volume/host/register", write("register"));
  s.Post("/v1/volume/host/register", write("register"));
  s.Get("/v1/volumes", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const std::string type = req.has_param("type") ? req.get_param_value("type") : "csi";
    if (type == "csi") return reply_json(res, json::array());
    if (type != "host") return reply_error(res, 400, "type: must be host or csi, not \"" + type + "\"");
    // Nomad's: the default namespace's unless ?namespace= names one (or "*"), as an agent's.
    auto ns = api::namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    auto all = nodes(ctx);
    if (!all) return reply_error(res, 502, all.message());
    json out = json::array();
    for (const auto& n : *all)
      for (const auto& v : dynamic_volumes(n)) {
        auto text = [&v](const char* k) {
          auto it = v.find(k);
          return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
        };
        // An agent from before volumes carried it shows its volumes in the default namespace.
        std::string in = text("Namespace");
        if (in.empty()) in = "default";
        if (!api::namespace_matches(ns.value(), in)) continue;
        out.push_back({{"ID", text("ID")},
                       {"Name", text("Name")},
                       {"Namespace", in},
                       {"PluginID", text("PluginID")},
                       {"NodeID", n.value("ID", "")},
                       {"NodePool", n.value("NodePool", "default")},
                       {"State", "ready"}});
      }
    std::sort(out.begin(), out.end(),
              [](const json& a, const json& b) { return a.value("Name", "") < b.value("Name", ""); });
    reply_json(res, out);
  });
  auto one = [&ctx](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    auto all = nodes(ctx);
    if (!all) return reply_error(res, 502, all.message());
    const json* n = holder(*all, id);
    if (!n) return reply_error(res, 404, "host volume \"" + id + "\" not found (or its node is down)");
    forward_to(ctx, *n, "/v1/volume/host/" + id, "", req, res);
  };
  s.Get(R"(/v1/volume/host/([^/]+))", one);
  s.Delete(R"(/v1/volume/host/([^/]+))", one);
}

}  // namespace drover::server
