// Workload identities: the JWTs a task is given (Nomad's `identity` blocks): the default one,
// which reaches this API and reads the job's own variables, and named ones for other audiences
// (Vault's JWT auth, a cloud's OIDC federation, anything that reads a JWKS).
//
// Tokens are RS256 under an RSA key derived from each keyring root key
// (vars/derived_rsa_key.hpp; `kid` = the root key's id), so every node with the same keyring
// signs and checks alike and a token outlives an agent restart; jwks() publishes the public
// halves. The default identity grants only reading the job's own variables
// (workload_may_read); the API refuses it everywhere else and once its alloc has ended, and
// refuses named identities altogether (docs/variables.md, "Workload identities").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"
#include "vars/jwt.hpp"
#include "vars/keyring.hpp"

namespace drover::vars {

// The audience of the default identity, Nomad's: the one this API honours.
inline constexpr const char* kNomadAudience = "nomadproject.io";

struct WorkloadClaims {
  std::string ns = "default";
  std::string job_id;  // a dispatched or periodic child's parent job, as in Nomad
  std::string group;
  std::string task;
  std::string alloc_id;
};

// One identity of a task, as its `identity` block asks (the jobspec's, less where it goes).
struct IdentityRequest {
  std::string name = "default";
  std::vector<std::string> audience;  // empty for the default: kNomadAudience
  std::chrono::seconds ttl{0};        // 0: the token does not expire
  std::map<std::string, std::string> extra_claims;
};

struct SignedIdentity {
  std::string token;
  int64_t issued_at = 0;   // unix seconds
  int64_t expires_at = 0;  // unix seconds; 0 when it does not expire
};

class WorkloadIdentity {
 public:
  // `issuer`: the `iss` claim (the agent config's oidc_issuer); "" leaves it out.
  explicit WorkloadIdentity(std::shared_ptr<Keyring> keyring, std::string issuer = "");

  Result<SignedIdentity> sign(const WorkloadClaims& claims, const IdentityRequest& request = {}) const;
  // The claims of a default identity this keyring signed, unexpired; nullopt for anything
  // else (a named identity, another audience, a forged or expired token). `now`: unix
  // seconds to judge expiry by; 0 reads the clock.
  std::optional<WorkloadClaims> verify(std::string_view token, int64_t now = 0) const;
  // Whether `token` has a JWT's shape (an operator's ACL secret is a UUID).
  static bool looks_like(std::string_view token);

  // {"keys": [JWK...]}: every root key's public signing key, old ones too, so a token signed
  // before a rotation still checks.
  nlohmann::json jwks() const;
  const std::string& issuer() const { return issuer_; }

 private:
  // The signing key of root key `kid`, derived once; null when the keyring lacks it.
  EVP_PKEY* key(const std::string& kid) const;

  std::shared_ptr<Keyring> keyring_;
  std::string issuer_;
  mutable std::mutex mu_;  // held while a key is derived: one derivation per root key
  mutable std::map<std::string, Pkey> keys_;
};

// Nomad's implicit workload policy: `path`'s segments are a prefix of
// nomad/jobs/<job>/<group>/<task> ("nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/g", ...).
bool workload_may_read(const WorkloadClaims& claims, std::string_view path);

}  // namespace drover::vars
