// TLS on the wire, for the agent's API and the server's alike (docs/security.md, "TLS"): the
// routes object that terminates TLS when a cert is configured, and the client a server uses to
// call agents and other servers (https, verified against tls.ca_file, presenting its own cert
// so that peers with verify_https_client take it).
#pragma once

#include <memory>
#include <string>

#include "api/tls_config.hpp"
#include "drover/common/result.hpp"

namespace httplib {
class Server;
class Client;
}  // namespace httplib
typedef struct ssl_ctx_st SSL_CTX;

namespace drover::api {

// An httplib::SSLServer when tls has a cert (requiring client certs with verify_https_client),
// else a plain httplib::Server. Check it with check_api_routes before serving.
std::unique_ptr<httplib::Server> make_api_routes(const TlsSettings& tls);
// An error naming the files when the cert, key or CA did not load.
Status check_api_routes(httplib::Server& routes, const TlsSettings& tls);
// The context HttpServer does handshakes with (nullptr without TLS).
SSL_CTX* api_tls_context(httplib::Server& routes, const TlsSettings& tls);

// The scheme this process's API is served with: "https://" or "http://".
std::string api_scheme(const TlsSettings& tls);
// A peer's base URL: `addr` as it is when it has a scheme, else with this process's scheme (a
// cluster runs TLS on every hop or on none, as Nomad's tls.http).
std::string peer_url(const std::string& addr, const TlsSettings& tls);
// A client for a peer's API: for an https URL, the server's certificate verified against
// tls.ca_file (when set) and tls's cert presented as the client's.
std::unique_ptr<httplib::Client> make_peer_client(const std::string& url, const TlsSettings& tls);

}  // namespace drover::api
