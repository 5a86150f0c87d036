// The OCI runtime CLI (runc, crun) as exec uses it from the agent's side: find the binary,
// its version, `state`, `delete`, `exec`. Each call is a short child process whose output is
// captured; the agent is multi-threaded, so the child does only async-signal-safe work.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace drover::exec {

struct RunResult {
  int exit_code = -1;  // -1: could not run; 128+N: killed by signal N (or the timeout)
  std::string out, err;
  bool timed_out = false;
};

// Runs argv (argv[0] absolute) with stdin on /dev/null and a small fixed env, capturing its
// output, SIGKILLing it after `timeout`. When pid_file is set and the timeout passes, the
// process named in it is SIGKILLed too (what `runtime exec` started).
RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& pid_file = {});

// An absolute path for `name` (searched in PATH when it has no '/'); nullopt when there is
// no executable file.
std::optional<std::string> find_executable(const std::string& name);

struct Runtime {
  std::string path;  // absolute
  std::string root;  // --root
  std::string log;   // --log (JSON), may be empty

  std::vector<std::string> global_args() const;
  // "running", "stopped", "created", ...; nullopt when the container does not exist.
  std::optional<std::string> state(const std::string& id) const;
  // `delete` of a stopped container; an absent one is fine. Returns the error, or "".
  std::string remove(const std::string& id, bool force = false) const;
};

}  // namespace drover::exec
