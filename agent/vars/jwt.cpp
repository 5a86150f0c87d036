// JWT encoding and RS256 signatures (vars/jwt.hpp).
#include "vars/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "drover/common/encoding.hpp"
#include "drover/common/openssl_handles.hpp"
#include "drover/common/split.hpp"

namespace drover::vars {
namespace {

using nlohmann::json;


std::string bn_bytes(const BIGNUM* b) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(b)), '\0');
  BN_bn2bin(b, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string b64url(std::string_view in) { return base64url_encode(in, /*padded=*/false); }

std::optional<std::string> from_b64url(std::string_view in) {
  return base64url_decode(in, /*padded=*/false);
}

std::optional<Jwt> decode_jwt(std::string_view token) {
  auto parts = split(token, '.');
  if (parts.size() != 3) return std::nullopt;
  auto header = from_b64url(parts[0]);
  auto claims = from_b64url(parts[1]);
  auto sig = from_b64url(parts[2]);
  if (!header || !claims || !sig) return std::nullopt;
  Jwt out;
  out.header = json::parse(*header, nullptr, false);
  out.claims = json::parse(*claims, nullptr, false);
  if (!out.header.is_object() || !out.claims.is_object()) return std::nullopt;
  out.signature = std::move(*sig);
  out.signing_input = std::string(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  return out;
}

std::string sign_rs256(json header, const json& claims, EVP_PKEY* key) {
  header["alg"] = "RS256";
  const std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  std::string sig(static_cast<std::size_t>(EVP_PKEY_get_size(key)), '\0');
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return {};  // only when OpenSSL is out of memory; an empty token verifies nowhere
  sig.resize(len);
  return input + "." + b64url(sig);
}

bool verify_rs256(const Jwt& jwt, EVP_PKEY* key) {
  if (!key || jwt.header.value("alg", "") != "RS256") return false;
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                          jwt.signature.size(),
                          reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                          jwt.signing_input.size()) == 1;
}

json rsa_public_jwk(EVP_PKEY* key, const std::string& kid) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
  OsslPtr<BIGNUM, BN_free> hold_n(n), hold_e(e);
  if (!n || !e) return json::object();
  return {{"kty", "RSA"}, {"use", "sig"}, {"alg", "RS256"}, {"kid", kid},
          {"n", b64url(bn_bytes(n))}, {"e", b64url(bn_bytes(e))}};
}

}  // namespace drover::vars
