// The deployment routes; see deployments_api.hpp.
#include "server/deployments_api.hpp"

#include <httplib.h>

#include <algorithm>
#include <functional>
#include <set>

#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/request_authz.hpp"
#include "server/api_support.hpp"
#include "server/cluster_state.hpp"
#include "server/deployment.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

// A deployment as stored, with the revision it was read at (for a guarded write back).
struct StoredDeployment {
  json doc;
  int64_t mod_revision = 0;
};

// Every deployment, newest first (as Nomad lists a job's).
Result<std::vector<StoredDeployment>> read_deployments(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.deployments());
  if (!r) return r.error();
  std::vector<StoredDeployment> out;
  for (const auto& kv : r.value().kvs) {
    auto d = json::parse(kv.value, nullptr, false);
    if (d.is_object()) out.push_back({std::move(d), kv.mod_revision});
  }
  std::sort(out.begin(), out.end(), [](const StoredDeployment& a, const StoredDeployment& b) {
    return a.doc.value("CreateTime", int64_t{0}) > b.doc.value("CreateTime", int64_t{0});
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
    if (d.doc.value("JobID", "") == std::string(req.matches[1]) &&
        d.doc.value("Namespace", "default") == namespace_of(req))
      out.push_back(std::move(d.doc));
  return out;
}

// The deployment whose id (or unique id prefix) is in the path, or replies why not.
std::optional<StoredDeployment> one_deployment(const ServerApiContext& ctx,
                                               const httplib::Request& req,
                                               httplib::Response& res) {
  auto all = read_deployments(ctx);
  if (!all) {
    reply_error(res, 503, all.message());
    return std::nullopt;
  }
  const std::string id = req.matches[1];
  // A token of ACL policies reads (or changes) a deployment in its job's namespace only.
  auto allowed = [&](StoredDeployment d) -> std::optional<StoredDeployment> {
    const char* need = req.method == "GET" ? "read-job" : "submit-job";
    auto why = api::request_namespace_refusal(d.doc.value("Namespace", "default"), need);
    if (why.empty()) return d;
    reply_error(res, 403, why);
    return std::nullopt;
  };
  std::vector<StoredDeployment> found;
  for (auto& d : all.value()) {
    auto did = d.doc.value("ID", "");
    if (did == id) return allowed(d);
    if (did.rfind(id, 0) == 0) found.push_back(d);
  }
  if (found.size() == 1) return allowed(found.front());
  reply_error(res, found.empty() ? 404 : 400,
              found.empty()
                  ? "deployment \"" + id + "\" not found"
                  : "deployment prefix \"" + id + "\" matches " + std::to_string(found.size()));
  return std::nullopt;
}

// A change a user makes to the deployment in the path (promote, pause, resume, fail): written
// straight to etcd from any server, guarded by the revision it was read at, so that it never
// overwrites what the leader wrote meanwhile (a verdict, a tally): then it is read and made
// again. The leader's plan compares the deployment keys too, so it never overwrites the
// change either. `change` edits the deployment, or returns a 400's reason; `reply` gets the
// deployment as written.
void change_deployment(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                       const std::function<std::optional<std::string>(json&)>& change,
                       const std::function<json(const json&)>& reply) {
  upstream::EtcdClient etcd(ctx.etcd);
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto d = one_deployment(ctx, req, res);
    if (!d) return;
    if (auto why = change(d->doc)) return reply_error(res, 400, *why);
    const std::string id = d->doc.value("ID", "");
    auto w = etcd.compare_and_put(ctx.keys.deployment(id), d->doc.dump(), d->mod_revision);
    if (!w) return reply_error(res, 503, w.message());
    if (!w.value().succeeded) continue;
    if (ctx.wake_scheduler) ctx.wake_scheduler();
    json out = reply(d->doc);
    out["DeploymentID"] = id;
    out["DeploymentModifyIndex"] = w.value().revision;
    out["EvalID"] = "";
    return reply_json(res, out);
  }
  reply_error(res, 409, "deployment kept changing while it was updated: try again");
}

// Nomad's promote: {"DeploymentID", "All": bool, "Groups": [...]} marks the canary groups
// promoted; the leader's next pass replaces the rest.
void promote(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object()) return reply_error(res, 400, "body: must be a JSON object");
  if (body.contains("Groups") && !body["Groups"].is_null() && !body["Groups"].is_array())
    return reply_error(res, 400, "Groups: must be a list of group names");
  const bool all = body.value("All", false) || !body.contains("Groups") ||
                   body["Groups"].is_null() || body["Groups"].empty();
  int promoted = 0;
  auto change = [&](json& d) -> std::optional<std::string> {
    const std::string id = d.value("ID", "");
    if (d.value("Status", "") != "running")
      return "deployment \"" + id + "\" is " + d.value("Status", "") +
             ": only a running deployment can be promoted";
    std::set<std::string> wanted;
    if (!all)
      for (const auto& g : body["Groups"]) wanted.insert(g.is_string() ? g.get<std::string>() : "");
    promoted = 0;
    for (auto& [name, g] : d["TaskGroups"].items()) {
      if (!all && !wanted.erase(name)) continue;
      if (g.value("DesiredCanaries", 0) == 0 || g.value("Promoted", false)) continue;
      g["Promoted"] = true;
      ++promoted;
    }
    if (!wanted.empty())
      return "Groups: deployment \"" + id + "\" has no group \"" + *wanted.begin() + "\"";
    if (promoted == 0) return "deployment \"" + id + "\" has no canaries to promote";
    return std::nullopt;
  };
  change_deployment(ctx, req, res, change, [&](const json&) {
    return json{{"Promoted", promoted}};
  });
}

// Nomad's pause: {"DeploymentID", "Pause": bool}; false resumes.
void pause(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object()) return reply_error(res, 400, "body: must be a JSON object");
  if (body.contains("Pause") && !body["Pause"].is_boolean() && !body["Pause"].is_null())
    return reply_error(res, 400, "Pause: must be true (pause) or false (resume)");
  const bool want = body.value("Pause", json(false)).is_boolean() && body.value("Pause", false);
  change_deployment(
      ctx, req, res,
      [&](json& d) { return pause_deployment(d, want, state::now_ns()); },
      [](const json& d) { return json{{"Status", d.value("Status", "")}}; });
}

// Nomad's fail: the leader's next pass fails the deployment and, with auto_revert, registers
// the last stable version again (deployment.hpp).
void fail(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  change_deployment(
      ctx, req, res, [&](json& d) { return request_deployment_failure(d, state::now_ns()); },
      [](const json&) { return json::object(); });
}

}  // namespace

void register_deployment_routes(ServerApiContext& ctx, httplib::Server& s) {
  s.Get("/v1/deployments", [&ctx](const httplib::Request& req, httplib::Response& res) {
    // Nomad's list: the default namespace's unless ?namespace= names one, or "*".
    auto ns = api::namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    auto all = read_deployments(ctx);
    if (!all) return reply_error(res, 503, all.message());
    json out = json::array();
    for (auto& d : all.value())
      if (api::namespace_matches(ns.value(), d.doc.value("Namespace", "default")))
        out.push_back(std::move(d.doc));
    reply_json(res, out);
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
            if (a.alloc.value("DeploymentID", "") != d->doc.value("ID", "")) continue;
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
  post_and_put(s, R"(/v1/deployment/pause/([^/]+))",
               [&ctx](const httplib::Request& req, httplib::Response& res) { pause(ctx, req, res); });
  post_and_put(s, R"(/v1/deployment/fail/([^/]+))",
               [&ctx](const httplib::Request& req, httplib::Response& res) { fail(ctx, req, res); });
  s.Get(R"(/v1/deployment/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (auto d = one_deployment(ctx, req, res)) reply_json(res, d->doc);
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
