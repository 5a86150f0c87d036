// drover-monitor launch (see monitor_launch.hpp): the env memfd and the monitor's flags;
// spawn_monitor (monitor_client.hpp) starts it.
#include "monitor_launch.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace drover::raw_exec {
namespace {

// The task's env as NUL-separated KEY=VALUE in a memfd, which the monitor reads on its
// --env-fd: secrets never touch a filesystem, and a start writes no env file.
int env_memfd(const std::vector<std::string>& env) {
  int fd = memfd_create("drover-task-env", MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  std::string data;
  for (const auto& e : env) data.append(e).push_back('\0');
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      throw std::runtime_error(std::string("writing the task's env: ") + std::strerror(e));
    }
    off += static_cast<size_t>(w);
  }
  return fd;
}

std::vector<std::string> monitor_argv(const MonitorLaunch& r) {
  const std::string status_fd = std::to_string(monitored::kMonitorStatusFd);
  std::vector<std::string> a = {r.monitor_path, "--state-dir", r.state_dir,  "--dir", r.work_dir,
                                "--status-fd",  status_fd,     "--env-fd",
                                std::to_string(monitored::kMonitorEnvFd)};
  for (auto& l : r.logs.monitor_args()) a.push_back(std::move(l));
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

monitored::MonitorStarted launch_monitor(const MonitorLaunch& req,
                                         std::chrono::milliseconds timeout) {
  if (req.argv.empty()) throw std::runtime_error("no command to run");
  if (access(req.monitor_path.c_str(), X_OK) != 0) {
    throw std::runtime_error("task monitor " + req.monitor_path + ": " + std::strerror(errno));
  }
  struct Fd {
    int fd;
    ~Fd() { close(fd); }
  } env{env_memfd(req.env)};
  auto started = monitored::spawn_monitor(monitor_argv(req), timeout, env.fd);
  if (started.placement.starts_with("fallback:")) {
    // Every start on this kernel takes the slower path: say so once, not per task.
    static std::once_flag said;
    std::call_once(said, [&] {
      int err = std::atoi(started.placement.c_str() + 9);
      std::cerr << "raw_exec: this kernel refuses clone3(CLONE_INTO_CGROUP) ("
                << std::strerror(err) << "; it needs Linux >= 5.7): tasks join their cgroup v2 "
                << "through a cgroup.procs write, a migration per start\n";
    });
  }
  return started;
}

}  // namespace drover::raw_exec
