// Nomad's OIDC sign-in over HTTP (docs/security.md, "Logging in through an OIDC provider"),
// beside the JWT login (auth_endpoints.hpp), no token needed for either:
//   POST /v1/acl/oidc/auth-url {AuthMethodName, RedirectURI, ClientNonce} -> {AuthURL}
//   POST /v1/acl/oidc/complete-auth {AuthMethodName, ClientNonce, State, Code, RedirectURI,
//     Iss} -> the ACL token the login made, its SecretID included.
// A sign-in under way is kept in memory, or, on the servers, in their etcd token store (kind
// "oidc_requests", by a hash of its nonce), so that either server may complete what the
// other began.
#pragma once

#include <memory>

namespace httplib {
class Server;
}

namespace drover::auth {
class KeyCache;
}

namespace drover::api {

class TokenStore;

void register_oidc_endpoints(httplib::Server& server, TokenStore& acl, std::shared_ptr<auth::KeyCache> keys);

}  // namespace drover::api
