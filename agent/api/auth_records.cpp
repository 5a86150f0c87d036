// The auth endpoints' shared reads and token making; see auth_records.hpp.
#include "api/auth_records.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api/json_reply.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

// The stored records of `kind`, each read by `read`.
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

}  // namespace

Result<std::vector<auth::AuthMethod>> auth_methods(const TokenStore& acl) {
  return stored<auth::AuthMethod>(acl, kAuthMethods, "auth method",
                                  [](const json& j) { return auth::auth_method_from_json(j); });
}

Result<std::vector<auth::BindingRule>> binding_rules(const TokenStore& acl) {
  return stored<auth::BindingRule>(acl, kBindingRules, "binding rule", auth::binding_rule_from_json);
}

Result<auth::KnownAcl> known_acl(const TokenStore& acl) {
  auto roles = acl.roles();
  if (!roles) return roles.error();
  auto policies = acl.policies();
  if (!policies) return policies.error();
  auth::KnownAcl known;
  for (const auto& r : roles.value()) known.roles.insert(r.name);
  for (const auto& p : policies.value()) known.policies.insert(p.name);
  return known;
}

void reply_with_token(TokenStore& acl, const auth::AuthMethod& method, const auth::LoginGrant& grant,
                      httplib::Response& res) {
  auto roles = acl.roles();
  if (!roles) return reply_error(res, 503, roles.message());
  std::vector<TokenInfo::RoleLink> links;
  for (const auto& name : grant.roles)
    for (const auto& r : roles.value())
      if (r.name == name) links.push_back({r.id, r.name});
  auto made = acl.create(grant.token_name, grant.management ? Policy::management : Policy::read,
                         method.max_token_ttl, grant.policies, links);
  if (!made) return reply_error(res, 500, made.message());
  spdlog::info("acl: a login with auth method {} made token {} ({})", method.name, made->first.accessor_id,
               grant.management ? "management" : "client");
  auto j = token_json(made->first);
  j["SecretID"] = made->second;
  reply_json(res, j);
}

}  // namespace drover::api
