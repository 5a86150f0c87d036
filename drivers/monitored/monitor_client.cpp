// The monitor's socket and exit file, seen from the driver (see monitor_client.hpp).
#include "monitor_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "monitor_reaper.hpp"
#include "monitor_spare.hpp"

namespace drover::monitored {

std::optional<ExitRecord> parse_exit_line(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  ExitRecord r;
  if (!(in >> word >> r.exit_code >> r.signal >> r.time_ns >> r.task_pid) || word != "exited") {
    return std::nullopt;
  }
  return r;
}

std::optional<ExitRecord> read_exit_file(const std::string& state_dir, int task_pid) {
  int fd = open((state_dir + "/exit").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  auto r = parse_exit_line(std::string(buf, static_cast<size_t>(n)));
  if (!r || r->task_pid != task_pid) return std::nullopt;  // an earlier run's
  return r;
}

MonitorConn::MonitorConn(const std::string& state_dir, int monitor_pid) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = state_dir + "/monitor.sock";
  int dirfd = -1;
  if (path.size() >= sizeof addr.sun_path) {
    // Too long for sun_path: reach it through a dir fd instead.
    dirfd = open(state_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return;
    path = "/proc/self/fd/" + std::to_string(dirfd) + "/monitor.sock";
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
  }
  if (dirfd >= 0) close(dirfd);
  ucred cred{};
  socklen_t len = sizeof cred;
  if (fd_ >= 0 &&
      (getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != monitor_pid)) {
    close(fd_);  // not the monitor of this handle
    fd_ = -1;
  }
}

MonitorConn::~MonitorConn() {
  if (fd_ >= 0) close(fd_);
}

std::optional<TaskIdentity> parse_pid_reply(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  TaskIdentity t;
  if (!(in >> word >> t.pid >> t.start_time) || word != "pid" || t.pid <= 0) return std::nullopt;
  return t;
}

bool is_ok(const std::string& reply) { return reply == "ok"; }

std::string reply_error(const std::string& reply) {
  return reply.rfind("error ", 0) == 0 ? reply.substr(6) : reply;
}

bool MonitorConn::send(const Command& command) {
  std::string data = command.line() + "\n";
  return fd_ >= 0 &&
         ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

std::optional<std::string> MonitorConn::read_line(std::chrono::milliseconds timeout, bool* closed) {
  if (closed) *closed = false;
  const bool forever = timeout.count() < 0;
  const auto deadline = std::chrono::steady_clock::now() + (forever ? timeout.zero() : timeout);
  for (;;) {
    if (auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (fd_ < 0) {
      if (closed) *closed = true;
      return std::nullopt;
    }
    int ms = -1;
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      ms = left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), INT_MAX));
    }
    pollfd pfd{fd_, POLLIN, 0};
    int r = poll(&pfd, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    char tmp[256];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd_);
      fd_ = -1;
      continue;
    }
    buf_.append(tmp, static_cast<size_t>(n));
  }
}

MonitorStarted spawn_monitor(std::vector<std::string> args, std::chrono::milliseconds timeout,
                             int env_fd) {
  const std::string monitor_path = args.at(0);
  // posix_spawn shares the agent's memory until exec instead of copying its page tables.
  // The monitor stays this process's child, in a session of its own, and a thread here waits
  // for it when it ends (monitor_reaper.hpp); without pidfds it forks itself away (--detach)
  // and the process spawned here ends at once.
  const bool reap = can_reap_monitors();
  if (!reap) {
    auto sep = std::find(args.begin(), args.end(), std::string("--"));
    args.insert(sep, "--detach");
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  // Another spare is asked for once this start is read, so that making it does not compete
  // with the start for the CPU.
  struct KeepSpare {
    const std::string& path;
    bool on;
    ~KeepSpare() {
      if (on) keep_spare(path);
    }
  } keep{monitor_path, reap};
  // A spare monitor, waiting already, takes the start without a process being made for it
  // (monitor_spare.hpp).
  static_assert(kMonitorEnvFd == kMonitorStatusFd + 1, "a spare puts the fds it is sent on 3, 4, ...");
  std::vector<int> fds = {p[1]};
  if (env_fd >= 0) fds.push_back(env_fd);
  if (reap && start_on_spare(args, fds)) {
    close(p[1]);
    return read_monitor_status(p[0], timeout, monitor_path);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], kMonitorStatusFd);  // the copy is not close-on-exec
  if (env_fd >= 0) posix_spawn_file_actions_adddup2(&fa, env_fd, kMonitorEnvFd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own session from the start: a terminal's signals to the agent's group never reach it.
  if (reap) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t mid = -1;
  int err = posix_spawn(&mid, argv[0], &fa, &attr, argv.data(), envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if (err != 0) {
    close(p[0]);
    throw std::runtime_error("task monitor " + monitor_path + ": " + std::strerror(err));
  }
  if (reap) {
    reap_when_done(mid);
  } else {
    int status = 0;
    while (waitpid(mid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // The report: one line, then EOF when the monitor closes it (or dies).
  return read_monitor_status(p[0], timeout, monitor_path);
}

MonitorStarted read_monitor_status(int fd, std::chrono::milliseconds timeout,
                                   const std::string& monitor_path) {
  std::string line;
  char buf[1024];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    int r = poll(&pfd, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.rfind("error ", 0) == 0) throw std::runtime_error(line.substr(6));
  MonitorStarted s;
  std::istringstream in(line);
  std::string word;
  if (!(in >> word >> s.task_pid >> s.task_start >> s.monitor_pid >> s.monitor_start) ||
      word != "ok") {
    throw std::runtime_error("task monitor " + monitor_path + " did not report the start" +
                             (line.empty() ? std::string() : ": \"" + line + "\""));
  }
  in >> s.placement;  // absent from a monitor older than the word
  return s;
}

}  // namespace drover::monitored
