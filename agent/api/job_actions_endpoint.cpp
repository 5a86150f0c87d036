// A job's actions; see job_actions_endpoint.hpp.
#include "api/job_actions_endpoint.hpp"

#include <httplib.h>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::api {

using nlohmann::json;

json job_actions(const json& job) {
  json out = json::array();
  auto list = [](const json& o, const char* key) -> const json& {
    static const json none = json::array();
    auto it = o.find(key);
    return it != o.end() && it->is_array() ? *it : none;
  };
  for (const auto& g : list(job, "TaskGroups"))
    for (const auto& t : list(g, "Tasks"))
      for (const auto& a : list(t, "Actions")) {
        json one = a;
        one["TaskName"] = t.value("Name", "");
        one["TaskGroupName"] = g.value("Name", "");
        out.push_back(std::move(one));
      }
  return out;
}

void register_job_actions_endpoint(httplib::Server& s, const ApiContext& ctx) {
  s.Get(R"(/v1/job/(.+)/actions)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto ns = namespace_query(req.get_param_value("namespace"), /*allow_all=*/false);
    if (!ns) return reply_error(res, ns.error());
    const state::JobKey key{ns.value(), req.matches[1]};
    auto rec = ctx.allocs->job(key);
    if (!rec) return reply_error(res, 404, state::describe(key) + " not found");
    reply_json(res, job_actions(rec->job));
  });
}

}  // namespace drover::api
