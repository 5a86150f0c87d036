// The `drover` command line: parses argv and runs one subcommand (agent, job, alloc, node,
// plugin, service, version). The daemon itself lives in drover_core; the CLI only reaches it
// through a function pointer so that this library (and its tests) link without the daemon.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace drover::agent {
struct AgentFlags;
}
namespace drover::server {
struct ServerFlags;
}

namespace drover::cli {

// What `drover agent` calls once its flags are parsed (drover::agent::run_agent in the binary).
using AgentRunner = int (*)(const agent::AgentFlags& flags);
// What `drover server` calls (drover::server::run_server in the binary).
using ServerRunner = int (*)(const server::ServerFlags& flags);

// Entry point for main(): stdout/stderr, the real environment.
int run_cli(int argc, char** argv, AgentRunner run_agent, ServerRunner run_server = nullptr);

// Testable entry point. `args` excludes the program name. Returns the process exit code:
// 0 success, 1 error (bad usage, agent unreachable, API error), 2 when `job run` saw an
// allocation fail. `in` answers the commands that ask (job restart's prompts); null: no
// answers, as from /dev/null.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            AgentRunner run_agent = nullptr, ServerRunner run_server = nullptr,
            std::istream* in = nullptr);

// Nomad's flags are single-dash (`-address=URL`, `-detach`); CLI11 wants `--long`. Rewrites
// every argument made of one '-' and a letter followed by 1+ more characters into `--...`,
// leaving short flags (`-f`, `-n`), lone `-`, negative numbers and anything after `--` as is.
std::vector<std::string> rewrite_single_dash(const std::vector<std::string>& args);

}  // namespace drover::cli
