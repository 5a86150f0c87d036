// Signing a person in through an OIDC provider (OpenID Connect Core 1.0's authorization code
// flow; Nomad's POST /v1/acl/oidc/auth-url and /v1/acl/oidc/complete-auth; docs/security.md,
// "Logging in through an OIDC provider"):
//   1. auth-url: drover makes a request (a random state, the caller's nonce, a PKCE verifier
//      when the method asks for one) and answers with the provider's authorization URL;
//   2. the person signs in there and the provider sends the browser back to the redirect URI
//      with a code and the state;
//   3. complete-auth: drover takes the request back by its nonce (once), checks the state,
//      trades the code for tokens at the provider's token endpoint, checks the ID token (a
//      key the provider publishes, iss, aud, azp, nonce, exp), adds the userinfo claims, and
//      the method's binding rules turn the claims into a grant (login.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/auth_method.hpp"
#include "auth/key_cache.hpp"
#include "drover/common/result.hpp"

namespace drover::auth {

// How long a sign-in may take at the provider: a person types a password and a second factor.
inline constexpr std::int64_t kOidcRequestTtlNs = 5LL * 60 * 1'000'000'000;
// How many sign-ins may be under way at once: auth-url needs no token, so this bounds what
// anyone can make drover keep.
inline constexpr std::size_t kMaxOidcRequests = 1000;

// A sign-in under way, kept from auth-url to complete-auth.
struct OidcRequest {
  std::string method;         // the auth method's name
  std::string client_nonce;   // the caller's; the ID token must carry it as its nonce
  std::string state;          // random: the provider sends it back with the code
  std::string redirect_uri;   // one of the method's AllowedRedirectURIs
  std::string code_verifier;  // PKCE (RFC 7636), when the method enables it
  std::int64_t expires_ns = 0;
};
nlohmann::json oidc_request_json(const OidcRequest& r);
Result<OidcRequest> oidc_request_from_json(const nlohmann::json& j);

// A new request of `method` to return to `redirect_uri` (one of its AllowedRedirectURIs,
// else Errc::Invalid naming RedirectURI) for `client_nonce` (8 to 256 printable characters).
Result<OidcRequest> new_oidc_request(const AuthMethod& method, const std::string& redirect_uri,
                                     const std::string& client_nonce, std::int64_t now_ns);

// What the provider's discovery document says (OpenID Connect Discovery 1.0, section 3).
struct OidcProvider {
  std::string issuer;
  std::string authorization_endpoint, token_endpoint, userinfo_endpoint;
  std::vector<std::string> token_auth_methods;  // token_endpoint_auth_methods_supported
  bool iss_parameter = false;  // authorization_response_iss_parameter_supported (RFC 9207)
};
// Fetches `method`'s discovery document. Its issuer must be the method's OIDCDiscoveryURL
// (section 4.3), so that a document served elsewhere cannot name another issuer.
Result<OidcProvider> discover(const AuthMethod& method);

// discover() kept 5 minutes per method (as the keys are, key_cache.hpp): auth-url needs no
// token, and a flood of sign-ins must not become a flood of requests to the provider. A
// fetch that fails is not kept.
class ProviderCache {
 public:
  Result<OidcProvider> get(const AuthMethod& method);

 private:
  struct Entry {
    std::string source;  // the discovery URL and CAs it came from
    OidcProvider provider;
    std::chrono::steady_clock::time_point fetched{};
  };
  std::mutex mu_;
  std::map<std::string, Entry> by_method_;
};

// The provider's authorization URL for `request`: response_type=code, client_id, the
// redirect URI, scope "openid" and the method's OIDCScopes, state, nonce, and the S256 code
// challenge with PKCE.
std::string authorization_url(const OidcProvider& provider, const AuthMethod& method,
                              const OidcRequest& request);

// The signed-in person's claims: the ID token's, then the userinfo endpoint's over them
// (except iss and sub, as Nomad's), for `code` and `state` sent back to `request`'s redirect
// URI, with `iss` the callback's iss parameter (RFC 9207) when the provider sends one. Errors
// the caller or the provider caused are Errc::Invalid and say which check failed; one where
// the provider cannot be reached is Errc::Internal.
Result<nlohmann::json> complete_oidc(const AuthMethod& method, const OidcProvider& provider,
                                     const OidcRequest& request, const std::string& code,
                                     const std::string& state, const std::string& iss, KeyCache& keys,
                                     std::int64_t now_s);

}  // namespace drover::auth
