// `drover login` through an OIDC auth method (Nomad's `nomad login -type=OIDC`;
// docs/security.md, "Logging in through an OIDC provider"): a callback server on
// -oidc-callback-addr (localhost:4649), the provider's URL printed (and opened with xdg-open
// where there is a display), the code and state the browser brings back traded for a token.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_context.hpp"
#include "drover/common/result.hpp"

namespace drover::cli {

// The ACL token of a sign-in through `method` (its SecretID included), or why there is none:
// the callback address cannot be listened on, the agent refused, the provider sent an error
// back, or no one came back within 5 minutes.
Result<nlohmann::json> oidc_login(Context& ctx, const std::string& method, const std::string& callback_addr);

}  // namespace drover::cli
