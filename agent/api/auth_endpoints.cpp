// Auth methods, binding rules and logins; see auth_endpoints.hpp.
#include "api/auth_endpoints.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "api/acl.hpp"
#include "api/json_reply.hpp"
#include "auth/auth_method.hpp"
#include "auth/key_cache.hpp"
#include "auth/login.hpp"
#include "state/alloc.hpp"
#include "drover/common/encoding.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

// The stored records of `kind`, each read by `read`; one that no longer reads is skipped and
// logged (a method whose key a later drover refuses must not stop every login).
template <typename T, typename Reader>
Result<std::vector<T>> stored(const TokenStore& acl, const char* kind, const char* what, Reader read) {
  auto records = acl.records(kind);
  if (!records) return records.error();
  std::vector<T> out;
  for (const auto& text : records.value()) {
    Result<T> r = read(json::parse(text, nullptr, false));
    if (!r) {
      spdlog::warn("acl: a stored {} no longer reads ({}); ignored", what, r.message());
      continue;
    }
    out.push_back(std::move(r.value()));
  }
  return out;
}

Result<std::vector<auth::AuthMethod>> methods(const TokenStore& acl) {
  return stored<auth::AuthMethod>(acl, kAuthMethods, "auth method",
                                  [](const json& j) { return auth::auth_method_from_json(j); });
}

Result<std::vector<auth::BindingRule>> rules(const TokenStore& acl) {
  return stored<auth::BindingRule>(acl, kBindingRules, "binding rule", auth::binding_rule_from_json);
}

std::string path_part(const httplib::Request& req) {
  return req.matches.size() > 1 ? std::string(req.matches[1]) : "";
}

}  // namespace

void register_auth_endpoints(httplib::Server& s, TokenStore& acl) {
  auto key_cache = std::make_shared<auth::KeyCache>();

  s.Get("/v1/acl/auth-methods", [&acl](const httplib::Request&, httplib::Response& res) {
    auto list = methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    json out = json::array();
    for (const auto& m : list.value()) out.push_back(auth::auth_method_stub(m));
    reply_json(res, out);
  });
  s.Get(R"(/v1/acl/auth-method/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    for (const auto& m : list.value())
      if (m.name == path_part(req)) return reply_json(res, auth::auth_method_json(m));
    reply_error(res, 404, "ACL auth method \"" + path_part(req) + "\" not found");
  });
  // POST /v1/acl/auth-method makes one; POST /v1/acl/auth-method/:name replaces it.
  auto write_method = [&acl](const httplib::Request& req, httplib::Response& res) {
    const std::string path_name = path_part(req);
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_object()) body.erase("CreateTime"), body.erase("ModifyTime");
    auto m = auth::auth_method_from_json(body, path_name);
    if (!m) return reply_error(res, 400, m.message());
    auto list = methods(acl);
    if (!list) return reply_error(res, 503, list.message());
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
    const json record = auth::auth_method_json(m.value());
    if (auto st = acl.put_record(kAuthMethods, m->name, json_text(record)); !st)
      return reply_error(res, 503, st.message());
    reply_json(res, record);
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
    if (auto list = rules(acl))
      for (const auto& r : list.value())
        if (r.auth_method == name) (void)acl.delete_record(kBindingRules, r.id);
    reply_json(res, json::object());
  });

  s.Get("/v1/acl/binding-rules", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = rules(acl);
    if (!list) return reply_error(res, 503, list.message());
    const std::string only = req.get_param_value("authMethod");
    json out = json::array();
    for (const auto& r : list.value())
      if (only.empty() || r.auth_method == only) out.push_back(auth::binding_rule_json(r));
    reply_json(res, out);
  });
  s.Get(R"(/v1/acl/binding-rule/([^/]+))", [&acl](const httplib::Request& req, httplib::Response& res) {
    auto list = rules(acl);
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
    auto known = methods(acl);
    if (!known) return reply_error(res, 503, known.message());
    if (std::none_of(known->begin(), known->end(), [&](const auth::AuthMethod& m) { return m.name == r->auth_method; }))
      return reply_error(res, 400, "AuthMethod: no ACL auth method is named \"" + r->auth_method +
                                       "\" (create it first: drover acl auth-method create)");
    auto list = rules(acl);
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
    auto list = methods(acl);
    if (!list) return reply_error(res, 503, list.message());
    auto it = std::find_if(list->begin(), list->end(), [&](const auth::AuthMethod& m) {
      return wanted.empty() ? m.is_default : m.name == wanted;
    });
    if (it == list->end())
      return reply_error(res, 400, wanted.empty() ? "AuthMethodName: required (no auth method is the default)"
                                                  : "AuthMethodName: no ACL auth method is named \"" + wanted + "\"");
    auto bindings = rules(acl);
    if (!bindings) return reply_error(res, 503, bindings.message());
    auto known_roles = acl.roles();
    auto known_policies = acl.policies();
    if (!known_roles) return reply_error(res, 503, known_roles.message());
    if (!known_policies) return reply_error(res, 503, known_policies.message());
    auth::KnownAcl known;
    for (const auto& r : known_roles.value()) known.roles.insert(r.name);
    for (const auto& p : known_policies.value()) known.policies.insert(p.name);
    auto grant = auth::login(*it, bindings.value(), body["LoginToken"].get<std::string>(), *key_cache, known,
                             state::now_ns() / 1'000'000'000);
    if (!grant) {
      spdlog::info("acl: a login with auth method {} was refused: {}", it->name, grant.message());
      return reply_error(res, grant.error().code == Errc::Invalid ? 403 : 503,
                         "Permission denied: " + grant.message());
    }
    std::vector<TokenInfo::RoleLink> links;
    for (const auto& name : grant->roles)
      for (const auto& r : known_roles.value())
        if (r.name == name) links.push_back({r.id, r.name});
    auto made = acl.create(grant->token_name, grant->management ? Policy::management : Policy::read,
                           it->max_token_ttl, grant->policies, links);
    if (!made) return reply_error(res, 500, made.message());
    spdlog::info("acl: a login with auth method {} made token {} ({})", it->name, made->first.accessor_id,
                 grant->management ? "management" : "client");
    auto j = token_json(made->first);
    j["SecretID"] = made->second;
    reply_json(res, j);
  });
}

}  // namespace drover::api
