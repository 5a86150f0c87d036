// `drover node pool list|info|nodes|jobs|apply|delete`, Nomad's (1.6) node pool commands
// against a drover server (docs/cluster.md, "Node pools"). `apply` reads Nomad's pool file,
// HCL (`node_pool "gpu" { description = "..." meta { k = "v" } }`) or JSON ({"Name", ...}).
#include <CLI/CLI.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "drover/common/encoding.hpp"
#include "jobspec/hcl/hcl.hpp"

namespace drover::cli {
namespace {

using nlohmann::json;

std::string pool_path(const std::string& name, const std::string& suffix = "") {
  return "/v1/node/pool/" + url_escape(name) + suffix;
}

int list_pools(Context& ctx) {
  return print_list(ctx, "/v1/node/pools", {{"Name", "Name"}, {"Description", "Description"}});
}

int pool_info(Context& ctx, const std::string& name) {
  auto p = ctx.api.get_json(pool_path(name));
  if (!p) return print_error(ctx, p.message());
  if (ctx.json) {
    print_json(ctx, *p);
    return 0;
  }
  render_key_values(ctx.out, {{"Name", str_field(*p, "Name")},
                              {"Description", str_field(*p, "Description")}});
  ctx.out << "\nMetadata\n";
  KeyValues meta;
  const json m = p->value("Meta", json::object());  // alive for the loop
  for (const auto& [k, v] : m.items())
    meta.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  if (meta.empty()) ctx.out << "No metadata\n";
  else render_key_values(ctx.out, meta);
  return 0;
}

int pool_nodes(Context& ctx, const std::string& name) {
  auto list = ctx.api.get_json(pool_path(name, "/nodes"));
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  if (!list->is_array() || list->empty()) {
    ctx.out << "No nodes in node pool \"" << name << "\"\n";
    return 0;
  }
  Table table({"ID", "Node Pool", "DC", "Name", "Class", "Drain", "Eligibility", "Status"});
  for (const auto& n : *list)
    table.add_row({short_id(str_field(n, "ID")), str_field(n, "NodePool"),
                   str_field(n, "Datacenter"), str_field(n, "Name"), str_field(n, "NodeClass"),
                   bool_field(n, "Drain") ? "true" : "false",
                   str_field(n, "SchedulingEligibility"), str_field(n, "Status")});
  table.render(ctx.out);
  return 0;
}

int pool_jobs(Context& ctx, const std::string& name) {
  auto list = ctx.api.get_json(with_namespace(ctx, pool_path(name, "/jobs")));
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  if (!list->is_array() || list->empty()) {
    ctx.out << "No jobs in node pool \"" << name << "\"\n";
    return 0;
  }
  Table table({"ID", "Namespace", "Type", "Priority", "Status"});
  for (const auto& j : *list)
    table.add_row({str_field(j, "ID"), str_field(j, "Namespace"), str_field(j, "Type"),
                   std::to_string(int_field(j, "Priority")), str_field(j, "Status")});
  table.render(ctx.out);
  return 0;
}

// Nomad's pool file as the API's NodePool, or why not.
Result<json> read_pool_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  if (text.find_first_not_of(" \t\r\n") != std::string::npos &&
      text[text.find_first_not_of(" \t\r\n")] == '{') {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error(path + ": not a JSON object");
    return j;
  }
  auto body = jobspec::hcl::parse(text);
  if (!body) return make_error(path + ": " + body.message());
  const jobspec::hcl::Block* pool = nullptr;
  for (const auto& b : body->blocks)
    if (b.type == "node_pool") {
      if (pool) return make_error(path + ": more than one node_pool block");
      pool = &b;
    }
  if (!pool || pool->labels.size() != 1)
    return make_error(path + ": expected one node_pool \"name\" { ... } block");
  json out = {{"Name", pool->labels[0]}, {"Meta", json::object()}};
  for (const auto& a : pool->body.attributes) {
    if (a.name == "description") out["Description"] = a.value;
    else if (a.name == "meta") out["Meta"] = a.value;
    else
      return make_error(path + ": line " + std::to_string(a.pos.line) + ": node_pool has no \"" +
                        a.name + "\" (description, meta)");
  }
  for (const auto& b : pool->body.blocks) {
    if (b.type != "meta")
      return make_error(path + ": line " + std::to_string(b.pos.line) + ": node_pool has no \"" +
                        b.type + "\" block (meta)");
    for (const auto& a : b.body.attributes) out["Meta"][a.name] = a.value;
  }
  return out;
}

int apply_pool(Context& ctx, const std::string& file) {
  auto pool = read_pool_file(file);
  if (!pool) return print_error(ctx, pool.message());
  auto r = ctx.api.post_json("/v1/node/pools", pool->dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully applied node pool \"" << str_field(*pool, "Name") << "\"!\n";
  return 0;
}

int delete_pool(Context& ctx, const std::string& name) {
  auto r = ctx.api.del_json(pool_path(name));
  if (!r) return print_error(ctx, r.message());
  ctx.out << "Successfully deleted node pool \"" << name << "\"!\n";
  return 0;
}

}  // namespace

void add_node_pool_commands(CLI::App& node, Handler& selected) {
  auto* pool = node.add_subcommand("pool", "List, describe and delete node pools (server)");
  pool->require_subcommand(1);
  auto* list = pool->add_subcommand("list", "List the node pools");
  list->callback([&selected] { selected = [](Context& ctx) { return list_pools(ctx); }; });
  auto named = [&](const char* cmd, const char* help, int (*fn)(Context&, const std::string&),
                   const char* what = "name") {
    auto* sub = pool->add_subcommand(cmd, help);
    auto arg = std::make_shared<std::string>();
    sub->add_option(what, *arg, std::string("The node pool's ") + what)->required();
    sub->callback([&selected, arg, fn] {
      selected = [arg, fn](Context& ctx) { return fn(ctx, *arg); };
    });
  };
  named("info", "Show a node pool's description and metadata", pool_info);
  named("nodes", "List the nodes in a node pool", pool_nodes);
  named("jobs", "List the jobs that run in a node pool", pool_jobs);
  named("delete", "Delete a node pool no node or live job is in", delete_pool);
  auto* apply = pool->add_subcommand("apply", "Create or update a node pool from its file (HCL or JSON)");
  auto file = std::make_shared<std::string>();
  apply->add_option("file", *file, "node_pool \"name\" { description = \"...\" meta { ... } }")
      ->required();
  apply->callback([&selected, file] {
    selected = [file](Context& ctx) { return apply_pool(ctx, *file); };
  });
}

}  // namespace drover::cli
