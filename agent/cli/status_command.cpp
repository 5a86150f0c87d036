// `drover status [ID]`, Nomad's: with no id the jobs (`job status`); with an id or a prefix of
// one, whatever it names: a job, then an alloc, a node, an evaluation or a deployment, shown by
// that thing's own status command with the same global flags.
#include <CLI/CLI.hpp>
#include <memory>

#include "cli/cli.hpp"
#include "cli/command_context.hpp"
#include "drover/common/encoding.hpp"

namespace drover::cli {
namespace {

// The same command line with `args` as its subcommand: the global flags carried over.
int run_as(Context& ctx, std::vector<std::string> args) {
  std::vector<std::string> full = {"--address", ctx.api.address()};
  if (!ctx.api.token().empty()) full.insert(full.end(), {"--token", ctx.api.token()});
  if (!ctx.ns.empty()) full.insert(full.end(), {"--namespace", ctx.ns});
  if (ctx.json) full.push_back("--json");
  full.insert(full.end(), args.begin(), args.end());
  return run_cli(full, ctx.out, ctx.err);
}

bool answers(Context& ctx, const std::string& path) {
  auto r = ctx.api.get(path);
  return r && r->status == 200;
}

int status(Context& ctx, const std::string& id) {
  if (id.empty()) return run_as(ctx, {"job", "status"});
  const std::string e = url_escape(id);
  if (answers(ctx, with_namespace(ctx, "/v1/job/" + e))) return run_as(ctx, {"job", "status", id});
  if (auto jobs = ctx.api.get_json(with_namespace(ctx, "/v1/jobs?prefix=" + e));
      jobs && jobs->is_array() && jobs->size() == 1)
    return run_as(ctx, {"job", "status", str_field((*jobs)[0], "ID")});
  if (answers(ctx, "/v1/allocation/" + e)) return run_as(ctx, {"alloc", "status", id});
  // A server lists nodes by prefix; an agent is one node.
  if (answers(ctx, "/v1/node/" + e)) return run_as(ctx, {"node", "status", id});
  if (auto self = ctx.api.get_json("/v1/node");
      self && self->is_object() && !id.empty() && str_field(*self, "ID").rfind(id, 0) == 0)
    return run_as(ctx, {"node", "status"});
  if (answers(ctx, "/v1/evaluation/" + e)) return run_as(ctx, {"eval", "status", id});
  if (answers(ctx, "/v1/deployment/" + e)) return run_as(ctx, {"deployment", "status", id});
  return print_error(ctx, "No job, allocation, node, evaluation or deployment with id or prefix \"" +
                              id + "\"");
}

}  // namespace

void add_status_command(CLI::App& app, Handler& selected) {
  auto* cmd = app.add_subcommand(
      "status", "The jobs, or whatever an id (or prefix) names: job, alloc, node, eval, deployment");
  auto id = std::make_shared<std::string>();
  cmd->add_option("id", *id, "An id or a prefix of one");
  cmd->callback([&selected, id] {
    selected = [id](Context& ctx) { return status(ctx, *id); };
  });
}

}  // namespace drover::cli
