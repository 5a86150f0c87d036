// Helpers the hostile suite needs beyond tests/support: jobs as text, the agent started by
// hand (for agents that must refuse to start, or that speak only TLS), raw HTTP with headers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent_process.hpp"

namespace drover::hostile {

// A raw_exec job with one task running `sh -c script`.
std::string sh_job(const std::string& id, const std::string& type, const std::string& script,
                   const std::string& task = "t", const std::string& group = "g");

// Runs `drover agent ARGS...` to its end (at most `timeout`), capturing stdout and stderr;
// a process still running at the timeout is killed and exit_code is -1.
testing::CmdResult run_agent_to_exit(const std::vector<std::string>& args,
                                     std::chrono::seconds timeout = std::chrono::seconds(10));
// The same for `drover ARGS...` (`args` begins with the subcommand: server, job, ...).
testing::CmdResult run_drover_to_exit(const std::vector<std::string>& args,
                                      std::chrono::seconds timeout = std::chrono::seconds(10));

// An agent started by hand: stdout+stderr to `log`; killed (SIGTERM, then SIGKILL) on drop.
struct SpawnedAgent {
  pid_t pid = -1;
  std::string log_path;
  // The config's cgroup_parent, when it sets one: removed (when empty) once the agent is gone,
  // as AgentProcess removes its own.
  std::string cgroup_parent;
  ~SpawnedAgent();
  std::string log() const;
};
SpawnedAgent spawn_agent(const std::vector<std::string>& args, const std::string& log_path);

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// How many lines `text` holds (its newlines): a task's runs, when each appends one.
int line_count(const std::string& text);

// The allocation's files under the data dir, found by name (e.g. "starts").
std::string find_file(const std::string& root, const std::string& name);

// Runs a shell command; returns its exit code (stdout/stderr to the test's).
int sh(const std::string& command);

// The bootstrap secret the agent printed at its first start with ACLs.
std::string bootstrap_secret(const std::string& agent_log);

}  // namespace drover::hostile
