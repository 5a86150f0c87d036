// The OCI runtime CLI from the agent's side (see runtime.hpp).
#include "runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace drover::exec {

RunResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const std::string& pid_file) {
  RunResult r;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static char env0[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {env0, nullptr};
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return r;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setsid();
    if (dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(127);
    // Only 0, 1, 2 go on to the runtime (docs/threat-model.md, "Privileges and isolation"):
    // everything else is close-on-exec or closed here.
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    execve(args[0], args.data(), envp);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return r;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* bufs[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      if (!pid_file.empty()) {
        std::ifstream in(pid_file);
        int task = 0;
        if (in >> task && task > 0) kill(task, SIGKILL);
      }
      kill(pid, SIGKILL);
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0 && bufs[i]->size() < (4u << 20)) bufs[i]->append(buf, static_cast<size_t>(got));
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::optional<std::string> find_executable(const std::string& name) {
  auto ok = [](const std::string& p) {
    struct stat st{};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (name.front() == '/' && ok(name)) return name;
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
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
  if (!state(id)) return "";
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
