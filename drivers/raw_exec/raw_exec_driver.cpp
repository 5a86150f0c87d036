// raw_exec: the driver's calls (see raw_exec_driver.hpp) and its one registration line. What
// differs from exec is here: its config, the monitor's flags for a plain host process, and
// stats by process group; the calls on the running task are monitored::MonitoredTask's.
#include "raw_exec_driver.hpp"

#include <filesystem>

#include <stdexcept>

#include "handle.hpp"
#include "monitor_launch.hpp"
#include "monitored_task.hpp"
#include "proc.hpp"
#include "task_config.hpp"

namespace drover::raw_exec {
namespace {

using monitored::group_usage;
using monitored::GroupUsage;
using monitored::Handle;
using monitored::MonitoredTask;
using monitored::parse_handle;
using monitored::parse_signal;

constexpr const char* kDisabled = "disabled (set plugin.raw_exec.config.enabled: true)";
constexpr std::chrono::seconds kStartTimeout{30};

std::string string_field(const nlohmann::json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw std::runtime_error(std::string(key) + ": must be a string");
  return it->get<std::string>();
}

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
  if (!cfg.work_dir.empty()) {
    // Interpolated by the agent by now: what is left must be a directory on the host.
    std::error_code ec;
    if (cfg.work_dir[0] != '/' || !std::filesystem::is_directory(cfg.work_dir, ec))
      throw std::runtime_error("config.work_dir: \"" + cfg.work_dir + "\" is not a directory");
    req.work_dir = cfg.work_dir;
  }
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
  monitored::MonitorStarted l = launch_monitor(req, kStartTimeout);
  h.monitor_pid = l.monitor_pid;
  h.monitor_start = l.monitor_start;
  h.task_pid = l.task_pid;
  h.task_start = l.task_start;
  h.pgid = l.task_pid;  // the monitor starts it in its own session
  return to_json(h);
}

int RawExecDriver::wait_fd(const nlohmann::json& handle) {
  return MonitoredTask(parse_handle(handle)).wait_fd();
}

std::optional<sdk::ExitStatus> RawExecDriver::wait(const nlohmann::json& handle,
                                                   std::chrono::milliseconds timeout) {
  auto e = MonitoredTask(parse_handle(handle)).wait(timeout);
  if (!e) return std::nullopt;
  return sdk::ExitStatus{e->exit_code, e->signal, false, ""};
}

void RawExecDriver::stop(const nlohmann::json& handle, const std::string& signal,
                         std::chrono::milliseconds timeout) {
  MonitoredTask(parse_handle(handle)).stop(signal, timeout);
}

void RawExecDriver::destroy(const nlohmann::json& handle) {
  MonitoredTask(parse_handle(handle)).destroy();
}

nlohmann::json RawExecDriver::inspect(const nlohmann::json& handle) {
  return MonitoredTask(parse_handle(handle)).inspect();
}

void RawExecDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  MonitoredTask(parse_handle(handle)).signal(parse_signal(signal));
}

nlohmann::json RawExecDriver::stats(const nlohmann::json& handle) {
  Handle h = parse_handle(handle);
  GroupUsage u = group_usage(h.pgid);
  return {{"Pids", u.pids}, {"RSSBytes", u.rss_bytes}};
}

nlohmann::json RawExecDriver::recover(const nlohmann::json& handle) {
  if (handle.value("Starting", false)) return to_json(MonitoredTask::recover_starting(handle));
  Handle h = parse_handle(handle);
  MonitoredTask(h).recover();
  return to_json(h);
}

}  // namespace drover::raw_exec

DROVER_REGISTER_DRIVER(drover::raw_exec::RawExecDriver, "raw_exec", "0.1.0")
