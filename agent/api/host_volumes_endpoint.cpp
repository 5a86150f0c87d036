// The dynamic host volume endpoints; see host_volumes_endpoint.hpp.
#include "api/host_volumes_endpoint.hpp"

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "api/request_authz.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/constraints.hpp"
#include "runner/dynamic_host_volumes.hpp"
#include "runner/task_env.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

// Nomad's HostVolumeStub.
json stub(const ApiContext& ctx, const runner::DynamicHostVolume& v) {
  json full = runner::to_json(v, ctx.node->id, ctx.node->node_pool);
  json out = json::object();
  for (const char* k : {"ID", "Name", "Namespace", "PluginID", "NodePool", "NodeID",
                        "CapacityBytes", "State", "CreateTime", "ModifyTime"})
    out[k] = full[k];
  return out;
}

// The live allocs whose group mounts the host volume `name`.
std::vector<state::Alloc> users(const ApiContext& ctx, const std::string& name) {
  return ctx.allocs->allocs_where([&](const state::Alloc& a) {
    if (a.terminal() || !a.job) return false;
    for (const auto& g : a.job->value("TaskGroups", json::array())) {
      if (!g.is_object() || g.value("Name", "") != a.group) continue;
      const json volumes = g.value("Volumes", json::object());  // alive for the loop
      for (const auto& [vn, v] : volumes.items())
        if (v.is_object() && v.value("Type", "host") == "host" && v.value("Source", "") == name)
          return true;
    }
    return false;
  });
}

}  // namespace

void register_host_volumes_endpoints(httplib::Server& s, const ApiContext& ctx) {
  if (!ctx.host_volumes) return;
  auto write = [&ctx](bool registering) {
    return [&ctx, registering](const httplib::Request& req, httplib::Response& res) {
      json body = json::parse(req.body, nullptr, false);
      auto v = runner::volume_from_request(body, registering);
      if (!v) return reply_error(res, v.error());
      // A token of ACL policies: host-volume-create (or -register) in the volume's namespace.
      if (auto why = request_namespace_refusal(
              v->ns, registering ? "host-volume-register" : "host-volume-create");
          !why.empty())
        return reply_error(res, 403, why);
      const std::string node = body["Volume"].value("NodeID", "");
      if (!node.empty() && node != ctx.node->id)
        return reply_error(res, 400, "Volume.NodeID: \"" + node + "\" is not this node (" +
                                         ctx.node->id + ")");
      // Where the volume may be: this node must meet its constraints (a server chose it for
      // them, or a standalone agent is asked directly).
      if (!v->constraints.empty()) {
        const runner::NodeInfo here = ctx.node_now ? ctx.node_now() : *ctx.node;
        for (std::size_t i = 0; i < v->constraints.size(); ++i)
          if (auto why = runner::unmet_constraint(v->constraints[i], here))
            return reply_error(res, 409,
                               "Volume.Constraints[" + std::to_string(i) + "]: constraint \"" +
                                   runner::constraint_text(v->constraints[i]) +
                                   "\" is not met: " + *why);
      }
      auto made = registering ? ctx.host_volumes->register_existing(std::move(v.value()))
                              : ctx.host_volumes->create(std::move(v.value()));
      if (!made) return reply_error(res, made.error());
      if (ctx.host_volumes_changed) ctx.host_volumes_changed();
      reply_json(res, {{"Volume", runner::to_json(made.value(), ctx.node->id, ctx.node->node_pool)},
                       {"Warnings", ""}});
    };
  };
  s.Put("/v1/volume/host/create", write(false));
  s.Post("/v1/volume/host/create", write(false));
  s.Put("/v1/volume/host/register", write(true));
  s.Post("/v1/volume/host/register", write(true));
  s.Get("/v1/volumes", [&ctx](const httplib::Request& req, httplib::Response& res) {
    // Nomad's default type is csi, which drover has none of.
    const std::string type = req.has_param("type") ? req.get_param_value("type") : "csi";
    if (type == "csi") return reply_json(res, json::array());
    if (type != "host") return reply_error(res, 400, "type: must be host or csi, not \"" + type + "\"");
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/true);
    if (!ns) return reply_error(res, ns.error());
    json out = json::array();
    for (const auto& v : ctx.host_volumes->list())
      if (namespace_matches(ns.value(), v.ns)) out.push_back(stub(ctx, v));
    reply_json(res, out);
  });
  s.Get(R"(/v1/volume/host/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto v = ctx.host_volumes->get(req.matches[1]);
    if (!v) return reply_error(res, 404, "host volume \"" + std::string(req.matches[1]) + "\" not found");
    if (auto why = request_namespace_refusal(v->ns, "host-volume-read"); !why.empty())
      return reply_error(res, 403, why);
    json out = runner::to_json(*v, ctx.node->id, ctx.node->node_pool);
    json allocs = json::array();
    for (const auto& a : users(ctx, v->name))
      allocs.push_back({{"ID", a.id}, {"Name", a.name}, {"Namespace", a.namespace_},
                        {"JobID", a.job_id}, {"TaskGroup", a.group},
                        {"ClientStatus", a.client_status}});
    out["Allocations"] = std::move(allocs);
    reply_json(res, out);
  });
  s.Delete(R"(/v1/volume/host/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto v = ctx.host_volumes->get(req.matches[1]);
    if (!v) return reply_error(res, 404, "host volume \"" + std::string(req.matches[1]) + "\" not found");
    if (auto why = request_namespace_refusal(v->ns, "host-volume-delete"); !why.empty())
      return reply_error(res, 403, why);
    auto using_it = users(ctx, v->name);
    if (!using_it.empty())
      return reply_error(res, 409, "host volume \"" + v->name + "\" is in use by alloc " +
                                       using_it.front().id + " (" + using_it.front().name +
                                       "): stop it first");
    if (auto st = ctx.host_volumes->remove(v->id); !st) return reply_error(res, st.error());
    if (ctx.host_volumes_changed) ctx.host_volumes_changed();
    reply_json(res, json::object());
  });
}

}  // namespace drover::api
