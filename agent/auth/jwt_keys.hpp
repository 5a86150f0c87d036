// The public keys a JWT auth method checks a login token with (docs/security.md, "Logging in
// with a JWT"): PEM keys the operator wrote in the method, or a JWKS document (RFC 7517), and
// the signature check for the algorithms of RFC 7518 section 3 that identity providers use
// (RS*, PS*, ES*, EdDSA), through OpenSSL's EVP.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "vars/jwt.hpp"

namespace drover::auth {

struct PublicKey {
  std::string kid;  // the JWK's "kid"; empty for a PEM key
  std::shared_ptr<EVP_PKEY> key;
};

// One PEM public key ("-----BEGIN PUBLIC KEY-----", or a certificate's); the error says why not.
Result<PublicKey> pem_public_key(std::string_view pem);
// The signing keys of a JWKS document ({"keys": [...]}): RSA, EC (P-256/384/521) and OKP
// (Ed25519). Keys of other kinds, or whose "use" is not "sig", are left out; an error when
// the document is not a JWKS or holds no key drover can use.
Result<std::vector<PublicKey>> jwks_public_keys(const nlohmann::json& jwks);

// The JWS algorithms verify() knows, as RFC 7518 names them.
bool known_algorithm(std::string_view alg);
// Whether `jwt`'s signature is valid under `key` for its header's alg. The alg must suit the
// key's type (an RSA key never checks an ES256 signature, and "none" checks nothing).
bool verify(const vars::Jwt& jwt, EVP_PKEY* key);

}  // namespace drover::auth
