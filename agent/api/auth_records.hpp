// What the auth endpoints (auth_endpoints.hpp, oidc_endpoints.hpp) share: the stored auth
// methods and binding rules read back, the roles and policies a binding may name, and the
// token a login makes.
#pragma once

#include <vector>

#include "api/acl.hpp"
#include "auth/auth_method.hpp"
#include "auth/login.hpp"

namespace httplib {
struct Response;
}

namespace drover::api {

// The stored methods and rules; one that no longer reads is skipped and logged (a method whose
// key a later drover refuses must not stop every login).
Result<std::vector<auth::AuthMethod>> auth_methods(const TokenStore& acl);
Result<std::vector<auth::BindingRule>> binding_rules(const TokenStore& acl);
// The roles and policies there are now: a binding names one of them or nothing.
Result<auth::KnownAcl> known_acl(const TokenStore& acl);
// Makes the token a login of `method` was granted and answers with it, its secret included.
void reply_with_token(TokenStore& acl, const auth::AuthMethod& method, const auth::LoginGrant& grant,
                      httplib::Response& res);

}  // namespace drover::api
