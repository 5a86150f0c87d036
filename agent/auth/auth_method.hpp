// Nomad's ACL auth methods and binding rules as drover keeps them (docs/security.md, "Logging
// in with a JWT"): an auth method says which tokens from outside (JWTs an identity provider,
// a CI system or another cluster signed, or an OIDC provider's ID tokens after a person signed
// in there) a login may present and how their claims are read;
// its binding rules say which roles, policies or management a login whose claims match gets.
// Each is read from the API's JSON here, every field checked and named in the error, and kept
// as that JSON (the token stores hold records, api/acl.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/claims.hpp"
#include "auth/selector.hpp"
#include "drover/common/result.hpp"

namespace drover::auth {

// Where a JWT method finds its keys: exactly one of these is set.
struct JwtKeySource {
  std::vector<std::string> pem_keys;  // JWTValidationPubKeys
  std::string jwks_url;               // JWKSURL
  std::string jwks_ca_cert;           // JWKSCACert (PEM), for an https JWKSURL
  std::string discovery_url;          // OIDCDiscoveryURL: its jwks_uri is fetched
  std::vector<std::string> discovery_ca_pem;  // DiscoveryCaPem
};

// An OIDC method's client at its provider (Type OIDC): the authorization code flow that signs
// a person in through a browser (docs/security.md, "Logging in through an OIDC provider").
struct OidcClient {
  std::string client_id;      // OIDCClientID
  std::string client_secret;  // OIDCClientSecret; empty for a public client (with PKCE)
  std::vector<std::string> scopes;         // OIDCScopes, asked for beside "openid"
  std::vector<std::string> redirect_uris;  // AllowedRedirectURIs: where a login may return
  bool pkce = false;                       // OIDCEnablePKCE: an S256 code challenge
  bool disable_userinfo = false;           // OIDCDisableUserInfo
  bool verbose = false;                    // VerboseLogging: the claims logged at debug level
};

inline constexpr const char* kRedacted = "redacted";

struct AuthMethod {
  std::string name;
  std::string type = "JWT";
  std::string token_locality = "local";
  std::string token_name_format = "${auth_method_type}-${auth_method_name}";
  std::chrono::nanoseconds max_token_ttl{};
  bool is_default = false;
  std::int64_t create_time_ns = 0, modify_time_ns = 0;

  JwtKeySource keys;  // an OIDC method's: its OIDCDiscoveryURL
  OidcClient oidc;    // Type OIDC only
  ClaimBounds bounds;
  std::vector<std::string> signing_algs;  // empty: RS256 (as Nomad's)
  std::map<std::string, std::string> claim_mappings, list_claim_mappings;
  nlohmann::json config;  // the Config object as the operator gave it, for GET
};

// From POST /v1/acl/auth-method's body (or a stored record). `name_from_path`, when not empty,
// is the name the path gives (an update); the body's must then match or be absent. Every
// problem names its field: "Config.JWKSURL: ...".
Result<AuthMethod> auth_method_from_json(const nlohmann::json& body,
                                         const std::string& name_from_path = "");
// The method as stored (`redact` false) or as the API shows it, the client secret written as
// "redacted" (Nomad's). An update that gives "redacted" as the secret keeps the stored one.
nlohmann::json auth_method_json(const AuthMethod& m, bool redact);
// GET /v1/acl/auth-methods' stub: {Name, Type, Default, CreateIndex, ModifyIndex}.
nlohmann::json auth_method_stub(const AuthMethod& m);

struct BindingRule {
  std::string id;
  std::string description;
  std::string auth_method;
  std::string selector_text;
  Selector selector;
  std::string bind_type;  // role, policy, management
  std::string bind_name;  // a role or policy name, may hold ${value.NAME}
  std::int64_t create_time_ns = 0, modify_time_ns = 0;
};

// From POST /v1/acl/binding-rule's body or a stored record; the ID is the caller's to set.
Result<BindingRule> binding_rule_from_json(const nlohmann::json& body);
nlohmann::json binding_rule_json(const BindingRule& r);

}  // namespace drover::auth
