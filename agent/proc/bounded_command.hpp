// A short helper command run to completion within a deadline: a script health check, git for
// an artifact, a CNI plugin. It runs in its own process group (a timeout kills whatever it
// started, ssh under git too), with a fresh signal mask rather than the calling agent
// thread's, stdin from /dev/null or the caller's bytes, and what it writes kept up to a bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::proc {

struct BoundedCommand {
  std::filesystem::path exe;  // a full path (the caller searched its own PATH)
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // the whole environment: nothing of the agent's
  std::filesystem::path dir;               // working directory; empty: the agent's
  bool keep_stdout = true;                 // stderr is always kept; stdout too unless false
  // stdout in BoundedRun::output and stderr apart in BoundedRun::error_output (a CNI plugin's
  // result and its log); false: both in output.
  bool separate_stderr = false;
  std::string input;  // stdin, whole (from a sealed memfd: no write can block); "": /dev/null
  std::size_t max_output = 4096;  // per stream
  std::chrono::steady_clock::time_point deadline;
};

struct BoundedRun {
  std::string output;        // the first max_output bytes it wrote
  std::string error_output;  // with separate_stderr: the first max_output bytes of stderr
  bool timed_out = false;
  int exit_code = -1;  // 128+N when signal N killed it, as a shell says it
};

// Runs `cmd` until it exits or its deadline (then its process group is SIGKILLed and reaped).
// An error only when it could not be started, with the reason.
Result<BoundedRun> run_bounded(const BoundedCommand& cmd);

}  // namespace drover::proc
