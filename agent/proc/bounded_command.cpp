// run_bounded (bounded_command.hpp) on proc::spawn (glibc's posix_spawn).
#include "proc/bounded_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <sys/mman.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "proc/spawn.hpp"

namespace drover::proc {

namespace {

// Reads `fds` (-1: none) until each reaches EOF or the deadline; true when the deadline came
// first. What fds[i] says goes to *outputs[i], up to `max` bytes each.
bool read_until(std::array<int, 2> fds, std::chrono::steady_clock::time_point deadline,
                std::size_t max, std::array<std::string*, 2> outputs) {
  char buf[1024];
  for (;;) {
    pollfd p[2];
    nfds_t n_open = 0;
    std::array<int, 2> which{};
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[n_open] = {fds[i], POLLIN, 0};
        which[n_open++] = i;
      }
    if (n_open == 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return true;
    int rc = ::poll(p, n_open, static_cast<int>(std::min<long long>(left, 60'000)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    for (nfds_t k = 0; k < n_open; ++k) {
      if (!p[k].revents) continue;
      const int i = which[k];
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i] = -1;  // EOF (the caller closes it)
        continue;
      }
      std::string& out = *outputs[i];
      if (out.size() < max) out.append(buf, std::min(static_cast<std::size_t>(n), max - out.size()));
    }
  }
}

// `data` in a sealed memfd at offset 0, for a child's stdin; -1 with errno on failure.
int input_fd(const std::string& data) {
  int fd = ::memfd_create("drover-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    done += static_cast<std::size_t>(n);
  }
  ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

}  // namespace

Result<BoundedRun> run_bounded(const BoundedCommand& cmd) {
  int p[2], e[2] = {-1, -1};
  if (::pipe2(p, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
  if (cmd.separate_stderr && ::pipe2(e, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(p[0]);
    ::close(p[1]);
    return make_error(std::string("pipe: ") + std::strerror(err));
  }
  const int in = cmd.input.empty() ? -1 : input_fd(cmd.input);
  if (!cmd.input.empty() && in < 0) {
    const int err = errno;
    for (int fd : {p[0], p[1], e[0], e[1]})
      if (fd >= 0) ::close(fd);
    return make_error(std::string("stdin for ") + cmd.exe.string() + ": " + std::strerror(err));
  }
  SpawnRequest req;
  req.exe = cmd.exe.string();
  req.argv.push_back(req.exe);
  req.argv.insert(req.argv.end(), cmd.args.begin(), cmd.args.end());
  for (const auto& [k, v] : cmd.env) req.env.push_back(k + "=" + v);
  req.dir = cmd.dir.string();
  // Its own process group, so that a timeout kills whatever it started.
  req.own_process_group = true;
  req.out = cmd.keep_stdout ? p[1] : -1;
  req.err = cmd.separate_stderr ? e[1] : p[1];
  req.in = in;
  auto pid = spawn(req);
  // Our copies of the write ends go, so the reads see EOF once the command and its children
  // exit.
  ::close(p[1]);
  if (e[1] >= 0) ::close(e[1]);
  if (in >= 0) ::close(in);
  if (!pid) {
    ::close(p[0]);
    if (e[0] >= 0) ::close(e[0]);
    return pid.error();
  }
  BoundedRun run;
  run.timed_out = read_until({p[0], e[0]}, cmd.deadline, cmd.max_output, {&run.output, &run.error_output});
  ::close(p[0]);
  if (e[0] >= 0) ::close(e[0]);
  if (run.timed_out) ::kill(-*pid, SIGKILL);
  run.exit_code = wait_exit_code(*pid);
  return run;
}

}  // namespace drover::proc
