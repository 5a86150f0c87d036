// TLS on the wire; see tls_transport.hpp.
#include "api/tls_transport.hpp"

#include <httplib.h>

namespace drover::api {

std::unique_ptr<httplib::Server> make_api_routes(const TlsSettings& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  // With a client CA, httplib requires and verifies the client's certificate.
  return std::make_unique<httplib::SSLServer>(
      tls.cert_file.c_str(), tls.key_file.c_str(),
      tls.verify_https_client && !tls.ca_file.empty() ? tls.ca_file.c_str() : nullptr);
}

Status check_api_routes(httplib::Server& routes, const TlsSettings& tls) {
  if (routes.is_valid()) return {};
  return make_error("tls: cannot load cert_file " + tls.cert_file + " / key_file " +
                    tls.key_file + (tls.ca_file.empty() ? "" : " / ca_file " + tls.ca_file) +
                    " (missing, unreadable, or not matching PEM files)");
}

SSL_CTX* api_tls_context(httplib::Server& routes, const TlsSettings& tls) {
  return tls.enabled() ? static_cast<httplib::SSLServer&>(routes).ssl_context() : nullptr;
}

std::string api_scheme(const TlsSettings& tls) { return tls.enabled() ? "https://" : "http://"; }

std::string peer_url(const std::string& addr, const TlsSettings& tls) {
  if (addr.find("://") != std::string::npos) return addr;
  return api_scheme(tls) + addr;
}

std::unique_ptr<httplib::Client> make_peer_client(const std::string& url, const TlsSettings& tls) {
  bool https = url.rfind("https://", 0) == 0;
  auto c = https && tls.enabled()
               ? std::make_unique<httplib::Client>(url, tls.cert_file, tls.key_file)
               : std::make_unique<httplib::Client>(url);
  if (https && !tls.ca_file.empty()) {
    c->set_ca_cert_path(tls.ca_file.c_str());
    c->enable_server_certificate_verification(true);
  }
  return c;
}

}  // namespace drover::api
