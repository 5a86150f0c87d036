// The oidc_issuer setting of the agent and the server (docs/variables.md, "Signing keys"): the
// `iss` of workload identities, and where relying parties fetch
// <issuer>/.well-known/openid-configuration, so an http(s) URL with no query or fragment.
#pragma once

#include <string_view>

namespace drover::vars {

inline constexpr const char* kOidcIssuerRule =
    "must be an http(s) URL without query or fragment, such as \"https://drover.example.com\"";

inline bool valid_oidc_issuer(std::string_view s) {
  return (s.starts_with("https://") || s.starts_with("http://")) &&
         s.find_first_of("?# \t\n") == std::string_view::npos;
}

}  // namespace drover::vars
