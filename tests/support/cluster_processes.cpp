// etcd and `drover server` processes for the cluster tests; see cluster_processes.hpp.
#include "cluster_processes.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace drover::testing {

namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

HttpReply reply_of(const httplib::Result& r) {
  HttpReply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  return out;
}

}  // namespace

EtcdProcess::EtcdProcess()
    : dir_(make_temp_dir("drover-etcd")),
      client_(free_loopback_port()),
      peer_(free_loopback_port()) {}

EtcdProcess::~EtcdProcess() {
  stop();
  std::error_code ec;  // a 64 MB WAL and more: never left behind
  std::filesystem::remove_all(dir_, ec);
}

bool EtcdProcess::installed() {
  return ::system("command -v etcd >/dev/null && command -v etcdctl >/dev/null") == 0;
}

bool EtcdProcess::start() {
  pid_ = ::fork();
  if (pid_ == 0) {
    std::string c = "http://127.0.0.1:" + std::to_string(client_);
    std::string p = "http://127.0.0.1:" + std::to_string(peer_);
    std::string log = dir_ + "/etcd.log";
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execlp("etcd", "etcd", "--name", "t", "--data-dir", (dir_ + "/data").c_str(),
             "--listen-client-urls", c.c_str(), "--advertise-client-urls", c.c_str(),
             "--listen-peer-urls", p.c_str(), "--initial-advertise-peer-urls", p.c_str(),
             "--initial-cluster", ("t=" + p).c_str(), nullptr);
    _exit(127);
  }
  return eventually(
      [&] { return ctl("endpoint health 2>&1").find("is healthy") != std::string::npos; },
      std::chrono::seconds(10));
}

void EtcdProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string EtcdProcess::endpoint() const { return "http://127.0.0.1:" + std::to_string(client_); }

std::string EtcdProcess::ctl(const std::string& args) const {
  return sh("ETCDCTL_API=3 etcdctl --endpoints=" + endpoint() + " " + args);
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::string& name,
                                                    const std::string& config_yaml,
                                                    const std::string& ca_file) {
  std::unique_ptr<ServerProcess> s(new ServerProcess());
  s->name_ = name;
  s->dir_ = make_temp_dir("drover-server");
  s->port_ = free_loopback_port();
  s->ca_file_ = ca_file;
  s->address_ = std::string(ca_file.empty() ? "http" : "https") + "://127.0.0.1:" +
                std::to_string(s->port_);
  std::string cfg = s->dir_ + "/server.yaml";
  write_file(cfg, "name: " + name + "\nport: " + std::to_string(s->port_) + "\n" + config_yaml);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int log = ::open((s->dir_ + "/server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execl(DROVER_BIN, DROVER_BIN, "server", "-config", cfg.c_str(), nullptr);
    _exit(127);
  }
  s->pid_ = pid;
  if (!eventually([&] { return s->get("/v1/agent/health").status == 200; },
                  std::chrono::seconds(15)))
    ADD_FAILURE() << "server " << name << " did not answer within 15s:\n" << s->log();
  return s;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill(SIGTERM);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int ServerProcess::kill(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string ServerProcess::log() const { return read_file(dir_ + "/server.log"); }

namespace {

httplib::Headers token_header(const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("X-Nomad-Token", token);
  return h;
}

}  // namespace

nlohmann::json ServerProcess::await_evaluation(const std::string& id) const {
  nlohmann::json e;
  eventually(
      [&] {
        e = get("/v1/evaluation/" + id).json();
        return e.is_object() && e.value("Status", "pending") != "pending";
      },
      std::chrono::seconds(30));
  return e;
}

HttpReply ServerProcess::get(const std::string& path) const {
  return reply_of(api_client(address_, ca_file_, 10)->Get(path.c_str(), token_header(token_)));
}

HttpReply ServerProcess::post(const std::string& path, const std::string& body,
                              const std::string& content_type) const {
  return reply_of(api_client(address_, ca_file_, 30)
                      ->Post(path.c_str(), token_header(token_), body, content_type.c_str()));
}

HttpReply ServerProcess::del(const std::string& path) const {
  return reply_of(api_client(address_, ca_file_, 30)->Delete(path.c_str(), token_header(token_)));
}

std::string etcd_agent_yaml(const EtcdProcess& etcd) {
  return "upstream:\n  backend: etcd\n  etcd:\n    endpoints: [\"" + etcd.endpoint() +
         "\"]\n    prefix: /drover\n    heartbeat_ttl: 3s\n";
}

std::string etcd_server_yaml(const EtcdProcess& etcd) {
  return "leader_ttl: 3s\netcd:\n  endpoints: [\"" + etcd.endpoint() + "\"]\n  prefix: /drover\n";
}

std::string acl_server_yaml(const EtcdProcess& etcd, const std::string& dir, const std::string& name) {
  return etcd_server_yaml(etcd) + "acl:\n  enabled: true\n  bootstrap_token_file: " + dir + "/" + name + ".token\n";
}

std::string bootstrap_token(const std::string& dir, const std::vector<std::string>& names) {
  std::string secret;
  eventually(
      [&] {
        for (const auto& n : names)
          if (std::filesystem::exists(dir + "/" + n + ".token")) secret = read_file(dir + "/" + n + ".token");
        secret.erase(secret.find_last_not_of("\n") + 1);
        return !secret.empty();
      },
      std::chrono::seconds(20));
  return secret;
}

void kill_orphaned_tasks(const std::string& cgroup_parent, const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // The monitors first, so that none reports or restarts anything.
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    std::string pid = p.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_file(p.path() / "cmdline");
    if (cmd.find("drover-monitor") != std::string::npos && cmd.find(data_dir) != std::string::npos)
      ::kill(std::stoi(pid), SIGKILL);
  }
  for (const auto& dir : parent_cgroup_dirs(cgroup_parent)) {
    if (!fs::is_directory(dir, ec)) continue;
    for (const auto& child : fs::directory_iterator(dir, ec)) {
      if (!child.is_directory()) continue;
      std::ifstream procs(child.path() / "cgroup.procs");
      for (int pid; procs >> pid;) ::kill(pid, SIGKILL);
    }
  }
  // Empty task cgroups go, then the parent (the agent's destructor tries it too).
  eventually(
      [&] {
        bool all = true;
        for (const auto& dir : parent_cgroup_dirs(cgroup_parent)) {
          if (!fs::is_directory(dir, ec)) continue;
          for (const auto& child : fs::directory_iterator(dir, ec))
            if (child.is_directory() && ::rmdir(child.path().c_str()) != 0) all = false;
        }
        return all;
      },
      std::chrono::seconds(5));
}

}  // namespace drover::testing
