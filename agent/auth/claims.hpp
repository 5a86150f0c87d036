// What a login token's claims say, checked and mapped as a JWT auth method's config asks
// (docs/security.md, "Logging in with a JWT"): the registered claims (exp, nbf, iat, iss, aud)
// against the clock and the method's bounds, then ClaimMappings and ListClaimMappings into the
// value.NAME and list.NAME fields that binding rules select on and name bindings with.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/selector.hpp"
#include "drover/common/result.hpp"

namespace drover::auth {

struct ClaimBounds {
  std::vector<std::string> audiences;  // BoundAudiences: aud must name one (when set)
  std::vector<std::string> issuers;    // BoundIssuer: iss must be one (when set)
  std::chrono::seconds expiration_leeway{150};  // past exp
  std::chrono::seconds not_before_leeway{150};  // before nbf
  std::chrono::seconds clock_skew_leeway{60};   // iat in the future
};

// Why the claims are refused at `now` (unix seconds), or nothing. exp, nbf and iat are checked
// when present; aud and iss when the bounds name any.
Status check_claims(const nlohmann::json& claims, const ClaimBounds& bounds, std::int64_t now);

// The mapped fields: for each ClaimMappings entry (claim -> NAME), value.NAME is the claim as
// text ("" when absent); for each ListClaimMappings entry, list.NAME its items (a single
// value is a list of one; empty when absent). A claim named with a leading '/' is a JSON
// pointer into nested claims ("/resource_access/drover/roles"), else a top-level claim.
// An error names a claim that is an object, or a list where a value was asked for.
Result<SelectorInput> map_claims(const nlohmann::json& claims,
                                 const std::map<std::string, std::string>& values,
                                 const std::map<std::string, std::string>& lists);

// `format` with each ${value.NAME} and each of `fixed`'s ${NAME} replaced (Nomad's HIL-lite for
// BindName and TokenNameFormat). An error names an unknown ${...}.
Result<std::string> interpolate(const std::string& format, const SelectorInput& fields,
                                const std::map<std::string, std::string>& fixed = {});

}  // namespace drover::auth
