// exec_in_task (task_exec.hpp): the task's identity read from /proc, then spawn_exec.
#include "task_exec.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "exec_process.hpp"

namespace drover::raw_exec {
namespace {

namespace fs = std::filesystem;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("exec: cannot read " + path + " (has the task exited?)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// controller list ("" on v2) -> path, from a /proc/PID/cgroup text.
std::map<std::string, std::string> cgroup_paths(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
  }
  return out;
}

// The cgroup.procs file of `controllers` at `path`: the unified hierarchy, or a v1 one
// mounted under its first controller's name (name=systemd under "systemd").
std::string procs_file(const std::string& controllers, const std::string& path) {
  if (controllers.empty()) {
    const char* root = fs::exists("/sys/fs/cgroup/unified/cgroup.procs") ? "/sys/fs/cgroup/unified"
                                                                          : "/sys/fs/cgroup";
    return root + path + "/cgroup.procs";
  }
  std::string first = controllers.substr(0, controllers.find(','));
  if (first.starts_with("name=")) first = first.substr(5);
  for (const std::string& dir : {controllers, first}) {
    std::string f = "/sys/fs/cgroup/" + dir + path + "/cgroup.procs";
    if (fs::exists(f)) return f;
  }
  return "";
}

// "Uid:\t0\t0\t0\t0" and the like from /proc/PID/status.
std::vector<long> status_numbers(const std::string& status, const std::string& key) {
  std::istringstream in(status);
  std::vector<long> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key + ":")) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    for (long v; fields >> v;) out.push_back(v);
  }
  return out;
}

}  // namespace

std::unique_ptr<sdk::ExecStream> exec_in_task(const monitored::Handle& task,
                                              const sdk::ExecStreamRequest& request) {
  if (!monitored::same_process_alive(task.task_pid, task.task_start))
    throw std::runtime_error("task has exited");
  const std::string proc = "/proc/" + std::to_string(task.task_pid);
  monitored::ExecSpawn s;
  s.tty = request.tty;
  s.height = request.height;
  s.width = request.width;

  std::string environ = read_all(proc + "/environ");
  std::string path_env = "/usr/local/bin:/usr/bin:/bin";  // the monitor's default (monitor/README.md)
  for (std::size_t at = 0; at < environ.size();) {
    auto end = environ.find('\0', at);
    if (end == std::string::npos) end = environ.size();
    std::string kv = environ.substr(at, end - at);
    if (kv.starts_with("PATH=")) path_env = kv.substr(5);
    if (!kv.empty()) s.env.push_back(std::move(kv));
    at = end + 1;
  }
  // A shell on a terminal needs to know which: what `docker exec -t` gives, unless the task
  // says otherwise.
  if (s.tty && std::none_of(s.env.begin(), s.env.end(), [](const std::string& kv) {
        return kv.starts_with("TERM=");
      }))
    s.env.push_back("TERM=xterm");
  std::error_code ec;
  s.cwd = fs::read_symlink(proc + "/cwd", ec).string();
  if (ec) throw std::runtime_error("exec: the task's working dir: " + ec.message());

  const std::string status = read_all(proc + "/status");
  auto uids = status_numbers(status, "Uid"), gids = status_numbers(status, "Gid");
  if (uids.empty() || gids.empty()) throw std::runtime_error("exec: cannot read the task's user");
  if (static_cast<uid_t>(uids[0]) != geteuid() || static_cast<gid_t>(gids[0]) != getegid()) {
    s.set_user = true;
    s.uid = static_cast<uid_t>(uids[0]);
    s.gid = static_cast<gid_t>(gids[0]);
    for (long g : status_numbers(status, "Groups")) s.groups.push_back(static_cast<gid_t>(g));
  }

  // Every hierarchy where the task sits elsewhere than the agent: the command joins it there.
  auto mine = cgroup_paths(read_all("/proc/self/cgroup"));
  for (const auto& [controllers, path] : cgroup_paths(read_all(proc + "/cgroup"))) {
    if (mine.count(controllers) && mine[controllers] == path) continue;
    std::string f = procs_file(controllers, path);
    if (f.empty())
      throw std::runtime_error("exec: the task's cgroup " + path + " (" + controllers +
                               ") is not mounted where the agent looks");
    s.cgroup_procs.push_back(f);
  }

  s.argv = request.argv;
  // The command is found as the task finds one: on the task's PATH, relative to its dir.
  std::string found = monitored::search_path(s.argv[0], path_env);
  if (found.empty())
    throw std::runtime_error("exec: \"" + s.argv[0] + "\": not found in the task's PATH");
  if (found[0] != '/') found = (fs::path(s.cwd) / found).string();
  s.argv[0] = found;
  return monitored::spawn_exec(s);
}

}  // namespace drover::raw_exec
