// Logging in with a JWT, below the API (docs/security.md, "Logging in with a JWT"): keys read
// from PEM and JWKS, signatures of each algorithm family checked (and refused under the wrong
// key or algorithm), the registered claims, claim mappings, go-bexpr selectors, and the
// bindings a login gets. Tokens are signed here with OpenSSL directly, not with drover's code.
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <ctime>

#include "auth/auth_method.hpp"
#include "auth/claims.hpp"
#include "auth/jwt_keys.hpp"
#include "auth/login.hpp"
#include "auth/selector.hpp"
#include "drover/common/encoding.hpp"

namespace {

using drover::auth::Selector;
using drover::auth::SelectorInput;
using nlohmann::json;

std::shared_ptr<EVP_PKEY> keygen(const std::string& kind) {
  EVP_PKEY* k = kind == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                : kind == "EC" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                               : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  return {k, EVP_PKEY_free};
}

std::string b64(const std::string& s) { return drover::base64url_encode(s, false); }

// A compact JWS of `claims` signed by `key` with `alg`, made here with OpenSSL.
std::string sign(const json& claims, EVP_PKEY* key, const std::string& alg, const std::string& kid = "") {
  json header = {{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  const std::string input = b64(header.dump()) + "." + b64(claims.dump());
  const EVP_MD* md = alg == "EdDSA" ? nullptr : alg.substr(2) == "384" ? EVP_sha384() : EVP_sha256();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, md, nullptr, key);
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg[0] == 'E' && alg != "EdDSA") {  // DER to JWS's r || s
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data() + 32), 32);
    ECDSA_SIG_free(es);
    sig = raw;
  }
  return input + "." + b64(sig);
}

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

json jwk_of(EVP_PKEY* key, const std::string& kid) {
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA)
    return {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"n", b64(bn_param(key, OSSL_PKEY_PARAM_RSA_N))},
            {"e", b64(bn_param(key, OSSL_PKEY_PARAM_RSA_E))}};
  if (type == EVP_PKEY_EC) {
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    return {{"kty", "EC"}, {"kid", kid}, {"crv", "P-256"},
            {"x", b64(std::string(reinterpret_cast<char*>(point + 1), 32))},
            {"y", b64(std::string(reinterpret_cast<char*>(point + 33), 32))}};
  }
  unsigned char raw[32];
  size_t len = sizeof raw;
  EVP_PKEY_get_raw_public_key(key, raw, &len);
  return {{"kty", "OKP"}, {"kid", kid}, {"crv", "Ed25519"}, {"x", b64(std::string(reinterpret_cast<char*>(raw), len))}};
}

bool checks(const std::string& token, EVP_PKEY* key) {
  auto jwt = drover::vars::decode_jwt(token);
  return jwt && drover::auth::verify(*jwt, key);
}

SelectorInput fields() {
  SelectorInput in;
  in.values = {{"team", "gpu"}, {"email", "ada@corp.example"}, {"empty", ""}};
  in.lists = {{"groups", {"admins", "ml"}}, {"none", {}}};
  return in;
}

bool selects(const std::string& text) {
  auto s = Selector::parse(text);
  EXPECT_TRUE(s) << text << ": " << s.message();
  return s && s->matches(fields());
}

}  // namespace

TEST(JwtLogin, EachAlgorithmFamilyChecksUnderItsKeyFromPemAndJwksAndNoOther) {
  const json claims = {{"sub", "ada"}};
  struct Case {
    std::string kind, alg;
  };
  for (const auto& c : std::vector<Case>{{"RSA", "RS256"}, {"RSA", "PS256"}, {"EC", "ES256"}, {"ED", "EdDSA"}}) {
    SCOPED_TRACE(c.alg);
    auto key = keygen(c.kind);
    auto other = keygen(c.kind);
    const std::string token = sign(claims, key.get(), c.alg, "k1");
    auto pem = drover::auth::pem_public_key(public_pem(key.get()));
    ASSERT_TRUE(pem) << pem.message();
    EXPECT_TRUE(checks(token, pem->key.get()));
    auto set = drover::auth::jwks_public_keys({{"keys", {jwk_of(other.get(), "k0"), jwk_of(key.get(), "k1")}}});
    ASSERT_TRUE(set) << set.message();
    ASSERT_EQ(set->size(), 2u);
    EXPECT_EQ((*set)[1].kid, "k1");
    EXPECT_TRUE(checks(token, (*set)[1].key.get()));
    EXPECT_FALSE(checks(token, (*set)[0].key.get())) << "another key of the same kind";
    // A changed claim breaks the signature.
    auto parts = token.substr(token.find('.') + 1);
    const std::string forged = token.substr(0, token.find('.') + 1) + b64(json{{"sub", "eve"}}.dump()) +
                               parts.substr(parts.find('.'));
    EXPECT_FALSE(checks(forged, pem->key.get()));
  }
  // An alg that names another family than the key's, and "none", check nothing.
  auto rsa = keygen("RSA");
  std::string token = sign(claims, rsa.get(), "RS256");
  auto relabel = [&](const std::string& alg) {
    return b64(json{{"alg", alg}}.dump()) + token.substr(token.find('.'));
  };
  EXPECT_FALSE(checks(relabel("ES256"), rsa.get()));
  EXPECT_FALSE(checks(relabel("none"), rsa.get()));
  EXPECT_FALSE(checks(relabel("HS256"), rsa.get()));
  EXPECT_FALSE(drover::auth::pem_public_key("not a key"));
  EXPECT_FALSE(drover::auth::jwks_public_keys(json{{"keys", json::array({{{"kty", "oct"}, {"k", "AAAA"}}})}}));
}

TEST(JwtLogin, SelectorsReadAsGoBexprDoes) {
  EXPECT_TRUE(selects(""));
  EXPECT_TRUE(selects("value.team == gpu"));
  EXPECT_TRUE(selects("value.team == \"gpu\" and \"admins\" in list.groups"));
  EXPECT_FALSE(selects("value.team != gpu"));
  EXPECT_TRUE(selects("list.groups contains ml"));
  EXPECT_TRUE(selects("ops not in list.groups"));
  EXPECT_TRUE(selects("list.groups not contains ops and list.none is empty and value.team is not empty"));
  EXPECT_TRUE(selects("value.empty is empty"));
  EXPECT_TRUE(selects("value.email matches `@corp\\.example$`"));
  EXPECT_FALSE(selects("value.email not matches \"@corp\\\\.example$\""));
  EXPECT_TRUE(selects("not (value.team == ops or admins not in list.groups)"));
  EXPECT_TRUE(selects("value.team == ops or (value.team == gpu and ml in list.groups)"));
  EXPECT_TRUE(selects("corp in value.email")) << "in on a string is a substring test";
  // A field the method does not map makes its comparison false, and its negation true.
  EXPECT_FALSE(selects("value.missing == x"));
  EXPECT_TRUE(selects("not value.missing == x"));

  auto bad = [](const std::string& text) {
    auto s = Selector::parse(text);
    return s ? std::string("parsed") : s.message();
  };
  EXPECT_NE(bad("value.team ==").find("expected a value after '==' at offset 13"), std::string::npos)
      << bad("value.team ==");
  EXPECT_NE(bad("value.team = gpu").find("offset"), std::string::npos);
  EXPECT_NE(bad("(value.team == gpu").find("expected ')'"), std::string::npos);
  EXPECT_NE(bad("\"open").find("not closed"), std::string::npos);
  EXPECT_NE(bad("value.x matches \"(\"").find("not a regular expression"), std::string::npos);
  EXPECT_NE(bad("admins in groups").find("a field (value.NAME or list.NAME)"), std::string::npos);
}

TEST(JwtLogin, RegisteredClaimsAreCheckedWithTheirLeeways) {
  using drover::auth::check_claims;
  drover::auth::ClaimBounds b;
  b.audiences = {"drover"};
  b.issuers = {"https://ci.example"};
  const std::int64_t now = 1'800'000'000;
  json ok = {{"iss", "https://ci.example"}, {"aud", {"x", "drover"}}, {"exp", now + 60}, {"nbf", now - 5}, {"iat", now}};
  EXPECT_TRUE(check_claims(ok, b, now));
  auto why = [&](json patch) {
    json c = ok;
    c.merge_patch(patch);
    auto st = check_claims(c, b, now);
    return st ? std::string("accepted") : st.message();
  };
  EXPECT_EQ(why({{"exp", now - 100}}), "accepted") << "within the 150 s expiration leeway";
  EXPECT_NE(why({{"exp", now - 200}}).find("exp: the token expired 200 s ago"), std::string::npos);
  EXPECT_NE(why({{"nbf", now + 600}}).find("nbf:"), std::string::npos);
  EXPECT_NE(why({{"iat", now + 600}}).find("iat:"), std::string::npos);
  EXPECT_NE(why({{"aud", "other"}}).find("aud:"), std::string::npos);
  EXPECT_NE(why({{"iss", "https://evil.example"}}).find("iss: \"https://evil.example\""), std::string::npos);
  EXPECT_NE(why({{"exp", "tomorrow"}}).find("exp: must be a number"), std::string::npos);
  b.expiration_leeway = std::chrono::seconds(0);
  EXPECT_FALSE(check_claims(json{{"exp", now - 1}}, b, now));

  auto mapped = drover::auth::map_claims(
      {{"email", "ada@corp.example"}, {"admin", true}, {"n", 3}, {"groups", {"a", "b"}}, {"nested", {{"roles", {"r1"}}}}},
      {{"email", "email"}, {"admin", "admin"}, {"n", "n"}, {"absent", "absent"}},
      {{"groups", "groups"}, {"/nested/roles", "roles"}, {"email", "emails"}});
  ASSERT_TRUE(mapped) << mapped.message();
  EXPECT_EQ(mapped->values.at("email"), "ada@corp.example");
  EXPECT_EQ(mapped->values.at("admin"), "true");
  EXPECT_EQ(mapped->values.at("n"), "3");
  EXPECT_EQ(mapped->values.at("absent"), "");
  EXPECT_EQ(mapped->lists.at("groups"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(mapped->lists.at("roles"), (std::vector<std::string>{"r1"}));
  EXPECT_EQ(mapped->lists.at("emails"), (std::vector<std::string>{"ada@corp.example"}));
  auto list_as_value = drover::auth::map_claims({{"groups", {"a"}}}, {{"groups", "g"}}, {});
  ASSERT_FALSE(list_as_value);
  EXPECT_NE(list_as_value.message().find("claim \"groups\" (ClaimMappings, value.g)"), std::string::npos);

  auto name = drover::auth::interpolate("${auth_method_name}-${value.email}", mapped.value(), {{"auth_method_name", "ci"}});
  ASSERT_TRUE(name);
  EXPECT_EQ(name.value(), "ci-ada@corp.example");
  EXPECT_FALSE(drover::auth::interpolate("${value.nope}", mapped.value()));
  EXPECT_FALSE(drover::auth::interpolate("${list.groups}", mapped.value()));
}

TEST(JwtLogin, AMethodAndItsRulesAreCheckedFieldByField) {
  auto key = keygen("EC");
  json method = {{"Name", "ci"}, {"Type", "JWT"}, {"MaxTokenTTL", "1h"},
                 {"Config", {{"JWTValidationPubKeys", {public_pem(key.get())}}, {"SigningAlgs", {"ES256"}}}}};
  auto m = drover::auth::auth_method_from_json(method);
  ASSERT_TRUE(m) << m.message();
  EXPECT_EQ(m->token_locality, "local");
  EXPECT_EQ(drover::auth::auth_method_json(m.value(), true)["MaxTokenTTL"], "1h");
  auto refusal = [&](json patch) {
    json body = method;
    body.merge_patch(patch);
    auto r = drover::auth::auth_method_from_json(body);
    return r ? std::string("accepted") : r.message();
  };
  EXPECT_NE(refusal({{"Type", "LDAP"}}).find("Type: \"LDAP\" is not JWT or OIDC"), std::string::npos);
  EXPECT_NE(refusal({{"MaxTokenTTL", nullptr}}).find("MaxTokenTTL: required"), std::string::npos);
  EXPECT_NE(refusal({{"Name", "a b"}}).find("Name:"), std::string::npos);
  EXPECT_NE(refusal({{"TokenLocality", "region"}}).find("TokenLocality:"), std::string::npos);
  EXPECT_NE(refusal({{"Config", {{"JWKSURL", "https://idp.example/keys"}}}}).find("exactly one of"), std::string::npos);
  EXPECT_NE(refusal({{"Config", {{"JWTValidationPubKeys", {"junk"}}}}}).find("Config.JWTValidationPubKeys[0]"),
            std::string::npos);
  EXPECT_NE(refusal({{"Config", {{"SigningAlgs", {"HS256"}}}}}).find("Config.SigningAlgs: \"HS256\""),
            std::string::npos);
  EXPECT_NE(refusal({{"Config", {{"ClaimMappings", {{"email", "bad name!"}}}}}}).find("Config.ClaimMappings[\"email\"]"),
            std::string::npos);
  EXPECT_NE(refusal({{"TokenNameFormat", "${value.x}-${job}"}}).find("TokenNameFormat:"), std::string::npos);

  json rule = {{"AuthMethod", "ci"}, {"BindType", "role"}, {"BindName", "team-${value.team}"}, {"Selector", "ml in list.groups"}};
  EXPECT_TRUE(drover::auth::binding_rule_from_json(rule));
  auto rule_refusal = [&](json patch) {
    json body = rule;
    body.merge_patch(patch);
    auto r = drover::auth::binding_rule_from_json(body);
    return r ? std::string("accepted") : r.message();
  };
  EXPECT_NE(rule_refusal({{"BindType", "group"}}).find("BindType:"), std::string::npos);
  EXPECT_NE(rule_refusal({{"BindType", "management"}}).find("BindName: a management binding names nothing"),
            std::string::npos);
  EXPECT_NE(rule_refusal({{"BindName", ""}}).find("BindName: required"), std::string::npos);
  EXPECT_NE(rule_refusal({{"Selector", "ml in"}}).find("Selector: selector: expected"), std::string::npos);
  EXPECT_NE(rule_refusal({{"AuthMethod", ""}}).find("AuthMethod: required"), std::string::npos);
}

TEST(JwtLogin, ALoginGetsWhatTheMatchingRulesBindAndNothingForAnyoneElse) {
  auto key = keygen("RSA");
  auto m = drover::auth::auth_method_from_json(
      {{"Name", "ci"}, {"Type", "JWT"}, {"MaxTokenTTL", "30m"}, {"TokenNameFormat", "ci-${value.project}"},
       {"Config",
        {{"JWTValidationPubKeys", {public_pem(key.get())}},
         {"BoundAudiences", {"drover"}},
         {"ClaimMappings", {{"project", "project"}}},
         {"ListClaimMappings", {{"groups", "groups"}}}}}});
  ASSERT_TRUE(m) << m.message();
  std::vector<drover::auth::BindingRule> rules;
  for (json r : {json{{"AuthMethod", "ci"}, {"BindType", "role"}, {"BindName", "deploy-${value.project}"},
                      {"Selector", "deployers in list.groups"}},
                 json{{"AuthMethod", "ci"}, {"BindType", "policy"}, {"BindName", "readers"}},
                 json{{"AuthMethod", "ci"}, {"BindType", "policy"}, {"BindName", "no-such-policy"}},
                 json{{"AuthMethod", "other"}, {"BindType", "management"}},
                 json{{"AuthMethod", "ci"}, {"BindType", "management"}, {"Selector", "root in list.groups"}}}) {
    auto parsed = drover::auth::binding_rule_from_json(r);
    ASSERT_TRUE(parsed) << parsed.message();
    rules.push_back(parsed.value());
  }
  drover::auth::KnownAcl known{{"deploy-web"}, {"readers"}};
  drover::auth::KeyCache cache;
  const std::int64_t now = std::time(nullptr);
  auto login = [&](json claims) {
    claims.merge_patch({{"aud", "drover"}, {"exp", now + 300}});
    return drover::auth::login(m.value(), rules, sign(claims, key.get(), "RS256"), cache, known, now);
  };
  auto deployer = login({{"project", "web"}, {"groups", {"deployers"}}});
  ASSERT_TRUE(deployer) << deployer.message();
  EXPECT_FALSE(deployer->management);
  EXPECT_EQ(deployer->roles, std::vector<std::string>{"deploy-web"});
  EXPECT_EQ(deployer->policies, std::vector<std::string>{"readers"}) << "a policy not there binds nothing";
  EXPECT_EQ(deployer->token_name, "ci-web");
  // A role its claims name that does not exist binds nothing either.
  auto other_project = login({{"project", "db"}, {"groups", {"deployers"}}});
  ASSERT_TRUE(other_project);
  EXPECT_TRUE(other_project->roles.empty());
  auto root = login({{"project", "web"}, {"groups", {"root"}}});
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->management);
  EXPECT_TRUE(root->policies.empty());

  // Nothing binds without the catch-all policy: refused, saying so.
  rules.erase(rules.begin() + 1);
  auto nobody = login({{"project", "web"}, {"groups", {"guests"}}});
  ASSERT_FALSE(nobody);
  EXPECT_NE(nobody.message().find("no binding rule of auth method \"ci\" matched"), std::string::npos);
  // Signed by another key, for another audience, or with an alg the method does not allow.
  auto stranger = keygen("RSA");
  auto forged = drover::auth::login(m.value(), rules,
                                    sign({{"aud", "drover"}, {"groups", {"root"}}}, stranger.get(), "RS256"),
                                    cache, known, now);
  ASSERT_FALSE(forged);
  EXPECT_NE(forged.message().find("the signature is not by any of the auth method's keys"), std::string::npos);
  auto elsewhere = drover::auth::login(m.value(), rules,
                                       sign({{"aud", "vault"}, {"groups", {"root"}}}, key.get(), "RS256"), cache,
                                       known, now);
  ASSERT_FALSE(elsewhere);
  EXPECT_NE(elsewhere.message().find("aud:"), std::string::npos);
  auto pss = drover::auth::login(m.value(), rules, sign({{"aud", "drover"}}, key.get(), "PS256"), cache, known, now);
  ASSERT_FALSE(pss);
  EXPECT_NE(pss.message().find("\"PS256\", which the auth method's SigningAlgs do not allow"), std::string::npos);
  EXPECT_FALSE(drover::auth::login(m.value(), rules, "a.b", cache, known, now));
}
