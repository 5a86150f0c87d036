// exec's monitor launch (see launch.hpp). Between fork and exec the children only make
// async-signal-safe calls on memory prepared before: the agent is multi-threaded.
#include "launch.hpp"

#include <fcntl.h>
#include <poll.h>
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
                                "--oci-id", r.container_id, "--oci-log", "runtime.log"};
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
  pid_t mid = fork();
  if (mid < 0) {
    close(p[0]);
    close(p[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (mid == 0) {
    if (fork() != 0) _exit(0);  // the monitor is orphaned at once, never the agent's child
    if (dup2(p[1], kStatusFd) < 0) _exit(127);
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  close(p[1]);
  int status = 0;
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string line;
  char buf[1024];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{p[0], POLLIN, 0};
    int n = poll(&pfd, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ssize_t got = read(p[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    line.append(buf, static_cast<size_t>(got));
  }
  close(p[0]);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.rfind("error ", 0) == 0) throw std::runtime_error(line.substr(6));
  Started s;
  std::istringstream in(line);
  std::string word;
  if (!(in >> word >> s.task_pid >> s.task_start >> s.monitor_pid >> s.monitor_start) || word != "ok")
    throw std::runtime_error("task monitor " + r.monitor_path + " did not report the start" +
                             (line.empty() ? std::string() : ": \"" + line + "\""));
  return s;
}

}  // namespace drover::exec
