// The `drover` binary: the CLI, whose `agent` subcommand runs the node daemon.
#include "cli/cli.hpp"
#include "core/agent.hpp"

int main(int argc, char** argv) {
  return drover::cli::run_cli(argc, argv, &drover::agent::run_agent);
}
