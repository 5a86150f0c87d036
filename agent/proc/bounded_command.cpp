// run_bounded (bounded_command.hpp) on proc::spawn (glibc's posix_spawn).
#include "proc/bounded_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proc/spawn.hpp"

namespace drover::proc {

namespace {

// Reads `fd` until EOF or the deadline; true when the deadline came first.
bool read_until(int fd, std::chrono::steady_clock::time_point deadline, std::size_t max,
                std::string& output) {
  char buf[1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    if (output.size() < max)
      output.append(buf, std::min(static_cast<std::size_t>(n), max - output.size()));
  }
}

}  // namespace

Result<BoundedRun> run_bounded(const BoundedCommand& cmd) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
  SpawnRequest req;
  req.exe = cmd.exe.string();
  req.argv.push_back(req.exe);
  req.argv.insert(req.argv.end(), cmd.args.begin(), cmd.args.end());
  for (const auto& [k, v] : cmd.env) req.env.push_back(k + "=" + v);
  req.dir = cmd.dir.string();
  // Its own process group, so that a timeout kills whatever it started.
  req.own_process_group = true;
  req.out = cmd.keep_stdout ? p[1] : -1;
  req.err = p[1];
  auto pid = spawn(req);
  // Our copy of the write end goes, so the read sees EOF once the command and its children exit.
  ::close(p[1]);
  if (!pid) {
    ::close(p[0]);
    return pid.error();
  }
  BoundedRun run;
  run.timed_out = read_until(p[0], cmd.deadline, cmd.max_output, run.output);
  ::close(p[0]);
  if (run.timed_out) ::kill(-*pid, SIGKILL);
  run.exit_code = wait_exit_code(*pid);
  return run;
}

}  // namespace drover::proc
