// The node metadata endpoint; see node_meta_endpoint.hpp.
#include "api/node_meta_endpoint.hpp"

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "runner/node_meta.hpp"
#include "runner/task_env.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

json meta_reply(const runner::NodeMeta& meta) {
  json dynamic = json::object();
  for (const auto& [k, v] : meta.dynamic()) dynamic[k] = v ? json(*v) : json(nullptr);
  return {{"Meta", meta.merged()}, {"Dynamic", dynamic}, {"Static", meta.static_meta()}};
}

// Whether `node_id` (maybe empty, or a prefix) names this node; replies 400 when not.
bool this_node(const ApiContext& ctx, const std::string& node_id, httplib::Response& res) {
  if (node_id.empty() || ctx.node->id.rfind(node_id, 0) == 0) return true;
  reply_error(res, 400, "node_id: \"" + node_id + "\" is not this node (" + ctx.node->id + ")");
  return false;
}

}  // namespace

void register_node_meta_endpoint(httplib::Server& s, const ApiContext& ctx) {
  if (!ctx.node_meta) return;
  s.Get("/v1/client/metadata", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!this_node(ctx, req.get_param_value("node_id"), res)) return;
    reply_json(res, meta_reply(*ctx.node_meta));
  });
  auto apply = [&ctx](const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object())
      return reply_error(res, 400, "body: must be a JSON object {\"Meta\": {\"key\": \"value\"}}");
    const json node_id = body.value("NodeID", json(""));
    if (!node_id.is_string()) return reply_error(res, 400, "NodeID: must be a string");
    if (!this_node(ctx, node_id.get<std::string>(), res) ||
        !this_node(ctx, req.get_param_value("node_id"), res))
      return;
    const json meta = body.value("Meta", json());
    if (!meta.is_object() || meta.empty())
      return reply_error(res, 400,
                         "Meta: must name the keys to set (a string) or unset (null)");
    runner::DynamicMeta changes;
    for (const auto& [k, v] : meta.items()) {
      if (v.is_null()) changes[k] = std::nullopt;
      else if (v.is_string()) changes[k] = v.get<std::string>();
      else return reply_error(res, 400, "Meta." + k + ": must be a string, or null to unset it");
    }
    auto merged = ctx.node_meta->apply(changes);
    if (!merged) return reply_error(res, merged.error());
    if (ctx.node_meta_changed) ctx.node_meta_changed(json(merged.value()));
    reply_json(res, meta_reply(*ctx.node_meta));
  };
  s.Put("/v1/client/metadata", apply);
  s.Post("/v1/client/metadata", apply);
}

}  // namespace drover::api
