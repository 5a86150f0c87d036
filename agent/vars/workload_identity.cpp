// Workload identity tokens: signing, checking, the JWKS and the implicit policy
// (vars/workload_identity.hpp).
#include "vars/workload_identity.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "drover/common/encoding.hpp"
#include "drover/common/split.hpp"
#include "state/alloc.hpp"
#include "vars/derived_rsa_key.hpp"

namespace drover::vars {
namespace {

using nlohmann::json;

// What the HMAC-derived keys are for: each purpose has a key of its own (Keyring::mac).
constexpr std::string_view kRsaPurpose = "drover workload identity rsa v1";
// Tokens signed before drover signed with RSA (HS256 under this purpose's key) still check,
// so that tasks started by an older agent keep their access through an upgrade.
constexpr std::string_view kHmacPurpose = "drover workload identity v1";

bool has_audience(const json& claims, std::string_view want) {
  const json& aud = claims.contains("aud") ? claims["aud"] : json();
  if (aud.is_string()) return aud.get<std::string>() == want;
  if (aud.is_array())
    for (const auto& a : aud)
      if (a.is_string() && a.get<std::string>() == want) return true;
  return false;
}

}  // namespace

WorkloadIdentity::WorkloadIdentity(std::shared_ptr<Keyring> keyring, std::string issuer)
    : keyring_(std::move(keyring)), issuer_(std::move(issuer)) {}

EVP_PKEY* WorkloadIdentity::key(const std::string& kid) const {
  std::lock_guard lock(mu_);
  if (auto it = keys_.find(kid); it != keys_.end()) return it->second.get();
  bool known = false;
  for (const auto& k : keyring_->keys()) known = known || k.id == kid;
  if (!known) return nullptr;
  auto derived = derive_rsa_key([&](std::string_view label, uint32_t counter) {
    return keyring_->mac(kid, kRsaPurpose, std::string(label) + ":" + std::to_string(counter));
  });
  if (!derived) {
    spdlog::error("workload identity: root key {}: {}", kid, derived.message());
    return nullptr;
  }
  return (keys_[kid] = std::move(derived.value())).get();
}

Result<SignedIdentity> WorkloadIdentity::sign(const WorkloadClaims& c,
                                              const IdentityRequest& r) const {
  const std::string kid = keyring_->active_id();
  EVP_PKEY* k = key(kid);
  if (!k) return make_error("workload identity: no signing key for root key " + kid);
  SignedIdentity out;
  out.issued_at = state::now_ns() / 1000000000;
  if (r.ttl.count() > 0) out.expires_at = out.issued_at + r.ttl.count();
  json claims = json::object();
  // Extra claims first: the reserved ones below win (the validator refuses such names).
  for (const auto& [name, value] : r.extra_claims) claims[name] = value;
  claims.update(json{{"nomad_namespace", c.ns},
                     {"nomad_job_id", c.job_id},
                     {"nomad_task_group", c.group},
                     {"nomad_task", c.task},
                     {"nomad_allocation_id", c.alloc_id},
                     {"sub", "global:" + c.ns + ":" + c.job_id + ":" + c.group + ":" + c.task +
                                 ":" + r.name},
                     {"jti", random_uuid()},
                     {"iat", out.issued_at},
                     {"nbf", out.issued_at}});
  if (r.audience.empty())
    claims["aud"] = kNomadAudience;
  else if (r.audience.size() == 1)
    claims["aud"] = r.audience.front();  // as Nomad writes a single audience
  else
    claims["aud"] = r.audience;
  if (out.expires_at) claims["exp"] = out.expires_at;
  if (!issuer_.empty()) claims["iss"] = issuer_;
  out.token = sign_rs256(json{{"typ", "JWT"}, {"kid", kid}}, claims, k);
  if (out.token.empty()) return make_error("workload identity: signing failed");
  return out;
}

bool WorkloadIdentity::looks_like(std::string_view token) {
  return token.size() > 20 && token.substr(0, 3) == "eyJ" && split(token, '.').size() == 3;
}

std::optional<WorkloadClaims> WorkloadIdentity::verify(std::string_view token, int64_t now) const {
  if (!looks_like(token)) return std::nullopt;
  auto jwt = decode_jwt(token);
  if (!jwt || !jwt->header.contains("kid") || !jwt->header["kid"].is_string()) return std::nullopt;
  const std::string kid = jwt->header["kid"].get<std::string>();
  const std::string alg = jwt->header.value("alg", "");
  const json& p = jwt->claims;
  if (alg == "RS256") {
    if (!verify_rs256(*jwt, key(kid))) return std::nullopt;
    // Only the default identity is for this API: a named one was made for someone else.
    const std::string sub = p.value("sub", "");
    if (!has_audience(p, kNomadAudience) || !sub.ends_with(":default")) return std::nullopt;
    if (now == 0) now = state::now_ns() / 1000000000;
    if (p.contains("exp") && (!p["exp"].is_number_integer() || p["exp"].get<int64_t>() <= now))
      return std::nullopt;
    if (p.contains("nbf") && (!p["nbf"].is_number_integer() || p["nbf"].get<int64_t>() > now + 60))
      return std::nullopt;
  } else if (alg == "HS256") {
    auto expect = keyring_->mac(kid, kHmacPurpose, jwt->signing_input);
    if (expect.empty() || expect.size() != jwt->signature.size() ||
        CRYPTO_memcmp(expect.data(), jwt->signature.data(), expect.size()) != 0)
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  auto str = [&](const char* k) {
    return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string();
  };
  WorkloadClaims c{str("nomad_namespace"), str("nomad_job_id"), str("nomad_task_group"),
                   str("nomad_task"), str("nomad_allocation_id")};
  if (c.job_id.empty() || c.alloc_id.empty() || c.task.empty()) return std::nullopt;
  return c;
}

json WorkloadIdentity::jwks() const {
  json keys = json::array();
  for (const auto& k : keyring_->keys())
    if (EVP_PKEY* pk = key(k.id)) keys.push_back(rsa_public_jwk(pk, k.id));
  return {{"keys", keys}};
}

bool workload_may_read(const WorkloadClaims& c, std::string_view path) {
  const std::vector<std::string_view> expect = {"nomad", "jobs", c.job_id, c.group, c.task};
  auto parts = split(path, '/');
  if (parts.size() > expect.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (parts[i] != expect[i]) return false;
  return true;
}

}  // namespace drover::vars
