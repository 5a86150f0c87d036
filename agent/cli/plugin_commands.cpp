// `drover plugin list`: the plugins the agent found, loaded or refused (and why).
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"

namespace drover::cli {

namespace {

int plugin_list(Context& ctx) {
  auto plugins = ctx.api.get_json("/v1/plugins");
  if (!plugins) return print_error(ctx, plugins.message());
  if (ctx.json) {
    print_json(ctx, *plugins);
    return 0;
  }
  if (!plugins->is_array() || plugins->empty()) {
    ctx.out << "No plugins found\n";
    return 0;
  }
  // The Reason column only appears when some plugin was refused; otherwise it is all blanks.
  bool any_refused = false;
  for (const auto& plugin : *plugins) {
    any_refused = any_refused || !str_field(plugin, "Reason").empty();
  }
  std::vector<std::string> headers{"Name", "Type", "Version", "ABI", "Status", "Path"};
  if (any_refused) headers.emplace_back("Reason");
  Table table(headers);
  for (const auto& plugin : *plugins) {
    table.add_row({str_field(plugin, "Name"), str_field(plugin, "Type"),
                   str_field(plugin, "Version"), str_field(plugin, "ABIVersion"),
                   str_field(plugin, "Status"), str_field(plugin, "Path"),
                   str_field(plugin, "Reason")});
  }
  table.render(ctx.out);
  return 0;
}

}  // namespace

void add_plugin_commands(CLI::App& app, Handler& selected) {
  auto* plugin = app.add_subcommand("plugin", "Inspect the agent's plugins");
  plugin->fallthrough();
  plugin->require_subcommand(1);

  auto* list = plugin->add_subcommand("list", "List plugins, loaded and refused");
  list->callback([&selected] { selected = [](Context& ctx) { return plugin_list(ctx); }; });
}

}  // namespace drover::cli
