// spawn (spawn.hpp) on glibc's posix_spawn.
#include "proc/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::proc {

Result<pid_t> spawn(const SpawnRequest& req) {
  std::vector<char*> argv, envp;
  if (req.argv.empty()) argv.push_back(const_cast<char*>(req.exe.c_str()));
  for (const auto& a : req.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : req.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const int fds[3] = {req.in, req.out, req.err};
  for (int i = 0; i < 3; ++i) {
    if (fds[i] < 0)
      posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
    else
      posix_spawn_file_actions_adddup2(&fa, fds[i], i);
  }
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  if (!req.dir.empty()) posix_spawn_file_actions_addchdir_np(&fa, req.dir.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // not the calling thread's (the agent blocks
  posix_spawnattr_setsigdefault(&attr, &all);  // its stop signals for sigwait)
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (req.own_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid = -1;
  const int err = req.search_path
                      ? ::posix_spawnp(&pid, req.exe.c_str(), &fa, &attr, argv.data(), envp.data())
                      : ::posix_spawn(&pid, req.exe.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return make_error("cannot run " + req.exe + ": " + std::strerror(err));
  return pid;
}

Pipe::Pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) == 0) r = p[0], w = p[1];
}

Pipe::~Pipe() {
  close_read();
  close_write();
}

void Pipe::close_read() {
  if (r >= 0) ::close(r);
  r = -1;
}

void Pipe::close_write() {
  if (w >= 0) ::close(w);
  w = -1;
}

void read_both(int fd_out, int fd_err, std::string& out, std::string& err) {
  pollfd fds[2] = {{fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}};
  std::string* bufs[2] = {&out, &err};
  char buf[4096];
  for (int open = 2; open > 0;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) bufs[i]->append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR)) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace drover::proc
