// `drover namespace list|status`, Nomad's namespace commands on drover's namespaces, which
// exist while a job is in it (docs/nomad-compat.md, "Namespaces"); `apply` and `delete` say
// why there is nothing to do.
#include <CLI/CLI.hpp>
#include <memory>
#include <vector>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

int list_namespaces(Context& ctx) {
  return print_list(ctx, "/v1/namespaces", {{"Name", "Name"}, {"Description", "Description"}});
}

int namespace_status(Context& ctx, const std::string& name) {
  auto n = ctx.api.get_json("/v1/namespace/" + url_escape(name));
  if (!n) return print_error(ctx, n.message());
  if (ctx.json) {
    print_json(ctx, *n);
    return 0;
  }
  auto jobs = ctx.api.get_json("/v1/jobs?namespace=" + url_escape(name));
  render_key_values(ctx.out, {{"Name", str_field(*n, "Name")},
                              {"Description", str_field(*n, "Description")},
                              {"Jobs", jobs && jobs->is_array() ? std::to_string(jobs->size()) : "?"}});
  return 0;
}

}  // namespace

void add_namespace_commands(CLI::App& app, Handler& selected) {
  auto* ns = app.add_subcommand("namespace", "List the namespaces jobs are in");
  ns->require_subcommand(1);
  auto* list = ns->add_subcommand("list", "List the namespaces: default and every one a job is in");
  list->callback([&selected] { selected = [](Context& ctx) { return list_namespaces(ctx); }; });
  auto* status = ns->add_subcommand("status", "Show a namespace and how many jobs are in it");
  auto name = std::make_shared<std::string>();
  status->add_option("name", *name, "The namespace")->required();
  status->callback([&selected, name] {
    selected = [name](Context& ctx) { return namespace_status(ctx, *name); };
  });
  for (const char* verb : {"apply", "delete"}) {
    auto* cmd = ns->add_subcommand(verb, "Not needed: a namespace exists while a job is in it");
    auto ignored = std::make_shared<std::vector<std::string>>();
    cmd->add_option("args", *ignored, "Nomad's arguments (ignored)");
    cmd->callback([&selected, ignored] {  // holds what CLI11 writes into
      selected = [](Context& ctx) {
        return print_error(ctx,
                           "drover has no namespace objects: a namespace exists while a job is "
                           "in it (run a job with -namespace NAME); see docs/nomad-compat.md");
      };
    });
  }
}

}  // namespace drover::cli
