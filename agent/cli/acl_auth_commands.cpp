// `drover acl auth-method create|list|info|update|delete`, `drover acl binding-rule
// create|list|info|update|delete` and `drover login`, Nomad's commands for logging in with a
// JWT or through an OIDC provider (docs/security.md, "Logging in with a JWT"). An update sends the record as it is with the
// flags given laid over it, as Nomad's merge does; -json prints the API's answer.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/command_context.hpp"
#include "cli/oidc_login.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

// Flags of `auth-method create|update`; an unset one leaves the record's value.
struct MethodFlags {
  std::string name, type, ttl, locality, name_format, config;
  bool is_default = false;
  bool default_given = false;
};

// -config: JSON inline, "@file", or "-" for stdin (Nomad's).
Result<json> read_config(const std::string& arg) {
  std::string text = arg;
  if (arg == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else if (!arg.empty() && arg.front() == '@') {
    std::ifstream in(arg.substr(1));
    if (!in) return make_error("-config: " + arg.substr(1) + " cannot be read");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error("-config: not a JSON object (give JSON, @file or -)");
  return j;
}

void print_method(Context& ctx, const json& m) {
  const json c = m.value("Config", json::object());
  auto list = [&](const char* k) {
    std::string out;
    if (c.contains(k) && c[k].is_array())
      for (const auto& v : c[k])
        if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
    return out.empty() ? std::string("<none>") : out;
  };
  auto mappings = [&](const char* k) {
    std::string out;
    if (c.contains(k) && c[k].is_object())
      for (const auto& [claim, name] : c[k].items())
        out += (out.empty() ? "" : "; ") + std::string("{") + claim + ": " +
               (name.is_string() ? name.get<std::string>() : name.dump()) + "}";
    return out.empty() ? std::string("<none>") : out;
  };
  const std::string keys = c.contains("JWTValidationPubKeys") && c["JWTValidationPubKeys"].is_array()
                               ? std::to_string(c["JWTValidationPubKeys"].size()) + " PEM key(s)"
                               : "<none>";
  const bool oidc = str_field(m, "Type") == "OIDC";
  auto flag = [&](const char* k) { return c.value(k, json(false)) == json(true) ? "true" : "false"; };
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Name", str_field(m, "Name")},
      {"Type", str_field(m, "Type")},
      {"Locality", str_field(m, "TokenLocality")},
      {"Max Token TTL", str_field(m, "MaxTokenTTL")},
      {"Token Name Format", str_field(m, "TokenNameFormat")},
      {"Default", bool_field(m, "Default") ? "true" : "false"}};
  if (!oidc) rows.insert(rows.end(), {{"JWT Validation Public Keys", keys}, {"JWKS URL", c.value("JWKSURL", std::string("<none>"))}});
  rows.emplace_back("OIDC Discovery URL", c.value("OIDCDiscoveryURL", std::string("<none>")));
  if (oidc)
    rows.insert(rows.end(), {{"OIDC Client ID", c.value("OIDCClientID", std::string("<none>"))},
                             {"OIDC Client Secret", c.value("OIDCClientSecret", std::string("<none>"))},
                             {"OIDC Scopes", list("OIDCScopes")},
                             {"OIDC Enable PKCE", flag("OIDCEnablePKCE")},
                             {"OIDC Disable UserInfo", flag("OIDCDisableUserInfo")},
                             {"Allowed redirects URIs", list("AllowedRedirectURIs")}});
  rows.insert(rows.end(), {{"Bound audiences", list("BoundAudiences")},
                           {"Bound issuer", list("BoundIssuer")},
                           {"Signing algorithms", list("SigningAlgs")},
                           {"Claim mappings", mappings("ClaimMappings")},
                           {"List claim mappings", mappings("ListClaimMappings")}});
  render_key_values(ctx.out, rows);
}

int write_method(Context& ctx, const MethodFlags& f, const std::string& existing) {
  json body = json::object();
  if (!existing.empty()) {
    auto old = ctx.api.get_json("/v1/acl/auth-method/" + url_escape(existing));
    if (!old) return print_error(ctx, old.message());
    body = *old;
    body.erase("CreateTime");
    body.erase("ModifyTime");
  }
  if (!f.name.empty()) body["Name"] = f.name;
  if (!f.type.empty()) body["Type"] = f.type;
  if (!f.ttl.empty()) body["MaxTokenTTL"] = f.ttl;
  if (!f.locality.empty()) body["TokenLocality"] = f.locality;
  if (!f.name_format.empty()) body["TokenNameFormat"] = f.name_format;
  if (f.default_given) body["Default"] = f.is_default;
  if (!f.config.empty()) {
    auto c = read_config(f.config);
    if (!c) return print_error(ctx, c.message());
    body["Config"] = *c;
  }
  const std::string path = "/v1/acl/auth-method" + (existing.empty() ? "" : "/" + url_escape(existing));
  return print_answer(ctx, ctx.api.post_json(path, body.dump(), "application/json"),
                      [&](const json& m) { print_method(ctx, m); });
}

void add_method_flags(CLI::App* cmd, MethodFlags& f) {
  cmd->add_option("--type", f.type, "JWT or OIDC");
  cmd->add_option("--max-token-ttl", f.ttl, "How long a login's token lasts (\"1h\")");
  cmd->add_option("--token-locality", f.locality, "local (the default) or global");
  cmd->add_option("--token-name-format", f.name_format,
                  "The login tokens' names: ${auth_method_type}, ${auth_method_name}, ${value.NAME}");
  cmd->add_flag("--default", f.is_default, "The method a login that names none uses")
      ->each([&f](const std::string&) { f.default_given = true; });
  cmd->add_option("--config", f.config, "The method's Config: JSON, @file, or - for stdin");
}

struct RuleFlags {
  std::string description, method, selector, bind_type, bind_name;
  bool selector_given = false;
};

void print_rule(Context& ctx, const json& r) {
  render_key_values(ctx.out, {{"ID", str_field(r, "ID")},
                              {"Description", str_field(r, "Description")},
                              {"Auth Method", str_field(r, "AuthMethod")},
                              {"Selector", "\"" + str_field(r, "Selector") + "\""},
                              {"Bind Type", str_field(r, "BindType")},
                              {"Bind Name", str_field(r, "BindName")},
                              {"Create Time", format_unix_nanos(int_field(r, "CreateTime"))},
                              {"Modify Time", format_unix_nanos(int_field(r, "ModifyTime"))}});
}

int write_rule(Context& ctx, const RuleFlags& f, const std::string& existing) {
  json body = json::object();
  if (!existing.empty()) {
    auto old = ctx.api.get_json("/v1/acl/binding-rule/" + url_escape(existing));
    if (!old) return print_error(ctx, old.message());
    body = *old;
  }
  if (!f.description.empty()) body["Description"] = f.description;
  if (!f.method.empty()) body["AuthMethod"] = f.method;
  if (f.selector_given) body["Selector"] = f.selector;
  if (!f.bind_type.empty()) body["BindType"] = f.bind_type;
  if (!f.bind_name.empty() || f.bind_type == "management") body["BindName"] = f.bind_name;
  const std::string path = "/v1/acl/binding-rule" + (existing.empty() ? "" : "/" + url_escape(existing));
  return print_answer(ctx, ctx.api.post_json(path, body.dump(), "application/json"),
                      [&](const json& r) { print_rule(ctx, r); });
}

void add_rule_flags(CLI::App* cmd, RuleFlags& f) {
  cmd->add_option("--description", f.description, "What the rule is for");
  cmd->add_option("--selector", f.selector, "Which logins it binds: \"admins in list.groups\"")
      ->each([&f](const std::string&) { f.selector_given = true; });
  cmd->add_option("--bind-type", f.bind_type, "role, policy or management");
  cmd->add_option("--bind-name", f.bind_name, "The role's or policy's name (may use ${value.NAME})");
}

int delete_at(Context& ctx, const std::string& path, const std::string& what) {
  auto r = ctx.api.del_json(path);
  if (!r) return print_error(ctx, r.message());
  ctx.out << what << " successfully deleted\n";
  return 0;
}

}  // namespace

void add_acl_auth_commands(CLI::App& acl, Handler& selected) {
  auto* method = acl.add_subcommand("auth-method", "Create, list, show, update and delete ACL auth methods");
  method->require_subcommand(1);
  auto* mcreate = method->add_subcommand("create", "Create an auth method (JWT)");
  auto mflags = std::make_shared<MethodFlags>();
  mcreate->add_option("--name", mflags->name, "The method's name")->required();
  add_method_flags(mcreate, *mflags);
  mcreate->callback([&selected, mflags] {
    selected = [mflags](Context& ctx) { return write_method(ctx, *mflags, ""); };
  });
  auto* mupdate = method->add_subcommand("update", "Change an auth method: the flags given, the rest kept");
  auto uflags = std::make_shared<MethodFlags>();
  auto uname = std::make_shared<std::string>();
  mupdate->add_option("name", *uname, "The method's name")->required();
  add_method_flags(mupdate, *uflags);
  mupdate->callback([&selected, uflags, uname] {
    selected = [uflags, uname](Context& ctx) { return write_method(ctx, *uflags, *uname); };
  });
  auto* mlist = method->add_subcommand("list", "List auth methods");
  mlist->callback([&selected] {
    selected = [](Context& ctx) {
      return print_answer(ctx, ctx.api.get_json("/v1/acl/auth-methods"), [&](const json& list) {
        Table table({"Name", "Type", "Default"});
        if (list.is_array())
          for (const auto& m : list)
            table.add_row({str_field(m, "Name"), str_field(m, "Type"), bool_field(m, "Default") ? "true" : "false"});
        table.render(ctx.out);
      });
    };
  });
  add_one_arg_command(method, selected, "info", "Show an auth method", "name", "The method's name",
                      [](Context& ctx, const std::string& name) {
                        return print_answer(ctx, ctx.api.get_json("/v1/acl/auth-method/" + url_escape(name)),
                                            [&](const json& m) { print_method(ctx, m); });
                      });
  add_one_arg_command(method, selected, "delete", "Delete an auth method and its binding rules", "name",
                      "The method's name", [](Context& ctx, const std::string& name) {
                        return delete_at(ctx, "/v1/acl/auth-method/" + url_escape(name),
                                         "ACL auth method " + name);
                      });

  auto* rule = acl.add_subcommand("binding-rule", "Create, list, show, update and delete ACL binding rules");
  rule->require_subcommand(1);
  auto* rcreate = rule->add_subcommand("create", "Create a binding rule for an auth method");
  auto rflags = std::make_shared<RuleFlags>();
  add_rule_flags(rcreate, *rflags);
  rcreate->add_option("--auth-method", rflags->method, "The auth method it binds for")->required();
  rcreate->callback([&selected, rflags] {
    selected = [rflags](Context& ctx) { return write_rule(ctx, *rflags, ""); };
  });
  auto* rupdate = rule->add_subcommand("update", "Change a binding rule: the flags given, the rest kept");
  auto ruflags = std::make_shared<RuleFlags>();
  auto rid = std::make_shared<std::string>();
  rupdate->add_option("id", *rid, "The rule's ID")->required();
  add_rule_flags(rupdate, *ruflags);
  rupdate->callback([&selected, ruflags, rid] {
    selected = [ruflags, rid](Context& ctx) { return write_rule(ctx, *ruflags, *rid); };
  });
  auto* rlist = rule->add_subcommand("list", "List binding rules");
  rlist->callback([&selected] {
    selected = [](Context& ctx) {
      return print_answer(ctx, ctx.api.get_json("/v1/acl/binding-rules"), [&](const json& list) {
        Table table({"ID", "Description", "Auth Method"});
        if (list.is_array())
          for (const auto& r : list)
            table.add_row({str_field(r, "ID"), str_field(r, "Description"), str_field(r, "AuthMethod")});
        table.render(ctx.out);
      });
    };
  });
  add_one_arg_command(rule, selected, "info", "Show a binding rule", "id", "The rule's ID",
                      [](Context& ctx, const std::string& id) {
                        return print_answer(ctx, ctx.api.get_json("/v1/acl/binding-rule/" + url_escape(id)),
                                            [&](const json& r) { print_rule(ctx, r); });
                      });
  add_one_arg_command(rule, selected, "delete", "Delete a binding rule", "id", "The rule's ID",
                      [](Context& ctx, const std::string& id) {
                        return delete_at(ctx, "/v1/acl/binding-rule/" + url_escape(id), "ACL binding rule " + id);
                      });
}

namespace {

void print_login(Context& ctx, const std::string& how, const json& t) {
  ctx.out << "Successfully logged in via " << how << "\n\n";
  std::string policies, roles;
  for (const auto& p : t.value("Policies", json::array()))
    if (p.is_string()) policies += (policies.empty() ? "" : ", ") + p.get<std::string>();
  for (const auto& r : t.value("Roles", json::array())) roles += (roles.empty() ? "" : ", ") + str_field(r, "Name");
  render_key_values(ctx.out, {{"Accessor ID", str_field(t, "AccessorID")},
                              {"Secret ID", str_field(t, "SecretID")},
                              {"Name", str_field(t, "Name")},
                              {"Type", str_field(t, "Type")},
                              {"Policies", policies},
                              {"Roles", roles},
                              {"Expiry Time", str_field(t, "ExpirationTime")}});
}

// The type of `method` (the default one when empty) and its name, from the method list that
// needs no token; an error names what is missing.
Result<std::pair<std::string, std::string>> method_type(Context& ctx, const std::string& method) {
  auto list = ctx.api.get_json("/v1/acl/auth-methods");
  if (!list) return list.error();
  if (list->is_array())
    for (const auto& m : list.value())
      if (method.empty() ? bool_field(m, "Default") : str_field(m, "Name") == method)
        return std::pair{str_field(m, "Type"), str_field(m, "Name")};
  return make_error(method.empty() ? "-method: required (no auth method is the default)"
                                   : "-method: no ACL auth method is named \"" + method + "\"");
}

}  // namespace

void add_login_command(CLI::App& app, Handler& selected) {
  auto* login = app.add_subcommand("login", "Log in through an auth method: a JWT, or a browser sign-in (OIDC)");
  auto method = std::make_shared<std::string>();
  auto token = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>();
  auto callback = std::make_shared<std::string>("localhost:4649");
  login->add_option("--method", *method, "The auth method (default: the cluster's default one)");
  login->add_option("--type", *type, "JWT or OIDC (default: the method's)");
  login->add_option("--login-token", *token, "The JWT of a JWT method (- reads it from stdin)");
  login->add_option("--oidc-callback-addr", *callback,
                    "Where an OIDC provider sends the browser back (default localhost:4649)");
  login->callback([&selected, method, token, type, callback] {
    selected = [method, token, type, callback](Context& ctx) {
      std::string kind = *type;
      for (auto& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!kind.empty() && kind != "JWT" && kind != "OIDC")
        return print_error(ctx, "-type: \"" + *type + "\" is not JWT or OIDC");
      std::string name = *method;
      if (kind.empty() || name.empty()) {
        auto found = method_type(ctx, *method);
        if (!found) return print_error(ctx, found.message());
        if (kind.empty()) kind = found->first;
        name = found->second;
      }
      if (kind == "OIDC") {
        if (!token->empty()) return print_error(ctx, "-login-token: an OIDC method signs in through a browser, not a JWT");
        auto t = oidc_login(ctx, name, *callback);
        return print_answer(ctx, t, [&](const json& j) { print_login(ctx, "OIDC and " + name, j); });
      }
      if (token->empty()) return print_error(ctx, "-login-token: required for a JWT method (- reads it from stdin)");
      std::string jwt = *token;
      if (jwt == "-") jwt.assign(std::istreambuf_iterator<char>(std::cin), {});
      while (!jwt.empty() && (jwt.back() == '\n' || jwt.back() == '\r' || jwt.back() == ' ')) jwt.pop_back();
      json body = {{"AuthMethodName", name}, {"LoginToken", jwt}};
      return print_answer(ctx, ctx.api.post_json("/v1/acl/login", body.dump(), "application/json"),
                          [&](const json& t) { print_login(ctx, "JWT and " + name, t); });
    };
  });
}

}  // namespace drover::cli
