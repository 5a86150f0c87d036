// Starting a raw_exec task: fork + exec with exactly the task's env, in its task dir, in a new
// session, with stdout/stderr appended to its log files and nothing else of the agent open.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace drover::raw_exec {

struct SpawnRequest {
  std::vector<std::string> argv;        // argv[0] is the command as the job wrote it
  std::vector<std::string> candidates;  // paths to execve, in order (PATH search done)
  std::vector<std::string> env;         // "KEY=VALUE", exactly what the task gets
  std::string dir;                      // working directory
  std::string stdout_path, stderr_path;
};

struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;  // owned by the caller
};

// The paths to try for `command`: as given when it has a '/', else each entry of `path_env`
// (an empty entry means the working directory).
std::vector<std::string> command_candidates(const std::string& command,
                                            const std::string& path_env);

// Throws std::runtime_error naming the command (or file) and the errno text when the task
// could not be started; the child is then already reaped.
Spawned spawn(const SpawnRequest& req);

}  // namespace drover::raw_exec
