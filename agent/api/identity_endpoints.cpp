// The JWKS and OIDC discovery endpoints (api/identity_endpoints.hpp).
#include "api/identity_endpoints.hpp"

#include <httplib.h>

#include "api/json_reply.hpp"
#include "vars/workload_identity.hpp"

namespace drover::api {

void register_identity_endpoints(httplib::Server& s, const vars::WorkloadIdentity* signer,
                                 const std::string& why_none) {
  if (!signer) {
    if (why_none.empty()) return;
    auto none = [why_none](const httplib::Request&, httplib::Response& res) {
      reply_error(res, 404, why_none);
    };
    s.Get("/.well-known/jwks.json", none);
    s.Get("/.well-known/openid-configuration", none);
    return;
  }
  const vars::WorkloadIdentity& identity = *signer;
  s.Get("/.well-known/jwks.json", [&identity](const httplib::Request&, httplib::Response& res) {
    reply_json(res, identity.jwks());
  });
  s.Get("/.well-known/openid-configuration",
        [&identity](const httplib::Request&, httplib::Response& res) {
          const std::string& iss = identity.issuer();
          if (iss.empty())
            return reply_error(res, 404,
                               "no OIDC discovery: the agent config sets no oidc_issuer (the "
                               "keys are at /.well-known/jwks.json)");
          const std::string base = iss.ends_with("/") ? iss.substr(0, iss.size() - 1) : iss;
          reply_json(res, {{"issuer", iss},
                           {"jwks_uri", base + "/.well-known/jwks.json"},
                           {"id_token_signing_alg_values_supported", {"RS256"}},
                           {"response_types_supported", {"code"}},
                           {"subject_types_supported", {"public"}}});
        });
}

}  // namespace drover::api
