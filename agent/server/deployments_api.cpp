// The deployment routes; see deployments_api.hpp.
#include "server/deployments_api.hpp"

#include <httplib.h>

#include <algorithm>
#include <set>

#include "api/json_reply.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

// Every deployment, newest first (as Nomad lists a job's).
Result<std::vector<json>> read_deployments(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.deployments());
  if (!r) return r.error();
  std::vector<json> out;
  for (const auto& kv : r.value().kvs) {
    auto d = json::parse(kv.value, nullptr, false);
    if (d.is_object()) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a.value("CreateTime", int64_t{0}) > b.value("CreateTime", int64_t{0});
  });
  return out;
}

std::string namespace_of(const httplib::Request& req) {
  auto ns = req.get_param_value("namespace");
  return ns.empty() ? "default" : ns;
}

// The deployments of the job named in the path.
Result<std::vector<json>> job_deployments(const ServerApiContext& ctx,
                                          const httplib::Request& req) {
  auto all = read_deployments(ctx);
  if (!all) return all.error();
  std::vector<json> out;
  for (auto& d : all.value())
    if (d.value("JobID", "") == std::string(req.matches[1]) &&
        d.value("Namespace", "default") == namespace_of(req))
      out.push_back(std::move(d));
  return out;
}

// The deployment whose id (or unique id prefix) is in the path, or replies why not.
std::optional<json> one_deployment(const ServerApiContext& ctx, const httplib::Request& req,
                                   httplib::Response& res) {
  auto all = read_deployments(ctx);
  if (!all) {
    reply_error(res, 503, all.message());
    return std::nullopt;
  }
  const std::string id = req.matches[1];
  std::vector<json> found;
  for (auto& d : all.value()) {
    auto did = d.value("ID", "");
    if (did == id) return d;
    if (did.rfind(id, 0) == 0) found.push_back(d);
  }
  if (found.size() == 1) return found.front();
  reply_error(res, found.empty() ? 404 : 400,
              found.empty()
                  ? "deployment \"" + id + "\" not found"
                  : "deployment prefix \"" + id + "\" matches " + std::to_string(found.size()));
  return std::nullopt;
}

// Nomad's promote: {"DeploymentID", "All": bool, "Groups": [...]} marks the canary groups
// promoted; the leader's next pass replaces the rest. Written straight to etcd from any server:
// the leader's plan compares the deployment keys, so it never overwrites a promotion.
void promote(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object()) return reply_error(res, 400, "body: must be a JSON object");
  if (body.contains("Groups") && !body["Groups"].is_null() && !body["Groups"].is_array())
    return reply_error(res, 400, "Groups: must be a list of group names");
  auto d = one_deployment(ctx, req, res);
  if (!d) return;
  const std::string id = d->value("ID", "");
  if (d->value("Status", "") != "running")
    return reply_error(res, 400,
                       "deployment \"" + id + "\" is " + d->value("Status", "") +
                           ": only a running deployment can be promoted");
  const bool all = body.value("All", false) || !body.contains("Groups") || body["Groups"].empty();
  std::set<std::string> wanted;
  if (!all)
    for (const auto& g : body["Groups"]) wanted.insert(g.is_string() ? g.get<std::string>() : "");
  int promoted = 0;
  for (auto& [name, g] : (*d)["TaskGroups"].items()) {
    if (!all && !wanted.erase(name)) continue;
    if (g.value("DesiredCanaries", 0) == 0 || g.value("Promoted", false)) continue;
    g["Promoted"] = true;
    ++promoted;
  }
  if (!wanted.empty())
    return reply_error(
        res, 400, "Groups: deployment \"" + id + "\" has no group \"" + *wanted.begin() + "\"");
  if (promoted == 0)
    return reply_error(res, 400, "deployment \"" + id + "\" has no canaries to promote");
  upstream::EtcdClient etcd(ctx.etcd);
  if (auto s = etcd.put(ctx.keys.deployment(id), d->dump()); !s)
    return reply_error(res, 503, s.message());
  if (ctx.wake_scheduler) ctx.wake_scheduler();
  reply_json(res, {{"DeploymentID", id}, {"EvalID", ""}, {"Promoted", promoted}});
}

}  // namespace

void register_deployment_routes(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/deployments", [&ctx](const httplib::Request&, httplib::Response& res) {
    auto all = read_deployments(ctx);
    if (!all) return reply_error(res, 503, all.message());
    reply_json(res, json(all.value()));
  });
  s.Get(R"(/v1/deployment/allocations/([^/]+))",
        [&ctx](const httplib::Request& req, httplib::Response& res) {
          auto d = one_deployment(ctx, req, res);
          if (!d) return;
          upstream::EtcdClient etcd(ctx.etcd);
          auto r = etcd.range_prefix(ctx.keys.all());
          if (!r) return reply_error(res, 503, r.message());
          auto st = read_cluster_state(r.value(), ctx.keys);
          json out = json::array();
          for (const auto& [id, a] : st.allocs) {
            if (a.alloc.value("DeploymentID", "") != d->value("ID", "")) continue;
            json j = a.value(/*with_job=*/false);
            j["ClientStatus"] = a.client_status();
            if (a.status.is_object() && a.status.contains("DeploymentStatus"))
              j["DeploymentStatus"] = a.status["DeploymentStatus"];
            out.push_back(std::move(j));
          }
          reply_json(res, out);
        });
  auto promote_route = [&ctx](const httplib::Request& req, httplib::Response& res) {
    promote(ctx, req, res);
  };
  post_and_put(s, R"(/v1/deployment/promote/([^/]+))", promote_route);
  s.Get(R"(/v1/deployment/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (auto d = one_deployment(ctx, req, res)) reply_json(res, *d);
  });
  s.Get(R"(/v1/job/(.+)/deployments)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto mine = job_deployments(ctx, req);
    if (!mine) return reply_error(res, 503, mine.message());
    reply_json(res, json(mine.value()));
  });
  s.Get(R"(/v1/job/(.+)/deployment)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto mine = job_deployments(ctx, req);
    if (!mine) return reply_error(res, 503, mine.message());
    reply_json(res, mine.value().empty() ? json(nullptr) : mine.value().front());
  });
}

}  // namespace drover::server
