// The node pool routes; see node_pools_api.hpp.
#include "server/node_pools_api.hpp"

#include <httplib.h>

#include <cctype>
#include <map>
#include <optional>

#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/request_authz.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "server/node_records.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

constexpr const char* kAll = "all";
constexpr const char* kDefault = "default";

bool built_in(const std::string& name) { return name == kAll || name == kDefault; }

// Nomad's rule for a pool's name: 1-128 letters, digits, '-' or '_'.
std::optional<std::string> name_problem(const std::string& name) {
  if (name.empty() || name.size() > 128) return "Name: a node pool's name is 1 to 128 characters";
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '-' && c != '_')
      return "Name: \"" + name + "\" may hold only letters, digits, '-' and '_'";
  return std::nullopt;
}

json pool_doc(const std::string& name, const std::string& description) {
  return {{"Name", name}, {"Description", description}, {"Meta", json::object()},
          {"CreateTime", 0}, {"ModifyTime", 0}};
}

// Every pool there is, by name: the built-in two, the described ones, and any a node names.
Result<std::map<std::string, json>> all_pools(const ServerApiContext& ctx, const ClusterState& st) {
  std::map<std::string, json> out = {
      {kAll, pool_doc(kAll, "Node pool with all nodes in the cluster.")},
      {kDefault, pool_doc(kDefault, "Default node pool.")}};
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.node_pools());
  if (!r) return r.error();
  for (const auto& kv : r.value().kvs) {
    json p = json::parse(kv.value, nullptr, false);
    if (p.is_object() && p.value("Name", json()).is_string()) out[p["Name"]] = p;
  }
  for (const auto& [id, n] : st.nodes) {
    const std::string pool = n.value("NodePool", kDefault);
    if (!out.count(pool)) out[pool] = pool_doc(pool, "");
  }
  return out;
}

bool in_pool(const json& node, const std::string& pool) {
  return pool == kAll || node.value("NodePool", kDefault) == pool;
}

// The pool named in the path, or replies 404.
std::optional<json> one_pool(const ServerApiContext& ctx, const ClusterState& st,
                             const httplib::Request& req, httplib::Response& res) {
  auto pools = all_pools(ctx, st);
  if (!pools) {
    reply_error(res, 503, pools.message());
    return std::nullopt;
  }
  auto it = pools.value().find(req.matches[1]);
  if (it == pools.value().end()) {
    reply_error(res, 404, "node pool \"" + std::string(req.matches[1]) + "\" not found");
    return std::nullopt;
  }
  return it->second;
}

std::string pool_of_job(const JobRecord& rec) {
  auto j = rec.job.parsed();
  return j && j->is_object() ? j->value("NodePool", kDefault) : kDefault;
}

void apply_pool(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto body = body_object(req, res);
  if (!body) return;
  if (!body->value("Name", json()).is_string())
    return reply_error(res, 400, "Name: the node pool's name is required");
  const std::string name = (*body)["Name"].get<std::string>();
  if (auto why = name_problem(name)) return reply_error(res, 400, *why);
  // A token of ACL policies: its node_pool rule for this pool (api/request_authz.hpp).
  if (auto why = api::request_node_pool_refusal(name, "write"); !why.empty())
    return reply_error(res, 403, why);
  if (built_in(name))
    return reply_error(res, 400, "modifying node pool \"" + name + "\" is not allowed");
  const json description = body->value("Description", json(""));
  if (!description.is_string() || description.get<std::string>().size() > 256)
    return reply_error(res, 400, "Description: a string of at most 256 characters");
  json meta = body->value("Meta", json::object());
  if (meta.is_null()) meta = json::object();
  if (!meta.is_object()) return reply_error(res, 400, "Meta: must be an object of strings");
  for (const auto& [k, v] : meta.items())
    if (!v.is_string()) return reply_error(res, 400, "Meta." + k + ": must be a string");
  if (body->contains("SchedulerConfiguration") && !(*body)["SchedulerConfiguration"].is_null())
    return reply_error(res, 400,
                       "SchedulerConfiguration: a pool's own scheduler settings are not "
                       "supported (the cluster's apply: operator scheduler set-config)");
  upstream::EtcdClient etcd(ctx.etcd);
  const std::string key = ctx.keys.node_pool(name);
  auto old = etcd.get(key);
  if (!old) return reply_error(res, 503, old.message());
  const int64_t now = state::now_ns();
  json prior = old.value() ? json::parse(*old.value(), nullptr, false) : json();
  json doc = {{"Name", name},
              {"Description", description},
              {"Meta", meta},
              {"CreateTime", prior.is_object() ? prior.value("CreateTime", now) : now},
              {"ModifyTime", now}};
  if (auto s = etcd.put(key, doc.dump()); !s) return reply_error(res, 503, s.message());
  reply_json(res, json::object());
}

void delete_pool(ServerApiContext& ctx, const ClusterState& st, const httplib::Request& req,
                 httplib::Response& res) {
  const std::string name = req.matches[1];
  if (built_in(name)) return reply_error(res, 400, "deleting node pool \"" + name + "\" is not allowed");
  for (const auto& [id, n] : st.nodes)
    if (in_pool(n, name))
      return reply_error(res, 409, "node pool \"" + name + "\" has nodes (" + id.substr(0, 8) + ")");
  for (const auto& [jk, rec] : st.jobs)
    if (pool_of_job(rec) == name && job_status(st, jk, rec) != "dead")
      return reply_error(res, 409, "node pool \"" + name + "\" has non-terminal jobs (" + jk + ")");
  upstream::EtcdClient etcd(ctx.etcd);
  auto old = etcd.get(ctx.keys.node_pool(name));
  if (!old) return reply_error(res, 503, old.message());
  if (!old.value()) return reply_error(res, 404, "node pool \"" + name + "\" not found");
  if (auto s = etcd.delete_key(ctx.keys.node_pool(name)); !s)
    return reply_error(res, 503, s.message());
  reply_json(res, json::object());
}

}  // namespace

void register_node_pool_routes(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/node/pools", with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                                                 httplib::Response& res) {
          auto pools = all_pools(ctx, st);
          if (!pools) return reply_error(res, 503, pools.message());
          const std::string prefix = req.get_param_value("prefix");
          json out = json::array();
          for (const auto& [name, p] : pools.value())
            if (name.rfind(prefix, 0) == 0 && api::request_lists_node_pool(name)) out.push_back(p);
          reply_json(res, out);
        }));
  post_and_put(s, "/v1/node/pools",
               [&ctx](const httplib::Request& req, httplib::Response& res) { apply_pool(ctx, req, res); });
  s.Get(R"(/v1/node/pool/([^/]+)/nodes)",
        with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                               httplib::Response& res) {
          if (!one_pool(ctx, st, req, res)) return;
          json out = json::array();
          for (const auto& n : all_nodes(st))
            if (in_pool(n, req.matches[1])) out.push_back(node_stub(n));
          reply_json(res, out);
        }));
  s.Get(R"(/v1/node/pool/([^/]+)/jobs)",
        with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                               httplib::Response& res) {
          if (!one_pool(ctx, st, req, res)) return;
          auto ns = api::namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
          if (!ns) return reply_error(res, ns.error());
          json out = json::array();
          for (const auto& [jk, rec] : st.jobs)
            if (pool_of_job(rec) == std::string(req.matches[1]) &&
                api::namespace_matches(ns.value(), rec.value("Namespace", "default")))
              out.push_back(job_stub(st, jk, rec));
          reply_json(res, out);
        }));
  s.Get(R"(/v1/node/pool/([^/]+))",
        with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                               httplib::Response& res) {
          if (auto p = one_pool(ctx, st, req, res)) reply_json(res, *p);
        }));
  s.Delete(R"(/v1/node/pool/([^/]+))",
           with_state(ctx, [&ctx](const ClusterState& st, const httplib::Request& req,
                                  httplib::Response& res) { delete_pool(ctx, st, req, res); }));
}

}  // namespace drover::server
