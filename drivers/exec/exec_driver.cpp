// exec: the driver's calls (see exec_driver.hpp) and its one registration line. As in
// raw_exec the monitor is asked first and its exit file answers when it is gone; the
// container's runtime state is removed with `delete` once the task is dead, after its OOM
// counter was read.
#include "exec_driver.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "exec_handle.hpp"
#include "handle.hpp"
#include "launch.hpp"
#include "monitor_client.hpp"
#include "oci_spec.hpp"
#include "proc.hpp"
#include "drover/sdk/signals.hpp"
#include "task_config.hpp"

namespace drover::exec {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using raw_exec::MonitorConn;
using raw_exec::parse_exit_line;
using raw_exec::read_exit_file;
using raw_exec::same_process_alive;

constexpr const char* kGone = "task monitor is gone; the task's fate is unknown";
constexpr std::chrono::seconds kKillGrace{30};
constexpr std::chrono::seconds kStartTimeout{60};
const char* const kNamespaces[] = {"pid", "mnt", "ipc", "uts"};

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::runtime_error(std::string(key) + ": must be a string");
  return it->get<std::string>();
}

std::string required(const nlohmann::json& j, const char* key) {
  std::string v = string_field(j, key);
  if (v.empty()) throw std::runtime_error(std::string(key) + ": required");
  return v;
}

int parse_signal(const std::string& name) {
  auto sig = sdk::signal_number(name);
  if (!sig) throw std::runtime_error("unknown signal \"" + name + "\"");
  return *sig;
}

std::string log_base(const std::string& path) {
  if (path.empty() || path == "/dev/null") return {};
  if (path.size() > 2 && path.compare(path.size() - 2, 2, ".0") == 0) return path.substr(0, path.size() - 2);
  return path;
}

// runc and crun take [A-Za-z0-9_.+-] ids.
std::string container_id(const nlohmann::json& task) {
  std::string id = string_field(task, "AllocID") + "-" + string_field(task, "TaskName");
  for (char& c : id)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  return id;
}

std::string user_problem(const std::string& user, bool allow_root) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return "user \"" + user + "\": no such user on this host";
  if (pw.pw_uid == 0 && !allow_root)
    return "user \"" + user + "\": running as root needs plugin.exec.config.allow_root: true";
  return {};
}

// The OOM-kill counter of the container's own cgroup; remembered in the state dir so the
// answer survives the cgroup's removal at delete.
bool oom_killed(const ExecHandle& h) {
  const fs::path cache = fs::path(h.state_dir) / "oom";
  if (std::ifstream in(cache); in) {
    int v = 0;
    in >> v;
    return v != 0;
  }
  if (h.cgroup_path.empty()) return false;
  fs::path file = h.cgroup_version == 2 ? fs::path("/sys/fs/cgroup" + h.cgroup_path) / "memory.events"
                                        : fs::path("/sys/fs/cgroup/memory" + h.cgroup_path) / "memory.oom_control";
  std::ifstream in(file);
  if (!in) return false;
  std::string key;
  uint64_t value = 0;
  bool oom = false;
  while (in >> key >> value)
    if (key == "oom_kill" && value > 0) oom = true;
  std::ofstream(cache) << (oom ? 1 : 0);
  return oom;
}

sdk::ExitStatus to_status(const ExecHandle& h, const raw_exec::ExitRecord& e) {
  return {e.exit_code, e.signal, oom_killed(h), ""};
}

// The container is dead: remember its OOM flag, then remove its runtime state (and with it
// the container's cgroup).
void delete_container(const ExecHandle& h) {
  (void)oom_killed(h);
  Runtime rt = h.runtime();
  auto st = rt.state(h.container_id);
  if (!st) return;
  std::string err = rt.remove(h.container_id, false);
  if (!err.empty()) throw std::runtime_error(err);
}

uint64_t read_number(const fs::path& p, const std::string& key = {}) {
  std::ifstream in(p);
  if (key.empty()) {
    uint64_t v = 0;
    in >> v;
    return v;
  }
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

}  // namespace

void ExecDriver::set_config(const nlohmann::json& config) { config_ = parse_plugin_config(config); }

nlohmann::json ExecDriver::fingerprint() {
  auto fp = [&]() -> nlohmann::json {
    nlohmann::json attrs = nlohmann::json::object();
    auto path = find_executable(config_.runtime_path);
    if (!path) {
      // As Nomad: a driver that cannot work here is undetected, with the reason.
      return {{"Detected", false}, {"Healthy", false},
              {"HealthDescription", "OCI runtime \"" + config_.runtime_path + "\" not found"},
              {"Attributes", attrs}};
    }
    const std::string name = fs::path(*path).filename().string();
    auto bad = [&](const std::string& why) {
      return nlohmann::json{{"Detected", true}, {"Healthy", false}, {"HealthDescription", why}, {"Attributes", attrs}};
    };
    for (const char* ns : kNamespaces) {
      if (access((std::string("/proc/self/ns/") + ns).c_str(), F_OK) != 0)
        return bad(std::string("the kernel lacks the ") + ns + " namespace");
    }
    if (name == "crun") {
      // crun refuses hybrid hosts (v1 controllers beside a v2 mount that has controllers),
      // whatever its cgroup manager: say so instead of failing every start.
      std::ifstream ctl("/sys/fs/cgroup/unified/cgroup.controllers");
      std::string first;
      if (fs::exists("/sys/fs/cgroup/memory") && ctl >> first)
        return bad("crun does not support this host's hybrid cgroup layout (controllers on both v1 and v2)");
    }
    RunResult r = run_command({*path, "--version"}, 5s);
    if (r.exit_code != 0) return bad(*path + " --version failed (exit " + std::to_string(r.exit_code) + ")");
    // "runc version 1.1.5+ds1" / "crun version 1.8.1"
    std::string version;
    if (auto at = r.out.find("version "); at != std::string::npos) {
      auto end = r.out.find_first_of(" \n", at + 8);
      version = r.out.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
    }
    attrs["driver.exec"] = "true";
    attrs["driver.exec.runtime"] = name;
    attrs["driver.exec." + name + ".version"] = version;
    return {{"Detected", true}, {"Healthy", true}, {"HealthDescription", "healthy"}, {"Attributes", attrs}};
  }();
  fp["Capabilities"] = {{"FSIsolation", "chroot"}};  // plugin.h, fingerprint
  return fp;
}

std::vector<std::string> ExecDriver::validate(const nlohmann::json& task_config) {
  // Either the driver Config alone, or {"Config": ..., "User": ...} so that the task's user
  // is checked too before anything runs.
  if (task_config.is_object() && task_config.contains("Config")) {
    auto problems = config_problems(task_config["Config"], config_.allow_caps);
    if (auto u = task_config.find("User"); u != task_config.end() && u->is_string() && !u->get<std::string>().empty()) {
      if (auto p = user_problem(u->get<std::string>(), config_.allow_root); !p.empty()) problems.push_back(p);
    }
    return problems;
  }
  return config_problems(task_config, config_.allow_caps);
}

nlohmann::json ExecDriver::start(const nlohmann::json& task) {
  if (!task.is_object()) throw std::runtime_error("task: must be a JSON object");
  const nlohmann::json config = task.contains("Config") ? task["Config"] : nlohmann::json();
  if (auto problems = config_problems(config, config_.allow_caps); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw std::runtime_error(all);
  }
  TaskConfig cfg = read_config(config);
  auto runtime_path = find_executable(config_.runtime_path);
  if (!runtime_path) throw std::runtime_error("OCI runtime \"" + config_.runtime_path + "\" not found");

  ExecHandle h;
  h.state_dir = required(task, "StateDir");
  h.kill_signal = string_field(task, "KillSignal");
  if (!h.kill_signal.empty()) parse_signal(h.kill_signal);
  h.container_id = container_id(task);
  h.runtime_path = *runtime_path;
  h.runtime_root = config_.runtime_root;

  BundleSpec spec;
  const std::string task_dir = required(task, "TaskDir");
  spec.alloc_dir = required(task, "AllocDir") + "/alloc";
  spec.local_dir = task_dir + "/local";
  if (fs::is_directory(task_dir + "/secrets")) spec.secrets_dir = task_dir + "/secrets";
  for (const char* d : {spec.alloc_dir.c_str(), spec.local_dir.c_str()})
    if (!fs::is_directory(d)) throw std::runtime_error(std::string("task dir ") + d + " does not exist");
  std::string user = string_field(task, "User");
  if (user.empty()) user = "nobody";  // Nomad's default for exec
  if (auto p = user_problem(user, config_.allow_root); !p.empty()) throw std::runtime_error(p);
  passwd* pw = getpwnam(user.c_str());
  spec.uid = pw->pw_uid;
  spec.gid = pw->pw_gid;
  spec.hostname = cfg.hostname.empty() ? string_field(task, "TaskName") : cfg.hostname;
  if (spec.hostname.size() > 63) spec.hostname.resize(63);
  spec.caps = task_caps(cfg);
  spec.network_none = cfg.network_none;
  for (const auto& d : config_.chroot_env)
    if (fs::exists(d)) spec.host_dirs.push_back(d);
  spec.args.push_back(cfg.command);
  spec.args.insert(spec.args.end(), cfg.args.begin(), cfg.args.end());
  bool has_path = false;
  if (auto env = task.find("Env"); env != task.end() && env->is_object()) {
    for (const auto& [key, value] : env->items()) {
      if (key.empty() || key.find('=') != std::string::npos || !value.is_string())
        throw std::runtime_error("Env." + key + ": bad variable");
      std::string v = value.get<std::string>();
      // Inside the container the task's dirs have their fixed names.
      if (key == "NOMAD_ALLOC_DIR") v = "/alloc";
      else if (key == "NOMAD_TASK_DIR") v = "/local";
      else if (key == "NOMAD_SECRETS_DIR") v = "/secrets";
      has_path = has_path || key == "PATH";
      spec.env.push_back(key + "=" + v);
    }
  }
  // The runtime looks the command up in the task's PATH; without one nothing but absolute
  // paths would run.
  if (!has_path) spec.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  std::vector<std::string> candidates;  // v1 controllers where the task cgroup is not there
  if (auto cg = task.find("Cgroup"); cg != task.end() && cg->is_object()) {
    std::string parent = cg->value("Parent", "");
    if (!parent.empty()) {
      if (parent.front() != '/') parent = "/" + parent;
      // Nested: runc removes its own cgroup at delete; the agent's (limits, counters) stays.
      h.cgroup_path = parent + "/runc";
      h.cgroup_version = cg->value("Version", 1);
      spec.cgroups_path = h.cgroup_path;
      if (h.cgroup_version == 1) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/sys/fs/cgroup", ec)) {
          fs::path dir = e.path().string() + parent;
          if (e.is_directory() && !fs::exists(dir)) candidates.push_back(dir.string());
        }
      }
    }
  }
  if (auto devs = task.find("Devices"); devs != task.end() && devs->is_array())
    for (const auto& d : *devs)
      spec.devices.push_back({d.value("HostPath", ""), d.value("ContainerPath", ""), d.value("Permissions", "rwm")});
  if (auto mounts = task.find("Mounts"); mounts != task.end() && mounts->is_array())
    for (const auto& m : *mounts)
      spec.mounts.push_back({m.value("HostPath", ""), m.value("ContainerPath", ""), m.value("ReadOnly", true)});

  Runtime rt = h.runtime();
  fs::create_directories(rt.root);
  // runc and crun keep a container's state in <root>/<id>/: without that dir there is no
  // leftover to clear, and asking `runtime state` (a whole runtime start-up) is skipped.
  std::error_code ec;
  const bool leftover = fs::exists(fs::path(rt.root) / h.container_id, ec) || ec;
  if (auto st = leftover ? rt.state(h.container_id) : std::nullopt) {
    if (*st == "running") throw std::runtime_error("container " + h.container_id + " is already running");
    if (auto err = rt.remove(h.container_id, true); !err.empty()) throw std::runtime_error(err);  // an earlier run's, dead
  }
  fs::remove(fs::path(h.state_dir) / "oom");
  const std::string bundle = h.state_dir + "/bundle";
  std::string rootfs = h.runtime_root;
  while (rootfs.size() > 1 && rootfs.back() == '/') rootfs.pop_back();
  write_bundle(bundle, rootfs + "-rootfs", spec);

  Launch req;
  req.monitor_path = required(task, "MonitorPath");
  req.state_dir = h.state_dir;
  req.bundle_dir = bundle;
  req.container_id = h.container_id;
  req.runtime = rt;
  req.stdout_base = log_base(string_field(task, "StdoutPath"));
  req.stderr_base = log_base(string_field(task, "StderrPath"));
  if (req.stdout_base.empty() != req.stderr_base.empty())
    (req.stdout_base.empty() ? req.stdout_base : req.stderr_base) = "/dev/null";
  if (auto lc = task.find("LogConfig"); lc != task.end() && lc->is_object()) {
    if (lc->value("Disabled", false)) {
      req.stdout_base.clear();
      req.stderr_base.clear();
    }
    req.max_files = static_cast<unsigned>(std::max(1LL, lc->value("MaxFiles", 10LL)));
    req.max_file_size = static_cast<uint64_t>(std::max(1LL, lc->value("MaxFileSizeMB", 10LL))) << 20;
  }
  Started s;
  try {
    s = launch(req, kStartTimeout);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(bundle, ec);
    for (const auto& d : candidates) rmdir((d + "/runc").c_str()), rmdir(d.c_str());
    throw;
  }
  for (const auto& d : candidates)
    if (fs::exists(d)) h.foreign_cgroups.push_back(d);
  h.monitor_pid = s.monitor_pid;
  h.monitor_start = s.monitor_start;
  h.task_pid = s.task_pid;
  h.task_start = s.task_start;
  return to_json(h);
}

// The monitor answers a pending "wait" when the task ends (or hangs up when it dies), so the
// connection itself is the descriptor to wait on.
int ExecDriver::wait_fd(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  if (read_exit_file(h.state_dir, h.task_pid)) return -1;  // wait answers at once
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (!c.send("wait")) return -1;
  return c.release();
}

std::optional<sdk::ExitStatus> ExecDriver::wait(const nlohmann::json& handle, std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  if (auto e = read_exit_file(h.state_dir, h.task_pid)) return to_status(h, *e);
  timeout = std::max(timeout, 0ms);
  MonitorConn c(h.state_dir, h.monitor_pid);
  bool closed = false;
  if (c.send("wait")) {
    if (auto line = c.read_line(timeout, &closed)) {
      if (auto e = parse_exit_line(*line)) return to_status(h, *e);
      throw std::runtime_error("task monitor: " + *line);
    }
    if (!closed) return std::nullopt;
  }
  if (auto e = read_exit_file(h.state_dir, h.task_pid)) return to_status(h, *e);
  if (same_process_alive(h.monitor_pid, h.monitor_start)) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(timeout, 100ms));
    return std::nullopt;
  }
  throw std::runtime_error(kGone);
}

void ExecDriver::stop(const nlohmann::json& handle, const std::string& signal, std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  std::string name = signal.empty() ? h.kill_signal : signal;
  if (name.empty()) name = "SIGINT";  // Nomad's executor default
  const int sig = parse_signal(name);
  timeout = std::max(timeout, 0ms);
  if (!read_exit_file(h.state_dir, h.task_pid)) {
    MonitorConn c(h.state_dir, h.monitor_pid);
    bool done = false;
    if (c.send("stop " + std::to_string(sig) + " " + std::to_string(timeout.count())) && c.send("wait")) {
      bool closed = false;
      while (auto line = c.read_line(timeout + kKillGrace, &closed)) {
        if (parse_exit_line(*line)) {
          done = true;
          break;
        }
        if (*line != "ok") throw std::runtime_error("task monitor: " + *line);
      }
      if (!done && !closed) throw std::runtime_error("task " + std::to_string(h.task_pid) + " did not die after SIGKILL");
    }
    if (!done && same_process_alive(h.task_pid, h.task_start)) {
      // No monitor: the init is reached directly; its death ends the whole pid namespace.
      int pidfd = raw_exec::open_pidfd(h.task_pid);
      if (pidfd >= 0 && same_process_alive(h.task_pid, h.task_start)) {
        kill(h.task_pid, sig);
        if (!raw_exec::wait_exited(pidfd, timeout)) {
          kill(h.task_pid, SIGKILL);
          raw_exec::wait_exited(pidfd, kKillGrace);
        }
      }
      if (pidfd >= 0) close(pidfd);
    }
  }
  delete_container(h);
}

void ExecDriver::destroy(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (c.send("quit")) {
    (void)c.read_line(kKillGrace);  // "bye" once the task is dead and its exit recorded
  } else if (same_process_alive(h.task_pid, h.task_start)) {
    kill(h.task_pid, SIGKILL);
    if (int fd = raw_exec::open_pidfd(h.task_pid); fd >= 0) {
      raw_exec::wait_exited(fd, kKillGrace);
      close(fd);
    }
  }
  delete_container(h);
  std::error_code ec;
  fs::remove_all(fs::path(h.state_dir) / "bundle", ec);
  if (ec) throw std::runtime_error("remove bundle: " + ec.message());
  for (const auto& d : h.foreign_cgroups) rmdir(d.c_str());
}

nlohmann::json ExecDriver::inspect(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  bool running = !read_exit_file(h.state_dir, h.task_pid) && same_process_alive(h.task_pid, h.task_start);
  return {{"PID", h.task_pid}, {"TaskPID", h.task_pid}, {"MonitorPID", h.monitor_pid},
          {"MonitorRunning", same_process_alive(h.monitor_pid, h.monitor_start)},
          {"ContainerID", h.container_id}, {"Running", running}};
}

void ExecDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  ExecHandle h = parse_exec_handle(handle);
  const int sig = parse_signal(signal);
  if (read_exit_file(h.state_dir, h.task_pid)) throw std::runtime_error("task has exited");
  MonitorConn c(h.state_dir, h.monitor_pid);
  if (c.send("signal " + std::to_string(sig))) {
    if (auto reply = c.read_line(5s)) {
      if (*reply == "ok") return;
      throw std::runtime_error(reply->rfind("error ", 0) == 0 ? reply->substr(6) : *reply);
    }
  }
  if (!same_process_alive(h.task_pid, h.task_start)) throw std::runtime_error("task has exited");
  kill(h.task_pid, sig);
}

nlohmann::json ExecDriver::stats(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  if (h.cgroup_path.empty()) {
    auto st = raw_exec::read_proc_stat(h.task_pid);
    return {{"Pids", st ? 1 : 0}, {"RSSBytes", st ? st->rss_pages * sysconf(_SC_PAGESIZE) : 0}};
  }
  const bool v2 = h.cgroup_version == 2;
  fs::path mem = (v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + h.cgroup_path;
  int pids = 0;
  std::ifstream procs(mem / "cgroup.procs");
  for (std::string line; std::getline(procs, line);) pids += !line.empty();
  uint64_t rss = v2 ? read_number(mem / "memory.stat", "anon") : read_number(mem / "memory.stat", "total_rss");
  return {{"Pids", pids}, {"RSSBytes", rss}};
}

nlohmann::json ExecDriver::recover(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  if (read_exit_file(h.state_dir, h.task_pid)) return to_json(h);  // wait reports the exit
  if (same_process_alive(h.monitor_pid, h.monitor_start)) {
    if (!h.runtime().state(h.container_id) && !read_exit_file(h.state_dir, h.task_pid))
      throw std::runtime_error("container " + h.container_id + " is gone from " + h.runtime_root);
    return to_json(h);
  }
  throw std::runtime_error(kGone);
}

sdk::ExecResult ExecDriver::exec_task(const nlohmann::json& handle, const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  if (argv.empty() || argv[0].empty()) throw std::runtime_error("exec: no command");
  if (read_exit_file(h.state_dir, h.task_pid) || !same_process_alive(h.task_pid, h.task_start))
    throw std::runtime_error("task has exited");
  static std::atomic<unsigned> counter{0};
  const std::string pid_file = h.state_dir + "/exec-" + std::to_string(getpid()) + "-" +
                               std::to_string(counter++) + ".pid";
  Runtime rt = h.runtime();
  rt.log.clear();  // runc's own errors come back on stderr
  auto args = rt.global_args();
  args.insert(args.end(), {"exec", "--pid-file", pid_file, h.container_id});
  args.insert(args.end(), argv.begin(), argv.end());
  RunResult r = run_command(args, std::max(timeout, 1ms), pid_file);
  unlink(pid_file.c_str());
  if (r.exit_code < 0) throw std::runtime_error("could not run " + h.runtime_path);
  if (r.timed_out) throw std::runtime_error("exec: timed out after " + std::to_string(timeout.count()) + " ms");
  return {r.out, r.err, r.exit_code};
}

}  // namespace drover::exec

DROVER_REGISTER_DRIVER(drover::exec::ExecDriver, "exec", "0.1.0")
