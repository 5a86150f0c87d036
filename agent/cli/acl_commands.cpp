// `drover acl token create|list|self|info|delete`, Nomad's token commands on drover's tokens
// (docs/security.md, "Enabling tokens"): a token has one policy (read, submit, operate,
// management) where Nomad's has a type and policy names. The secret is printed once, by
// create; -json prints the API's answer.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

std::string expiry(const json& t) {
  const std::string e = str_field(t, "ExpirationTime");
  return e.empty() ? "<none>" : e;
}

void print_token(Context& ctx, const json& t) {
  KeyValues rows = {{"Accessor ID", str_field(t, "AccessorID")}};
  if (t.contains("SecretID")) rows.emplace_back("Secret ID", str_field(t, "SecretID"));
  rows.emplace_back("Name", str_field(t, "Name"));
  rows.emplace_back("Policy", str_field(t, "Policy"));
  rows.emplace_back("Create Time", format_unix_nanos(int_field(t, "CreateTime")));
  rows.emplace_back("Expiry Time", expiry(t));
  render_key_values(ctx.out, rows);
}

int show(Context& ctx, const std::string& path) {
  auto t = ctx.api.get_json(path);
  if (!t) return print_error(ctx, t.message());
  if (ctx.json) print_json(ctx, *t);
  else print_token(ctx, *t);
  return 0;
}

int create_token(Context& ctx, const std::string& name, const std::string& policy,
                 const std::string& ttl) {
  json body = {{"Name", name}, {"Policy", policy}};
  if (!ttl.empty()) body["ExpirationTTL"] = ttl;
  auto t = ctx.api.post_json("/v1/acl/token", body.dump(), "application/json");
  if (!t) return print_error(ctx, t.message());
  if (ctx.json) print_json(ctx, *t);
  else print_token(ctx, *t);
  return 0;
}

int list_tokens(Context& ctx) {
  auto list = ctx.api.get_json("/v1/acl/tokens");
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  Table table({"Name", "Policy", "Accessor ID", "Expiry Time"});
  if (list->is_array())
    for (const auto& t : *list)
      table.add_row({str_field(t, "Name"), str_field(t, "Policy"), str_field(t, "AccessorID"),
                     expiry(t)});
  table.render(ctx.out);
  return 0;
}

int delete_token(Context& ctx, const std::string& accessor) {
  auto r = ctx.api.del_json("/v1/acl/token/" + url_escape(accessor));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Token " << accessor << " successfully deleted\n";
  return 0;
}

}  // namespace

void add_acl_commands(CLI::App& app, Handler& selected) {
  auto* acl = app.add_subcommand("acl", "Work with the API's ACL tokens");
  acl->require_subcommand(1);
  auto* token = acl->add_subcommand("token", "Create, list, show and delete tokens");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "Create a token; its secret is printed once");
  auto name = std::make_shared<std::string>();
  auto policy = std::make_shared<std::string>();
  auto ttl = std::make_shared<std::string>();
  create->add_option("--name", *name, "A name for people to know it by");
  create->add_option("--policy", *policy, "read, submit, operate or management")->required();
  create->add_option("--ttl", *ttl, "Expire the token after this long (\"8h\"); default never");
  create->callback([&selected, name, policy, ttl] {
    selected = [name, policy, ttl](Context& ctx) {
      return create_token(ctx, *name, *policy, *ttl);
    };
  });

  auto* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->callback([&selected] { selected = [](Context& ctx) { return list_tokens(ctx); }; });

  auto* self = token->add_subcommand("self", "Show the token the CLI uses");
  self->callback([&selected] {
    selected = [](Context& ctx) { return show(ctx, "/v1/acl/token/self"); };
  });

  auto* info = token->add_subcommand("info", "Show a token by its accessor ID");
  auto info_id = std::make_shared<std::string>();
  info->add_option("accessor", *info_id, "Accessor ID")->required();
  info->callback([&selected, info_id] {
    selected = [info_id](Context& ctx) {
      return show(ctx, "/v1/acl/token/" + url_escape(*info_id));
    };
  });

  auto* del = token->add_subcommand("delete", "Revoke a token by its accessor ID");
  auto del_id = std::make_shared<std::string>();
  del->add_option("accessor", *del_id, "Accessor ID")->required();
  del->callback([&selected, del_id] {
    selected = [del_id](Context& ctx) { return delete_token(ctx, *del_id); };
  });
}

}  // namespace drover::cli
