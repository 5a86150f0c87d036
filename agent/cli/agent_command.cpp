// `drover agent`: parses the daemon's flags into AgentFlags and hands them to the daemon.
#include <CLI/CLI.hpp>
#include <cctype>
#include <memory>
#include <ostream>

#include "cli/command_context.hpp"
#include "core/agent.hpp"

namespace drover::cli {

void add_log_level_option(CLI::App* cmd, std::string& level) {
  cmd->add_option("--log-level", level, "trace, debug, info, warn or error")
      ->transform([](std::string text) {
        for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
      })
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

void add_agent_command(CLI::App& app, Handler& selected, AgentRunner run_agent) {
  auto* cmd = app.add_subcommand("agent", "Run the drover agent (the node daemon)");
  auto flags = std::make_shared<agent::AgentFlags>();
  cmd->add_flag("--dev", flags->dev,
                "Development mode: standalone, temporary data dir, raw_exec enabled");
  cmd->add_option("--config", flags->config_paths,
                  "Config file, or directory of *.yaml merged in name order; repeatable, "
                  "later ones override earlier ones")
      ->allow_extra_args(false);
  cmd->add_option("--data-dir", flags->data_dir, "Directory for the agent's state and allocs");
  cmd->add_option("--plugin-dir", flags->plugin_dir, "Directory scanned for plugin .so files");
  cmd->add_option("--bind", flags->bind, "Address the HTTP API listens on");
  cmd->add_option("--port", flags->port, "Port the HTTP API listens on")
      ->check(CLI::Range(1, 65535));
  add_log_level_option(cmd, flags->log_level);
  cmd->callback([&selected, flags, run_agent] {
    selected = [flags, run_agent](Context& ctx) {
      if (run_agent == nullptr) {
        return print_error(ctx, "this build of drover has no agent");
      }
      return run_agent(*flags);
    };
  });
}

}  // namespace drover::cli
