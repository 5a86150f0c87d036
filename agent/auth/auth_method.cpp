// Auth method and binding rule records; see auth_method.hpp.
#include "auth/auth_method.hpp"

#include <regex>

#include "auth/jwt_keys.hpp"
#include "jobspec/parse.hpp"

namespace drover::auth {
namespace {

using nlohmann::json;

Error bad(const std::string& field, const std::string& why) {
  return make_error(field + ": " + why, Errc::Invalid);
}

Result<std::string> text_field(const json& o, const char* name, const std::string& field,
                               std::size_t max = 4096) {
  if (!o.contains(name) || o[name].is_null()) return std::string();
  if (!o[name].is_string()) return bad(field, "must be a string");
  auto s = o[name].get<std::string>();
  if (s.size() > max) return bad(field, "longer than " + std::to_string(max) + " characters");
  return s;
}

Result<std::vector<std::string>> list_field(const json& o, const char* name, const std::string& field) {
  std::vector<std::string> out;
  if (!o.contains(name) || o[name].is_null()) return out;
  if (!o[name].is_array()) return bad(field, "must be a list of strings");
  for (const auto& v : o[name]) {
    if (!v.is_string()) return bad(field, "must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> map_field(const json& o, const char* name, const std::string& field) {
  std::map<std::string, std::string> out;
  if (!o.contains(name) || o[name].is_null()) return out;
  if (!o[name].is_object()) return bad(field, "must be an object of claim -> name");
  static const std::regex valid_name("^[a-zA-Z0-9_-]{1,128}$");
  for (const auto& [claim, v] : o[name].items()) {
    if (!v.is_string() || !std::regex_match(v.get<std::string>(), valid_name))
      return bad(field + "[\"" + claim + "\"]", "must name a field of 1 to 128 letters, digits, '-' or '_'");
    out[claim] = v.get<std::string>();
  }
  return out;
}

// A duration as Nomad's API writes one: Go's text ("1h30m") or nanoseconds.
Result<std::chrono::nanoseconds> duration_field(const json& o, const char* name, const std::string& field) {
  if (!o.contains(name) || o[name].is_null()) return std::chrono::nanoseconds{};
  const auto& v = o[name];
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return std::chrono::nanoseconds(v.get<std::int64_t>());
  if (v.is_string()) {
    if (v.get<std::string>().empty()) return std::chrono::nanoseconds{};
    auto d = jobspec::parse_duration(v.get<std::string>());
    if (d && d.value().count() >= 0) return std::chrono::duration_cast<std::chrono::nanoseconds>(d.value());
  }
  return bad(field, "must be a duration such as \"1h\" or \"90s\" (or nanoseconds)");
}

// Nomad's leeways: 0 leaves the default, a negative one (-1) means none.
Result<std::chrono::seconds> leeway_field(const json& o, const char* name, const std::string& field,
                                          std::chrono::seconds fallback) {
  if (o.contains(name) && o[name].is_number_integer() && o[name].get<std::int64_t>() < 0)
    return std::chrono::seconds{0};
  auto d = duration_field(o, name, field);
  if (!d) return d.error();
  if (d.value().count() == 0) return fallback;
  return std::chrono::duration_cast<std::chrono::seconds>(d.value());
}

std::string go_duration(std::chrono::nanoseconds d) {
  if (d.count() == 0) return "";
  return jobspec::format_duration(std::chrono::duration_cast<jobspec::Duration>(d));
}

Status check_url(const std::string& url, const std::string& field) {
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    return bad(field, "\"" + url + "\" is not an http:// or https:// URL");
  return {};
}

// The ${...} names `format` uses, each checked as one of `allowed` or value.NAME.
Status check_template(const std::string& format, const std::string& field,
                      const std::vector<std::string>& allowed) {
  SelectorInput probe;
  std::map<std::string, std::string> fixed;
  for (const auto& a : allowed) fixed[a] = "x";
  // Every value.NAME is accepted here: which exist depends on the method's mappings.
  std::size_t i = 0;
  while ((i = format.find("${", i)) != std::string::npos) {
    const auto close = format.find('}', i);
    if (close == std::string::npos) return bad(field, "a ${ is not closed");
    std::string name = format.substr(i + 2, close - i - 2);
    if (name.rfind("value.", 0) == 0) probe.values[name.substr(6)] = "x";
    i = close + 1;
  }
  if (auto r = interpolate(format, probe, fixed); !r) return bad(field, r.message());
  return {};
}

Result<bool> bool_field(const json& o, const char* name, const std::string& field) {
  if (!o.contains(name) || o[name].is_null()) return false;
  if (!o[name].is_boolean()) return bad(field, "must be true or false");
  return o[name].get<bool>();
}

// An OIDC method's client fields; its keys come from its discovery document alone.
Status read_oidc_client(const json& c, AuthMethod& m) {
  if (m.keys.discovery_url.empty())
    return bad("Config.OIDCDiscoveryURL", "required for an OIDC method: the provider's issuer URL, where "
                                          "/.well-known/openid-configuration is");
  if (!m.keys.pem_keys.empty() || !m.keys.jwks_url.empty())
    return bad(m.keys.pem_keys.empty() ? "Config.JWKSURL" : "Config.JWTValidationPubKeys",
               "an OIDC method checks ID tokens with the keys its OIDCDiscoveryURL names; give this to a JWT method");
  if (c.contains("OIDCClientAssertion") && !c["OIDCClientAssertion"].is_null())
    return bad("Config.OIDCClientAssertion", "not supported by drover (give OIDCClientSecret, or none with OIDCEnablePKCE)");
  auto id = text_field(c, "OIDCClientID", "Config.OIDCClientID", 1024);
  if (!id) return id.error();
  if (id->empty()) return bad("Config.OIDCClientID", "required for an OIDC method: the client ID the provider gave drover");
  m.oidc.client_id = id.value();
  auto secret = text_field(c, "OIDCClientSecret", "Config.OIDCClientSecret", 4096);
  if (!secret) return secret.error();
  m.oidc.client_secret = secret.value();
  auto scopes = list_field(c, "OIDCScopes", "Config.OIDCScopes");
  if (!scopes) return scopes.error();
  for (const auto& sc : scopes.value())
    if (sc.empty() || sc.find_first_of(" \t\r\n\"\\") != std::string::npos)
      return bad("Config.OIDCScopes", "\"" + sc + "\" is not a scope (one word, no space or quote)");
  m.oidc.scopes = scopes.value();
  auto uris = list_field(c, "AllowedRedirectURIs", "Config.AllowedRedirectURIs");
  if (!uris) return uris.error();
  if (uris->empty())
    return bad("Config.AllowedRedirectURIs", "required for an OIDC method: where a login may return, such as "
                                             "http://localhost:4649/oidc/callback (drover login) and "
                                             "https://AGENT:4646/ui/settings/tokens (the web UI)");
  for (std::size_t i = 0; i < uris->size(); ++i)
    if (auto st = check_url((*uris)[i], "Config.AllowedRedirectURIs[" + std::to_string(i) + "]"); !st) return st;
  m.oidc.redirect_uris = uris.value();
  for (auto [name, slot] : {std::pair{"OIDCEnablePKCE", &m.oidc.pkce}, std::pair{"OIDCDisableUserInfo", &m.oidc.disable_userinfo},
                            std::pair{"VerboseLogging", &m.oidc.verbose}}) {
    auto b = bool_field(c, name, std::string("Config.") + name);
    if (!b) return b.error();
    *slot = b.value();
  }
  return {};
}

}  // namespace

Result<AuthMethod> auth_method_from_json(const json& body, const std::string& name_from_path) {
  if (!body.is_object()) return bad("body", "must be a JSON object {\"Name\", \"Type\", \"Config\", ...}");
  AuthMethod m;
  auto name = text_field(body, "Name", "Name", 128);
  if (!name) return name.error();
  m.name = name.value().empty() ? name_from_path : name.value();
  if (!name_from_path.empty() && m.name != name_from_path)
    return bad("Name", "the body's \"" + m.name + "\" differs from the path's \"" + name_from_path + "\"");
  static const std::regex valid_name("^[a-zA-Z0-9-]{1,128}$");
  if (!std::regex_match(m.name, valid_name)) return bad("Name", "1 to 128 letters, digits or '-'");
  auto type = text_field(body, "Type", "Type");
  if (!type) return type.error();
  m.type = type.value();
  for (auto& c : m.type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (m.type != "JWT" && m.type != "OIDC") return bad("Type", "\"" + type.value() + "\" is not JWT or OIDC");
  auto locality = text_field(body, "TokenLocality", "TokenLocality");
  if (!locality) return locality.error();
  if (!locality.value().empty()) m.token_locality = locality.value();
  if (m.token_locality != "local" && m.token_locality != "global")
    return bad("TokenLocality", "\"" + m.token_locality + "\" is not local or global");
  auto format = text_field(body, "TokenNameFormat", "TokenNameFormat", 256);
  if (!format) return format.error();
  if (!format.value().empty()) m.token_name_format = format.value();
  if (auto st = check_template(m.token_name_format, "TokenNameFormat", {"auth_method_type", "auth_method_name"}); !st)
    return st.error();
  auto ttl = duration_field(body, "MaxTokenTTL", "MaxTokenTTL");
  if (!ttl) return ttl.error();
  m.max_token_ttl = ttl.value();
  if (m.max_token_ttl < std::chrono::seconds(1))
    return bad("MaxTokenTTL", "required: how long a login's token lasts, at least \"1s\"");
  if (body.contains("Default") && !body["Default"].is_null()) {
    if (!body["Default"].is_boolean()) return bad("Default", "must be true or false");
    m.is_default = body["Default"].get<bool>();
  }
  if (body.contains("CreateTime") && body["CreateTime"].is_number_integer())
    m.create_time_ns = body["CreateTime"].get<std::int64_t>();
  if (body.contains("ModifyTime") && body["ModifyTime"].is_number_integer())
    m.modify_time_ns = body["ModifyTime"].get<std::int64_t>();

  if (!body.contains("Config") || !body["Config"].is_object())
    return bad("Config", "required: an object with JWTValidationPubKeys, JWKSURL or OIDCDiscoveryURL");
  const json& c = body["Config"];
  m.config = c;
  auto keys = list_field(c, "JWTValidationPubKeys", "Config.JWTValidationPubKeys");
  if (!keys) return keys.error();
  m.keys.pem_keys = keys.value();
  for (std::size_t i = 0; i < m.keys.pem_keys.size(); ++i)
    if (auto k = pem_public_key(m.keys.pem_keys[i]); !k)
      return bad("Config.JWTValidationPubKeys[" + std::to_string(i) + "]", k.message());
  for (auto [name, slot] : {std::pair{"JWKSURL", &m.keys.jwks_url}, std::pair{"JWKSCACert", &m.keys.jwks_ca_cert},
                            std::pair{"OIDCDiscoveryURL", &m.keys.discovery_url}}) {
    auto v = text_field(c, name, std::string("Config.") + name, 65536);
    if (!v) return v.error();
    *slot = v.value();
  }
  auto dca = list_field(c, "DiscoveryCaPem", "Config.DiscoveryCaPem");
  if (!dca) return dca.error();
  m.keys.discovery_ca_pem = dca.value();
  const int sources = !m.keys.pem_keys.empty() + !m.keys.jwks_url.empty() + !m.keys.discovery_url.empty();
  if (m.type == "OIDC") {
    if (auto st = read_oidc_client(c, m); !st) return st.error();
  } else if (sources != 1)
    return bad("Config", "give exactly one of JWTValidationPubKeys, JWKSURL and OIDCDiscoveryURL (" +
                             std::to_string(sources) + " given)");
  if (!m.keys.jwks_url.empty())
    if (auto st = check_url(m.keys.jwks_url, "Config.JWKSURL"); !st) return st.error();
  if (!m.keys.discovery_url.empty())
    if (auto st = check_url(m.keys.discovery_url, "Config.OIDCDiscoveryURL"); !st) return st.error();
  auto aud = list_field(c, "BoundAudiences", "Config.BoundAudiences");
  if (!aud) return aud.error();
  m.bounds.audiences = aud.value();
  // Nomad's BoundIssuer is a list; a single string is taken as one.
  if (c.contains("BoundIssuer") && c["BoundIssuer"].is_string()) {
    if (!c["BoundIssuer"].get<std::string>().empty()) m.bounds.issuers.push_back(c["BoundIssuer"].get<std::string>());
  } else {
    auto iss = list_field(c, "BoundIssuer", "Config.BoundIssuer");
    if (!iss) return iss.error();
    m.bounds.issuers = iss.value();
  }
  for (auto [name, slot, fallback] :
       {std::tuple{"ExpirationLeeway", &m.bounds.expiration_leeway, m.bounds.expiration_leeway},
        std::tuple{"NotBeforeLeeway", &m.bounds.not_before_leeway, m.bounds.not_before_leeway},
        std::tuple{"ClockSkewLeeway", &m.bounds.clock_skew_leeway, m.bounds.clock_skew_leeway}}) {
    auto l = leeway_field(c, name, std::string("Config.") + name, fallback);
    if (!l) return l.error();
    *slot = l.value();
  }
  auto algs = list_field(c, "SigningAlgs", "Config.SigningAlgs");
  if (!algs) return algs.error();
  m.signing_algs = algs.value();
  for (const auto& a : m.signing_algs)
    if (!known_algorithm(a))
      return bad("Config.SigningAlgs", "\"" + a + "\" is not one of RS256, RS384, RS512, PS256, PS384, "
                                               "PS512, ES256, ES384, ES512, EdDSA");
  auto cm = map_field(c, "ClaimMappings", "Config.ClaimMappings");
  if (!cm) return cm.error();
  m.claim_mappings = cm.value();
  auto lm = map_field(c, "ListClaimMappings", "Config.ListClaimMappings");
  if (!lm) return lm.error();
  m.list_claim_mappings = lm.value();
  for (const auto& [claim, name] : m.claim_mappings)
    for (const auto& [lclaim, lname] : m.list_claim_mappings)
      if (name == lname)
        return bad("Config.ListClaimMappings[\"" + lclaim + "\"]",
                   "\"" + name + "\" is also a ClaimMappings name");
  return m;
}

json auth_method_json(const AuthMethod& m, bool redact) {
  json config = m.config;
  if (redact && !m.oidc.client_secret.empty()) config["OIDCClientSecret"] = kRedacted;
  return {{"Name", m.name},
          {"Type", m.type},
          {"TokenLocality", m.token_locality},
          {"TokenNameFormat", m.token_name_format},
          {"MaxTokenTTL", go_duration(m.max_token_ttl)},
          {"Default", m.is_default},
          {"Config", config},
          {"CreateTime", m.create_time_ns},
          {"ModifyTime", m.modify_time_ns},
          {"CreateIndex", 0},
          {"ModifyIndex", 0}};
}

json auth_method_stub(const AuthMethod& m) {
  return {{"Name", m.name}, {"Type", m.type}, {"Default", m.is_default}, {"CreateIndex", 0}, {"ModifyIndex", 0}};
}

Result<BindingRule> binding_rule_from_json(const json& body) {
  if (!body.is_object())
    return bad("body", "must be a JSON object {\"AuthMethod\", \"Selector\", \"BindType\", \"BindName\"}");
  BindingRule r;
  auto id = text_field(body, "ID", "ID", 64);
  if (!id) return id.error();
  r.id = id.value();
  auto desc = text_field(body, "Description", "Description", 256);
  if (!desc) return desc.error();
  r.description = desc.value();
  auto method = text_field(body, "AuthMethod", "AuthMethod", 128);
  if (!method) return method.error();
  r.auth_method = method.value();
  if (r.auth_method.empty()) return bad("AuthMethod", "required: the auth method this rule binds for");
  auto sel = text_field(body, "Selector", "Selector", 4096);
  if (!sel) return sel.error();
  r.selector_text = sel.value();
  auto parsed = Selector::parse(r.selector_text);
  if (!parsed) return bad("Selector", parsed.message());
  r.selector = parsed.value();
  auto type = text_field(body, "BindType", "BindType");
  if (!type) return type.error();
  r.bind_type = type.value();
  if (r.bind_type != "role" && r.bind_type != "policy" && r.bind_type != "management")
    return bad("BindType", "\"" + r.bind_type + "\" is not one of role, policy, management");
  auto name = text_field(body, "BindName", "BindName", 256);
  if (!name) return name.error();
  r.bind_name = name.value();
  if (r.bind_type == "management" && !r.bind_name.empty())
    return bad("BindName", "a management binding names nothing");
  if (r.bind_type != "management") {
    if (r.bind_name.empty()) return bad("BindName", "required: the " + r.bind_type + " to bind");
    if (auto st = check_template(r.bind_name, "BindName", {}); !st) return st.error();
  }
  if (body.contains("CreateTime") && body["CreateTime"].is_number_integer())
    r.create_time_ns = body["CreateTime"].get<std::int64_t>();
  if (body.contains("ModifyTime") && body["ModifyTime"].is_number_integer())
    r.modify_time_ns = body["ModifyTime"].get<std::int64_t>();
  return r;
}

json binding_rule_json(const BindingRule& r) {
  return {{"ID", r.id},
          {"Description", r.description},
          {"AuthMethod", r.auth_method},
          {"Selector", r.selector_text},
          {"BindType", r.bind_type},
          {"BindName", r.bind_name},
          {"CreateTime", r.create_time_ns},
          {"ModifyTime", r.modify_time_ns},
          {"CreateIndex", 0},
          {"ModifyIndex", 0}};
}

}  // namespace drover::auth
