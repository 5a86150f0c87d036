// run_bounded (bounded_command.hpp) on Boost.Process.
#include "proc/bounded_command.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>

namespace drover::proc {

namespace bp = boost::process;

namespace {

// Its own process group, so that a timeout kills whatever it started; and the signal mask of
// a fresh process, not the agent thread's.
auto fresh_process_group() {
  return bp::extend::on_exec_setup([](auto&) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
  });
}

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
  bp::environment env;
  env.clear();
  for (const auto& [k, v] : cmd.env) env[k] = v;
  const auto dir = cmd.dir.empty() ? std::filesystem::current_path() : cmd.dir;
  bp::pipe out;
  std::error_code ec;
  bp::child child;
  if (cmd.keep_stdout)
    child = bp::child(cmd.exe.string(), bp::args(cmd.args), env, bp::start_dir(dir.string()),
                      bp::std_in<bp::null, (bp::std_out & bp::std_err)> out, ec,
                      fresh_process_group());
  else
    child = bp::child(cmd.exe.string(), bp::args(cmd.args), env, bp::start_dir(dir.string()),
                      bp::std_in<bp::null, bp::std_out> bp::null, bp::std_err > out, ec,
                      fresh_process_group());
  if (ec) return make_error(ec.message());
  // Our copy of the write end goes, so the read sees EOF once the command and its children exit.
  ::close(out.native_sink());
  out.assign_sink(-1);
  BoundedRun run;
  run.timed_out = read_until(out.native_source(), cmd.deadline, cmd.max_output, run.output);
  out.close();
  if (run.timed_out) ::kill(-child.id(), SIGKILL);
  child.wait(ec);
  run.exit_code = child.exit_code();
  // Killed by a signal: Boost.Process reports the raw status; say it as a shell would.
  if (int raw = child.native_exit_code(); WIFSIGNALED(raw)) run.exit_code = 128 + WTERMSIG(raw);
  return run;
}

}  // namespace drover::proc
