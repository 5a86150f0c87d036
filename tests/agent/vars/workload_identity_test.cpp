// Workload identity tokens (docs/variables.md, "Workload identities"): RS256 under a key each
// keyring derives alike, checkable by anyone from the JWKS alone; the API honours only the
// default identity, unexpired, of its own keyring.
#include "vars/workload_identity.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <filesystem>
#include <fstream>

#include "vars/jwt.hpp"

using namespace drover::vars;
using nlohmann::json;

namespace {

std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-wid-XXXXXX";
  return mkdtemp(tmpl);
}

std::shared_ptr<Keyring> keyring_in(const std::filesystem::path& dir) {
  return Keyring::open_local(dir / "keyring").value();
}

const WorkloadClaims kClaims{"default", "web", "frontend", "server",
                             "0b1c2d3e-aaaa-bbbb-cccc-000000000000"};

// What a relying party does with the JWKS: an RSA public key from the JWK's n and e, and
// OpenSSL's own RS256 check of the token against it, sharing no code with the signer.
bool verifies_with_jwk(const json& jwk, const std::string& token) {
  auto n = from_b64url(jwk.at("n").get<std::string>());
  auto e = from_b64url(jwk.at("e").get<std::string>());
  if (!n || !e) return false;
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr);
  BIGNUM* be = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_fromdata_init(pctx);
  EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  const auto dot = token.rfind('.');
  auto sig = from_b64url(std::string_view(token).substr(dot + 1));
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = key && sig && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(token.data()), dot) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn);
  BN_free(be);
  return ok;
}

}  // namespace

TEST(WorkloadIdentity, TokenRoundTripsAndAForgedOneIsRefused) {
  auto k = keyring_in(temp_dir());
  WorkloadIdentity id(k);
  auto token = id.sign(kClaims).value().token;
  EXPECT_TRUE(WorkloadIdentity::looks_like(token));
  auto back = id.verify(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->job_id, "web");
  EXPECT_EQ(back->group, "frontend");
  EXPECT_EQ(back->task, "server");
  EXPECT_EQ(back->alloc_id, kClaims.alloc_id);
  // Another job's name pasted into the payload breaks the signature.
  auto other = id.sign({"default", "db", "frontend", "server", kClaims.alloc_id}).value().token;
  auto forged = token.substr(0, token.find('.')) +
                other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                token.substr(token.rfind('.'));
  EXPECT_FALSE(id.verify(forged));
  // A token of another keyring is not one of ours.
  EXPECT_FALSE(id.verify(WorkloadIdentity(keyring_in(temp_dir())).sign(kClaims).value().token));
  // Still valid after a rotation: the kid names the key that signed it.
  ASSERT_TRUE(k->rotate());
  EXPECT_TRUE(id.verify(token));
}

TEST(WorkloadIdentity, ClaimsAreNomadsAndTheJwksChecksTheSignature) {
  auto k = keyring_in(temp_dir());
  WorkloadIdentity id(k, "https://drover.example.com");
  IdentityRequest named{"aws", {"sts.amazonaws.com"}, std::chrono::hours(1), {{"team", "gpu"}}};
  auto signed_id = id.sign(kClaims, named).value();
  auto jwt = decode_jwt(signed_id.token).value();
  EXPECT_EQ(jwt.header["alg"], "RS256");
  EXPECT_EQ(jwt.header["kid"], k->active_id());
  EXPECT_EQ(jwt.claims["aud"], "sts.amazonaws.com");
  EXPECT_EQ(jwt.claims["sub"], "global:default:web:frontend:server:aws");
  EXPECT_EQ(jwt.claims["iss"], "https://drover.example.com");
  EXPECT_EQ(jwt.claims["team"], "gpu");
  EXPECT_EQ(jwt.claims["nomad_allocation_id"], kClaims.alloc_id);
  EXPECT_EQ(jwt.claims["exp"].get<int64_t>() - jwt.claims["iat"].get<int64_t>(), 3600);
  EXPECT_EQ(signed_id.expires_at, jwt.claims["exp"].get<int64_t>());
  // The default identity: Nomad's audience, no expiry.
  auto plain = decode_jwt(id.sign(kClaims).value().token).value();
  EXPECT_EQ(plain.claims["aud"], kNomadAudience);
  EXPECT_FALSE(plain.claims.contains("exp"));

  auto jwks = id.jwks();
  ASSERT_EQ(jwks["keys"].size(), 1u) << jwks.dump();
  const json& jwk = jwks["keys"][0];
  EXPECT_EQ(jwk["kty"], "RSA");
  EXPECT_EQ(jwk["alg"], "RS256");
  EXPECT_EQ(jwk["kid"], k->active_id());
  EXPECT_EQ(from_b64url(jwk["n"].get<std::string>())->size(), 256u);  // 2048 bits
  EXPECT_TRUE(verifies_with_jwk(jwk, signed_id.token));
  // One changed byte of the claims and the check fails.
  std::string tampered = signed_id.token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(verifies_with_jwk(jwk, tampered));
}

TEST(WorkloadIdentity, EveryNodeWithTheKeyringDerivesTheSameKey) {
  auto dir = temp_dir();
  auto k = keyring_in(dir);
  // A second agent reading the same file (a cluster's keyring_file) publishes the same key
  // and checks the first one's tokens.
  auto k2 = Keyring::open_shared(dir / "keyring").value();
  WorkloadIdentity a(k), b(std::move(k2));
  EXPECT_EQ(a.jwks(), b.jwks());
  EXPECT_TRUE(b.verify(a.sign(kClaims).value().token));
  // Another keyring, another key; a rotation adds a key and keeps the old one.
  EXPECT_NE(a.jwks()["keys"][0]["n"], WorkloadIdentity(keyring_in(temp_dir())).jwks()["keys"][0]["n"]);
  ASSERT_TRUE(k->rotate());
  auto keys = a.jwks()["keys"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_NE(keys[0]["n"], keys[1]["n"]);
  EXPECT_EQ(decode_jwt(a.sign(kClaims).value().token)->header["kid"], k->active_id());
}

TEST(WorkloadIdentity, TheApiHonoursOnlyAnUnexpiredDefaultIdentity) {
  auto k = keyring_in(temp_dir());
  WorkloadIdentity id(k);
  // A named identity was made for another audience: never a key to this API.
  EXPECT_FALSE(id.verify(id.sign(kClaims, {"vault", {"vault.io"}, {}, {}}).value().token));
  EXPECT_FALSE(id.verify(id.sign(kClaims, {"other", {kNomadAudience}, {}, {}}).value().token));
  // A default identity with a ttl: good until exp, refused from then on.
  auto timed = id.sign(kClaims, {"default", {}, std::chrono::seconds(60), {}}).value();
  EXPECT_TRUE(id.verify(timed.token, timed.issued_at + 59));
  EXPECT_FALSE(id.verify(timed.token, timed.issued_at + 60));
  // alg "none" and a token of no kid are refused.
  auto jwt = decode_jwt(timed.token).value();
  json none = jwt.header;
  none["alg"] = "none";
  EXPECT_FALSE(id.verify(b64url(none.dump()) + "." + b64url(jwt.claims.dump()) + "."));
  EXPECT_FALSE(id.verify(b64url(none.dump()) + "." + b64url(jwt.claims.dump()) + ".AAAA"));
}

TEST(WorkloadIdentity, AnHs256TokenOfAnEarlierAgentStillReadsItsVariables) {
  // What drover signed before its tokens were RS256: HMAC-SHA256 under the keyring's key for
  // the purpose "drover workload identity v1". A task started then keeps its access.
  auto k = keyring_in(temp_dir());
  WorkloadIdentity id(k);
  json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", k->active_id()}};
  json claims = {{"nomad_namespace", "default"}, {"nomad_job_id", "web"},
                 {"nomad_task_group", "frontend"}, {"nomad_task", "server"},
                 {"nomad_allocation_id", kClaims.alloc_id}};
  const std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
  const std::string token =
      input + "." + b64url(k->mac(k->active_id(), "drover workload identity v1", input));
  auto back = id.verify(token);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->job_id, "web");
  EXPECT_FALSE(id.verify(input + "." + b64url(k->mac(k->active_id(), "another purpose", input))));
}

TEST(WorkloadIdentity, ReadsOnlyItsJobsPaths) {
  WorkloadClaims c{"default", "web", "frontend", "server", "a"};
  for (const char* p : {"nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/frontend",
                        "nomad/jobs/web/frontend/server"})
    EXPECT_TRUE(workload_may_read(c, p)) << p;
  for (const char* p :
       {"nomad/jobs/db", "nomad/jobs/webx", "nomad/jobs/web/other",
        "nomad/jobs/web/frontend/server/deeper", "secret/web", "nomad/jobs/web/frontend/serve"})
    EXPECT_FALSE(workload_may_read(c, p)) << p;
}
