// An OIDC auth method's own checks, without a provider (auth/auth_method.hpp, auth/oidc.hpp;
// the flow against a provider is tests/e2e/oidc_login_test.cpp): its client fields named in
// each refusal, its secret redacted, a sign-in only to an allowed redirect URI, and the
// authorization URL a provider reads: every parameter encoded, and the PKCE challenge the
// S256 of the verifier, computed here with OpenSSL's SHA-256 rather than drover's code.
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <map>
#include <regex>

#include "auth/auth_method.hpp"
#include "auth/oidc.hpp"
#include "drover/common/encoding.hpp"

using drover::auth::AuthMethod;
using nlohmann::json;

namespace {

json oidc_method() {
  return {{"Name", "sso"},
          {"Type", "oidc"},
          {"MaxTokenTTL", "8h"},
          {"Config",
           {{"OIDCDiscoveryURL", "https://idp.example/realms/corp"},
            {"OIDCClientID", "drover"},
            {"OIDCClientSecret", "hunter2"},
            {"OIDCScopes", {"email", "groups"}},
            {"OIDCEnablePKCE", true},
            {"AllowedRedirectURIs", {"http://localhost:4649/oidc/callback", "https://drover.example:4646/ui/settings/tokens"}}}}};
}

std::string refusal(json patch) {
  json body = oidc_method();
  body.merge_patch(patch);
  auto r = drover::auth::auth_method_from_json(body);
  return r ? std::string("accepted") : r.message();
}

// The query parameters of `url`, percent-decoded.
std::map<std::string, std::string> params(const std::string& url) {
  std::map<std::string, std::string> out;
  static const std::regex re("[?&]([^=&]+)=([^&]*)");
  for (std::sregex_iterator it(url.begin(), url.end(), re), end; it != end; ++it) {
    std::string v = (*it)[2].str(), decoded;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (v[i] == '%' && i + 2 < v.size()) {
        decoded += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += v[i];
      }
    out[(*it)[1].str()] = decoded;
  }
  return out;
}

}  // namespace

TEST(OidcMethod, ItsClientFieldsAreCheckedAndItsSecretIsNeverShown) {
  auto m = drover::auth::auth_method_from_json(oidc_method());
  ASSERT_TRUE(m) << m.message();
  EXPECT_EQ(m->type, "OIDC");
  EXPECT_EQ(m->oidc.client_id, "drover");
  EXPECT_TRUE(m->oidc.pkce);
  EXPECT_FALSE(m->oidc.disable_userinfo);
  EXPECT_EQ(m->oidc.redirect_uris.size(), 2u);
  EXPECT_EQ(drover::auth::auth_method_json(m.value(), true)["Config"]["OIDCClientSecret"], "redacted");
  EXPECT_EQ(drover::auth::auth_method_json(m.value(), false)["Config"]["OIDCClientSecret"], "hunter2");

  EXPECT_EQ(refusal({{"Config", {{"OIDCDiscoveryURL", nullptr}}}}).rfind("Config.OIDCDiscoveryURL: required", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"OIDCClientID", ""}}}}).rfind("Config.OIDCClientID: required", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"AllowedRedirectURIs", json::array()}}}}).rfind("Config.AllowedRedirectURIs: required", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"AllowedRedirectURIs", {"javascript:alert(1)"}}}}}).rfind("Config.AllowedRedirectURIs[0]:", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"OIDCScopes", {"email groups"}}}}}).rfind("Config.OIDCScopes:", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"OIDCEnablePKCE", "yes"}}}}).rfind("Config.OIDCEnablePKCE: must be true or false", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"JWKSURL", "https://idp.example/keys"}}}}).rfind("Config.JWKSURL: an OIDC method", 0), 0u);
  EXPECT_EQ(refusal({{"Config", {{"OIDCClientAssertion", {{"KeySource", "nomad"}}}}}}).rfind("Config.OIDCClientAssertion: not supported", 0), 0u);
}

TEST(OidcMethod, ASignInGoesOnlyToAnAllowedRedirectUriAndItsUrlCarriesEveryCheck) {
  auto m = drover::auth::auth_method_from_json(oidc_method());
  ASSERT_TRUE(m) << m.message();
  auto bad = drover::auth::new_oidc_request(*m, "https://evil.example/cb", "nonce-123456", 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, drover::Errc::Invalid);
  EXPECT_EQ(bad.message().rfind("RedirectURI: \"https://evil.example/cb\" is not one", 0), 0u) << bad.message();
  EXPECT_FALSE(drover::auth::new_oidc_request(*m, "http://localhost:4649/oidc/callback", "short", 0));
  EXPECT_FALSE(drover::auth::new_oidc_request(*m, "http://localhost:4649/oidc/callback", "has a space in it", 0));

  auto r = drover::auth::new_oidc_request(*m, "http://localhost:4649/oidc/callback", "n0nce&x=1", 1000);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->expires_ns, 1000 + drover::auth::kOidcRequestTtlNs);
  EXPECT_GE(r->state.size(), 43u);  // 32 random bytes
  EXPECT_GE(r->code_verifier.size(), 43u);
  auto other = drover::auth::new_oidc_request(*m, "http://localhost:4649/oidc/callback", "n0nce&x=1", 1000);
  ASSERT_TRUE(other);
  EXPECT_NE(other->state, r->state);
  // A stored request reads back as it was.
  auto back = drover::auth::oidc_request_from_json(drover::auth::oidc_request_json(r.value()));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->state, r->state);
  EXPECT_EQ(back->code_verifier, r->code_verifier);

  drover::auth::OidcProvider p;
  p.issuer = "https://idp.example/realms/corp";
  p.authorization_endpoint = "https://idp.example/realms/corp/auth?kc_idp_hint=corp";
  const std::string url = drover::auth::authorization_url(p, *m, r.value());
  EXPECT_EQ(url.rfind("https://idp.example/realms/corp/auth?kc_idp_hint=corp&", 0), 0u) << url;
  auto q = params(url);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], "drover");
  EXPECT_EQ(q["redirect_uri"], "http://localhost:4649/oidc/callback");
  EXPECT_EQ(q["scope"], "openid email groups");
  EXPECT_EQ(q["state"], r->state);
  EXPECT_EQ(q["nonce"], "n0nce&x=1");  // encoded: it adds no parameter
  EXPECT_EQ(q.count("x"), 0u);
  EXPECT_EQ(q["code_challenge_method"], "S256");
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(r->code_verifier.data()), r->code_verifier.size(), d);
  EXPECT_EQ(q["code_challenge"], drover::base64url_encode(std::string(reinterpret_cast<char*>(d), sizeof d), false));
  EXPECT_EQ(url.find("hunter2"), std::string::npos);

  // Without PKCE there is no challenge; a JWT method begins no sign-in.
  json plain = oidc_method();
  plain["Config"]["OIDCEnablePKCE"] = false;
  auto pm = drover::auth::auth_method_from_json(plain);
  ASSERT_TRUE(pm);
  auto pr = drover::auth::new_oidc_request(*pm, "http://localhost:4649/oidc/callback", "nonce-123456", 0);
  ASSERT_TRUE(pr);
  EXPECT_TRUE(pr->code_verifier.empty());
  EXPECT_EQ(params(drover::auth::authorization_url(p, *pm, pr.value())).count("code_challenge"), 0u);
  AuthMethod jwt = pm.value();
  jwt.type = "JWT";
  EXPECT_FALSE(drover::auth::new_oidc_request(jwt, "http://localhost:4649/oidc/callback", "nonce-123456", 0));
}
