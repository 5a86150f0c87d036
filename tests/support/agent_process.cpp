#include "agent_process.hpp"
#include "no_clone3.hpp"
#include "temp_cleanup.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>
#include <set>
#include <thread>

namespace drover::testing {

// A server that closes a connection (a TLS port answering plain HTTP) must fail the test's
// request, not kill the test process with SIGPIPE.
[[maybe_unused]] static const bool kIgnoreSigpipe = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  remove_after_passing_run(tmpl);
  return tmpl;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json HttpReply::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  auto close = line.rfind(')');  // comm may hold spaces and parens
  if (close == std::string::npos || line.size() <= close + 2) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  ProcStat st;
  pid_t pgrp = 0;
  rest >> st.state >> st.ppid >> pgrp >> st.session;
  std::string skip;
  for (int field = 7; field < 22; ++field) rest >> skip;
  rest >> st.start;
  return st;
}

bool process_alive(pid_t pid) {
  auto st = proc_stat(pid);
  return st && st->state != 'Z' && st->state != 'X';
}

pid_t monitor_pid(const AgentProcess& agent, const std::string& alloc, const std::string& task) {
  const auto file = agent.runtime_dir() + "/tasks/" + alloc + "/" + task + "/monitor.pid";
  std::string line;
  if (!eventually([&] { return !(line = read_file(file)).empty(); }, std::chrono::seconds(30)))
    return -1;
  return std::stoi(line);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

bool cgroup_v2() {
  std::error_code ec;
  return std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", ec);
}

std::string task_cgroup_dir(const std::string& parent, const std::string& controller,
                            const std::string& name) {
  if (cgroup_v2()) return "/sys/fs/cgroup/" + parent + "/" + name + ".scope";
  return "/sys/fs/cgroup/" + controller + "/" + parent + "/" + name;
}

int processes_in_cgroup(const std::string& dir) {
  std::istringstream in(read_file(dir + "/cgroup.procs"));
  int n = 0;
  for (std::string pid; in >> pid;) ++n;
  return n;
}

std::vector<std::string> parent_cgroup_dirs(const std::string& parent) {
  if (cgroup_v2()) return {"/sys/fs/cgroup/" + parent};
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/fs/cgroup", ec))
    dirs.push_back((entry.path() / parent).string());
  return dirs;
}

int free_loopback_port() {
  // Below the kernel's ephemeral range: a port the kernel hands out for bind(0) is handed out
  // again at once as the source port of any outgoing connection (to etcd, dockerd, an agent)
  // of the tests running beside this one, and a server started on it a moment later finds it
  // taken. Ports below the range are never given out that way: try random ones there.
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  const int first = 10000, last = std::max(first + 1000, low) - 1;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = std::uniform_int_distribution<int>(first, last)(rng);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // all taken: the kernel's choice
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

// Whether process `pid` holds a socket listening on TCP `port` (/proc/net/tcp and tcp6, then
// its fds). Two tests beside each other may pick the same free port before either agent binds
// it: the one that loses exits, and a health check alone would take the winner for its own.
bool listens_on(pid_t pid, int port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retrans, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retrans >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  if (inodes.empty()) return false;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const std::string target = std::filesystem::read_symlink(fd.path(), lec).string();
    if (target.rfind("socket:[", 0) == 0 && inodes.count(target.substr(8, target.size() - 9)))
      return true;
  }
  return false;
}

CmdResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra) {
  auto dir = make_temp_dir("drover-cli");
  auto out_path = dir + "/out", err_path = dir + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& e : env_extra) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CmdResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace

CmdResult run_shell(const std::string& cmd) {
  CmdResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  for (size_t n; p && (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = p ? ::pclose(p) : -1;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

CmdResult run_drover(const std::vector<std::string>& args, const std::string& address,
                     const std::vector<std::string>& env_extra) {
  std::vector<std::string> argv{DROVER_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> env{"DROVER_ADDR=" + address};
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  return run_process(argv, env);
}

std::unique_ptr<AgentProcess> AgentProcess::start(Options opts) {
  std::unique_ptr<AgentProcess> a(new AgentProcess());
  a->data_dir_ = opts.data_dir.empty() ? make_temp_dir("drover-agent") : opts.data_dir;
  a->port_ = opts.port ? opts.port : free_loopback_port();
  a->ca_file_ = opts.ca_file;
  a->address_ = std::string(opts.ca_file.empty() ? "http" : "https") + "://127.0.0.1:" +
                std::to_string(a->port_);
  a->log_path_ = a->data_dir_ + ".log";
  for (const char* beside : {".log", ".config.yaml", ".run"})
    remove_after_passing_run(a->data_dir_ + beside);
  std::vector<std::string> argv{DROVER_BIN, "agent", "-data-dir", a->data_dir_, "-port",
                                std::to_string(a->port_), "-plugin-dir", DROVER_PLUGIN_DIR};
  if (opts.dev) argv.push_back("-dev");
  // Each agent gets its own parent cgroup, so agents of tests running side by side never
  // take each other's task cgroups for orphans.
  // The parent cgroup follows the data dir: an agent restarted on the same data dir (the
  // recovery tests) finds its tasks' cgroups where it left them.
  a->cgroup_parent_ = !opts.cgroup_parent.empty()
                         ? opts.cgroup_parent
                         : "drover-test-" + std::filesystem::path(a->data_dir_).filename().string();
  std::string config = opts.config_yaml;
  config = "cgroup_parent: " + a->cgroup_parent_ + "\n" + config;
  // The tasks' runtime state beside the data dir (its name starts with the data dir's, which
  // kill_tasks_left_behind looks for in a monitor's argv), not in the /run/drover all share.
  a->runtime_dir_ = a->data_dir_ + ".run";
  if (config.find("runtime_dir:") == std::string::npos)
    config = "runtime_dir: " + a->runtime_dir_ + "\n" + config;
  {
    auto cfg = a->data_dir_ + ".config.yaml";
    write_file(cfg, config);
    argv.push_back("-config");
    argv.push_back(cfg);
  }
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  pid_t pid = fork();
  if (pid == 0) {
    // Its own process group, so a test's signals never reach the agent by accident.
    setpgid(0, 0);
    int log = open(a->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (!opts.start_in_cgroup.empty()) {
      int procs = open((opts.start_in_cgroup + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
      if (procs < 0 || write(procs, "0\n", 2) != 2) {
        dprintf(log, "cannot join cgroup %s: %s\n", opts.start_in_cgroup.c_str(), strerror(errno));
        _exit(126);
      }
      close(procs);
    }
    if (opts.refuse_clone3 && !drover::test_support::refuse_clone3()) {
      dprintf(log, "cannot refuse clone3: %s\n", strerror(errno));
      _exit(126);
    }
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(log, 1);
    dup2(log, 2);
    std::vector<char*> args;
    for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  a->pid_ = pid;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (a->get("/v1/agent/health").status == 200 && listens_on(pid, a->port_)) return a;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      a->pid_ = -1;
      ADD_FAILURE() << "agent exited during start:\n" << a->log();
      return a;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "agent did not answer within 15s:\n" << a->log();
  return a;
}

AgentProcess::~AgentProcess() {
  // An agent the test killed itself is to be restarted on the same data dir: leave its tasks,
  // and remove only a parent cgroup that is already empty (rmdir refuses any other).
  if (pid_ <= 0) {
    for (const auto& dir : parent_cgroup_dirs(cgroup_parent_)) rmdir(dir.c_str());
    return;
  }
  {
    // Tasks outlive the agent by design; a test leaves none behind, so it stops them first.
    auto allocs = get("/v1/allocations").json();
    if (allocs.is_array()) {
      for (const auto& a : allocs)
        if (a.value("DesiredStatus", "") == "run") post("/v1/client/allocation/" + a.value("ID", "") + "/stop", "");
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      for (const auto& a : allocs) {
        std::string id = a.value("ID", "");
        while (std::chrono::steady_clock::now() < deadline) {
          auto s = alloc(id).value("ClientStatus", "");
          if (s != "running" && s != "pending") break;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      }
    }
    kill(SIGTERM);
  }
  kill_tasks_left_behind();
}

void AgentProcess::kill_tasks_left_behind() {
  // The test's parent cgroup, in every hierarchy, with whatever is still in it.
  std::error_code ec;
  for (const auto& dir : parent_cgroup_dirs(cgroup_parent_)) {
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& child : std::filesystem::directory_iterator(dir, ec)) {
      if (!child.is_directory()) continue;
      std::ifstream procs(child.path() / "cgroup.procs");
      for (pid_t p; procs >> p;) ::kill(p, SIGKILL);
      for (int i = 0; i < 50 && rmdir(child.path().c_str()) != 0 && errno == EBUSY; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    rmdir(dir.c_str());
  }
}

bool AgentProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int AgentProcess::kill(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return status;
}

std::string AgentProcess::log() const { return read_file(log_path_); }

static HttpReply to_reply(const httplib::Result& r) {
  if (!r) return {};
  return {r->status, r->body};
}

std::unique_ptr<httplib::Client> api_client(const std::string& address, const std::string& ca_file,
                                            int read_timeout_s) {
  auto c = std::make_unique<httplib::Client>(address);
  if (!ca_file.empty()) {
    c->set_ca_cert_path(ca_file.c_str());
    c->enable_server_certificate_verification(true);
  }
  c->set_connection_timeout(2);
  c->set_read_timeout(read_timeout_s);
  return c;
}

HttpReply AgentProcess::get(const std::string& path) const {
  return to_reply(api_client(address_, ca_file_, 10)->Get(path.c_str()));
}

HttpReply AgentProcess::post(const std::string& path, const std::string& body,
                             const std::string& content_type) const {
  return to_reply(api_client(address_, ca_file_, 10)->Post(path.c_str(), body, content_type.c_str()));
}

HttpReply AgentProcess::del(const std::string& path) const {
  return to_reply(api_client(address_, ca_file_, 10)->Delete(path.c_str()));
}

CmdResult AgentProcess::cli(const std::vector<std::string>& args) const {
  if (!ca_file_.empty()) return run_drover(args, address_, {"DROVER_CACERT=" + ca_file_});
  return run_drover(args, address_);
}

std::vector<std::string> AgentProcess::submit(const std::string& job_text) const {
  auto r = post("/v1/jobs", job_text);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> ids;
  auto j = r.json();
  if (j.contains("AllocIDs"))
    for (const auto& id : j["AllocIDs"]) ids.push_back(id.get<std::string>());
  return ids;
}

nlohmann::json AgentProcess::alloc(const std::string& id) const {
  return get("/v1/allocation/" + id).json();
}

nlohmann::json AgentProcess::wait_alloc(const std::string& id,
                                        const std::function<bool(const nlohmann::json&)>& pred,
                                        std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = alloc(id);
    if (last.is_object() && pred(last)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ADD_FAILURE() << "alloc " << id << " did not reach the expected state; last seen:\n"
                << last.dump(2);
  return last;
}

nlohmann::json AgentProcess::wait_client_status(const std::string& id, const std::string& status,
                                                std::chrono::milliseconds timeout) const {
  return wait_alloc(
      id, [&](const nlohmann::json& a) { return a.value("ClientStatus", "") == status; }, timeout);
}

}  // namespace drover::testing
