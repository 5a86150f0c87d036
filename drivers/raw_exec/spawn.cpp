// fork/exec of a raw_exec task (see spawn.hpp). The agent is multi-threaded, so between
// fork and exec the child only makes async-signal-safe calls on memory prepared before the
// fork. A close-on-exec pipe tells the parent whether exec happened or why it failed.
#include "spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "proc.hpp"

namespace drover::raw_exec {
namespace {

// What the child reports through the pipe when it cannot exec.
enum Stage : int {
  kStageChdir = 1,
  kStageStdin = 2,
  kStageDup = 3,
  kStageExec = 4,
  kStageUser = 5
};
struct ChildFailure {
  int stage;
  int err;
};

std::vector<char*> c_array(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int open_log(const std::string& path, const char* what) {
  // O_NOFOLLOW: a task may have swapped its log file for a symlink to a host file.
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    throw std::runtime_error(std::string("open ") + what + " file " + path + ": " +
                             std::strerror(errno));
  }
  return fd;
}

void close_fds_from(int first, int keep) {
  // close_range exists since Linux 5.9; the loop is the fallback for older kernels.
  auto close_span = [](unsigned lo, unsigned hi) {
    if (lo > hi) return;
    if (syscall(SYS_close_range, lo, hi, 0) == 0) return;
    rlimit rl{};
    unsigned max = (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536)
                       ? static_cast<unsigned>(rl.rlim_cur)
                       : 65536u;
    for (unsigned fd = lo; fd <= hi && fd < max; ++fd) close(static_cast<int>(fd));
  };
  close_span(static_cast<unsigned>(first), static_cast<unsigned>(keep - 1));
  close_span(static_cast<unsigned>(keep + 1), ~0u);
}

[[noreturn]] void child_fail(int pipe_fd, int stage, int err) {
  ChildFailure f{stage, err};
  ssize_t ignored = write(pipe_fd, &f, sizeof f);
  (void)ignored;
  _exit(127);
}

// Runs in the child: only async-signal-safe calls from here to exec.
[[noreturn]] void run_child(const SpawnRequest& req, char* const* argv, char* const* envp,
                            const std::vector<char*>& paths, int out_fd, int err_fd, int pipe_fd) {
  // The agent's signal mask and ignored signals would otherwise survive exec.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);

  setsid();  // own session and process group: stop and signal reach the whole task
  if (req.set_user) {
    // Groups first: after setuid the process may no longer change them.
    if (setgroups(1, &req.gid) != 0 || setgid(req.gid) != 0 || setuid(req.uid) != 0) {
      child_fail(pipe_fd, kStageUser, errno);
    }
  }
  if (chdir(req.dir.c_str()) != 0) child_fail(pipe_fd, kStageChdir, errno);
  int in_fd = open("/dev/null", O_RDONLY);
  if (in_fd < 0) child_fail(pipe_fd, kStageStdin, errno);
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
    child_fail(pipe_fd, kStageDup, errno);
  }
  close_fds_from(3, pipe_fd);

  // Like execvp: skip entries where the file is missing, remember EACCES, stop on others.
  int err = ENOENT;
  bool saw_eacces = false;
  for (char* path : paths) {
    if (path == nullptr) break;
    execve(path, argv, envp);
    err = errno;
    if (err == EACCES) {
      saw_eacces = true;
      continue;
    }
    if (err == ENOENT || err == ENOTDIR) continue;
    break;
  }
  if (saw_eacces && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  child_fail(pipe_fd, kStageExec, err);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace

std::vector<std::string> command_candidates(const std::string& command,
                                            const std::string& path_env) {
  if (command.find('/') != std::string::npos) return {command};
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    std::size_t end = path_env.find(':', begin);
    std::string dir = path_env.substr(begin, end == std::string::npos ? end : end - begin);
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + command);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

void resolve_user(const std::string& name, SpawnRequest& req) {
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

Spawned spawn(const SpawnRequest& req) {
  if (req.argv.empty()) throw std::runtime_error("no command to run");
  // Everything the child touches is prepared here, before fork.
  auto argv = c_array(req.argv);
  auto envp = c_array(req.env);
  auto paths = c_array(req.candidates);
  Fd out(open_log(req.stdout_path, "stdout"));
  Fd err(open_log(req.stderr_path, "stderr"));
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  Fd rd(p[0]), wr(p[1]);

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_child(req, argv.data(), envp.data(), paths, out.get(), err.get(), wr.get());

  wr.reset();
  // The child is ours and unreaped, so its PID cannot be reused before this opens.
  Fd pidfd(open_pidfd(pid));
  const int pidfd_errno = errno;
  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(rd.get(), &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string why = std::strerror(failure.err);
    switch (failure.stage) {
      case kStageChdir:
        throw std::runtime_error("cannot enter task dir " + req.dir + ": " + why);
      case kStageUser:
        throw std::runtime_error("cannot switch to the task's user: " + why);
      case kStageExec:
        throw std::runtime_error("cannot run command \"" + req.argv[0] + "\": " + why);
      default:
        throw std::runtime_error("cannot set up stdio for \"" + req.argv[0] + "\": " + why);
    }
  }
  if (pidfd.get() < 0) {
    // Cannot supervise it without a pidfd (kernel < 5.3): do not leave it running unseen.
    kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(pidfd_errno));
  }
  return Spawned{pid, pidfd.release()};
}

}  // namespace drover::raw_exec
