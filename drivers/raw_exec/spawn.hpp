// Starting a raw_exec task: fork + exec with exactly the task's env, in its task dir, in a new
// session, with stdout/stderr appended to its log files and nothing else of the agent open.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace drover::raw_exec {

struct SpawnRequest {
  std::vector<std::string> argv;        // argv[0] is the command as the job wrote it
  std::vector<std::string> candidates;  // paths to execve, in order (PATH search done)
  std::vector<std::string> env;         // "KEY=VALUE", exactly what the task gets
  std::string dir;                      // working directory
  std::string stdout_path, stderr_path;
  bool set_user = false;  // run as uid/gid (with only gid as group) instead of the agent's
  uid_t uid = 0;
  gid_t gid = 0;
};

struct Spawned {
  pid_t pid = -1;
  int pidfd = -1;  // owned by the caller
};

// The paths to try for `command`: as given when it has a '/', else each entry of `path_env`
// (an empty entry means the working directory).
std::vector<std::string> command_candidates(const std::string& command,
                                            const std::string& path_env);

// Looks up a user name for SpawnRequest; throws when there is no such user.
void resolve_user(const std::string& name, SpawnRequest& req);

// Throws std::runtime_error naming the command (or file) and the errno text when the task
// could not be started; the child is then already reaped.
Spawned spawn(const SpawnRequest& req);

}  // namespace drover::raw_exec
