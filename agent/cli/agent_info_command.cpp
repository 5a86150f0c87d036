// `drover agent-info [-json]`, Nomad's: the agent's (or server's) /v1/agent/self stats, each
// section (client, nomad, runtime) with its keys sorted, "  key = value" under it, as Nomad
// prints them.
#include <CLI/CLI.hpp>

#include "cli/command_context.hpp"

namespace drover::cli {
namespace {

int agent_info(Context& ctx) {
  auto self = ctx.api.get_json("/v1/agent/self");
  if (!self) return print_error(ctx, self.message());
  if (ctx.json) {
    print_json(ctx, *self);
    return 0;
  }
  const auto stats = self->value("stats", nlohmann::json::object());
  if (!stats.is_object() || stats.empty()) return print_error(ctx, "the agent's /v1/agent/self has no stats");
  // nlohmann's objects iterate in key order: sections and keys come out sorted.
  for (const auto& [section, values] : stats.items()) {
    ctx.out << section << "\n";
    if (!values.is_object()) continue;
    for (const auto& [key, v] : values.items())
      ctx.out << "  " << key << " = " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return 0;
}

}  // namespace

void add_agent_info_command(CLI::App& app, Handler& selected) {
  auto* cmd = app.add_subcommand("agent-info", "Show the agent's (or server's) runtime and client stats");
  cmd->callback([&selected] { selected = [](Context& ctx) { return agent_info(ctx); }; });
}

}  // namespace drover::cli
