// `drover server -config server.yaml` runs the cluster scheduler (agent/server/);
// `drover server members` lists the live servers and which one leads, as `nomad server members`.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "server/server_flags.hpp"

namespace drover::cli {

namespace {

int server_members(Context& ctx) {
  auto answer = ctx.api.get_json("/v1/agent/members");
  if (!answer) return print_error(ctx, answer.message());
  if (ctx.json) {
    print_json(ctx, *answer);
    return 0;
  }
  Table table({"Name", "Address", "Port", "Status", "Leader"});
  for (const auto& m : answer->value("Members", nlohmann::json::array())) {
    const auto tags = m.value("Tags", nlohmann::json::object());
    table.add_row({str_field(m, "Name"), str_field(m, "Addr"), str_field(m, "Port"),
                   str_field(m, "Status"), str_field(tags, "leader")});
  }
  table.render(ctx.out);
  return 0;
}

}  // namespace

void add_server_command(CLI::App& app, Handler& selected, ServerRunner run_server) {
  auto* cmd = app.add_subcommand("server", "Run a drover server (the cluster scheduler)");
  auto flags = std::make_shared<server::ServerFlags>();
  cmd->add_option("--config", flags->config_path, "Server config file (its etcd block at least)");
  cmd->add_option("--port", flags->port, "Port the HTTP API listens on")
      ->check(CLI::Range(1, 65535));
  add_log_level_option(cmd, flags->log_level);
  cmd->fallthrough();
  cmd->require_subcommand(0, 1);
  auto* members = cmd->add_subcommand("members", "List the servers and which one leads");
  members->callback([&selected] { selected = [](Context& ctx) { return server_members(ctx); }; });
  cmd->callback([&selected, flags, run_server, cmd, members] {
    if (cmd->got_subcommand(members)) return;
    selected = [flags, run_server](Context& ctx) {
      if (run_server == nullptr) return print_error(ctx, "this build of drover has no server");
      return run_server(*flags);
    };
  });
}

}  // namespace drover::cli
