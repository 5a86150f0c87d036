// The alloc checks endpoint; see checks_endpoint.hpp.
#include "api/checks_endpoint.hpp"

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "health/health_watcher.hpp"
#include "runner/alloc_manager.hpp"

namespace drover::api {

void register_checks_endpoint(httplib::Server& s, const ApiContext& ctx) {
  s.Get(R"(/v1/client/allocation/([^/]+)/checks)",
        [&ctx](const httplib::Request& req, httplib::Response& res) {
          auto id = ctx.allocs->resolve_alloc_id(req.matches[1]);
          if (!id) return reply_error(res, id.error());
          reply_json(res, ctx.health ? ctx.health->checks(id.value()) : nlohmann::json::object());
        });
}

}  // namespace drover::api
