// What lets others check a workload identity (docs/variables.md, "Workload identities"):
// GET /.well-known/jwks.json, the public signing keys as a JWKS, and, when the agent config
// sets oidc_issuer, GET /.well-known/openid-configuration, the OIDC discovery document that
// names it. Both are public: they hold no secret, and a relying party (Vault's JWT auth, a
// cloud's OIDC federation) fetches them with no token.
#pragma once

#include <string>

namespace httplib {
class Server;
}  // namespace httplib

namespace drover::vars {
class WorkloadIdentity;
}

namespace drover::api {

// `identity` null: both answer 404 with `why_none` (a server without keyring_file).
void register_identity_endpoints(httplib::Server& server, const vars::WorkloadIdentity* identity,
                                 const std::string& why_none = "");

}  // namespace drover::api
