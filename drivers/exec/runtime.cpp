// The OCI runtime CLI from the agent's side (see runtime.hpp).
#include "runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
  RunResult r;
  if (argv.empty()) return r;
  int out_fds[2], err_fds[2];
  if (::pipe2(out_fds, O_CLOEXEC) != 0) return r;
  if (::pipe2(err_fds, O_CLOEXEC) != 0) {
    ::close(out_fds[0]);
    ::close(out_fds[1]);
    return r;
  }
  // glibc's posix_spawn starts the child with clone(CLONE_VM | CLONE_VFORK) on a stack of its
  // own: nothing of the agent is copied. A fork (Boost.Process 1.74's only way without an
  // internal macro) copied the agent's page tables, and then every page an agent thread
  // wrote took a copy-on-write fault: ~690 per exec task on the bench's agent
  // (bench/results/2026-12-05-vfork.md). glibc also sets every signal's handler back to
  // its default in the child before it unblocks any.
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_fds[1], 2);
  // Only 0, 1, 2 go on to the runtime (docs/threat-model.md, "Privileges and isolation").
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // Its own session: a signal to the agent's process group never reaches it.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid = -1;
  const int spawn_err = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  // Our copies of the write ends go, so the reads see EOF once the runtime exits.
  ::close(out_fds[1]);
  ::close(err_fds[1]);
  if (spawn_err != 0) {
    ::close(out_fds[0]);
    ::close(err_fds[0]);
    // As the shell says it: the command could not be executed.
    r.exit_code = 127;
    r.err = argv[0] + ": " + std::strerror(spawn_err);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_fds[0], POLLIN, 0}, {err_fds[0], POLLIN, 0}};
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
  ::close(out_fds[0]);
  ::close(err_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return r;
  }
  // Killed by a signal: say it as a shell would.
  r.exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
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
