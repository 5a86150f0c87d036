// The `drover` command tree: global flags, subcommand registration, parsing and dispatch.
#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "cli/command_context.hpp"

#ifndef DROVER_VERSION
#define DROVER_VERSION "0.0.0"
#endif

namespace drover::cli {

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

void add_version_command(CLI::App& app, Handler& selected) {
  auto* version = app.add_subcommand("version", "Print the drover version");
  version->callback([&selected] {
    selected = [](Context& ctx) {
      ctx.out << "drover v" << DROVER_VERSION << '\n';
      return 0;
    };
  });
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            AgentRunner run_agent, ServerRunner run_server, std::istream* in) {
  CLI::App app{"drover: a Nomad-style node agent and its command line", "drover"};
  // Flags such as -address and -json are given after the subcommand, as with nomad.
  app.fallthrough();
  app.require_subcommand(1);

  std::string address = env_or("DROVER_ADDR", "http://127.0.0.1:4646");
  bool json = false;
  app.add_option("--address", address,
                 "Address of the drover agent (default: $DROVER_ADDR or http://127.0.0.1:4646)");
  app.add_flag("--json", json, "Print the API's JSON instead of tables");
  // Nomad's -namespace and NOMAD_NAMESPACE; DROVER_NAMESPACE as the CLI's other DROVER_*.
  std::string ns = env_or("DROVER_NAMESPACE", env_or("NOMAD_NAMESPACE", ""));
  app.add_option("--namespace", ns,
                 "The jobs' namespace (default: $DROVER_NAMESPACE, $NOMAD_NAMESPACE or "
                 "\"default\"; \"*\" lists every namespace)");

  // Nomad's -token. Not $NOMAD_TOKEN: a Nomad cluster's secret is not sent to a drover agent
  // unless asked for by name.
  std::string token = env_or("DROVER_TOKEN", "");
  app.add_option("--token", token, "The ACL token's secret (default: $DROVER_TOKEN)");

  Handler selected;
  add_agent_command(app, selected, run_agent);
  add_server_command(app, selected, run_server);
  add_job_commands(app, selected);
  add_alloc_commands(app, selected);
  add_job_action_commands(app, *app.get_subcommand("job"), selected);
  add_deployment_commands(app, selected);
  add_eval_commands(app, *app.get_subcommand("job"), selected);
  add_node_commands(app, selected);
  add_plugin_commands(app, selected);
  add_service_commands(app, selected);
  add_config_commands(app, selected);
  add_system_commands(app, selected);
  add_var_commands(app, selected);
  add_acl_commands(app, selected);
  add_login_command(app, selected);
  add_namespace_commands(app, selected);
  add_volume_commands(app, selected);
  add_status_command(app, selected);
  add_monitor_command(app, selected);
  add_tls_commands(app, selected);
  add_agent_info_command(app, selected);
  add_ui_command(app, selected);
  add_operator_scheduler_commands(*app.get_subcommand("operator"), selected);
  add_operator_api_command(*app.get_subcommand("operator"), selected);
  add_operator_debug_command(*app.get_subcommand("operator"), selected);
  add_operator_snapshot_commands(*app.get_subcommand("operator"), selected, run_server);
  add_version_command(app, selected);

  // CLI11 wants the arguments in reverse order, without the program name.
  std::vector<std::string> reversed = rewrite_single_dash(args);
  std::reverse(reversed.begin(), reversed.end());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : 1;
  }
  if (!selected) {
    err << app.help();
    return 1;
  }
  Context ctx{out, err, ApiClient(address, token), json, ns, in};
  return selected(ctx);
}

int run_cli(int argc, char** argv, AgentRunner run_agent, ServerRunner run_server) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return run_cli(args, std::cout, std::cerr, run_agent, run_server, &std::cin);
}

}  // namespace drover::cli
