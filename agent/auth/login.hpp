// A login with a JWT (Nomad's POST /v1/acl/login, docs/security.md "Logging in with a JWT"):
// the token checked against its auth method (signature by one of the method's keys with an
// allowed algorithm, then exp, nbf, iat, iss and aud), its claims mapped, and the method's
// binding rules applied, giving what the ACL token made for the login holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_method.hpp"
#include "auth/key_cache.hpp"
#include "vars/jwt.hpp"

namespace drover::auth {

struct LoginGrant {
  bool management = false;
  std::vector<std::string> roles;     // role names, each one that exists
  std::vector<std::string> policies;  // policy names, each one that exists
  std::string token_name;
};

// What exists when the login is made: a binding to a role or policy not there binds nothing.
struct KnownAcl {
  std::set<std::string> roles;     // by name
  std::set<std::string> policies;  // by name
};

// `token` as a JWT signed by one of `method`'s keys with an algorithm its SigningAlgs allow;
// its claims are not checked yet. Errc::Invalid errors begin with `what` ("LoginToken").
Result<vars::Jwt> signed_by_method(const AuthMethod& method, std::string_view token, KeyCache& keys,
                                   const std::string& what);

// The grant for `token` presented to `method`, with the method's `rules`, at `now` (unix s).
// Errors (Errc::Invalid) say what about the token was refused, or that no rule bound anything.
Result<LoginGrant> login(const AuthMethod& method, const std::vector<BindingRule>& rules,
                         std::string_view token, KeyCache& keys, const KnownAcl& known,
                         std::int64_t now);

// The grant for `claims` already checked (a JWT's, or an OIDC login's ID token and userinfo
// claims): mapped by the method's ClaimMappings and ListClaimMappings, then bound by its
// rules. Errc::Invalid when a claim cannot be mapped or no rule bound anything.
Result<LoginGrant> grant_for_claims(const AuthMethod& method, const std::vector<BindingRule>& rules,
                                    const nlohmann::json& claims, const KnownAcl& known);

}  // namespace drover::auth
