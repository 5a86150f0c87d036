// `drover system gc`: a drover server's garbage collection now (server/gc_api.hpp), as
// `nomad system gc`; prints what went.
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/command_context.hpp"

namespace drover::cli {

namespace {

int system_gc(Context& ctx) {
  auto answer = ctx.api.post_json("/v1/system/gc", "{}", "application/json");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  ctx.out << "Collected " << answer->value("Jobs", 0) << " jobs, " << answer->value("Evaluations", 0)
          << " evaluations, " << answer->value("Allocations", 0) << " allocs, "
          << answer->value("Deployments", 0) << " deployments, " << answer->value("Nodes", 0)
          << " down nodes\n";
  return 0;
}

}  // namespace

void add_system_commands(CLI::App& app, Handler& selected) {
  auto* system = app.add_subcommand("system", "Cluster housekeeping on a drover server");
  system->require_subcommand(1);
  auto* gc = system->add_subcommand("gc", "Collect finished evaluations, allocs, dead jobs and down nodes now");
  gc->callback([&selected] { selected = [](Context& ctx) { return system_gc(ctx); }; });
}

}  // namespace drover::cli
