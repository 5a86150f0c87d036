// Requests to an identity provider; see provider_http.hpp.
#include "auth/provider_http.hpp"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "drover/common/encoding.hpp"

namespace drover::auth {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxDocument = 1 << 20;

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

struct Target {
  std::unique_ptr<httplib::Client> client;
  std::string path;  // with its query
};

Result<Target> target(const std::string& url, const std::vector<std::string>& ca_pems) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return make_error("\"" + url + "\" is not a URL", Errc::Invalid);
  const auto path_at = url.find('/', scheme_end + 3);
  Target t;
  t.path = path_at == std::string::npos ? "/" : url.substr(path_at);
  t.client = std::make_unique<httplib::Client>(path_at == std::string::npos ? url : url.substr(0, path_at));
  if (!t.client->is_valid()) return make_error("\"" + url + "\": cannot make a client for it", Errc::Invalid);
  t.client->set_connection_timeout(std::chrono::seconds(5));
  t.client->set_read_timeout(std::chrono::seconds(10));
  if (url.rfind("https://", 0) == 0) {
    if (!ca_pems.empty()) {
      X509_STORE* store = ca_store(ca_pems);
      if (!store) return make_error("the CA certificate given for \"" + url + "\" is not PEM", Errc::Invalid);
      t.client->set_ca_cert_store(store);  // the client's SSL context owns it from here
    }
    t.client->enable_server_certificate_verification(true);
  }
  return t;
}

httplib::Headers headers_for(const Credentials& as) {
  httplib::Headers h{{"Accept", "application/json"}};
  if (!as.bearer.empty()) h.emplace("Authorization", "Bearer " + as.bearer);
  if (!as.basic_user.empty())
    h.emplace("Authorization", "Basic " + base64_encode(as.basic_user + ":" + as.basic_password));
  return h;
}

// The reply's body as JSON, or why not; `what` names the request ("GET https://...").
Result<json> read_reply(const std::string& what, const httplib::Result& res, bool too_big,
                        const std::string& body) {
  if (too_big) return make_error(what + ": the reply is larger than 1 MiB");
  if (!res) return make_error(what + ": " + httplib::to_string(res.error()));
  auto j = json::parse(body, nullptr, false);
  if (res->status != 200) {
    std::string why = "HTTP " + std::to_string(res->status);
    if (j.is_object() && j.value("error", json()).is_string()) {
      why += ": " + j["error"].get<std::string>();
      if (j.value("error_description", json()).is_string())
        why += " (" + j["error_description"].get<std::string>() + ")";
    }
    return make_error(what + ": " + why, Errc::Invalid);
  }
  if (j.is_discarded()) return make_error(what + ": the reply is not JSON");
  return j;
}

}  // namespace

Result<json> fetch_json(const std::string& url, const std::vector<std::string>& ca_pems, const Credentials& as) {
  auto t = target(url, ca_pems);
  if (!t) return t.error();
  std::string body;
  bool too_big = false;
  auto res = t->client->Get(t->path.c_str(), headers_for(as), [&](const char* data, std::size_t n) {
    if (body.size() + n > kMaxDocument) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  return read_reply("GET " + url, res, too_big, body);
}

Result<json> post_form_json(const std::string& url, const std::vector<std::string>& ca_pems,
                            const std::vector<std::pair<std::string, std::string>>& form, const Credentials& as) {
  auto t = target(url, ca_pems);
  if (!t) return t.error();
  std::string encoded;
  for (const auto& [k, v] : form) encoded += (encoded.empty() ? "" : "&") + percent_encode(k) + "=" + percent_encode(v);
  httplib::Request req;
  req.method = "POST";
  req.path = t->path;
  req.headers = headers_for(as);
  req.set_header("Content-Type", "application/x-www-form-urlencoded");
  req.body = encoded;
  std::string body;
  bool too_big = false;
  req.content_receiver = [&](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    if (body.size() + n > kMaxDocument) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  };
  auto res = t->client->send(req);
  return read_reply("POST " + url, res, too_big, body);
}

}  // namespace drover::auth
