// raw_exec: the driver's calls (see raw_exec_driver.hpp) and its one registration line.
#include "raw_exec_driver.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "proc.hpp"
#include "signals.hpp"
#include "spawn.hpp"
#include "task_config.hpp"

namespace drover::raw_exec {
namespace {

constexpr const char* kDisabled = "disabled (set plugin.raw_exec.config.enabled: true)";
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
constexpr const char* kUnknownExit = "exit status unknown: task was not a child of this agent";
// How long a SIGKILLed task may take to die before stop/destroy give up with an error.
constexpr std::chrono::seconds kKillGrace{30};

std::string string_field(const nlohmann::json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw std::runtime_error(std::string(key) + ": must be a string");
  return it->get<std::string>();
}

struct HandleId {
  int pid;
  uint64_t start_time;
};

HandleId handle_id(const nlohmann::json& h) {
  if (!h.is_object()) throw std::runtime_error("handle: must be a JSON object");
  auto pid = h.find("PID");
  auto st = h.find("StartTime");
  if (pid == h.end() || !pid->is_number_integer() || pid->get<long long>() <= 0 ||
      pid->get<long long>() > INT32_MAX) {
    throw std::runtime_error("handle.PID: must be a positive integer");
  }
  if (st == h.end() || !st->is_number_unsigned()) {
    throw std::runtime_error("handle.StartTime: must be a non-negative integer");
  }
  return {pid->get<int>(), st->get<uint64_t>()};
}

nlohmann::json make_handle(const Task& t) {
  return {
      {"PID", t.pid}, {"StartTime", t.start_time}, {"Pgid", t.pgid}, {"KillSignal", t.kill_signal}};
}

int parse_signal(const std::string& name) {
  auto sig = signal_number(name);
  if (!sig) throw std::runtime_error("unknown signal \"" + name + "\"");
  return *sig;
}

// Collects the exit of a task whose pidfd is readable. Caller holds t.mu.
void reap_locked(Task& t) {
  if (t.exit) return;
  if (t.child) {
    // The task ends with its leader: what it left behind in its group would run on
    // unsupervised. The unreaped leader still holds the group's id, so this cannot hit a
    // stranger's group.
    kill(-t.pgid, SIGKILL);
  }
  siginfo_t info{};
  int r;
  do {
    r = waitid(P_PIDFD, static_cast<id_t>(t.pidfd), &info, WEXITED | WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && errno == ECHILD) {
    t.exit = sdk::ExitStatus{-1, 0, false, kUnknownExit};
    return;
  }
  if (r < 0) {
    t.exit = sdk::ExitStatus{-1, 0, false, std::string("waitid: ") + std::strerror(errno)};
    return;
  }
  if (info.si_pid == 0) return;  // not exited after all
  if (info.si_code == CLD_EXITED) {
    t.exit = sdk::ExitStatus{info.si_status, 0, false, ""};
  } else {  // CLD_KILLED, CLD_DUMPED: Nomad reports 128 + signal
    t.exit = sdk::ExitStatus{128 + info.si_status, info.si_status, false, ""};
  }
}

// Signals the task's group, unless its leader is known to be gone (its PID may be reused).
void signal_group(Task& t, int sig) {
  std::lock_guard lock(t.mu);
  if (t.exit) throw std::runtime_error("task has exited");
  if (kill(-t.pgid, sig) != 0 && errno != ESRCH) {
    throw std::runtime_error("kill process group " + std::to_string(t.pgid) + ": " +
                             std::strerror(errno));
  }
}

// Waits for the task to die after SIGKILL, then collects it.
void kill_and_reap(Task& t) {
  {
    std::lock_guard lock(t.mu);
    if (t.exit) return;
    kill(-t.pgid, SIGKILL);
  }
  if (!wait_exited(t.pidfd, kKillGrace)) {
    throw std::runtime_error("task " + std::to_string(t.pid) + " did not die after SIGKILL");
  }
  std::lock_guard lock(t.mu);
  if (!t.child && !t.exit) kill(-t.pgid, SIGKILL);  // leftovers of a recovered task
  reap_locked(t);
}

}  // namespace

Task::~Task() {
  if (pidfd >= 0) close(pidfd);
}

void RawExecDriver::set_config(const nlohmann::json& config) {
  if (!config.is_object()) throw std::runtime_error("plugin.raw_exec.config: must be an object");
  for (const auto& [key, value] : config.items()) {
    if (key != "enabled") {
      throw std::runtime_error("plugin.raw_exec.config." + key + ": unknown key");
    }
    if (!value.is_boolean()) {
      throw std::runtime_error("plugin.raw_exec.config.enabled: must be true or false");
    }
    enabled_ = value.get<bool>();
  }
}

nlohmann::json RawExecDriver::fingerprint() {
  if (!enabled_) {
    return {{"Detected", false},
            {"Healthy", false},
            {"HealthDescription", kDisabled},
            {"Attributes", nlohmann::json::object()}};
  }
  return {{"Detected", true},
          {"Healthy", true},
          {"HealthDescription", "healthy"},
          {"Attributes", {{"driver.raw_exec", "true"}}}};
}

std::vector<std::string> RawExecDriver::validate(const nlohmann::json& task_config) {
  return config_problems(task_config);
}

nlohmann::json RawExecDriver::start(const nlohmann::json& task) {
  if (!enabled_) throw std::runtime_error(std::string("raw_exec is ") + kDisabled);
  if (!task.is_object()) throw std::runtime_error("task: must be a JSON object");
  const nlohmann::json config = task.contains("Config") ? task["Config"] : nlohmann::json();
  if (auto problems = config_problems(config); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw std::runtime_error(all);
  }
  TaskConfig cfg = read_config(config);

  SpawnRequest req;
  req.dir = string_field(task, "TaskDir");
  if (req.dir.empty()) throw std::runtime_error("TaskDir: required");
  req.stdout_path = string_field(task, "StdoutPath", "/dev/null");
  req.stderr_path = string_field(task, "StderrPath", "/dev/null");
  std::string path_env = kDefaultPath;
  if (auto env = task.find("Env"); env != task.end() && !env->is_null()) {
    if (!env->is_object()) throw std::runtime_error("Env: must be an object of strings");
    for (const auto& [key, value] : env->items()) {
      if (key.empty() || key.find('=') != std::string::npos ||
          key.find('\0') != std::string::npos) {
        throw std::runtime_error("Env: bad variable name \"" + key + "\"");
      }
      if (!value.is_string()) throw std::runtime_error("Env." + key + ": must be a string");
      const auto& v = value.get_ref<const std::string&>();
      if (v.find('\0') != std::string::npos) {
        throw std::runtime_error("Env." + key + ": must not contain NUL");
      }
      req.env.push_back(key + "=" + v);
      if (key == "PATH") path_env = v;
    }
  }
  if (std::string user = string_field(task, "User"); !user.empty()) resolve_user(user, req);
  req.argv.push_back(cfg.command);
  req.argv.insert(req.argv.end(), cfg.args.begin(), cfg.args.end());
  req.candidates = command_candidates(cfg.command, path_env);

  auto t = std::make_shared<Task>();
  t->kill_signal = string_field(task, "KillSignal");
  if (!t->kill_signal.empty()) parse_signal(t->kill_signal);  // refuse a bad one before running
  Spawned s = spawn(req);
  t->pid = s.pid;
  t->pidfd = s.pidfd;
  t->pgid = s.pid;  // setsid made it the leader of its own group
  t->child = true;
  auto st = read_proc_stat(s.pid);
  if (!st) {  // cannot happen for our unreaped child; fail loudly rather than run untracked
    kill_and_reap(*t);
    throw std::runtime_error("cannot read /proc/" + std::to_string(s.pid) + "/stat");
  }
  t->start_time = st->start_time;
  track(t);
  return make_handle(*t);
}

std::optional<sdk::ExitStatus> RawExecDriver::wait(const nlohmann::json& handle,
                                                   std::chrono::milliseconds timeout) {
  auto t = tracked(handle);
  {
    std::lock_guard lock(t->mu);
    if (t->exit) return t->exit;
  }
  if (!wait_exited(t->pidfd, timeout < std::chrono::milliseconds::zero()
                                 ? std::chrono::milliseconds::zero()
                                 : timeout)) {
    return std::nullopt;
  }
  std::lock_guard lock(t->mu);
  reap_locked(*t);
  return t->exit;
}

void RawExecDriver::stop(const nlohmann::json& handle, const std::string& signal,
                         std::chrono::milliseconds timeout) {
  auto t = tracked(handle);
  std::string name = signal.empty() ? t->kill_signal : signal;
  if (name.empty()) name = "SIGINT";  // Nomad's executor default when no kill_signal is set
  const int sig = parse_signal(name);
  {
    std::lock_guard lock(t->mu);
    if (t->exit) return;
    kill(-t->pgid, sig);
  }
  if (wait_exited(t->pidfd, std::max(timeout, std::chrono::milliseconds::zero()))) {
    std::lock_guard lock(t->mu);
    if (!t->child && !t->exit) kill(-t->pgid, SIGKILL);  // leftovers of a recovered task
    reap_locked(*t);
    return;
  }
  kill_and_reap(*t);
}

void RawExecDriver::destroy(const nlohmann::json& handle) {
  auto t = find(handle);
  if (!t) {
    // Not tracked (e.g. after a restart without recover): kill it only if the PID still
    // belongs to the task, and there is nothing to forget.
    HandleId id = handle_id(handle);
    auto st = read_proc_stat(id.pid);
    if (!st || st->start_time != id.start_time || st->state == 'Z') return;
    auto r = recover(handle);
    t = tracked(r);
  }
  kill_and_reap(*t);
  std::lock_guard lock(mu_);
  tasks_.erase(t->pid);
}

nlohmann::json RawExecDriver::inspect(const nlohmann::json& handle) {
  HandleId id = handle_id(handle);
  bool running = false;
  if (auto t = find(handle)) {
    std::lock_guard lock(t->mu);
    running = !t->exit && !wait_exited(t->pidfd, std::chrono::milliseconds::zero());
  } else {
    auto st = read_proc_stat(id.pid);
    running = st && st->start_time == id.start_time && st->state != 'Z';
  }
  return {{"PID", id.pid}, {"Running", running}};
}

void RawExecDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  auto t = tracked(handle);
  signal_group(*t, parse_signal(signal));
}

nlohmann::json RawExecDriver::stats(const nlohmann::json& handle) {
  auto t = tracked(handle);
  GroupUsage u = group_usage(t->pgid);
  return {{"Pids", u.pids}, {"RSSBytes", u.rss_bytes}};
}

nlohmann::json RawExecDriver::recover(const nlohmann::json& handle) {
  HandleId id = handle_id(handle);
  if (auto t = find(handle)) return make_handle(*t);  // already tracked: nothing to do
  auto gone = [&] {
    return std::runtime_error("task process is gone (PID " + std::to_string(id.pid) +
                              " has exited or now belongs to another process)");
  };
  auto before = read_proc_stat(id.pid);
  if (!before || before->start_time != id.start_time || before->state == 'Z') throw gone();
  auto t = std::make_shared<Task>();
  t->pidfd = open_pidfd(id.pid);
  if (t->pidfd < 0) throw gone();
  // Check again now that the pidfd pins the process: the PID may have been reused between.
  auto st = read_proc_stat(id.pid);
  if (!st || st->start_time != id.start_time) throw gone();
  t->pid = id.pid;
  t->start_time = id.start_time;
  t->pgid = st->pgrp;
  t->child = st->ppid == getpid();  // same agent process: waitid still works
  t->kill_signal = handle.is_object() ? string_field(handle, "KillSignal") : "";
  track(t);
  return make_handle(*t);
}

std::shared_ptr<Task> RawExecDriver::find(const nlohmann::json& handle) const {
  HandleId id = handle_id(handle);
  std::lock_guard lock(mu_);
  auto it = tasks_.find(id.pid);
  if (it == tasks_.end() || it->second->start_time != id.start_time) return nullptr;
  return it->second;
}

std::shared_ptr<Task> RawExecDriver::tracked(const nlohmann::json& handle) const {
  auto t = find(handle);
  if (!t) {
    throw std::runtime_error("unknown task handle (PID " + std::to_string(handle_id(handle).pid) +
                             "): not started or recovered by this driver");
  }
  return t;
}

void RawExecDriver::track(const std::shared_ptr<Task>& task) {
  std::lock_guard lock(mu_);
  tasks_[task->pid] = task;  // a newer task at a reused PID replaces the old record
}

}  // namespace drover::raw_exec

DROVER_REGISTER_DRIVER(drover::raw_exec::RawExecDriver, "raw_exec", "0.1.0")
