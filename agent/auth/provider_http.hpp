// Requests to an identity provider (docs/security.md, "Logging in with a JWT" and "Logging in
// through an OIDC provider"): its discovery document, its JWKS, its userinfo endpoint (GET)
// and its token endpoint (a form POST), each answered with JSON. Bounded so that a slow or
// hostile provider cannot hold a login or fill the agent's memory: 5 s to connect, 10 s to
// read, at most 1 MiB of reply.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::auth {

// Who a request shows itself as: a bearer token (userinfo), or a client id and secret in an
// Authorization: Basic header (a token endpoint's client_secret_basic). Empty: no header.
struct Credentials {
  std::string bearer;
  std::string basic_user, basic_password;
};

// GETs `url` and reads its body as JSON. An https URL's server is checked against `ca_pems`
// when given, else the system's CAs.
Result<nlohmann::json> fetch_json(const std::string& url, const std::vector<std::string>& ca_pems,
                                  const Credentials& as = {});

// POSTs `form` (application/x-www-form-urlencoded) to `url` and reads the reply as JSON.
// For both: a reply other than 200 is an Errc::Invalid error (the provider refused) that
// quotes the provider's own `error` and `error_description` when it gives them (RFC 6749,
// section 5.2); no reply, or one that is no JSON, is Errc::Internal.
Result<nlohmann::json> post_form_json(const std::string& url, const std::vector<std::string>& ca_pems,
                                      const std::vector<std::pair<std::string, std::string>>& form,
                                      const Credentials& as = {});

}  // namespace drover::auth
