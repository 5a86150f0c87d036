// The agent daemon's entry point, called by `drover agent`.
#pragma once

#include <string>
#include <vector>

namespace drover::agent {

// Command-line flags of `drover agent`; a flag that is set overrides the config file.
struct AgentFlags {
  bool dev = false;              // -dev: standalone, temp data dir, all built-in plugins, raw_exec on
  // -config FILE|DIR, repeatable: applied in order, a directory's *.yaml in name order.
  std::vector<std::string> config_paths;
  std::string data_dir;          // -data-dir DIR
  std::string plugin_dir;        // -plugin-dir DIR
  std::string bind;              // -bind ADDR
  int port = 0;                  // -port N (0: config or 4646)
  std::string log_level;         // -log-level trace|debug|info|warn|error
};

// Runs the agent until SIGINT/SIGTERM. Returns the process exit code; prints a clear message
// to stderr and returns non-zero when it cannot start (bad config, port in use, bad data dir).
int run_agent(const AgentFlags& flags);

}  // namespace drover::agent
