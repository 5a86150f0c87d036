#include "hostile_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <thread>

namespace drover::hostile {

std::string sh_job(const std::string& id, const std::string& type, const std::string& script,
                   const std::string& task, const std::string& group) {
  nlohmann::json args = nlohmann::json::array({"-c", script});
  return "job:\n  id: " + id + "\n  type: " + type + "\n  groups:\n    - name: " + group +
         "\n      restart: {attempts: 0, mode: fail}\n      tasks:\n        - name: " + task +
         "\n          driver: raw_exec\n          kill_timeout: 1s\n"
         "          resources: {cpu: 10, memory: 32}\n          config:\n            command: /bin/sh\n"
         "            args: " + args.dump() + "\n";
}

namespace {
// Runs `drover ARGS...`; `args` begins with the subcommand.
pid_t spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = out == err ? o : open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(DROVER_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}
}  // namespace

testing::CmdResult run_agent_to_exit(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<std::string> full{"agent"};
  full.insert(full.end(), args.begin(), args.end());
  return run_drover_to_exit(full, timeout);
}

testing::CmdResult run_drover_to_exit(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  auto dir = testing::make_temp_dir("drover-hostile-run");
  pid_t pid = spawn(args, dir + "/out", dir + "/err");
  int status = 0;
  testing::CmdResult r;
  bool exited = wait_for([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.exit_code = -1;
  } else {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  r.out = testing::read_file(dir + "/out");
  r.err = testing::read_file(dir + "/err");
  std::filesystem::remove_all(dir);
  return r;
}

SpawnedAgent spawn_agent(const std::vector<std::string>& args, const std::string& log_path) {
  SpawnedAgent a;
  a.log_path = log_path;
  std::vector<std::string> full{"agent"};
  full.insert(full.end(), args.begin(), args.end());
  a.pid = spawn(full, log_path, log_path);
  return a;
}

SpawnedAgent::~SpawnedAgent() {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  if (!wait_for([&] { return waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(10))) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (!cgroup_parent.empty())
    for (const auto& dir : testing::parent_cgroup_dirs(cgroup_parent)) rmdir(dir.c_str());
}

std::string SpawnedAgent::log() const { return testing::read_file(log_path); }

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

std::string find_file(const std::string& root, const std::string& name) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename() == name) return it->path().string();
  return {};
}

int sh(const std::string& command) {
  int st = std::system(command.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string bootstrap_secret(const std::string& agent_log) {
  std::smatch m;
  static const std::regex re("Secret ID: ([0-9a-f-]{36})");
  return std::regex_search(agent_log, m, re) ? m[1].str() : std::string();
}

int line_count(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace drover::hostile
