// raw_exec: the driver's calls (see raw_exec_driver.hpp) and its one registration line.
// The monitor is asked first; when it is gone, its exit file answers; when neither is there
// the task's fate is unknown and the driver says so rather than guess.
#include "raw_exec_driver.hpp"

#include <fstream>
#include <sstream>

#include <signal.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "handle.hpp"
#include "monitor_client.hpp"
#include "monitor_launch.hpp"
#include "proc.hpp"
#include "drover/sdk/signals.hpp"
#include "task_config.hpp"

namespace drover::raw_exec {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDisabled = "disabled (set plugin.raw_exec.config.enabled: true)";
constexpr const char* kGone = "task monitor is gone; the task's fate is unknown";
// How long a SIGKILLed task may take to die before stop/destroy give up with an error.
constexpr std::chrono::seconds kKillGrace{30};
constexpr std::chrono::seconds kStartTimeout{30};

std::string string_field(const nlohmann::json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw std::runtime_error(std::string(key) + ": must be a string");
  return it->get<std::string>();
}

int parse_signal(const std::string& name) {
  auto sig = sdk::signal_number(name);
  if (!sig) throw std::runtime_error("unknown signal \"" + name + "\"");
  return *sig;
}

sdk::ExitStatus to_status(const ExitRecord& e) { return {e.exit_code, e.signal, false, ""}; }

// "<logs>/<task>.stdout.0" (the agent's first file) or "<logs>/<task>.stdout": the base the
// monitor numbers from. Empty: no logs.
std::string log_base(const std::string& path) {
  if (path.empty() || path == "/dev/null") return {};
  if (path.size() > 2 && path.compare(path.size() - 2, 2, ".0") == 0) {
    return path.substr(0, path.size() - 2);
  }
  return path;
}

void read_log_config(const nlohmann::json& task, MonitorLaunch& req) {
  req.stdout_base = log_base(string_field(task, "StdoutPath"));
  req.stderr_base = log_base(string_field(task, "StderrPath"));
  if (req.stdout_base.empty() != req.stderr_base.empty()) {
    req.stdout_base.empty() ? req.stdout_base = "/dev/null" : req.stderr_base = "/dev/null";
  }
  auto lc = task.find("LogConfig");
  if (lc == task.end() || lc->is_null()) return;
  if (!lc->is_object()) throw std::runtime_error("LogConfig: must be an object");
  if (lc->value("Disabled", false)) {
    req.stdout_base.clear();
    req.stderr_base.clear();
    return;
  }
  long long files = lc->value("MaxFiles", 10LL), mb = lc->value("MaxFileSizeMB", 10LL);
  if (files < 1 || mb < 1) throw std::runtime_error("LogConfig: MaxFiles and MaxFileSizeMB must be at least 1");
  req.max_files = static_cast<unsigned>(files);
  req.max_file_size = static_cast<uint64_t>(mb) * 1024 * 1024;
}

// Talks to the live monitor of h; nullopt when it cannot be reached (gone, or not ours).
std::optional<std::string> ask(const Handle& h, const std::string& request,
                               std::chrono::milliseconds timeout) {
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (!c.send(request)) return std::nullopt;
  return c.read_line(timeout);
}

}  // namespace

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
  auto fp = [&]() -> nlohmann::json {
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
  }();
  fp["Capabilities"] = {{"FSIsolation", "none"}};  // plugin.h, fingerprint
  return fp;
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

  MonitorLaunch req;
  req.work_dir = string_field(task, "TaskDir");
  if (req.work_dir.empty()) throw std::runtime_error("TaskDir: required");
  req.monitor_path = string_field(task, "MonitorPath");
  if (req.monitor_path.empty()) throw std::runtime_error("MonitorPath: required");
  req.state_dir = string_field(task, "StateDir");
  if (req.state_dir.empty()) throw std::runtime_error("StateDir: required");
  read_log_config(task, req);
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
    }
  }
  if (auto cg = task.find("Cgroup"); cg != task.end() && cg->is_object()) {
    if (auto pf = cg->find("ProcsFiles"); pf != cg->end() && pf->is_array()) {
      for (const auto& f : *pf) {
        if (!f.is_string()) throw std::runtime_error("Cgroup.ProcsFiles: must be strings");
        req.cgroup_procs.push_back(f.get<std::string>());
      }
    }
  }
  if (std::string user = string_field(task, "User"); !user.empty()) resolve_user(user, req);
  req.argv.push_back(cfg.command);
  req.argv.insert(req.argv.end(), cfg.args.begin(), cfg.args.end());

  Handle h;
  h.state_dir = req.state_dir;
  h.kill_signal = string_field(task, "KillSignal");
  if (!h.kill_signal.empty()) parse_signal(h.kill_signal);  // refuse a bad one before running
  Launched l = launch_monitor(req, kStartTimeout);
  h.monitor_pid = l.monitor_pid;
  h.monitor_start = l.monitor_start;
  h.task_pid = l.task_pid;
  h.task_start = l.task_start;
  h.pgid = l.task_pid;  // the monitor starts it in its own session
  return to_json(h);
}

// The monitor answers a pending "wait" when the task ends (or hangs up when it dies), so the
// connection itself is the descriptor to wait on.
int RawExecDriver::wait_fd(const nlohmann::json& handle) {
  Handle h = parse_handle(handle);
  if (read_exit_file(h.state_dir, h.task_pid)) return -1;  // wait answers at once
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (!c.send("wait")) return -1;
  return c.release();
}

std::optional<sdk::ExitStatus> RawExecDriver::wait(const nlohmann::json& handle,
                                                   std::chrono::milliseconds timeout) {
  Handle h = parse_handle(handle);
  if (auto e = read_exit_file(h.state_dir, h.task_pid)) return to_status(*e);
  timeout = std::max(timeout, 0ms);
  MonitorConn c(h.state_dir, h.monitor_pid);
  bool closed = false;
  if (c.send("wait")) {
    if (auto line = c.read_line(timeout, &closed)) {
      if (auto e = parse_exit_line(*line)) return to_status(*e);
      throw std::runtime_error("task monitor: " + *line);
    }
    if (!closed) return std::nullopt;  // still running
  }
  // The monitor may have written the file and ended between our two looks.
  if (auto e = read_exit_file(h.state_dir, h.task_pid)) return to_status(*e);
  if (same_process_alive(h.monitor_pid, h.monitor_start)) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(timeout, 100ms));
    return std::nullopt;  // alive but busy (all its connection slots taken)
  }
  throw std::runtime_error(kGone);
}

void RawExecDriver::stop(const nlohmann::json& handle, const std::string& signal,
                         std::chrono::milliseconds timeout) {
  Handle h = parse_handle(handle);
  std::string name = signal.empty() ? h.kill_signal : signal;
  if (name.empty()) name = "SIGINT";  // Nomad's executor default when no kill_signal is set
  const int sig = parse_signal(name);
  timeout = std::max(timeout, 0ms);
  if (read_exit_file(h.state_dir, h.task_pid)) return;
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (c.send("stop " + std::to_string(sig) + " " + std::to_string(timeout.count())) &&
      c.send("wait")) {
    bool closed = false;
    while (auto line = c.read_line(timeout + kKillGrace, &closed)) {
      if (parse_exit_line(*line)) return;
      if (*line != "ok") throw std::runtime_error("task monitor: " + *line);
    }
    if (!closed) throw std::runtime_error("task " + std::to_string(h.task_pid) + " did not die after SIGKILL");
    if (read_exit_file(h.state_dir, h.task_pid)) return;
  }
  // No monitor: reach the task directly, if it is still the same process.
  if (!same_process_alive(h.task_pid, h.task_start)) return;
  int pidfd = open_pidfd(h.task_pid);
  if (pidfd < 0 || !same_process_alive(h.task_pid, h.task_start)) {
    if (pidfd >= 0) close(pidfd);
    return;
  }
  kill(-h.pgid, sig);
  if (!wait_exited(pidfd, timeout)) {
    kill(-h.pgid, SIGKILL);
    wait_exited(pidfd, kKillGrace);
  }
  kill(-h.pgid, SIGKILL);  // what it left in its group
  close(pidfd);
}

void RawExecDriver::destroy(const nlohmann::json& handle) {
  Handle h = parse_handle(handle);
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (c.send("quit")) {
    (void)c.read_line(kKillGrace);  // "bye" once the task is dead and its exit recorded
    return;
  }
  if (same_process_alive(h.task_pid, h.task_start)) kill(-h.pgid, SIGKILL);
}

nlohmann::json RawExecDriver::inspect(const nlohmann::json& handle) {
  Handle h = parse_handle(handle);
  bool running = !read_exit_file(h.state_dir, h.task_pid) &&
                 same_process_alive(h.task_pid, h.task_start);
  return {{"TaskPID", h.task_pid},
          {"MonitorPID", h.monitor_pid},
          {"MonitorRunning", same_process_alive(h.monitor_pid, h.monitor_start)},
          {"Running", running}};
}

void RawExecDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  Handle h = parse_handle(handle);
  const int sig = parse_signal(signal);
  if (read_exit_file(h.state_dir, h.task_pid)) throw std::runtime_error("task has exited");
  if (auto reply = ask(h, "signal " + std::to_string(sig), 5s)) {
    if (*reply == "ok") return;
    throw std::runtime_error(reply->rfind("error ", 0) == 0 ? reply->substr(6) : *reply);
  }
  if (!same_process_alive(h.task_pid, h.task_start)) throw std::runtime_error("task has exited");
  kill(-h.pgid, sig);
}

nlohmann::json RawExecDriver::stats(const nlohmann::json& handle) {
  Handle h = parse_handle(handle);
  GroupUsage u = group_usage(h.pgid);
  return {{"Pids", u.pids}, {"RSSBytes", u.rss_bytes}};
}

// The agent died between asking for a start and persisting the handle: it passes only the
// StateDir (and when it asked). The monitor's own files say whether the task started.
static nlohmann::json recover_starting(const nlohmann::json& handle) {
  Handle h;
  h.state_dir = handle.value("StateDir", "");
  h.kill_signal = handle.value("KillSignal", "");
  uint64_t asked_at = handle.value("StartingAt", uint64_t{0});
  if (h.state_dir.empty()) throw sdk::NeverStarted("never started: no StateDir in the handle");
  std::ifstream pid_file(h.state_dir + "/monitor.pid");
  if (pid_file >> h.monitor_pid >> h.monitor_start && same_process_alive(h.monitor_pid, h.monitor_start)) {
    auto reply = ask(h, "pid", std::chrono::seconds(5));
    std::istringstream in(reply.value_or(""));
    std::string word;
    if (in >> word >> h.task_pid >> h.task_start && word == "pid" && h.task_pid > 0) {
      auto st = read_proc_stat(h.task_pid);
      h.pgid = st && st->pgrp > 0 ? st->pgrp : h.task_pid;
      return to_json(h);
    }
  }
  // Started and already over: the exit record of this start (newer than the request) stays.
  std::ifstream exit_file(h.state_dir + "/exit");
  std::string line;
  if (std::getline(exit_file, line))
    if (auto rec = parse_exit_line(line); rec && rec->time_ns >= asked_at && rec->task_pid > 0) {
      h.task_pid = h.pgid = rec->task_pid;
      h.task_start = 1;  // never matches: the task is gone, only its exit record is used
      // No live monitor: a PID above any pid_max, so nothing is ever signalled through it.
      h.monitor_pid = 2147483647;
      h.monitor_start = 1;
      return to_json(h);
    }
  throw sdk::NeverStarted("never started: no monitor and no exit record in " + h.state_dir);
}

nlohmann::json RawExecDriver::recover(const nlohmann::json& handle) {
  if (handle.value("Starting", false)) return recover_starting(handle);
  Handle h = parse_handle(handle);
  if (read_exit_file(h.state_dir, h.task_pid)) return to_json(h);  // wait reports the exit
  if (same_process_alive(h.monitor_pid, h.monitor_start)) return to_json(h);
  if (auto st = read_proc_stat(h.monitor_pid); st && st->start_time != h.monitor_start) {
    throw std::runtime_error("refusing handle: monitor PID " + std::to_string(h.monitor_pid) +
                             " now belongs to another process; " + kGone);
  }
  throw std::runtime_error(kGone);
}

}  // namespace drover::raw_exec

DROVER_REGISTER_DRIVER(drover::raw_exec::RawExecDriver, "raw_exec", "0.1.0")
