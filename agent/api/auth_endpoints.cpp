// Auth methods, binding rules and logins; see auth_endpoints.hpp.
#include "api/auth_endpoints.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "api/acl.hpp"
#include "api/auth_records.hpp"
#include "api/json_reply.hpp"
#include "api/oidc_endpoints.hpp"
#include "auth/auth_method.hpp"
#include "auth/key_cache.hpp"
#include "auth/login.hpp"
#include "state/alloc.hpp"
#include "drover/common/encoding.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

std::string path_part(const httplib::Request& req) {
  return req.matches.size() > 1 ? std::string(req.matches[1]) : "";
}

// An update that sends back the "redacted" a GET showed keeps the stored client secret.
void keep_redacted_secret(json& body, const std::string& path_name, const std::vector<auth::AuthMethod>& list) {
  if (!body.is_object() || !body.contains("Config") || !body["Config"].is_object() ||
      body["Config"].value("OIDCClientSecret", json()) != json(auth::kRedacted))
    return;
  const json given = body.value("Name", json(""));
  const std::string name = !path_name.empty() ? path_name : given.is_string() ? given.get<std::string>() : "";
  for (const auto& m : list)
    if (m.name == name) body["Config"]["OIDCClientSecret"] = m.oidc.client_secret;
}

}  // namespace

void register_auth_endpoints(httplib::Server& s, TokenStore& acl) {
  auto key_cache = std::make_shared<auth::KeyCache>();

  s.Get("/v1/acl/auth-methods", [&acl](const httplib::Request&, httplib::Response& res) {
    auto list = auth_methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    json out = json::array();
    for (const auto& m : list.value()) out.push_back(auth::auth_method_stub(m));
    reply_json(res, out);
  });
  s.Get(R"(/v1/acl/auth-method/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = auth_methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    for (const auto& m : list.value())
      if (m.name == path_part(req)) return reply_json(res, auth::auth_method_json(m, /*redact=*/true));
    reply_error(res, 404, "ACL auth method \"" + path_part(req) + "\" not found");
  });
  // POST /v1/acl/auth-method makes one; POST /v1/acl/auth-method/:name replaces it.
  auto write_method = [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string path_name = path_part(req);
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_object()) body.erase("CreateTime"), body.erase("ModifyTime");
    auto list = auth_methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    keep_redacted_secret(body, path_name, list.value());
    auto m = auth::auth_method_from_json(body, path_name);
    if (!m) return reply_error(res, 400, m.message());
    const auth::AuthMethod* old = nullptr;
    for (const auto& k : list.value()) {
      if (k.name == m->name) old = &k;
      else if (m->is_default && k.is_default)
        return reply_error(res, 400, "Default: \"" + k.name + "\" is the default auth method already");
    }
    if (path_name.empty() && old)
      return reply_error(res, 400, "Name: an auth method named \"" + m->name +
                                       "\" exists (update it at /v1/acl/auth-method/" + m->name + ")");
    if (!path_name.empty() && !old)
      return reply_error(res, 404, "ACL auth method \"" + path_name + "\" not found");
    m->modify_time_ns = state::now_ns();
    m->create_time_ns = old ? old->create_time_ns : m->modify_time_ns;
    if (auto st = acl.put_record(kAuthMethods, m->name, json_text(auth::auth_method_json(m.value(), false))); !st)
      return reply_error(res, 503, st.message());
    reply_json(res, auth::auth_method_json(m.value(), /*redact=*/true));
  };
  s.Post("/v1/acl/auth-method", write_method);
  s.Put("/v1/acl/auth-method", write_method);
  s.Post(R"(/v1/acl/auth-method/([^/]+))", write_method);
  s.Put(R"(/v1/acl/auth-method/([^/]+))", write_method);
  // A method goes with its binding rules (Nomad's), so none lingers to bind a method made
  // later under the same name.
  s.Delete(R"(/v1/acl/auth-method/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string name = path_part(req);
    auto st = acl.delete_record(kAuthMethods, name);
    if (!st && st.error().code == Errc::NotFound)
      return reply_error(res, 404, "ACL auth method \"" + name + "\" not found");
    if (!st) return reply_error(res, 503, st.message());
    if (auto list = binding_rules(acl))
      for (const auto& r : list.value())
        if (r.auth_method == name) (void)acl.delete_record(kBindingRules, r.id);
    reply_json(res, json::object());
  });

  s.Get("/v1/acl/binding-rules", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = binding_rules(acl);
    if (!list) return reply_error(res, 503, list.message());
    const std::string only = req.get_param_value("authMethod");
    json out = json::array();
    for (const auto& r : list.value())
      if (only.empty() || r.auth_method == only) out.push_back(auth::binding_rule_json(r));
    reply_json(res, out);
  });
  s.Get(R"(/v1/acl/binding-rule/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = binding_rules(acl);
    if (!list) return reply_error(res, 503, list.message());
    for (const auto& r : list.value())
      if (r.id == path_part(req)) return reply_json(res, auth::binding_rule_json(r));
    reply_error(res, 404, "ACL binding rule \"" + path_part(req) + "\" not found");
  });
  auto write_rule = [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string path_id = path_part(req);
    auto body = json::parse(req.body, nullptr, false);
    auto r = auth::binding_rule_from_json(body);
    if (!r) return reply_error(res, 400, r.message());
    if (path_id.empty() && !r->id.empty())
      return reply_error(res, 400, "ID: a new rule's ID is made by drover; update one at /v1/acl/binding-rule/:id");
    if (!path_id.empty() && !r->id.empty() && r->id != path_id)
      return reply_error(res, 400, "ID: the body's \"" + r->id + "\" differs from the path's");
    auto known = auth_methods(acl);
    if (!known) return reply_error(res, 503, known.message());
    if (std::none_of(known->begin(), known->end(), [&](const auth::AuthMethod& m) { return m.name == r->auth_method; }))
      return reply_error(res, 400, "AuthMethod: no ACL auth method is named \"" + r->auth_method +
                                       "\" (create it first: drover acl auth-method create)");
    auto list = binding_rules(acl);
    if (!list) return reply_error(res, 503, list.message());
    const auth::BindingRule* old = nullptr;
    for (const auto& k : list.value())
      if (k.id == path_id) old = &k;
    if (!path_id.empty() && !old) return reply_error(res, 404, "ACL binding rule \"" + path_id + "\" not found");
    r->id = old ? old->id : random_uuid();
    r->modify_time_ns = state::now_ns();
    r->create_time_ns = old ? old->create_time_ns : r->modify_time_ns;
    const json record = auth::binding_rule_json(r.value());
    if (auto st = acl.put_record(kBindingRules, r->id, json_text(record)); !st) return reply_error(res, 503, st.message());
    reply_json(res, record);
  };
  s.Post("/v1/acl/binding-rule", write_rule);
  s.Put("/v1/acl/binding-rule", write_rule);
  s.Post(R"(/v1/acl/binding-rule/([^/]+))", write_rule);
  s.Put(R"(/v1/acl/binding-rule/([^/]+))", write_rule);
  s.Delete(R"(/v1/acl/binding-rule/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto st = acl.delete_record(kBindingRules, path_part(req));
    if (!st && st.error().code == Errc::NotFound)
      return reply_error(res, 404, "ACL binding rule \"" + path_part(req) + "\" not found");
    if (!st) return reply_error(res, 503, st.message());
    reply_json(res, json::object());
  });

  s.Post("/v1/acl/login", [&acl, key_cache](const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.value("LoginToken", json()).is_string())
      return reply_error(res, 400, "body: must be a JSON object {\"AuthMethodName\", \"LoginToken\"}");
    const std::string wanted = body.value("AuthMethodName", json("")).is_string()
                                   ? body.value("AuthMethodName", std::string())
                                   : "";
    auto list = auth_methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    auto it = std::find_if(list->begin(), list->end(), [&](const auth::AuthMethod& m) {
      return wanted.empty() ? m.is_default : m.name == wanted;
    });
    if (it == list->end())
      return reply_error(res, 400, wanted.empty() ? "AuthMethodName: required (no auth method is the default)"
                                                  : "AuthMethodName: no ACL auth method is named \"" + wanted + "\"");
    auto bindings = binding_rules(acl);
    if (!bindings) return reply_error(res, 503, bindings.message());
    auto known = known_acl(acl);
    if (!known) return reply_error(res, 503, known.message());
    auto grant = auth::login(*it, bindings.value(), body["LoginToken"].get<std::string>(), *key_cache,
                             known.value(), state::now_ns() / 1'000'000'000);
    if (!grant) {
      spdlog::info("acl: a login with auth method {} was refused: {}", it->name, grant.message());
      return reply_error(res, grant.error().code == Errc::Invalid ? 403 : 503,
                         "Permission denied: " + grant.message());
    }
    reply_with_token(acl, *it, grant.value(), res);
  });

  register_oidc_endpoints(s, acl, key_cache);
}

}  // namespace drover::api
