// JWT auth methods' keys, fetched and kept; see key_cache.hpp.
#include "auth/key_cache.hpp"

#include "auth/provider_http.hpp"

#include <algorithm>

namespace drover::auth {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kRefresh = std::chrono::minutes(5);
constexpr auto kUnknownKidRefetch = std::chrono::seconds(10);

std::string source_of(const AuthMethod& m) {
  json j = {{"pem", m.keys.pem_keys}, {"jwks", m.keys.jwks_url}, {"ca", m.keys.jwks_ca_cert},
            {"oidc", m.keys.discovery_url}, {"oidc_ca", m.keys.discovery_ca_pem}};
  return j.dump();
}

}  // namespace

Result<std::vector<PublicKey>> KeyCache::load(const AuthMethod& m) {
  std::vector<PublicKey> keys;
  if (!m.keys.pem_keys.empty()) {
    for (const auto& pem : m.keys.pem_keys) {
      auto k = pem_public_key(pem);
      if (!k) return k.error();
      keys.push_back(std::move(k.value()));
    }
    return keys;
  }
  std::string jwks_url = m.keys.jwks_url;
  std::vector<std::string> cas;
  if (!m.keys.jwks_ca_cert.empty()) cas.push_back(m.keys.jwks_ca_cert);
  if (jwks_url.empty()) {
    std::string discovery = m.keys.discovery_url;
    while (!discovery.empty() && discovery.back() == '/') discovery.pop_back();
    auto doc = fetch_json(discovery + "/.well-known/openid-configuration", m.keys.discovery_ca_pem);
    if (!doc) return doc.error();
    if (!doc.value().is_object() || !doc.value().contains("jwks_uri") || !doc.value()["jwks_uri"].is_string())
      return make_error(m.keys.discovery_url + ": the discovery document names no jwks_uri");
    jwks_url = doc.value()["jwks_uri"].get<std::string>();
    cas = m.keys.discovery_ca_pem;
  }
  auto doc = fetch_json(jwks_url, cas);
  if (!doc) return doc.error();
  auto parsed = jwks_public_keys(doc.value());
  if (!parsed) return make_error(jwks_url + ": " + parsed.message());
  return parsed;
}

Result<std::vector<PublicKey>> KeyCache::keys(const AuthMethod& m, const std::string& kid) {
  const std::string source = source_of(m);
  const auto now = Clock::now();
  std::unique_lock lock(mu_);
  Entry& e = by_method_[m.name];
  const bool remote = m.keys.pem_keys.empty();
  const bool knows_kid =
      kid.empty() || std::any_of(e.keys.begin(), e.keys.end(), [&](const PublicKey& k) { return k.kid == kid; });
  const bool stale = e.source != source || e.keys.empty() || (remote && now - e.fetched > kRefresh) ||
                     (remote && !knows_kid && now - e.fetched > kUnknownKidRefetch);
  if (stale) {
    // One login fetches while the others wait for what it brings: a burst of logins after a
    // rotation costs one fetch.
    auto loaded = load(m);
    e.fetched = now;
    if (!loaded) {
      if (e.source != source) e.keys.clear();
      if (e.keys.empty()) return loaded.error();
    } else {
      e.keys = std::move(loaded.value());
      e.source = source;
    }
  }
  std::vector<PublicKey> out = e.keys;
  std::stable_partition(out.begin(), out.end(), [&](const PublicKey& k) { return !kid.empty() && k.kid == kid; });
  return out;
}

}  // namespace drover::auth
