// Signing a person in through an OIDC provider; see oidc.hpp.
#include "auth/oidc.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

#include "auth/login.hpp"
#include "auth/provider_http.hpp"
#include "drover/common/encoding.hpp"

namespace drover::auth {
namespace {

using nlohmann::json;

// `n` bytes from OpenSSL's CSPRNG as base64url: a state or a PKCE verifier (RFC 7636, 4.1).
Result<std::string> random_text(std::size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1)
    return make_error("oidc: the random generator failed");
  return base64url_encode(bytes, false);
}

std::string s256(const std::string& verifier) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), d);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(d), sizeof d), false);
}

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string text(const json& o, const char* name) {
  return o.is_object() && o.contains(name) && o[name].is_string() ? o[name].get<std::string>() : "";
}

bool is_url(const std::string& s) { return s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0; }

Error refused(const std::string& why) { return make_error(why, Errc::Invalid); }

// The tokens for `code` from the provider's token endpoint (OpenID Connect Core 3.1.3.1). The
// client authenticates as the provider says it may: client_secret_basic unless the provider
// lists client_secret_post alone; a public client (no secret) sends its id in the form.
Result<json> exchange(const AuthMethod& m, const OidcProvider& p, const OidcRequest& r, const std::string& code) {
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", r.redirect_uri}};
  if (!r.code_verifier.empty()) form.emplace_back("code_verifier", r.code_verifier);
  Credentials as;
  const auto& methods = p.token_auth_methods;
  const bool post_only = std::find(methods.begin(), methods.end(), "client_secret_post") != methods.end() &&
                         std::find(methods.begin(), methods.end(), "client_secret_basic") == methods.end();
  if (m.oidc.client_secret.empty()) {
    form.emplace_back("client_id", m.oidc.client_id);
  } else if (post_only) {
    form.emplace_back("client_id", m.oidc.client_id);
    form.emplace_back("client_secret", m.oidc.client_secret);
  } else {
    // RFC 6749, 2.3.1: both form-encoded before they are joined.
    as.basic_user = percent_encode(m.oidc.client_id);
    as.basic_password = percent_encode(m.oidc.client_secret);
  }
  auto tokens = post_form_json(p.token_endpoint, m.keys.discovery_ca_pem, form, as);
  if (!tokens) {
    // A refused code (used, expired, another client's) is the caller's doing; a provider out
    // of reach is not.
    return make_error("Code: " + tokens.message(), tokens.error().code);
  }
  return tokens;
}

}  // namespace

json oidc_request_json(const OidcRequest& r) {
  return {{"Method", r.method},         {"ClientNonce", r.client_nonce}, {"State", r.state},
          {"RedirectURI", r.redirect_uri}, {"CodeVerifier", r.code_verifier}, {"Expires", r.expires_ns}};
}

Result<OidcRequest> oidc_request_from_json(const json& j) {
  if (!j.is_object() || !j.value("Expires", json()).is_number_integer())
    return make_error("oidc: a stored sign-in is not one");
  OidcRequest r;
  r.method = text(j, "Method");
  r.client_nonce = text(j, "ClientNonce");
  r.state = text(j, "State");
  r.redirect_uri = text(j, "RedirectURI");
  r.code_verifier = text(j, "CodeVerifier");
  r.expires_ns = j["Expires"].get<std::int64_t>();
  if (r.method.empty() || r.state.empty() || r.client_nonce.empty()) return make_error("oidc: a stored sign-in is not one");
  return r;
}

Result<OidcRequest> new_oidc_request(const AuthMethod& m, const std::string& redirect_uri,
                                     const std::string& client_nonce, std::int64_t now_ns) {
  if (m.type != "OIDC")
    return refused("AuthMethodName: \"" + m.name + "\" is a " + m.type + " method (log in with a JWT: POST /v1/acl/login)");
  if (client_nonce.size() < 8 || client_nonce.size() > 256 ||
      std::any_of(client_nonce.begin(), client_nonce.end(), [](unsigned char c) { return c <= ' ' || c >= 127; }))
    return refused("ClientNonce: 8 to 256 printable characters, no space");
  if (std::find(m.oidc.redirect_uris.begin(), m.oidc.redirect_uris.end(), redirect_uri) == m.oidc.redirect_uris.end())
    return refused("RedirectURI: \"" + redirect_uri + "\" is not one of the auth method's AllowedRedirectURIs");
  OidcRequest r;
  r.method = m.name;
  r.client_nonce = client_nonce;
  r.redirect_uri = redirect_uri;
  r.expires_ns = now_ns + kOidcRequestTtlNs;
  auto state = random_text(32);
  if (!state) return state.error();
  r.state = state.value();
  if (m.oidc.pkce) {
    auto verifier = random_text(32);
    if (!verifier) return verifier.error();
    r.code_verifier = verifier.value();
  }
  return r;
}

Result<OidcProvider> discover(const AuthMethod& m) {
  const std::string base = without_trailing_slash(m.keys.discovery_url);
  auto doc = fetch_json(base + "/.well-known/openid-configuration", m.keys.discovery_ca_pem);
  if (!doc) return make_error("the provider's discovery document cannot be had: " + doc.message());
  OidcProvider p;
  p.issuer = text(doc.value(), "issuer");
  if (without_trailing_slash(p.issuer) != base)
    return make_error(base + ": the discovery document's issuer is \"" + p.issuer +
                      "\", not the auth method's OIDCDiscoveryURL");
  p.authorization_endpoint = text(doc.value(), "authorization_endpoint");
  p.token_endpoint = text(doc.value(), "token_endpoint");
  p.userinfo_endpoint = text(doc.value(), "userinfo_endpoint");
  if (!is_url(p.authorization_endpoint) || !is_url(p.token_endpoint))
    return make_error(base + ": the discovery document names no authorization_endpoint or token_endpoint URL");
  if (!p.userinfo_endpoint.empty() && !is_url(p.userinfo_endpoint)) p.userinfo_endpoint.clear();
  if (doc->contains("token_endpoint_auth_methods_supported") && (*doc)["token_endpoint_auth_methods_supported"].is_array())
    for (const auto& v : (*doc)["token_endpoint_auth_methods_supported"])
      if (v.is_string()) p.token_auth_methods.push_back(v.get<std::string>());
  p.iss_parameter = doc->value("authorization_response_iss_parameter_supported", json(false)) == json(true);
  return p;
}

Result<OidcProvider> ProviderCache::get(const AuthMethod& m) {
  const std::string source = json{{"url", m.keys.discovery_url}, {"ca", m.keys.discovery_ca_pem}}.dump();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);  // one fetch at a time: a burst after expiry costs one
  auto& e = by_method_[m.name];
  if (e.source == source && now - e.fetched < std::chrono::minutes(5)) return e.provider;
  auto p = discover(m);
  if (!p) {
    by_method_.erase(m.name);
    return p.error();
  }
  e = {source, p.value(), now};
  return p;
}

std::string authorization_url(const OidcProvider& p, const AuthMethod& m, const OidcRequest& r) {
  std::string scope = "openid";
  for (const auto& s : m.oidc.scopes)
    if (s != "openid") scope += " " + s;
  std::vector<std::pair<std::string, std::string>> q = {
      {"response_type", "code"}, {"client_id", m.oidc.client_id}, {"redirect_uri", r.redirect_uri},
      {"scope", scope},          {"state", r.state},              {"nonce", r.client_nonce}};
  if (!r.code_verifier.empty()) {
    q.emplace_back("code_challenge", s256(r.code_verifier));
    q.emplace_back("code_challenge_method", "S256");
  }
  std::string url = p.authorization_endpoint;
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : q) {
    url += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  return url;
}

Result<json> complete_oidc(const AuthMethod& m, const OidcProvider& p, const OidcRequest& r, const std::string& code,
                           const std::string& state, const std::string& iss, KeyCache& keys, std::int64_t now_s) {
  if (!same_secret(state, r.state))
    return refused("State: not the one this sign-in was sent with (a callback of another sign-in, or forged)");
  if (p.iss_parameter && without_trailing_slash(iss) != without_trailing_slash(p.issuer))
    return refused("Iss: the callback's issuer is \"" + iss + "\", not the provider's \"" + p.issuer + "\" (RFC 9207)");
  auto tokens = exchange(m, p, r, code);
  if (!tokens) return tokens.error();
  const std::string id_token = text(tokens.value(), "id_token");
  if (id_token.empty()) return refused("the provider's token reply holds no id_token (is \"openid\" a scope of this client?)");
  auto jwt = signed_by_method(m, id_token, keys, "the ID token");
  if (!jwt) return jwt.error();
  json claims = jwt->claims;
  // OpenID Connect Core 3.1.3.7: the issuer is the provider's, the audience this client (or
  // the method's BoundAudiences), an expiry is required, and the nonce is this sign-in's.
  ClaimBounds bounds = m.bounds;
  bounds.issuers = {p.issuer};
  if (bounds.audiences.empty()) bounds.audiences = {m.oidc.client_id};
  if (!claims.contains("exp")) return refused("the ID token: no exp (an ID token must expire)");
  if (auto st = check_claims(claims, bounds, now_s); !st) return refused("the ID token: " + st.message());
  if (claims.contains("azp") && text(claims, "azp") != m.oidc.client_id)
    return refused("the ID token: azp \"" + text(claims, "azp") + "\" is not this client (" + m.oidc.client_id + ")");
  if (!same_secret(text(claims, "nonce"), r.client_nonce))
    return refused("the ID token: its nonce is not this sign-in's (a token of another sign-in replayed)");
  const std::string sub = text(claims, "sub");
  if (sub.empty()) return refused("the ID token: no sub");

  const std::string access_token = text(tokens.value(), "access_token");
  if (!m.oidc.disable_userinfo && !p.userinfo_endpoint.empty() && !access_token.empty()) {
    Credentials as;
    as.bearer = access_token;
    auto user = fetch_json(p.userinfo_endpoint, m.keys.discovery_ca_pem, as);
    if (!user) return make_error("the provider's userinfo cannot be had: " + user.message());
    if (!user->is_object()) return refused("the provider's userinfo is not a JSON object");
    // OpenID Connect Core 5.3.2: userinfo of another subject must not be used.
    if (text(user.value(), "sub") != sub)
      return refused("the provider's userinfo is of sub \"" + text(user.value(), "sub") + "\", not the ID token's");
    for (const auto& [k, v] : user->items())
      if (k != "iss" && k != "sub") claims[k] = v;
  }
  return claims;
}

}  // namespace drover::auth
