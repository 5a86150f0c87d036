// exec: the driver's calls (see exec_driver.hpp) and its one registration line. What differs
// from raw_exec is here: its config and validation, the OCI bundle, the monitor's OCI-mode
// launch, the container's runtime state (removed with `delete` once the task is dead, after
// its OOM counter was read), cgroup stats and exec-in-task; the calls on the running task are
// monitored::MonitoredTask's.
#include "exec_driver.hpp"

#include <cctype>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "drover/sdk/hostname.hpp"
#include "exec_handle.hpp"
#include "exec_process.hpp"
#include "launch.hpp"
#include "monitored_task.hpp"
#include "oci_spec.hpp"
#include "proc.hpp"
#include "task_config.hpp"

namespace drover::exec {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using monitored::MonitoredTask;
using monitored::parse_signal;

constexpr std::chrono::seconds kStartTimeout{60};
const char* const kNamespaces[] = {"pid", "mnt", "ipc", "uts"};

// runc and crun take [A-Za-z0-9_.+-] ids.
std::string container_id(const sdk::TaskSpec& task) {
  std::string id = task.alloc_id + "-" + task.task_name;
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

// The handle as start knows it before the launch, in the task's state dir (docs/plugins.md,
// "Starting handles"): written whole or not at all.
constexpr const char* kPartialHandle = "exec-handle.json";

void write_partial_handle(const ExecHandle& h) {
  const fs::path dir = h.task.state_dir, tmp = dir / (std::string(kPartialHandle) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << to_json(h).dump();
    if (!out.flush()) throw std::runtime_error("writing " + tmp.string() + " failed");
  }
  fs::rename(tmp, dir / kPartialHandle);
}

// A Starting handle: the agent died between asking for the start and keeping the handle.
// The monitor's pid file or exit record tells whether the container started
// (MonitoredTask::recover_starting); without either, a container the runtime made but never
// ran is removed and the task reported never started, so it is started again, once.
ExecHandle recover_starting(const nlohmann::json& starting) {
  const std::string state_dir = monitored::starting_dir(starting);
  if (state_dir.empty()) throw sdk::NeverStarted("never started: no RuntimeDir or StateDir in the handle");
  std::ifstream in(fs::path(state_dir) / kPartialHandle);
  if (!in) throw sdk::NeverStarted("never started: no " + std::string(kPartialHandle) + " in " + state_dir);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) throw sdk::NeverStarted("never started: " + std::string(kPartialHandle) + " is incomplete");
  j["MonitorPID"] = j["TaskPID"] = 1;  // the PIDs come from the monitor below
  ExecHandle h = parse_exec_handle(j);
  try {
    h.task = MonitoredTask::recover_starting(starting);
  } catch (const sdk::NeverStarted& e) {
    // A container the runtime created but the monitor never ran; start removes it too.
    Runtime rt = h.runtime();
    std::string left;
    if (rt.state(h.container_id)) left = rt.remove(h.container_id, true);
    for (const auto& d : h.foreign_cgroups) rmdir((d + "/runc").c_str()), rmdir(d.c_str());
    if (!left.empty()) throw sdk::NeverStarted(std::string(e.what()) + "; removing its container: " + left);
    throw;
  }
  h.task.pgid = 0;  // as start sets it: the container's init alone
  std::vector<std::string> made;
  for (const auto& d : h.foreign_cgroups)
    if (fs::exists(d)) made.push_back(d);
  h.foreign_cgroups = std::move(made);
  return h;
}

// The OOM-kill counter of the container's own cgroup; remembered in the state dir so the
// answer survives the cgroup's removal at delete.
bool oom_killed(const ExecHandle& h) {
  const fs::path cache = fs::path(h.task.state_dir) / "oom";
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

// The container is dead: remember its OOM flag, then remove its runtime state (and with it
// the container's cgroup).
void delete_container(const ExecHandle& h) {
  (void)oom_killed(h);
  std::string err = h.runtime().remove(h.container_id, false);
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

// The group network's dns block as a resolv.conf in the task's runtime dir, for the bundle to
// mount at /etc/resolv.conf; returns its path.
std::string write_resolv_conf(const sdk::TaskDns& dns, const std::string& dir) {
  std::string text = "# written by drover from the group network's dns block\n";
  for (const auto& s : dns.servers) text += "nameserver " + s + "\n";
  auto line = [&](const char* key, const std::vector<std::string>& words) {
    if (words.empty()) return;
    text += key;
    for (const auto& w : words) text += " " + w;
    text += "\n";
  };
  line("search", dns.searches);
  line("options", dns.options);
  return sdk::write_etc_file(dir, "resolv.conf", text);
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
    if (r.exit_code != 0) {
      // The runtime's own last words are the reason an operator can act on.
      std::string said = r.err.empty() ? r.out : r.err;
      while (!said.empty() && std::isspace(static_cast<unsigned char>(said.back()))) said.pop_back();
      if (auto nl = said.rfind('\n'); nl != std::string::npos) said.erase(0, nl + 1);
      if (said.size() > 300) said = said.substr(0, 300) + "...";
      return bad(*path + " --version failed (exit " + std::to_string(r.exit_code) + ")" +
                 (said.empty() ? "" : ": " + said));
    }
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
  // Tasks run as nobody unless the job says otherwise (Nomad's default for exec).
  fp["Capabilities"] = {
      {"FSIsolation", "chroot"}, {"DefaultUser", "nobody"}, {"MountConfigs", "all"},
      {"NetIsolation", "group"}, {"Exec", true}, {"RecoversStarting", true}};  // plugin.h
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

nlohmann::json ExecDriver::start(const sdk::TaskSpec& task) {
  const nlohmann::json& config = task.config;
  if (auto problems = config_problems(config, config_.allow_caps); !problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    throw std::runtime_error(all);
  }
  TaskConfig cfg = read_config(config);
  auto runtime_path = find_executable(config_.runtime_path);
  if (!runtime_path) throw std::runtime_error("OCI runtime \"" + config_.runtime_path + "\" not found");

  ExecHandle h;
  h.task.state_dir = sdk::required(task.runtime_dir, "RuntimeDir");
  h.task.kill_signal = task.kill_signal;
  parse_signal(h.task.kill_signal);  // refuse a bad one before running
  h.container_id = container_id(task);
  h.runtime_path = *runtime_path;
  h.runtime_root = config_.runtime_root;

  BundleSpec spec;
  const std::string& task_dir = sdk::required(task.task_dir, "TaskDir");
  spec.alloc_dir = sdk::required(task.alloc_dir, "AllocDir") + "/alloc";
  spec.local_dir = task_dir + "/local";
  if (fs::is_directory(task_dir + "/secrets")) spec.secrets_dir = task_dir + "/secrets";
  for (const char* d : {spec.alloc_dir.c_str(), spec.local_dir.c_str()})
    if (!fs::is_directory(d)) throw std::runtime_error(std::string("task dir ") + d + " does not exist");
  std::string user = task.user;
  if (user.empty()) user = "nobody";  // Nomad's default for exec
  if (auto p = user_problem(user, config_.allow_root); !p.empty()) throw std::runtime_error(p);
  passwd* pw = getpwnam(user.c_str());
  spec.uid = pw->pw_uid;
  spec.gid = pw->pw_gid;
  // The task's own config.hostname, else the alloc's (its group network's), else its name.
  spec.hostname = !cfg.hostname.empty() ? cfg.hostname : !task.hostname.empty() ? task.hostname : task.task_name;
  if (spec.hostname.size() > 63) spec.hostname.resize(63);
  spec.caps = task_caps(cfg);
  if (!cfg.work_dir.empty()) {
    // A path inside the container (the runtime refuses to start in one that is missing).
    if (cfg.work_dir[0] != '/')
      throw std::runtime_error("config.work_dir: \"" + cfg.work_dir + "\" is not an absolute path");
    spec.cwd = cfg.work_dir;
  }
  spec.network_none = cfg.network_none;
  spec.network_ns_path = task.network_namespace;
  if (task.dns) spec.resolv_conf = write_resolv_conf(*task.dns, h.task.state_dir);
  // The alloc's hostname resolves inside, to the alloc's address (Nomad's HostsConfig).
  if (!task.hostname.empty() && cfg.hostname.empty())
    spec.hosts_file = sdk::write_hosts_file(h.task.state_dir, task.hostname, task.alloc_address);
  for (const auto& d : config_.chroot_env)
    if (fs::exists(d)) spec.host_dirs.push_back(d);
  spec.args.push_back(cfg.command);
  spec.args.insert(spec.args.end(), cfg.args.begin(), cfg.args.end());
  bool has_path = false;
  for (const auto& [key, value] : task.env) {  // names checked by task_spec_from_json
    std::string v = value;
    // Inside the container the task's dirs have their fixed names.
    if (key == "NOMAD_ALLOC_DIR") v = "/alloc";
    else if (key == "NOMAD_TASK_DIR") v = "/local";
    else if (key == "NOMAD_SECRETS_DIR") v = "/secrets";
    has_path = has_path || key == "PATH";
    spec.env.push_back(key + "=" + v);
  }
  // The runtime looks the command up in the task's PATH; without one nothing but absolute
  // paths would run.
  if (!has_path) spec.env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

  std::vector<std::string> candidates;  // v1 controllers where the task cgroup is not there
  if (task.cgroup) {
    std::string parent = task.cgroup->parent;
    if (!parent.empty()) {
      if (parent.front() != '/') parent = "/" + parent;
      // Nested: runc removes its own cgroup at delete; the agent's (limits, counters) stays.
      h.cgroup_path = parent + "/runc";
      h.cgroup_version = task.cgroup->version;
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
  for (const auto& d : task.devices) spec.devices.push_back({d.host_path, d.container_path, d.permissions});
  for (const auto& m : task.mounts) spec.mounts.push_back({m.host_path, m.container_path, m.read_only});

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
  fs::remove(fs::path(h.task.state_dir) / "oom");
  const std::string bundle = h.task.state_dir + "/bundle";
  std::string rootfs = h.runtime_root;
  while (rootfs.size() > 1 && rootfs.back() == '/') rootfs.pop_back();
  write_bundle(bundle, rootfs + "-rootfs", spec);

  Launch req;
  req.monitor_path = sdk::required(task.monitor_path, "MonitorPath");
  req.state_dir = h.task.state_dir;
  req.bundle_dir = bundle;
  req.container_id = h.container_id;
  req.runtime = rt;
  req.logs = monitored::monitor_logs(task);
  // What recover needs to find this container if the agent dies before it keeps the handle
  // (a Starting handle): everything but the PIDs, which the monitor's own files give then.
  h.foreign_cgroups = candidates;
  write_partial_handle(h);
  h.foreign_cgroups.clear();
  monitored::MonitorStarted s;
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
  static_cast<monitored::MonitorStarted&>(h.task) = s;
  return to_json(h);
}

int ExecDriver::wait_fd(const nlohmann::json& handle) {
  return MonitoredTask(parse_exec_handle(handle).task).wait_fd();
}

std::optional<sdk::ExitStatus> ExecDriver::wait(const nlohmann::json& handle, std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  auto e = MonitoredTask(h.task).wait(timeout);
  if (!e) return std::nullopt;
  return sdk::ExitStatus{e->exit_code, e->signal, oom_killed(h), ""};
}

void ExecDriver::stop(const nlohmann::json& handle, const std::string& signal, std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  MonitoredTask(h.task).stop(signal, timeout);
  delete_container(h);
}

void ExecDriver::destroy(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  MonitoredTask(h.task).destroy();
  delete_container(h);
  std::error_code ec;
  fs::remove_all(fs::path(h.task.state_dir) / "bundle", ec);
  if (ec) throw std::runtime_error("remove bundle: " + ec.message());
  for (const auto& d : h.foreign_cgroups) rmdir(d.c_str());
}

nlohmann::json ExecDriver::inspect(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  nlohmann::json j = MonitoredTask(h.task).inspect();
  j["PID"] = h.task.task_pid;
  j["ContainerID"] = h.container_id;
  return j;
}

void ExecDriver::signal(const nlohmann::json& handle, const std::string& signal) {
  MonitoredTask(parse_exec_handle(handle).task).signal(parse_signal(signal));
}

nlohmann::json ExecDriver::stats(const nlohmann::json& handle) {
  ExecHandle h = parse_exec_handle(handle);
  if (h.cgroup_path.empty()) {
    auto st = monitored::read_proc_stat(h.task.task_pid);
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
  if (handle.value("Starting", false)) return to_json(recover_starting(handle));
  ExecHandle h = parse_exec_handle(handle);
  MonitoredTask task(h.task);
  task.recover();
  if (!task.exit_record() && !h.runtime().state(h.container_id) && !task.exit_record())
    throw std::runtime_error("container " + h.container_id + " is gone from " + h.runtime_root);
  return to_json(h);
}

sdk::ExecResult ExecDriver::exec_task(const nlohmann::json& handle, const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) {
  ExecHandle h = parse_exec_handle(handle);
  if (argv.empty() || argv[0].empty()) throw std::runtime_error("exec: no command");
  if (!MonitoredTask(h.task).running()) throw std::runtime_error("task has exited");
  static std::atomic<unsigned> counter{0};
  const std::string pid_file = h.task.state_dir + "/exec-" + std::to_string(getpid()) + "-" +
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

// The runtime's own `exec` under a pseudo-terminal or pipes of ours (monitored/exec_process.hpp).
// With a terminal, runc and crun run in the foreground with `--tty`: each makes a terminal of
// its own inside the container, copies between it and its stdio (our terminal, which it sets
// raw), and copies our window size to it at start and on each SIGWINCH, which the kernel sends
// it when the agent resizes ours (crun before 1.9 only at start: a resize also sets the size
// on the command's own terminal, exec_process.cpp). The runtime copies the size on its own
// time: a command
// started at once may read 0x0 for a moment, as under `docker exec -t`. The same command
// line works with both runtimes, which a --console-socket (and a detached process that is
// then nobody's child) would not.
std::unique_ptr<sdk::ExecStream> ExecDriver::exec_stream(const nlohmann::json& handle,
                                                         const sdk::ExecStreamRequest& request) {
  ExecHandle h = parse_exec_handle(handle);
  if (!MonitoredTask(h.task).running()) throw std::runtime_error("task has exited");
  static std::atomic<unsigned> counter{0};
  Runtime rt = h.runtime();
  rt.log.clear();  // runc's own errors come back on stderr
  monitored::ExecSpawn s;
  s.pid_file = h.task.state_dir + "/exec-" + std::to_string(getpid()) + "-s" +
               std::to_string(counter++) + ".pid";
  s.argv = rt.global_args();
  s.argv.push_back("exec");
  if (request.tty) s.argv.insert(s.argv.end(), {"--tty", "--env", "TERM=xterm"});
  s.argv.insert(s.argv.end(), {"--pid-file", s.pid_file, h.container_id});
  s.argv.insert(s.argv.end(), request.argv.begin(), request.argv.end());
  s.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  s.tty = request.tty;
  s.raw_terminal = true;
  s.height = request.height;
  s.width = request.width;
  return monitored::spawn_exec(s);
}

}  // namespace drover::exec

DROVER_REGISTER_DRIVER(drover::exec::ExecDriver, "exec", "0.1.0")
