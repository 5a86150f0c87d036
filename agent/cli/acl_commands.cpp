// `drover acl token create|list|self|info|delete`, `drover acl policy apply|list|info|delete`
// and `drover acl role create|list|info|delete`, Nomad's token, policy and role commands
// (auth methods and binding rules: acl_auth_commands.cpp)
// (docs/security.md, "Enabling tokens", "ACL policies"): a token has one of drover's built-in
// policies (read, submit, operate, management) or, as Nomad's client tokens, ACL policies and
// roles by name. The secret is
// printed once, by create; -json prints the API's answer.
#include <CLI/CLI.hpp>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
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

// A token's policies, as one line: its built-in policy, or its ACL policies' names.
std::string policy_names(const json& t) {
  if (t.contains("Policy") && t["Policy"].is_string()) return t["Policy"].get<std::string>();
  std::string out;
  if (t.contains("Policies") && t["Policies"].is_array())
    for (const auto& p : t["Policies"])
      if (p.is_string()) out += (out.empty() ? "" : ", ") + p.get<std::string>();
  return out;
}

// A client token's roles, as one line of their names.
std::string role_names(const json& t) {
  std::string out;
  if (t.contains("Roles") && t["Roles"].is_array())
    for (const auto& r : t["Roles"]) out += (out.empty() ? "" : ", ") + str_field(r, "Name");
  return out;
}

void print_token(Context& ctx, const json& t) {
  KeyValues rows = {{"Accessor ID", str_field(t, "AccessorID")}};
  if (t.contains("SecretID")) rows.emplace_back("Secret ID", str_field(t, "SecretID"));
  rows.emplace_back("Name", str_field(t, "Name"));
  if (t.contains("Policy") && t["Policy"].is_string()) {
    rows.emplace_back("Policy", str_field(t, "Policy"));
  } else {
    rows.emplace_back("Type", str_field(t, "Type"));
    rows.emplace_back("Policies", policy_names(t));
    rows.emplace_back("Roles", role_names(t));
  }
  rows.emplace_back("Create Time", format_unix_nanos(int_field(t, "CreateTime")));
  rows.emplace_back("Expiry Time", expiry(t));
  render_key_values(ctx.out, rows);
}

int show(Context& ctx, const std::string& path) {
  return print_answer(ctx, ctx.api.get_json(path), [&](const json& t) { print_token(ctx, t); });
}

struct RoleRefs {
  std::vector<std::string> names, ids;
};

int create_token(Context& ctx, const std::string& name, const std::vector<std::string>& policies,
                 const RoleRefs& roles, const std::string& type, const std::string& ttl) {
  if (policies.empty() && roles.names.empty() && roles.ids.empty() && type != "management")
    return print_error(ctx,
                       "-policy: give a built-in policy (read, submit, operate, management) "
                       "or the names of ACL policies (-policy repeats), ACL roles "
                       "(-role-name, -role-id), or -type management");
  json body = {{"Name", name}, {"Policies", policies}};
  json links = json::array();
  for (const auto& n : roles.names) links.push_back({{"Name", n}});
  for (const auto& id : roles.ids) links.push_back({{"ID", id}});
  if (!links.empty()) body["Roles"] = links;
  if (!type.empty()) body["Type"] = type;
  if (!ttl.empty()) body["ExpirationTTL"] = ttl;
  return print_answer(ctx, ctx.api.post_json("/v1/acl/token", body.dump(), "application/json"),
                      [&](const json& t) { print_token(ctx, t); });
}

int list_tokens(Context& ctx) {
  return print_answer(ctx, ctx.api.get_json("/v1/acl/tokens"), [&](const json& list) {
    Table table({"Name", "Policy", "Accessor ID", "Expiry Time"});
    if (list.is_array())
      for (const auto& t : list)
        table.add_row(
            {str_field(t, "Name"), policy_names(t), str_field(t, "AccessorID"), expiry(t)});
    table.render(ctx.out);
  });
}

int delete_token(Context& ctx, const std::string& accessor) {
  auto r = ctx.api.del_json("/v1/acl/token/" + url_escape(accessor));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Token " << accessor << " successfully deleted\n";
  return 0;
}

Result<std::string> read_rules(const std::string& file) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
    return text;
  }
  std::ifstream in(file);
  if (!in) return make_error(file + ": cannot be read");
  text.assign(std::istreambuf_iterator<char>(in), {});
  return text;
}

// Where `acl policy apply -job` attaches a policy: a job's (group's, task's) workload
// identities, in the -namespace given.
struct Attachment {
  std::string job, group, task;
};

int apply_policy(Context& ctx, const std::string& name, const std::string& file,
                 const std::string& description, const Attachment& to) {
  auto rules = read_rules(file);
  if (!rules) return print_error(ctx, rules.message());
  json body = {{"Name", name}, {"Description", description}, {"Rules", *rules}};
  if (!to.job.empty())
    body["JobACL"] = {{"Namespace", ctx.ns.empty() ? "default" : ctx.ns},
                      {"JobID", to.job},
                      {"Group", to.group},
                      {"Task", to.task}};
  else if (!to.group.empty() || !to.task.empty())
    return print_error(ctx, "-group and -task attach the policy to a job's tasks: give -job too");
  auto r = ctx.api.post_json("/v1/acl/policy/" + url_escape(name), body.dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully wrote \"" << name << "\" ACL policy!\n";
  return 0;
}

int list_policies(Context& ctx) {
  return print_answer(ctx, ctx.api.get_json("/v1/acl/policies"), [&](const json& list) {
    Table table({"Name", "Description"});
    if (list.is_array())
      for (const auto& p : list) table.add_row({str_field(p, "Name"), str_field(p, "Description")});
    table.render(ctx.out);
  });
}

void print_policy(Context& ctx, const json& p) {
  KeyValues rows = {{"Name", str_field(p, "Name")}, {"Description", str_field(p, "Description")}};
  if (const json job = p.value("JobACL", json()); job.is_object()) {
    std::string to = str_field(job, "Namespace") + "/" + str_field(job, "JobID");
    if (!str_field(job, "Group").empty()) to += "/" + str_field(job, "Group");
    if (!str_field(job, "Task").empty()) to += "/" + str_field(job, "Task");
    rows.emplace_back("Job", to);
  }
  rows.emplace_back("Create Time", format_unix_nanos(int_field(p, "CreateTime")));
  rows.emplace_back("Modify Time", format_unix_nanos(int_field(p, "ModifyTime")));
  render_key_values(ctx.out, rows);
  ctx.out << "\nRules\n\n" << str_field(p, "Rules") << "\n";
}

int show_policy(Context& ctx, const std::string& name) {
  return print_answer(ctx, ctx.api.get_json("/v1/acl/policy/" + url_escape(name)),
                      [&](const json& p) { print_policy(ctx, p); });
}

int delete_policy(Context& ctx, const std::string& name) {
  auto r = ctx.api.del_json("/v1/acl/policy/" + url_escape(name));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully deleted \"" << name << "\" ACL policy!\n";
  return 0;
}

void print_role(Context& ctx, const json& r) {
  std::string policies;
  if (r.contains("Policies") && r["Policies"].is_array())
    for (const auto& p : r["Policies"])
      policies += (policies.empty() ? "" : ", ") + str_field(p, "Name");
  render_key_values(ctx.out, {{"ID", str_field(r, "ID")},
                              {"Name", str_field(r, "Name")},
                              {"Description", str_field(r, "Description")},
                              {"Policies", policies}});
}

int create_role(Context& ctx, const std::string& name, const std::string& description,
                const std::vector<std::string>& policies) {
  json ps = json::array();
  for (const auto& p : policies) ps.push_back({{"Name", p}});
  json body = {{"Name", name}, {"Description", description}, {"Policies", ps}};
  return print_answer(ctx, ctx.api.post_json("/v1/acl/role", body.dump(), "application/json"),
                      [&](const json& r) { print_role(ctx, r); });
}

int list_roles(Context& ctx) {
  return print_answer(ctx, ctx.api.get_json("/v1/acl/roles"), [&](const json& list) {
    Table table({"ID", "Name", "Description"});
    if (list.is_array())
      for (const auto& r : list)
        table.add_row({str_field(r, "ID"), str_field(r, "Name"), str_field(r, "Description")});
    table.render(ctx.out);
  });
}

int show_role(Context& ctx, const std::string& id, bool by_name) {
  const std::string path =
      std::string(by_name ? "/v1/acl/role/name/" : "/v1/acl/role/") + url_escape(id);
  return print_answer(ctx, ctx.api.get_json(path), [&](const json& r) { print_role(ctx, r); });
}

int delete_role(Context& ctx, const std::string& id) {
  auto r = ctx.api.del_json("/v1/acl/role/" + url_escape(id));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "ACL role " << id << " successfully deleted\n";
  return 0;
}

}  // namespace

int print_answer(Context& ctx, const Result<json>& answer,
                 const std::function<void(const json&)>& render) {
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json)
    print_json(ctx, *answer);
  else
    render(*answer);
  return 0;
}

void add_one_arg_command(CLI::App* parent, Handler& selected, const char* name, const char* help,
                         const char* arg, const char* arg_help,
                         std::function<int(Context&, const std::string&)> run) {
  auto* cmd = parent->add_subcommand(name, help);
  auto value = std::make_shared<std::string>();
  cmd->add_option(arg, *value, arg_help)->required();
  cmd->callback([&selected, value, run] {
    selected = [value, run](Context& ctx) { return run(ctx, *value); };
  });
}

void add_acl_commands(CLI::App& app, Handler& selected) {
  auto* acl = app.add_subcommand("acl", "Work with the API's ACL tokens, policies and roles");
  acl->require_subcommand(1);
  auto* token = acl->add_subcommand("token", "Create, list, show and delete tokens");
  token->require_subcommand(1);

  auto* create = token->add_subcommand("create", "Create a token; its secret is printed once");
  auto name = std::make_shared<std::string>();
  auto policies = std::make_shared<std::vector<std::string>>();
  auto type = std::make_shared<std::string>();
  auto ttl = std::make_shared<std::string>();
  create->add_option("--name", *name, "A name for people to know it by");
  create->add_option("--policy", *policies,
                     "read, submit, operate or management; or an ACL policy's name (repeatable)");
  auto roles = std::make_shared<RoleRefs>();
  create->add_option("--role-name", roles->names, "An ACL role's name (repeatable)");
  create->add_option("--role-id", roles->ids, "An ACL role's ID (repeatable)");
  create->add_option("--type", *type, "client (the default) or management");
  create->add_option("--ttl", *ttl, "Expire the token after this long (\"8h\"); default never");
  create->callback([&selected, name, policies, roles, type, ttl] {
    selected = [name, policies, roles, type, ttl](Context& ctx) {
      return create_token(ctx, *name, *policies, *roles, *type, *ttl);
    };
  });

  auto* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->callback([&selected] { selected = [](Context& ctx) { return list_tokens(ctx); }; });

  auto* self = token->add_subcommand("self", "Show the token the CLI uses");
  self->callback([&selected] {
    selected = [](Context& ctx) { return show(ctx, "/v1/acl/token/self"); };
  });

  add_one_arg_command(token, selected, "info", "Show a token by its accessor ID", "accessor",
                      "Accessor ID", [](Context& ctx, const std::string& id) {
                        return show(ctx, "/v1/acl/token/" + url_escape(id));
                      });
  add_one_arg_command(token, selected, "delete", "Revoke a token by its accessor ID", "accessor",
                      "Accessor ID", delete_token);

  auto* policy = acl->add_subcommand("policy", "Write, list, show and delete ACL policies");
  policy->require_subcommand(1);
  auto* apply = policy->add_subcommand("apply", "Create or replace an ACL policy from a file");
  auto apply_name = std::make_shared<std::string>();
  auto apply_file = std::make_shared<std::string>();
  auto description = std::make_shared<std::string>();
  apply->add_option("--description", *description, "What the policy is for");
  auto attach = std::make_shared<Attachment>();
  apply->add_option("--job", attach->job,
                    "Attach the policy to this job's workload identities (in -namespace)");
  apply->add_option("--group", attach->group, "... to this group's tasks only (with -job)");
  apply->add_option("--task", attach->task, "... to this task only (with -job and -group)");
  apply->add_option("name", *apply_name, "The policy's name")->required();
  apply->add_option("file", *apply_file, "Its rules, HCL or JSON (- reads stdin)")->required();
  apply->callback([&selected, apply_name, apply_file, description, attach] {
    selected = [apply_name, apply_file, description, attach](Context& ctx) {
      return apply_policy(ctx, *apply_name, *apply_file, *description, *attach);
    };
  });
  auto* plist = policy->add_subcommand("list", "List ACL policies");
  plist->callback([&selected] { selected = [](Context& ctx) { return list_policies(ctx); }; });
  add_one_arg_command(policy, selected, "info", "Show an ACL policy and its rules", "name",
                      "The policy's name", show_policy);
  add_one_arg_command(policy, selected, "delete", "Delete an ACL policy", "name",
                      "The policy's name", delete_policy);

  auto* role = acl->add_subcommand("role", "Create, list, show and delete ACL roles");
  role->require_subcommand(1);
  auto* rcreate = role->add_subcommand("create", "Create an ACL role: a name for policies");
  auto rname = std::make_shared<std::string>();
  auto rdescription = std::make_shared<std::string>();
  auto rpolicies = std::make_shared<std::vector<std::string>>();
  rcreate->add_option("--name", *rname, "The role's name")->required();
  rcreate->add_option("--description", *rdescription, "What the role is for");
  rcreate->add_option("--policy", *rpolicies, "An ACL policy's name (repeatable)")->required();
  rcreate->callback([&selected, rname, rdescription, rpolicies] {
    selected = [rname, rdescription, rpolicies](Context& ctx) {
      return create_role(ctx, *rname, *rdescription, *rpolicies);
    };
  });
  auto* rlist = role->add_subcommand("list", "List ACL roles");
  rlist->callback([&selected] { selected = [](Context& ctx) { return list_roles(ctx); }; });
  auto* rinfo = role->add_subcommand("info", "Show an ACL role by its ID (or -by-name)");
  auto rinfo_id = std::make_shared<std::string>();
  auto by_name = std::make_shared<bool>(false);
  rinfo->add_option("id", *rinfo_id, "The role's ID, or its name with -by-name")->required();
  rinfo->add_flag("--by-name", *by_name, "Look the role up by its name");
  rinfo->callback([&selected, rinfo_id, by_name] {
    selected = [rinfo_id, by_name](Context& ctx) { return show_role(ctx, *rinfo_id, *by_name); };
  });
  add_one_arg_command(role, selected, "delete", "Delete an ACL role by its ID", "id",
                      "The role's ID", delete_role);
  add_acl_auth_commands(*acl, selected);
}

}  // namespace drover::cli
