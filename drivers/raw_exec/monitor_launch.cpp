// drover-monitor launch (see monitor_launch.hpp): posix_spawn, which is safe in the
// multi-threaded agent and copies nothing of it.
#include "monitor_launch.hpp"

#include "monitor_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace drover::raw_exec {
namespace {

constexpr int kStatusFd = 3;  // where the monitor finds its report pipe

std::vector<char*> c_array(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void write_env_file(const std::string& path, const std::vector<std::string>& env) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("write " + path + ": " + std::strerror(errno));
  std::string data;
  for (const auto& e : env) data.append(e).push_back('\0');
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      throw std::runtime_error("write " + path + ": " + std::strerror(e));
    }
    off += static_cast<size_t>(w);
  }
  close(fd);
}

std::vector<std::string> monitor_argv(const MonitorLaunch& r) {
  std::vector<std::string> a = {r.monitor_path,   "--state-dir", r.state_dir,
                                "--dir",          r.work_dir,    "--status-fd",
                                std::to_string(kStatusFd), "--env-file", "env", "--detach"};
  if (!r.stdout_base.empty()) {
    a.insert(a.end(), {"--stdout", r.stdout_base, "--stderr", r.stderr_base, "--max-files",
                       std::to_string(r.max_files), "--max-file-size",
                       std::to_string(r.max_file_size)});
  }
  if (r.set_user) a.insert(a.end(), {"--user", std::to_string(r.uid) + ":" + std::to_string(r.gid)});
  for (const auto& p : r.cgroup_procs) a.insert(a.end(), {"--cgroup-procs", p});
  a.push_back("--");
  a.insert(a.end(), r.argv.begin(), r.argv.end());
  return a;
}

}  // namespace

void resolve_user(const std::string& name, MonitorLaunch& req) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  int r = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (r != 0) throw std::runtime_error("User \"" + name + "\": " + std::strerror(r));
  if (found == nullptr) throw std::runtime_error("User \"" + name + "\": no such user");
  if (geteuid() != 0 && pw.pw_uid != geteuid()) {
    throw std::runtime_error("User \"" + name +
                             "\": the agent is not root and cannot run tasks as another user");
  }
  req.set_user = true;
  req.uid = pw.pw_uid;
  req.gid = pw.pw_gid;
}

Launched launch_monitor(const MonitorLaunch& req, std::chrono::milliseconds timeout) {
  if (req.argv.empty()) throw std::runtime_error("no command to run");
  if (access(req.monitor_path.c_str(), X_OK) != 0) {
    throw std::runtime_error("task monitor " + req.monitor_path + ": " + std::strerror(errno));
  }
  write_env_file(req.state_dir + "/env", req.env);
  auto args = monitor_argv(req);
  auto argv = c_array(args);
  char* envp[] = {nullptr};
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));

  // posix_spawn shares the agent's memory until exec instead of copying its page tables
  // (twice, with a fork per level); --detach makes the monitor fork itself once so that it is
  // never the agent's child (monitor/README.md).
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], kStatusFd);  // the copy is not close-on-exec
  pid_t mid = -1;
  int err = posix_spawn(&mid, argv[0], &fa, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (err != 0) {
    close(p[0]);
    throw std::runtime_error("task monitor " + req.monitor_path + ": " + std::strerror(err));
  }
  int status = 0;
  while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  // Read the report: one line, then EOF when the monitor closes it (or dies).
  auto st = read_monitor_status(p[0], timeout, req.monitor_path);
  return Launched{st.task_pid, st.task_start, st.monitor_pid, st.monitor_start};
}

}  // namespace drover::raw_exec
