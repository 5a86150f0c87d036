// `drover config validate FILE|DIR...`: checks agent config files offline, exactly as
// `drover agent -config` reads them, and reports every error with its file and key path.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/command_context.hpp"
#include "core/agent_config.hpp"

namespace drover::cli {

namespace {

int config_validate(Context& ctx, const std::vector<std::string>& paths) {
  auto st = agent::validate_agent_config(paths);
  if (!st) {
    ctx.err << "Error: the agent config has problems:\n" << st.message() << '\n';
    return 1;
  }
  ctx.out << "Configuration is valid\n";
  return 0;
}

}  // namespace

void add_config_commands(CLI::App& app, Handler& selected) {
  auto* config = app.add_subcommand("config", "Work with the agent's config files");
  config->fallthrough();
  config->require_subcommand(1);

  auto paths = std::make_shared<std::vector<std::string>>();
  auto* validate = config->add_subcommand(
      "validate",
      "Check agent config files (or directories of *.yaml, merged in name order) without "
      "starting the agent; every error names its file and key");
  validate->add_option("paths", *paths, "Config files or directories, in the order -config takes them")
      ->required();
  validate->callback([&selected, paths] {
    selected = [paths](Context& ctx) { return config_validate(ctx, *paths); };
  });
}

}  // namespace drover::cli
