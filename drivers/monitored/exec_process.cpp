// spawn_exec (exec_process.hpp): a vfork-like clone, then only system calls in the child (it
// shares the multi-threaded agent's memory until execve), each step reporting its errno
// through a close-on-exec pipe so that the caller learns why a command did not run.
#include "exec_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "proc.hpp"

namespace drover::monitored {
namespace {

// Closed on scope exit unless released.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int f = -1) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
  int release() { return std::exchange(fd, -1); }
};

void set_cloexec(int fd) { ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC); }

// What the child reports when a step fails: which step and its errno.
enum Step : int { kSession = 1, kTerminal, kStdio, kCgroup, kGroups, kGid, kUid, kChdir, kExec };
struct Failure {
  int step = 0;
  int err = 0;
  int index = 0;  // which cgroup file
};

const char* step_text(int step) {
  switch (step) {
    case kSession: return "setsid";
    case kTerminal: return "making the terminal its controlling terminal";
    case kStdio: return "setting up its stdio";
    case kCgroup: return "joining the task's cgroup";
    case kGroups: return "setgroups";
    case kGid: return "setgid";
    case kUid: return "setuid";
    case kChdir: return "chdir";
    case kExec: return "exec";
  }
  return "?";
}

[[noreturn]] void fail_child(int report_fd, int step, int index = 0) {
  Failure f{step, errno, index};
  (void)!::write(report_fd, &f, sizeof f);
  _exit(127);
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void child(const ExecSpawn& s, int report_fd, int slave, const int pipes[3],
                        char* const* argv, char* const* envp,
                        const std::vector<const char*>& cgroups,
                        const std::vector<const char*>& tasks) {
  // Handlers to their defaults before any signal is unblocked: the child runs in the agent's
  // memory (see spawn_exec), and an agent handler must never run in it.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // SIGKILL/STOP refuse
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (setsid() < 0) fail_child(report_fd, kSession);
  if (s.tty) {
    if (::ioctl(slave, TIOCSCTTY, 0) < 0) fail_child(report_fd, kTerminal);
    for (int i = 0; i < 3; ++i)
      if (::dup2(slave, i) < 0) fail_child(report_fd, kStdio);
  } else {
    for (int i = 0; i < 3; ++i)
      if (::dup2(pipes[i], i) < 0) fail_child(report_fd, kStdio);
  }
  // Nothing of the agent's leaks into the command: every other descriptor closes at exec
  // (the report pipe too, which is how the parent learns that exec happened).
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  // Into each cgroup through its v1 `tasks` file where there is one: this single thread moving
  // itself skips the kernel's global cgroup_threadgroup_rwsem, whose write lock a
  // cgroup.procs write takes (an RCU grace period on a fresh boot: docs/cgroups.md, "Joining
  // without the global lock"). cgroup2 has no `tasks` file: cgroup.procs where there is none
  // (ENOENT; any other failure is the join's, as in the monitor's join_cgroup_v1).
  for (std::size_t i = 0; i < cgroups.size(); ++i) {
    int fd = tasks[i] ? ::open(tasks[i], O_WRONLY | O_CLOEXEC) : -1;
    if (fd < 0 && (!tasks[i] || errno == ENOENT)) fd = ::open(cgroups[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) fail_child(report_fd, kCgroup, static_cast<int>(i));
    ::close(fd);
  }
  if (s.set_user) {
    // The system calls themselves: glibc's wrappers would take the child, which shares the
    // agent's memory, for one of the agent's threads and try to change every thread's ids.
    if (::syscall(SYS_setgroups, s.groups.size(), s.groups.data()) < 0) fail_child(report_fd, kGroups);
    if (::syscall(SYS_setgid, s.gid) < 0) fail_child(report_fd, kGid);
    if (::syscall(SYS_setuid, s.uid) < 0) fail_child(report_fd, kUid);
  }
  if (!s.cwd.empty() && ::chdir(s.cwd.c_str()) < 0) fail_child(report_fd, kChdir);
  ::execve(argv[0], argv, envp);
  fail_child(report_fd, kExec);
}

class ExecProcess final : public sdk::ExecStream {
 public:
  ExecProcess(pid_t pid, int pidfd, int master, std::string pid_file)
      : pid_(pid), pidfd_(pidfd), master_(master), pid_file_(std::move(pid_file)) {}
  ~ExecProcess() override {
    if (!exit_) {
      kill();
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (pidfd_ >= 0) ::close(pidfd_);
    if (master_ >= 0) ::close(master_);
    if (!pid_file_.empty()) ::unlink(pid_file_.c_str());
  }

  std::optional<sdk::ExitStatus> wait(std::chrono::milliseconds timeout) override {
    if (exit_) return exit_;
    if (pidfd_ >= 0 && !wait_exited(pidfd_, timeout)) return std::nullopt;
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, pidfd_ >= 0 ? 0 : WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r == 0) return std::nullopt;
    if (r < 0) throw std::runtime_error(std::string("exec: waitpid: ") + std::strerror(errno));
    sdk::ExitStatus e;
    if (WIFSIGNALED(status)) {
      e.signal = WTERMSIG(status);
      e.exit_code = 128 + e.signal;
    } else {
      e.exit_code = WEXITSTATUS(status);
    }
    exit_ = e;
    return exit_;
  }

  void resize(int height, int width) override {
    if (master_ < 0 || height <= 0 || width <= 0) return;
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(std::min(height, 0xffff));
    ws.ws_col = static_cast<unsigned short>(std::min(width, 0xffff));
    // The kernel sends SIGWINCH to the terminal's foreground process group.
    if (::ioctl(master_, TIOCSWINSZ, &ws) < 0)
      throw std::runtime_error(std::string("exec: resizing the terminal: ") + std::strerror(errno));
    if (!pid_file_.empty()) resize_inner_terminal(ws);
  }

  // `runc exec --tty` and `crun exec --tty` give the command a terminal of their own and copy
  // between it and ours. runc passes a resize on (it handles SIGWINCH); crun before 1.9
  // (Debian 12 has 1.8.1) copies the size at its start only. So the size is also set on the
  // command's own terminal, found as its stdin, stdout or stderr, from here. Only a pty slave
  // (UNIX98 majors 136-143) is opened, through an O_PATH look first: whatever else the
  // command has put on those fds is never opened. Best effort: a command that closed them
  // keeps the size the runtime gave it.
  void resize_inner_terminal(const winsize& ws) const {
    int inner = 0;
    std::ifstream(pid_file_) >> inner;
    if (inner <= 1) return;
    for (int n = 0; n <= 2; ++n) {
      std::string link = "/proc/" + std::to_string(inner) + "/fd/" + std::to_string(n);
      Fd path(::open(link.c_str(), O_PATH | O_CLOEXEC));
      struct stat st {};
      if (path.fd < 0 || ::fstat(path.fd, &st) != 0 || !S_ISCHR(st.st_mode)) continue;
      if (major(st.st_rdev) < 136 || major(st.st_rdev) > 143) continue;
      std::string again = "/proc/self/fd/" + std::to_string(path.fd);
      Fd tty(::open(again.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
      if (tty.fd >= 0 && ::ioctl(tty.fd, TIOCSWINSZ, &ws) == 0) return;
    }
  }

  void kill() override {
    if (exit_) return;  // reaped: its PID (and group) may belong to someone else by now
    if (!pid_file_.empty()) {
      int inner = 0;
      std::ifstream(pid_file_) >> inner;
      if (inner > 1) ::kill(inner, SIGKILL);
    }
    ::kill(-pid_, SIGKILL);  // its session's process group: what it started in the foreground
    ::kill(pid_, SIGKILL);
  }

 private:
  pid_t pid_;
  int pidfd_;
  int master_;
  std::string pid_file_;
  std::optional<sdk::ExitStatus> exit_;
};

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

sdk::ExecResult run_to_end(sdk::ExecStream& s, std::chrono::milliseconds timeout) {
  constexpr std::size_t kKeep = 4 << 20;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  Fd in(std::exchange(s.fds[0], -1)), out(std::exchange(s.fds[1], -1)),
      err(std::exchange(s.fds[2], -1)), exit_fd(std::exchange(s.fds[3], -1));
  in.reset();
  sdk::ExecResult r;
  std::string* into[2] = {&r.stdout_text, &r.stderr_text};
  Fd* from[2] = {&out, &err};
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(ms, 0, INT_MAX));
  };
  auto timed_out = [&]() -> sdk::ExecResult {
    s.kill();
    throw std::runtime_error("exec: timed out after " + std::to_string(timeout.count()) + " ms");
  };
  while (out.fd >= 0 || err.fd >= 0) {
    pollfd p[2] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
    int n = ::poll(p, 2, left());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return timed_out();
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      char buf[16384];
      ssize_t got = ::read(p[i].fd, buf, sizeof buf);
      if (got > 0) {
        into[i]->append(buf, std::min(static_cast<std::size_t>(got), kKeep - std::min(kKeep, into[i]->size())));
      } else if (got == 0 || errno != EINTR) {
        from[i]->reset();
      }
    }
  }
  auto exit = s.wait(std::chrono::milliseconds(left()));
  if (!exit) return timed_out();
  r.exit_code = exit->exit_code;
  return r;
}

std::string search_path(const std::string& name, const std::string& path_list) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream dirs(path_list);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir.empty() ? std::string(".") : dir;
    candidate.append("/").append(name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return "";
}

std::unique_ptr<sdk::ExecStream> spawn_exec(const ExecSpawn& s) {
  if (s.argv.empty() || s.argv[0].empty()) throw std::runtime_error("exec: no command");
  // Everything the child needs is made here: it may not allocate.
  auto argv = c_strings(s.argv);
  auto envp = c_strings(s.env);
  std::vector<const char*> cgroups, tasks;
  std::vector<std::string> tasks_files;
  tasks_files.reserve(s.cgroup_procs.size());  // no reallocation: tasks points into it
  static constexpr std::string_view kProcs = "cgroup.procs";
  for (const auto& p : s.cgroup_procs) {
    cgroups.push_back(p.c_str());
    const bool named = p.ends_with(kProcs);
    tasks_files.push_back(named ? p.substr(0, p.size() - kProcs.size()) + "tasks" : std::string());
    tasks.push_back(named ? tasks_files.back().c_str() : nullptr);
  }

  Fd master, slave, ends[6];  // ends: stdin r/w, stdout r/w, stderr r/w
  if (s.tty) {
    int m = -1, sl = -1;
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(s.height > 0 ? std::min(s.height, 0xffff) : 24);
    ws.ws_col = static_cast<unsigned short>(s.width > 0 ? std::min(s.width, 0xffff) : 80);
    termios raw{};
    if (s.raw_terminal) {
      ::cfmakeraw(&raw);
      raw.c_oflag |= OPOST | ONLCR;  // what the command writes as "\n" still reaches us as "\r\n"
    }
    if (::openpty(&m, &sl, nullptr, s.raw_terminal ? &raw : nullptr, &ws) < 0)
      throw std::runtime_error(std::string("exec: openpty: ") + std::strerror(errno));
    master.reset(m);
    slave.reset(sl);
    set_cloexec(m);
    set_cloexec(sl);
  } else {
    for (int i = 0; i < 3; ++i) {
      int p[2];
      if (::pipe2(p, O_CLOEXEC) < 0)
        throw std::runtime_error(std::string("exec: pipe: ") + std::strerror(errno));
      ends[2 * i].reset(p[0]);
      ends[2 * i + 1].reset(p[1]);
    }
  }
  const int child_pipes[3] = {ends[0].fd, ends[3].fd, ends[5].fd};
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0)
    throw std::runtime_error(std::string("exec: pipe: ") + std::strerror(errno));
  Fd report_r(report[0]), report_w(report[1]);

  // The child borrows the agent's memory until execve (CLONE_VM | CLONE_VFORK: this thread
  // waits meanwhile) on a stack of its own, as glibc's posix_spawn does: a fork would copy
  // the agent's page tables, and every page an agent thread wrote afterwards would take a
  // copy-on-write fault (docs/design.md, "Process model"). child() makes system calls only.
  struct Args {
    const ExecSpawn* s;
    int report, slave;
    const int* pipes;
    char* const* argv;
    char* const* envp;
    const std::vector<const char*>* cgroups;
    const std::vector<const char*>* tasks;  // the `tasks` file beside each, or null
  } args{&s, report_w.fd, slave.fd, child_pipes, argv.data(), envp.data(), &cgroups, &tasks};
  std::vector<char> stack(64 * 1024);
  auto entry = [](void* p) -> int {
    auto* a = static_cast<Args*>(p);
    child(*a->s, a->report, a->slave, a->pipes, a->argv, a->envp, *a->cgroups, *a->tasks);
  };
  pid_t pid = ::clone(entry, stack.data() + stack.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  if (pid < 0) throw std::runtime_error(std::string("exec: clone: ") + std::strerror(errno));

  report_w.reset();
  slave.reset();
  ends[0].reset();
  ends[3].reset();
  ends[5].reset();
  Failure f;
  ssize_t n;
  while ((n = ::read(report_r.fd, &f, sizeof f)) < 0 && errno == EINTR) {
  }
  if (n > 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::string what = step_text(f.step);
    if (f.step == kCgroup && f.index < static_cast<int>(s.cgroup_procs.size()))
      what += " (" + s.cgroup_procs[f.index] + ")";
    if (f.step == kExec) what = "\"" + s.argv[0] + "\"";
    if (f.step == kChdir) what = "chdir " + s.cwd;
    throw std::runtime_error("exec: " + what + ": " + std::strerror(f.err));
  }
  int pidfd = open_pidfd(pid);
  auto p = std::make_unique<ExecProcess>(pid, pidfd, s.tty ? ::fcntl(master.fd, F_DUPFD_CLOEXEC, 0) : -1,
                                         s.pid_file);
  if (s.tty) {
    p->fds[0] = master.release();
  } else {
    p->fds[0] = ends[1].release();
    p->fds[1] = ends[2].release();
    p->fds[2] = ends[4].release();
  }
  p->fds[3] = pidfd >= 0 ? ::fcntl(pidfd, F_DUPFD_CLOEXEC, 0) : -1;
  return p;
}

}  // namespace drover::monitored
