// A command that the agent streams (plugin.h, drover_driver_exec_stream_v1), started by a
// driver as a host process: on a pseudo-terminal that it leads as a new session (so job
// control, ^C and SIGWINCH work), or on three pipes. raw_exec runs the user's command this way
// with its task's cgroup, user, env and dir; exec runs `runc exec` this way.
#pragma once

#include <sys/types.h>

#include <drover/sdk/driver.hpp>
#include <memory>
#include <string>
#include <vector>

namespace drover::monitored {

struct ExecSpawn {
  std::vector<std::string> argv;  // argv[0] is a path (absolute, or relative to cwd)
  std::vector<std::string> env;   // "KEY=VALUE", exactly what the command gets
  std::string cwd;                // empty: the agent's
  // cgroup.procs files the command joins before it runs (every limit of its task holds).
  std::vector<std::string> cgroup_procs;
  bool set_user = false;  // uid, gid and groups below; otherwise the agent's
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  bool tty = false;
  int height = 0, width = 0;
  // The terminal starts raw on input (no echo, no line editing; output still turns "\n" into
  // "\r\n"): for a command that makes a terminal of its own and copies between it and ours
  // (`runc exec --tty`), so that its terminal alone echoes and edits lines, and input typed
  // before it started is not echoed twice.
  bool raw_terminal = false;
  // When set, the PID written in this file (what `runc exec --pid-file` started inside the
  // container) is SIGKILLed along with the command: killing runc alone leaves it running.
  // The file is removed once the command is reaped.
  std::string pid_file;
};

// Starts it; returns once it runs (the new process has exec'd) with its descriptors in
// `fds`. Throws std::runtime_error naming what failed (a command that cannot be run, a cgroup
// that cannot be joined): nothing is left running then.
std::unique_ptr<sdk::ExecStream> spawn_exec(const ExecSpawn& spec);

// Runs a started command (without a terminal) to its end for the non-interactive exec
// (plugin.h, drover_driver_exec_v1): its stdin closed at once, its output collected (each
// stream's first 4 MiB kept), killed after `timeout` (then an error saying so).
sdk::ExecResult run_to_end(sdk::ExecStream& s, std::chrono::milliseconds timeout);

// Where `name` is on `path_list` (a PATH value), as execvp would find it; "" when nowhere.
// A name with a '/' is returned as it is.
std::string search_path(const std::string& name, const std::string& path_list);

}  // namespace drover::monitored
