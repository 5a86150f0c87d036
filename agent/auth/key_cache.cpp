// JWT auth methods' keys, fetched and kept; see key_cache.hpp.
#include "auth/key_cache.hpp"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

namespace drover::auth {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kRefresh = std::chrono::minutes(5);
constexpr auto kUnknownKidRefetch = std::chrono::seconds(10);
constexpr std::size_t kMaxDocument = 1 << 20;

std::string source_of(const AuthMethod& m) {
  json j = {{"pem", m.keys.pem_keys}, {"jwks", m.keys.jwks_url}, {"ca", m.keys.jwks_ca_cert},
            {"oidc", m.keys.discovery_url}, {"oidc_ca", m.keys.discovery_ca_pem}};
  return j.dump();
}

// A CA store of PEM certificates, owned by whoever it is given to; null when none reads.
X509_STORE* ca_store(const std::vector<std::string>& pems) {
  X509_STORE* store = X509_STORE_new();
  int added = 0;
  for (const auto& pem : pems) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      added += X509_STORE_add_cert(store, cert) == 1;
      X509_free(cert);
    }
    BIO_free(bio);
  }
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

}  // namespace

Result<json> fetch_json(const std::string& url, const std::vector<std::string>& ca_pems) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return make_error("\"" + url + "\" is not a URL", Errc::Invalid);
  const auto path_at = url.find('/', scheme_end + 3);
  const std::string origin = path_at == std::string::npos ? url : url.substr(0, path_at);
  const std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  httplib::Client client(origin);
  if (!client.is_valid()) return make_error("\"" + url + "\": cannot make a client for it", Errc::Invalid);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  if (url.rfind("https://", 0) == 0) {
    if (!ca_pems.empty()) {
      X509_STORE* store = ca_store(ca_pems);
      if (!store) return make_error("the CA certificate given for \"" + url + "\" is not PEM", Errc::Invalid);
      client.set_ca_cert_store(store);  // the client's SSL context owns it from here
    }
    client.enable_server_certificate_verification(true);
  }
  std::string body;
  bool too_big = false;
  auto res = client.Get(path.c_str(), [&](const char* data, std::size_t n) {
    if (body.size() + n > kMaxDocument) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_big) return make_error("GET " + url + ": the document is larger than 1 MiB");
  if (!res) return make_error("GET " + url + ": " + httplib::to_string(res.error()));
  if (res->status != 200) return make_error("GET " + url + ": HTTP " + std::to_string(res->status));
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return make_error("GET " + url + ": the reply is not JSON");
  return j;
}

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
