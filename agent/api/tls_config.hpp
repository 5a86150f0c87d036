// The `tls:` block of agent.yaml and server.yaml (docs/security.md, "TLS"): one reader and one
// check for both, so an agent and a server take the same keys and say the same errors.
//   tls: { cert_file, key_file, ca_file, verify_https_client }
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"

namespace drover::api {

// Empty cert_file: plain HTTP. ca_file is also the CA a server trusts when it calls agents
// and other servers (api/tls_transport.hpp).
struct TlsSettings {
  std::string cert_file, key_file, ca_file;
  bool verify_https_client = false;  // require a client cert signed by ca_file
  bool enabled() const { return !cert_file.empty(); }
};

// Reads the block's keys into `out`; each problem appended to `errors` as "\n  tls.<key>: ...".
void read_tls_config(const nlohmann::json& block, TlsSettings& out, std::string& errors);

// The rules across keys: cert_file and key_file together; verify_https_client needs a CA.
Status check_tls_config(const TlsSettings& tls);

}  // namespace drover::api
