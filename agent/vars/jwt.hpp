// JSON Web Tokens as workload identities use them (RFC 7519): compact serialization, RS256
// signatures (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3) through OpenSSL's EVP, and
// a public key as a JWK for the JWKS document (RFC 7517) that lets others check a token.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace drover::vars {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// base64url without padding (RFC 7515, section 2) and back; nothing for anything else.
std::string b64url(std::string_view in);
std::optional<std::string> from_b64url(std::string_view in);

// A JWT's three parts, decoded: the header and claims as JSON objects, the signature as
// bytes, and `signing_input` (header.payload as sent) that the signature covers.
struct Jwt {
  nlohmann::json header;
  nlohmann::json claims;
  std::string signature;
  std::string signing_input;
};
// nullopt unless `token` is three base64url parts whose first two are JSON objects.
std::optional<Jwt> decode_jwt(std::string_view token);

// header.claims.signature, signed RS256 with `key` (an RSA private key); `header` gets alg.
std::string sign_rs256(nlohmann::json header, const nlohmann::json& claims, EVP_PKEY* key);
// Whether `jwt`'s signature is `key`'s RS256 over its signing input.
bool verify_rs256(const Jwt& jwt, EVP_PKEY* key);

// The public half of an RSA key as a JWK: {"kty":"RSA","use":"sig","alg":"RS256","kid",n,e}.
nlohmann::json rsa_public_jwk(EVP_PKEY* key, const std::string& kid);

}  // namespace drover::vars
