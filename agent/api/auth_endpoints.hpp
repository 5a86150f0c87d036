// Nomad's ACL auth methods, binding rules and JWT login over HTTP (docs/security.md, "Logging
// in with a JWT"), on an agent with ACLs and on every server:
//   GET /v1/acl/auth-methods (no token needed: a login must find its method),
//   GET, POST and DELETE /v1/acl/auth-method/:name, POST /v1/acl/auth-method,
//   GET /v1/acl/binding-rules, GET, POST and DELETE /v1/acl/binding-rule/:id,
//   POST /v1/acl/binding-rule, and POST /v1/acl/login {AuthMethodName, LoginToken} (no token
//   needed: it makes one), and the OIDC sign-in (oidc_endpoints.hpp). The rest need
//   management, as every /v1/acl/ route does.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {

class TokenStore;

void register_auth_endpoints(httplib::Server& server, TokenStore& acl);

}  // namespace drover::api
