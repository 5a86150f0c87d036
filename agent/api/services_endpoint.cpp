// The service endpoints; see services_endpoint.hpp.
#include "api/services_endpoint.hpp"

#include <algorithm>

#include "api/blocking_query.hpp"
#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "api/namespace_query.hpp"
#include "catalog/catalog.hpp"
#include "catalog/query.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

// Nomad's blocking query (api/blocking_query.hpp): waits until the catalog's index passes
// ?index=; false (a 400 sent) when the query is not understood.
bool block(const catalog::Catalog& cat, const httplib::Request& req, httplib::Response& res) {
  auto q = blocking_query(req);
  if (!q) {
    reply_error(res, q.error());
    return false;
  }
  if (*q)
    wait_in_slot((*q)->wait, [&](std::chrono::milliseconds t) { cat.wait_for_change((*q)->index, t); });
  return true;
}

bool namespace_matches(const httplib::Request& req, const std::string& ns) {
  std::string want = req.has_param("namespace") ? req.get_param_value("namespace") : "default";
  return api::namespace_matches(want, ns);
}

}  // namespace

void register_services_endpoints(httplib::Server& s, const ApiContext& ctx) {
  s.Get("/v1/services", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.catalog) return reply_json(res, json::array());
    if (!block(*ctx.catalog, req, res)) return;
    res.set_header("X-Nomad-Index", std::to_string(ctx.catalog->index()));
    auto all = ctx.catalog->list();
    if (!all) return reply_error(res, all.error());
    std::erase_if(all.value(),
                  [&](const auto& r) { return !namespace_matches(req, r.namespace_); });
    reply_json(res, catalog::services_summary(all.value()));
  });

  s.Get(R"(/v1/service/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.catalog) return reply_json(res, json::array());
    if (!block(*ctx.catalog, req, res)) return;
    res.set_header("X-Nomad-Index", std::to_string(ctx.catalog->index()));
    auto all = ctx.catalog->list();
    if (!all) return reply_error(res, all.error());
    auto list = catalog::of_service(all.value(), req.matches[1]);
    std::erase_if(list, [&](const auto& r) { return !namespace_matches(req, r.namespace_); });
    // ?tag= is drover's shorthand for filter="<tag>" in Tags.
    if (req.has_param("tag")) list = catalog::with_tag(std::move(list), req.get_param_value("tag"));
    if (req.has_param("filter")) {
      auto f = catalog::filtered(std::move(list), req.get_param_value("filter"));
      if (!f) return reply_error(res, f.error());
      list = std::move(f.value());
    }
    if (req.has_param("choose")) {
      auto c = catalog::choose(list, req.get_param_value("choose"));
      if (!c) return reply_error(res, c.error());
      list = std::move(c.value());
    }
    auto out = json::array();
    for (const auto& r : list) out.push_back(catalog::to_json(r));
    reply_json(res, out);
  });

  s.Delete(R"(/v1/service/([^/]+)/([^/]+))", [&ctx](const httplib::Request& req,
                                                    httplib::Response& res) {
    if (!ctx.catalog)
      return reply_error(res, 404,
                         "no service registration with id \"" + std::string(req.matches[2]) + "\"");
    auto all = ctx.catalog->list();
    if (!all) return reply_error(res, all.error());
    const std::string name = req.matches[1], id = req.matches[2];
    bool found = std::any_of(all.value().begin(), all.value().end(),
                             [&](const auto& r) { return r.id == id && r.service_name == name; });
    if (!found)
      return reply_error(res, 404,
                         "service \"" + name + "\" has no registration with id \"" + id + "\"");
    if (auto st = ctx.catalog->remove(id); !st) return reply_error(res, st.error());
    reply_json(res, json::object());
  });
}

}  // namespace drover::api
