// A login's checks and bindings; see login.hpp.
#include "auth/login.hpp"

#include <algorithm>

namespace drover::auth {

Result<vars::Jwt> signed_by_method(const AuthMethod& method, std::string_view token, KeyCache& keys,
                                   const std::string& what) {
  auto jwt = vars::decode_jwt(token);
  if (!jwt) return make_error(what + ": not a JWT (three base64url parts, JSON header and claims)", Errc::Invalid);
  const std::string alg = jwt->header.value("alg", "");
  const std::vector<std::string> allowed =
      method.signing_algs.empty() ? std::vector<std::string>{"RS256"} : method.signing_algs;
  if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end())
    return make_error(what + ": signed with \"" + alg + "\", which the auth method's SigningAlgs do not allow",
                      Errc::Invalid);
  const std::string kid = jwt->header.contains("kid") && jwt->header["kid"].is_string()
                              ? jwt->header["kid"].get<std::string>()
                              : "";
  auto candidates = keys.keys(method, kid);
  if (!candidates) return make_error("the auth method's keys cannot be had: " + candidates.message());
  if (std::none_of(candidates->begin(), candidates->end(),
                   [&](const PublicKey& k) { return verify(*jwt, k.key.get()); }))
    return make_error(what + ": the signature is not by any of the auth method's keys", Errc::Invalid);
  return std::move(*jwt);
}

Result<LoginGrant> login(const AuthMethod& method, const std::vector<BindingRule>& rules,
                         std::string_view token, KeyCache& keys, const KnownAcl& known,
                         std::int64_t now) {
  auto jwt = signed_by_method(method, token, keys, "LoginToken");
  if (!jwt) return jwt.error();
  if (auto st = check_claims(jwt->claims, method.bounds, now); !st)
    return make_error("LoginToken: " + st.message(), Errc::Invalid);
  return grant_for_claims(method, rules, jwt->claims, known);
}

Result<LoginGrant> grant_for_claims(const AuthMethod& method, const std::vector<BindingRule>& rules,
                                    const nlohmann::json& claims, const KnownAcl& known) {
  auto fields = map_claims(claims, method.claim_mappings, method.list_claim_mappings);
  if (!fields) return make_error("the claims: " + fields.message(), Errc::Invalid);

  LoginGrant grant;
  for (const auto& rule : rules) {
    if (rule.auth_method != method.name || !rule.selector.matches(fields.value())) continue;
    if (rule.bind_type == "management") {
      grant.management = true;
      continue;
    }
    // A name that cannot be made from these claims, or names nothing there, binds nothing.
    auto name = interpolate(rule.bind_name, fields.value());
    if (!name || name->empty()) continue;
    auto& into = rule.bind_type == "role" ? grant.roles : grant.policies;
    const auto& exists = rule.bind_type == "role" ? known.roles : known.policies;
    if (exists.count(*name) && std::find(into.begin(), into.end(), *name) == into.end())
      into.push_back(*name);
  }
  if (grant.management) {
    grant.roles.clear();
    grant.policies.clear();
  } else if (grant.roles.empty() && grant.policies.empty()) {
    return make_error("no binding rule of auth method \"" + method.name +
                          "\" matched these claims with a role or policy that exists",
                      Errc::Invalid);
  }
  auto name = interpolate(method.token_name_format, fields.value(),
                          {{"auth_method_type", method.type}, {"auth_method_name", method.name}});
  grant.token_name = name ? name.value() : method.type + "-" + method.name;
  return grant;
}

}  // namespace drover::auth
