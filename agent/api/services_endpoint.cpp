// The service endpoints; see services_endpoint.hpp.
#include "api/services_endpoint.hpp"

#include <algorithm>

#include "api/http_api.hpp"
#include "api/json_reply.hpp"
#include "catalog/catalog.hpp"
#include "catalog/query.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

// The longest a blocking query (?index=) holds its HTTP worker: Nomad's default wait is 5m, but
// each waiting request here is a server thread.
constexpr auto kMaxWait = std::chrono::seconds(60);

// Nomad's blocking query: with ?index=N the reply waits until the catalog's index passes N (or
// ?wait=, in seconds or with a unit, elapses).
void block(const catalog::Catalog& cat, const httplib::Request& req) {
  if (!req.has_param("index")) return;
  uint64_t after = 0;
  try {
    after = std::stoull(req.get_param_value("index"));
  } catch (const std::exception&) {
    return;
  }
  auto wait = kMaxWait;
  if (req.has_param("wait")) {
    auto w = req.get_param_value("wait");
    try {
      std::size_t used = 0;
      double v = std::stod(w, &used);
      std::string unit = w.substr(used);
      double secs = unit == "ms" ? v / 1000 : unit == "m" ? v * 60 : v;
      wait = std::min(kMaxWait, std::chrono::seconds(static_cast<int64_t>(std::max(0.0, secs))));
    } catch (const std::exception&) {
    }
  }
  cat.wait_for_change(after, std::chrono::duration_cast<std::chrono::milliseconds>(wait));
}

bool namespace_matches(const httplib::Request& req, const std::string& ns) {
  std::string want = req.has_param("namespace") ? req.get_param_value("namespace") : "default";
  return want == "*" || want == ns;
}

}  // namespace

void register_services_endpoints(httplib::Server& s, const ApiContext& ctx) {
  s.Get("/v1/services", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.catalog) return reply_json(res, json::array());
    block(*ctx.catalog, req);
    res.set_header("X-Nomad-Index", std::to_string(ctx.catalog->index()));
    auto all = ctx.catalog->list();
    if (!all) return reply_error(res, all.error());
    std::erase_if(all.value(),
                  [&](const auto& r) { return !namespace_matches(req, r.namespace_); });
    reply_json(res, catalog::services_summary(all.value()));
  });

  s.Get(R"(/v1/service/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!ctx.catalog) return reply_json(res, json::array());
    block(*ctx.catalog, req);
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
