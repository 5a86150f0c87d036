// Public keys from PEM and JWKS, and JWS signature checks; see jwt_keys.hpp.
#include "auth/jwt_keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "drover/common/openssl_handles.hpp"

namespace drover::auth {
namespace {

using nlohmann::json;


std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

std::optional<std::string> b64_member(const json& jwk, const char* name) {
  if (!jwk.contains(name) || !jwk[name].is_string()) return std::nullopt;
  return vars::from_b64url(jwk[name].get<std::string>());
}

// A key from OpenSSL parameters (`type` "RSA" or "EC").
EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld));
  OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  return key;
}

EVP_PKEY* rsa_key(const json& jwk) {
  auto n = b64_member(jwk, "n");
  auto e = b64_member(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  OsslPtr<BIGNUM, BN_free> bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  OsslPtr<BIGNUM, BN_free> bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return nullptr;
  return from_params("RSA", bld.get());
}

EVP_PKEY* ec_key(const json& jwk) {
  const std::string crv = jwk.value("crv", "");
  const char* group = crv == "P-256"   ? "prime256v1"
                      : crv == "P-384" ? "secp384r1"
                      : crv == "P-521" ? "secp521r1"
                                       : nullptr;
  auto x = b64_member(jwk, "x");
  auto y = b64_member(jwk, "y");
  if (!group || !x || !y || x->size() != y->size() || x->empty()) return nullptr;
  const std::string point = std::string(1, '\x04') + *x + *y;  // uncompressed (SEC 1, 2.3.3)
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()))
    return nullptr;
  return from_params("EC", bld.get());
}

EVP_PKEY* okp_key(const json& jwk) {
  auto x = b64_member(jwk, "x");
  if (jwk.value("crv", "") != "Ed25519" || !x) return nullptr;
  return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                     reinterpret_cast<const unsigned char*>(x->data()), x->size());
}

const EVP_MD* digest_of(std::string_view alg) {
  const auto bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

// JWS's ECDSA signature is r || s, each the curve's size (RFC 7518, 3.4); OpenSSL wants DER.
std::optional<std::string> ecdsa_der(std::string_view raw, EVP_PKEY* key) {
  const int bits = EVP_PKEY_get_bits(key);
  const std::size_t half = static_cast<std::size_t>((bits + 7) / 8);
  if (raw.size() != 2 * half) return std::nullopt;
  OsslPtr<ECDSA_SIG, ECDSA_SIG_free> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half), static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<PublicKey> pem_public_key(std::string_view pem) {
  OsslPtr<BIO, BIO_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error("out of memory");
  if (EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)) return PublicKey{"", own(k)};
  BIO_reset(bio.get());
  OsslPtr<X509, X509_free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert)
    if (EVP_PKEY* k = X509_get_pubkey(cert.get())) return PublicKey{"", own(k)};
  return make_error("not a PEM public key or certificate", Errc::Invalid);
}

Result<std::vector<PublicKey>> jwks_public_keys(const json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array())
    return make_error("not a JWKS document: no \"keys\" list", Errc::Invalid);
  std::vector<PublicKey> out;
  for (const auto& jwk : jwks["keys"]) {
    if (!jwk.is_object()) continue;
    if (jwk.contains("use") && jwk["use"] != "sig") continue;
    const std::string kty = jwk.value("kty", "");
    EVP_PKEY* k = kty == "RSA" ? rsa_key(jwk) : kty == "EC" ? ec_key(jwk) : kty == "OKP" ? okp_key(jwk) : nullptr;
    if (!k) continue;
    out.push_back({jwk.contains("kid") && jwk["kid"].is_string() ? jwk["kid"].get<std::string>() : "", own(k)});
  }
  if (out.empty()) return make_error("the JWKS holds no RSA, EC or Ed25519 signing key", Errc::Invalid);
  return out;
}

bool known_algorithm(std::string_view alg) {
  static constexpr std::string_view kAlgs[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                               "PS512", "ES256", "ES384", "ES512", "EdDSA"};
  for (auto a : kAlgs)
    if (a == alg) return true;
  return false;
}

bool verify(const vars::Jwt& jwt, EVP_PKEY* key) {
  if (!key || !jwt.header.contains("alg") || !jwt.header["alg"].is_string()) return false;
  const std::string alg = jwt.header["alg"].get<std::string>();
  if (!known_algorithm(alg)) return false;
  const int type = EVP_PKEY_get_base_id(key);
  const EVP_MD* md = nullptr;
  std::string sig = jwt.signature;
  if (alg == "EdDSA") {
    if (type != EVP_PKEY_ED25519) return false;
  } else {
    md = digest_of(alg);
    const bool rsa = alg[0] == 'R' || alg[0] == 'P';
    if (!md || (rsa && type != EVP_PKEY_RSA) || (!rsa && type != EVP_PKEY_EC)) return false;
    if (!rsa) {
      auto der = ecdsa_der(sig, key);
      if (!der) return false;
      sig = std::move(*der);
    }
  }
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) return false;
  if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                          jwt.signing_input.size()) == 1;
}

}  // namespace drover::auth
