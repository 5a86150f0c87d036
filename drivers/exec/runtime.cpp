// The OCI runtime CLI from the agent's side (see runtime.hpp).
#include "runtime.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace drover::exec {

namespace {
// Each of stdout and stderr keeps at most this much.
constexpr size_t kMaxOutput = 4u << 20;
}  // namespace

RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& pid_file) {
  namespace bp = boost::process;
  RunResult r;
  if (argv.empty()) return r;
  bp::environment env;
  env.clear();
  env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  // Our own close-on-exec pipes: Boost.Process 1.74's bp::pipe uses plain pipe(2), and another
  // thread's fork would then hold our write ends (and delay EOF) until it execs.
  int out_fds[2], err_fds[2];
  if (::pipe2(out_fds, O_CLOEXEC) != 0) return r;
  if (::pipe2(err_fds, O_CLOEXEC) != 0) {
    ::close(out_fds[0]);
    ::close(out_fds[1]);
    return r;
  }
  bp::pipe out(out_fds[0], out_fds[1]), err(err_fds[0], err_fds[1]);
  std::error_code ec;
  bp::child child(
      boost::filesystem::path(argv[0]),
      bp::args(std::vector<std::string>(argv.begin() + 1, argv.end())), env,
      bp::std_in<bp::null, bp::std_out> out, bp::std_err > err, ec,
      bp::extend::on_exec_setup([](auto&) {
        // Runs between fork and execve in a multi-threaded agent: async-signal-safe calls only.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::setsid();
        // Only 0, 1, 2 go on to the runtime (docs/threat-model.md, "Privileges and isolation").
        // Boost.Process v1 does not do this itself: without bp::limit_handles every inheritable
        // fd of the agent reaches the child, and limit_handles walks /dev/fd with opendir
        // (malloc) after fork, which is not safe here. Marking fds >= 3 close-on-exec keeps
        // Boost's own exec-error pipe working and closes the rest at execve (exec_test
        // RuntimeSeesOnlyStdFds checks it).
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
          for (int fd = 3; fd < 1024; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      }),
      // On a failed execve Boost returns an empty child and leaves the forked one unreaped.
      bp::extend::on_error([](auto& exec, const std::error_code&) {
        if (exec.pid > 0)
          while (::waitpid(exec.pid, nullptr, 0) < 0 && errno == EINTR) {
          }
      }));
  // Our copies of the write ends go, so the reads see EOF once the runtime exits.
  ::close(out.native_sink());
  out.assign_sink(-1);
  ::close(err.native_sink());
  err.assign_sink(-1);
  if (ec) {
    // As the shell says it: the command could not be executed.
    r.exit_code = 127;
    r.err = argv[0] + ": " + ec.message();
    return r;
  }
  const pid_t pid = child.id();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out.native_source(), POLLIN, 0}, {err.native_source(), POLLIN, 0}};
  std::string* bufs[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      if (!pid_file.empty()) {
        std::ifstream in(pid_file);
        int task = 0;
        if (in >> task && task > 0) ::kill(task, SIGKILL);
      }
      ::kill(pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0 && bufs[i]->size() < kMaxOutput) bufs[i]->append(buf, static_cast<size_t>(got));
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  out.close();
  err.close();
  child.wait(ec);
  // Killed by a signal: Boost.Process reports the raw status; say it as a shell would.
  const int raw = child.native_exit_code();
  r.exit_code = WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : child.exit_code();
  return r;
}

std::optional<std::string> find_executable(const std::string& name) {
  auto ok = [](const std::string& p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (name.front() == '/' && ok(name)) return name;
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string path =
      env != nullptr && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty() && dir.front() == '/' && ok(dir + "/" + name)) return dir + "/" + name;
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> Runtime::global_args() const {
  std::vector<std::string> a = {path, "--root", root};
  if (!log.empty()) a.insert(a.end(), {"--log", log, "--log-format", "json"});
  return a;
}

std::optional<std::string> Runtime::state(const std::string& id) const {
  auto a = global_args();
  a.insert(a.end(), {"state", id});
  RunResult r = run_command(a, std::chrono::seconds(10));
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("status") || !j["status"].is_string()) return std::nullopt;
  return j["status"].get<std::string>();
}

std::string Runtime::remove(const std::string& id, bool force) const {
  // One runtime start per removal, not three: the delete is tried at once, and `state` asked
  // only when it failed (a container that is already gone counts as removed). Each start of
  // runc is ~5-10 ms of CPU, after every exec task's exit.
  auto a = global_args();
  a.push_back("delete");
  if (force) a.push_back("--force");
  a.push_back(id);
  RunResult r = run_command(a, std::chrono::seconds(30));
  if (r.exit_code == 0 || !state(id)) return "";
  std::string why = r.err.empty() ? "exit " + std::to_string(r.exit_code) : r.err;
  while (!why.empty() && why.back() == '\n') why.pop_back();
  return path + " delete " + id + ": " + why;
}

}  // namespace drover::exec
