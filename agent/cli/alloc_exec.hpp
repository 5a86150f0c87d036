// `drover alloc exec -i -t ALLOC TASK -- CMD` and `drover job action`: a command inside a
// running task, interactive,
// over the agent's exec websocket (docs/nomad-compat.md, "alloc exec"). With -t and a terminal
// on stdin, that terminal is put in raw mode (restored on the way out) and its size follows
// SIGWINCH. Internal to the CLI.
#pragma once

#include <string>
#include <vector>

#include "cli/command_context.hpp"

namespace drover::cli {

struct InteractiveExec {
  std::string alloc_id, task;
  std::vector<std::string> command;
  bool stdin_open = true;  // -i: our stdin goes to the command
  bool tty = false;        // -t: the command gets a terminal
  // Instead of a command, the task's named action in the alloc's job (`job action`), over
  // GET /v1/job/:job/action.
  std::string job_id, action;
};

// The command's exit code, or 1 (with the reason on stderr) when the session failed.
int exec_interactive(Context& ctx, const InteractiveExec& o);

}  // namespace drover::cli
