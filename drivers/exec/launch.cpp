// exec's monitor launch (see launch.hpp): posix_spawn, which is safe in the multi-threaded
// agent and copies nothing of it.
#include "launch.hpp"

#include "monitor_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace drover::exec {

Started launch(const Launch& r, std::chrono::milliseconds timeout) {
  constexpr int kStatusFd = 3;
  if (access(r.monitor_path.c_str(), X_OK) != 0)
    throw std::runtime_error("task monitor " + r.monitor_path + ": " + std::strerror(errno));
  std::vector<std::string> a = {r.monitor_path, "--state-dir", r.state_dir, "--status-fd",
                                std::to_string(kStatusFd), "--oci-bundle", r.bundle_dir,
                                "--oci-id", r.container_id, "--oci-log", "runtime.log",
                                "--detach"};
  if (!r.stdout_base.empty())
    a.insert(a.end(), {"--stdout", r.stdout_base, "--stderr", r.stderr_base, "--max-files",
                       std::to_string(r.max_files), "--max-file-size", std::to_string(r.max_file_size)});
  a.push_back("--");
  for (auto& g : r.runtime.global_args()) a.push_back(g);
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  // No copy of the agent's page tables (a double fork made two); --detach makes the monitor
  // fork itself once, so that it is never the agent's child (monitor/README.md).
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], kStatusFd);  // the copy is not close-on-exec
  pid_t mid = -1;
  int err = posix_spawn(&mid, argv[0], &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (err != 0) {
    close(p[0]);
    throw std::runtime_error("task monitor " + r.monitor_path + ": " + std::strerror(err));
  }
  int status = 0;
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  auto st = raw_exec::read_monitor_status(p[0], timeout, r.monitor_path);
  return Started{st.task_pid, st.task_start, st.monitor_pid, st.monitor_start};
}

}  // namespace drover::exec
