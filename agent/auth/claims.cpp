// Registered-claim checks, claim mappings and ${} interpolation; see claims.hpp.
#include "auth/claims.hpp"

#include <algorithm>

namespace drover::auth {
namespace {

using nlohmann::json;

std::optional<std::int64_t> numeric_date(const json& claims, const char* name, Status* bad) {
  if (!claims.contains(name)) return std::nullopt;
  const auto& v = claims[name];
  if (!v.is_number()) {
    *bad = make_error(std::string(name) + ": must be a number of seconds since 1970", Errc::Invalid);
    return std::nullopt;
  }
  return static_cast<std::int64_t>(v.get<double>());
}

const json* find_claim(const json& claims, const std::string& name) {
  if (!name.empty() && name.front() == '/') {
    try {
      const json::json_pointer ptr(name);
      return claims.contains(ptr) ? &claims.at(ptr) : nullptr;
    } catch (const json::exception&) {
      return nullptr;
    }
  }
  auto it = claims.find(name);
  return it == claims.end() ? nullptr : &*it;
}

std::optional<std::string> scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return v.dump();
  return std::nullopt;
}

}  // namespace

Status check_claims(const json& claims, const ClaimBounds& bounds, std::int64_t now) {
  Status bad;
  if (auto exp = numeric_date(claims, "exp", &bad); exp && now > *exp + bounds.expiration_leeway.count())
    return make_error("exp: the token expired " + std::to_string(now - *exp) + " s ago", Errc::Invalid);
  if (!bad) return bad;
  if (auto nbf = numeric_date(claims, "nbf", &bad); nbf && now + bounds.not_before_leeway.count() < *nbf)
    return make_error("nbf: the token is not valid for another " + std::to_string(*nbf - now) + " s",
                      Errc::Invalid);
  if (!bad) return bad;
  if (auto iat = numeric_date(claims, "iat", &bad); iat && now + bounds.clock_skew_leeway.count() < *iat)
    return make_error("iat: the token was issued " + std::to_string(*iat - now) + " s in the future",
                      Errc::Invalid);
  if (!bad) return bad;
  if (!bounds.issuers.empty()) {
    const std::string iss = claims.contains("iss") && claims["iss"].is_string() ? claims["iss"].get<std::string>() : "";
    if (std::find(bounds.issuers.begin(), bounds.issuers.end(), iss) == bounds.issuers.end())
      return make_error("iss: \"" + iss + "\" is not the auth method's BoundIssuer", Errc::Invalid);
  }
  if (!bounds.audiences.empty()) {
    std::vector<std::string> aud;
    if (claims.contains("aud")) {
      const auto& a = claims["aud"];
      if (a.is_string()) aud.push_back(a.get<std::string>());
      if (a.is_array())
        for (const auto& x : a)
          if (x.is_string()) aud.push_back(x.get<std::string>());
    }
    if (std::none_of(aud.begin(), aud.end(), [&](const std::string& x) {
          return std::find(bounds.audiences.begin(), bounds.audiences.end(), x) != bounds.audiences.end();
        }))
      return make_error("aud: the token names none of the auth method's BoundAudiences", Errc::Invalid);
  }
  return {};
}

Result<SelectorInput> map_claims(const json& claims, const std::map<std::string, std::string>& values,
                                 const std::map<std::string, std::string>& lists) {
  SelectorInput out;
  for (const auto& [claim, name] : values) {
    auto& slot = out.values[name];
    const json* v = find_claim(claims, claim);
    if (!v || v->is_null()) continue;
    auto text = scalar_text(*v);
    if (!text)
      return make_error("claim \"" + claim + "\" (ClaimMappings, value." + name +
                            "): is a list or an object, not a value (map it in ListClaimMappings)",
                        Errc::Invalid);
    slot = std::move(*text);
  }
  for (const auto& [claim, name] : lists) {
    auto& slot = out.lists[name];
    const json* v = find_claim(claims, claim);
    if (!v || v->is_null()) continue;
    if (!v->is_array()) {
      auto text = scalar_text(*v);
      if (!text)
        return make_error("claim \"" + claim + "\" (ListClaimMappings, list." + name + "): is an object",
                          Errc::Invalid);
      slot.push_back(std::move(*text));
      continue;
    }
    for (const auto& item : *v) {
      auto text = scalar_text(item);
      if (!text)
        return make_error("claim \"" + claim + "\" (ListClaimMappings, list." + name +
                              "): holds a list or an object",
                          Errc::Invalid);
      slot.push_back(std::move(*text));
    }
  }
  return out;
}

Result<std::string> interpolate(const std::string& format, const SelectorInput& fields,
                                const std::map<std::string, std::string>& fixed) {
  std::string out;
  std::size_t i = 0;
  while (i < format.size()) {
    const auto open = format.find("${", i);
    if (open == std::string::npos) {
      out += format.substr(i);
      break;
    }
    out += format.substr(i, open - i);
    const auto close = format.find('}', open);
    if (close == std::string::npos)
      return make_error("\"" + format + "\": a ${ is not closed", Errc::Invalid);
    std::string name = format.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (auto f = fixed.find(name); f != fixed.end()) {
      out += f->second;
    } else if (name.rfind("value.", 0) == 0 && fields.values.count(name.substr(6))) {
      out += fields.values.at(name.substr(6));
    } else {
      return make_error("\"" + format + "\": ${" + name + "} is not known (value.NAME of the method's "
                            "ClaimMappings" + (fixed.empty() ? "" : ", or one of the fixed names") + ")",
                        Errc::Invalid);
    }
    i = close + 1;
  }
  return out;
}

}  // namespace drover::auth
