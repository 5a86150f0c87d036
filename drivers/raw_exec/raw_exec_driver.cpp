// raw_exec: the driver's calls (see raw_exec_driver.hpp) and its one registration line. What
// differs from exec is here: its config, the monitor's flags for a plain host process, and
// stats by process group; the calls on the running task are monitored::MonitoredTask's.
#include "raw_exec_driver.hpp"

#include <filesystem>

#include <stdexcept>

#include "handle.hpp"
#include "monitor_launch.hpp"
#include "monitored_task.hpp"
#include "exec_process.hpp"
#include "proc.hpp"
#include "task_config.hpp"
#include "task_exec.hpp"

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
  fp["Capabilities"] = {{"FSIsolation", "none"}, {"MountConfigs", "none"}, {"Exec", true},
                        {"RecoversStarting", true}};  // plugin.h, fingerprint
  return fp;
}

std::vector<std::string> RawExecDriver::validate(const nlohmann::json& task_config) {
  return config_problems(task_config);
}

nlohmann::json RawExecDriver::start(const sdk::TaskSpec& task) {
  if (!enabled_) throw std::runtime_error(std::string("raw_exec is ") + kDisabled);
  const nlohmann::json& config = task.config;
  if (auto problems = config_problems(config); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw std::runtime_error(all);
  }
  TaskConfig cfg = read_config(config);

  MonitorLaunch req;
  req.work_dir = sdk::required(task.task_dir, "TaskDir");
  if (!cfg.work_dir.empty()) {
    // Interpolated by the agent by now: what is left must be a directory on the host.
    std::error_code ec;
    if (cfg.work_dir[0] != '/' || !std::filesystem::is_directory(cfg.work_dir, ec))
      throw std::runtime_error("config.work_dir: \"" + cfg.work_dir + "\" is not a directory");
    req.work_dir = cfg.work_dir;
  }
  req.monitor_path = sdk::required(task.monitor_path, "MonitorPath");
  req.state_dir = sdk::required(task.runtime_dir, "RuntimeDir");
  req.logs = monitored::monitor_logs(task);
  // Names and values were checked by task_spec_from_json (no '=', no NUL).
  for (const auto& [key, value] : task.env) req.env.push_back(key + "=" + value);
  if (task.cgroup) req.cgroup_procs = task.cgroup->procs_files;
  if (!task.user.empty()) resolve_user(task.user, req);
  req.argv.push_back(cfg.command);
  req.argv.insert(req.argv.end(), cfg.args.begin(), cfg.args.end());

  Handle h;
  h.state_dir = req.state_dir;
  h.kill_signal = task.kill_signal;
  if (!h.kill_signal.empty()) parse_signal(h.kill_signal);  // refuse a bad one before running
  static_cast<monitored::MonitorStarted&>(h) = launch_monitor(req, kStartTimeout);
  h.pgid = h.task_pid;  // the monitor starts it in its own session
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

// `alloc exec` without a terminal, and script checks: the streaming exec, run to its end.
sdk::ExecResult RawExecDriver::exec_task(const nlohmann::json& handle,
                                         const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout) {
  if (!enabled_) throw std::runtime_error(std::string("raw_exec is ") + kDisabled);
  auto s = exec_in_task(parse_handle(handle), {argv, false, 0, 0});
  return monitored::run_to_end(*s, timeout);
}

std::unique_ptr<sdk::ExecStream> RawExecDriver::exec_stream(const nlohmann::json& handle,
                                                            const sdk::ExecStreamRequest& request) {
  if (!enabled_) throw std::runtime_error(std::string("raw_exec is ") + kDisabled);
  return exec_in_task(parse_handle(handle), request);
}

}  // namespace drover::raw_exec

DROVER_REGISTER_DRIVER(drover::raw_exec::RawExecDriver, "raw_exec", "0.1.0")
