// The OIDC sign-in endpoints; see oidc_endpoints.hpp.
#include "api/oidc_endpoints.hpp"

#include <httplib.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "api/acl.hpp"
#include "api/auth_records.hpp"
#include "api/json_reply.hpp"
#include "auth/key_cache.hpp"
#include "auth/oidc.hpp"
#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"
#include "state/alloc.hpp"

namespace drover::api {
namespace {

using nlohmann::json;

constexpr const char* kOidcRequests = "oidc_requests";

// The store's key of a sign-in: a hash of its nonce, so that what a caller sends never
// becomes a key itself.
std::string request_key(const std::string& nonce) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(), d);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(d), sizeof d), false);
}

// The body's string fields `names`, or a 400 naming each one missing.
bool read_fields(const httplib::Request& req, httplib::Response& res, std::initializer_list<const char*> names,
                 std::map<std::string, std::string>& out) {
  auto body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    reply_error(res, 400, "body: must be a JSON object");
    return false;
  }
  std::string missing;
  for (const char* n : names) {
    const json v = body.value(n, json());
    if (v.is_string() && !v.get<std::string>().empty()) out[n] = v.get<std::string>();
    else missing += (missing.empty() ? "" : ", ") + std::string(n);
  }
  if (!missing.empty()) {
    reply_error(res, 400, "body: required: " + missing);
    return false;
  }
  const json iss = body.value("Iss", json());
  if (iss.is_string()) out["Iss"] = iss.get<std::string>();
  return true;
}

// The method named `name`, or a 400 (or 503) answered.
std::optional<auth::AuthMethod> oidc_method(TokenStore& acl, const std::string& name, httplib::Response& res) {
  auto list = auth_methods(acl);
  if (!list) {
    reply_error(res, 503, list.message());
    return std::nullopt;
  }
  for (auto& m : list.value())
    if (m.name == name) {
      if (m.type == "OIDC") return std::move(m);
      reply_error(res, 400, "AuthMethodName: \"" + name + "\" is a " + m.type +
                                " method (log in with its JWT: POST /v1/acl/login, drover login -login-token)");
      return std::nullopt;
    }
  reply_error(res, 400, "AuthMethodName: no ACL auth method is named \"" + name + "\"");
  return std::nullopt;
}

// Where sign-ins under way wait: in this process's memory (nothing written per sign-in: a
// flood of auth-urls, which need no token, costs no disk), or, when the token store is the
// servers' etcd, there (kind "oidc_requests", by the nonce's hash), so that either server
// completes what the other began.
class SignIns {
 public:
  explicit SignIns(TokenStore& acl) : acl_(acl) {}

  // The sign-ins under way at `now`; those past their time are dropped.
  Result<std::vector<auth::OidcRequest>> live(std::int64_t now) {
    std::vector<auth::OidcRequest> out;
    if (!acl_.shared()) {
      std::lock_guard lock(mu_);
      std::erase_if(mem_, [&](const auto& kv) { return kv.second.expires_ns <= now; });
      for (const auto& [k, r] : mem_) out.push_back(r);
      return out;
    }
    auto records = acl_.records(kOidcRequests);
    if (!records) return records.error();
    for (const auto& text : records.value()) {
      auto r = auth::oidc_request_from_json(json::parse(text, nullptr, false));
      if (r && r->expires_ns > now) out.push_back(std::move(r.value()));
      else if (r) (void)acl_.delete_record(kOidcRequests, request_key(r->client_nonce));
    }
    return out;
  }
  Status put(const auth::OidcRequest& r) {
    if (acl_.shared())
      return acl_.put_record(kOidcRequests, request_key(r.client_nonce), json_text(auth::oidc_request_json(r)));
    std::lock_guard lock(mu_);
    mem_[r.client_nonce] = r;
    return {};
  }
  // Takes the sign-in of `nonce` away, once: NotFound when none is under way (it lapsed, was
  // never begun, or another completion took it first).
  Result<auth::OidcRequest> take(const std::string& nonce, std::int64_t now) {
    auto live = this->live(now);
    if (!live) return live.error();
    auto it = std::find_if(live->begin(), live->end(),
                           [&](const auth::OidcRequest& r) { return r.client_nonce == nonce; });
    if (it == live->end()) return make_error("no sign-in", Errc::NotFound);
    if (acl_.shared()) {
      if (auto st = acl_.delete_record(kOidcRequests, request_key(nonce)); !st) return st.error();
    } else {
      std::lock_guard lock(mu_);
      if (mem_.erase(nonce) == 0) return make_error("no sign-in", Errc::NotFound);
    }
    return std::move(*it);
  }

 private:
  TokenStore& acl_;
  std::mutex mu_;
  std::map<std::string, auth::OidcRequest> mem_;  // by client nonce
};

}  // namespace

void register_oidc_endpoints(httplib::Server& s, TokenStore& acl, std::shared_ptr<auth::KeyCache> keys) {
  auto providers = std::make_shared<auth::ProviderCache>();
  auto sign_ins = std::make_shared<SignIns>(acl);
  s.Post("/v1/acl/oidc/auth-url", [&acl, providers, sign_ins](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> f;
    if (!read_fields(req, res, {"AuthMethodName", "RedirectURI", "ClientNonce"}, f)) return;
    auto method = oidc_method(acl, f["AuthMethodName"], res);
    if (!method) return;
    const std::int64_t now = state::now_ns();
    auto request = auth::new_oidc_request(*method, f["RedirectURI"], f["ClientNonce"], now);
    if (!request) return reply_error(res, request.error().code == Errc::Invalid ? 400 : 500, request.message());
    auto live = sign_ins->live(now);
    if (!live) return reply_error(res, 503, live.message());
    // The same nonce asked again (a page reloaded) gets its sign-in back, as in Nomad.
    auto same = std::find_if(live->begin(), live->end(),
                             [&](const auth::OidcRequest& r) { return r.client_nonce == request->client_nonce; });
    if (same != live->end()) {
      if (same->method != request->method || same->redirect_uri != request->redirect_uri)
        return reply_error(res, 400, "ClientNonce: a sign-in of another method or redirect URI has it");
      request = *same;
    } else if (live->size() >= auth::kMaxOidcRequests) {
      return reply_error(res, 429, "too many sign-ins under way (" + std::to_string(live->size()) +
                                       "); try again in a few minutes");
    }
    auto provider = providers->get(*method);
    if (!provider) return reply_error(res, 502, provider.message());
    if (same == live->end())
      if (auto st = sign_ins->put(request.value()); !st) return reply_error(res, 503, st.message());
    reply_json(res, {{"AuthURL", auth::authorization_url(provider.value(), *method, request.value())}});
  });

  s.Post("/v1/acl/oidc/complete-auth",
         [&acl, keys, providers, sign_ins](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> f;
    if (!read_fields(req, res, {"AuthMethodName", "ClientNonce", "State", "Code", "RedirectURI"}, f)) return;
    auto method = oidc_method(acl, f["AuthMethodName"], res);
    if (!method) return;
    const std::int64_t now = state::now_ns();
    auto it = sign_ins->take(f["ClientNonce"], now);
    if (!it && it.error().code == Errc::NotFound)
      return reply_error(res, 400, "ClientNonce: no sign-in under way has it (it took longer than 5 minutes, was "
                                   "completed already, or was never begun: POST /v1/acl/oidc/auth-url first)");
    if (!it) return reply_error(res, 503, it.message());
    if (it->method != method->name || it->redirect_uri != f["RedirectURI"])
      return reply_error(res, 400, "RedirectURI: not the method and redirect URI this sign-in began with");
    auto provider = providers->get(*method);
    if (!provider) return reply_error(res, 502, provider.message());
    auto claims = auth::complete_oidc(*method, provider.value(), it.value(), f["Code"], f["State"], f["Iss"], *keys,
                                      now / 1'000'000'000);
    if (!claims) {
      spdlog::info("acl: an OIDC login with auth method {} was refused: {}", method->name, claims.message());
      return reply_error(res, claims.error().code == Errc::Invalid ? 403 : 502, "Permission denied: " + claims.message());
    }
    // Nomad's VerboseLogging: the claims at debug level (they may hold personal data).
    if (method->oidc.verbose) spdlog::debug("acl: OIDC login with auth method {}: claims {}", method->name, claims->dump());
    auto bindings = binding_rules(acl);
    if (!bindings) return reply_error(res, 503, bindings.message());
    auto known = known_acl(acl);
    if (!known) return reply_error(res, 503, known.message());
    auto grant = auth::grant_for_claims(*method, bindings.value(), claims.value(), known.value());
    if (!grant) {
      spdlog::info("acl: an OIDC login with auth method {} was refused: {}", method->name, grant.message());
      return reply_error(res, 403, "Permission denied: " + grant.message());
    }
    reply_with_token(acl, *method, grant.value(), res);
  });
}

}  // namespace drover::api
