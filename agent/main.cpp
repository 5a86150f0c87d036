// The `drover` binary: the CLI, whose `agent` subcommand runs the node daemon and whose
// `server` subcommand runs the cluster scheduler.
#include "cli/cli.hpp"
#include "core/agent.hpp"
#include "server/server_flags.hpp"

int main(int argc, char** argv) {
  return drover::cli::run_cli(argc, argv, &drover::agent::run_agent, &drover::server::run_server);
}
