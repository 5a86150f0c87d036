// Drives the real `drover` binary from tests: an agent on a free loopback port with its own
// data dir, its API as JSON, and the CLI as a user would run it.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace drover::testing {

std::string make_temp_dir(const std::string& prefix = "drover-test");
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

struct HttpReply {
  int status = 0;  // 0: no connection
  std::string body;
  nlohmann::json json() const;
};

struct CmdResult {
  int exit_code = -1;
  std::string out, err;
};

class AgentProcess {
 public:
  struct Options {
    std::string data_dir;  // empty: a new temp dir
    bool dev = true;
    std::string config_yaml;  // written to a file and passed with -config when set
    std::vector<std::string> extra_args;
    int port = 0;  // 0: a free one
    std::string cgroup_parent;  // empty: a unique one per agent
    // An absolute cgroup dir the agent joins before exec, as systemd starts a unit in its own
    // cgroup (Delegate=yes); empty: the test's own cgroup.
    std::string start_in_cgroup;
    bool refuse_clone3 = false;  // the agent and its monitors run as on a kernel < 5.3
    // The CA of an agent whose config has a tls block: it is reached over https, its
    // certificate verified against this CA.
    std::string ca_file;
  };

  // Starts the agent and waits until /v1/agent/health answers (fails the test otherwise).
  static std::unique_ptr<AgentProcess> start(Options opts);
  static std::unique_ptr<AgentProcess> start() { return start(Options{}); }
  ~AgentProcess();

  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  // Where the agent keeps its tasks' runtime state: <runtime_dir>/tasks/<alloc>/<task>.
  const std::string& runtime_dir() const { return runtime_dir_; }
  int port() const { return port_; }
  const std::string& cgroup_parent() const { return cgroup_parent_; }
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits for the process to exit; returns its wait status.
  int kill(int sig = SIGKILL);
  // For a test that killed the agent and will not start it again: the tasks it left running
  // (they outlive it by design) are killed and their cgroups removed, as for a stopped agent.
  void kill_tasks_left_behind();
  std::string log() const;

  HttpReply get(const std::string& path) const;
  HttpReply post(const std::string& path, const std::string& body,
                 const std::string& content_type = "application/yaml") const;
  HttpReply del(const std::string& path) const;
  // Runs the real CLI against this agent.
  CmdResult cli(const std::vector<std::string>& args) const;

  // Submits a job document; returns its alloc ids (fails the test on a non-200).
  std::vector<std::string> submit(const std::string& job_text) const;
  nlohmann::json alloc(const std::string& id) const;
  // Polls the alloc until `pred` holds or the timeout passes; returns the last alloc seen.
  nlohmann::json wait_alloc(const std::string& id, const std::function<bool(const nlohmann::json&)>& pred,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  nlohmann::json wait_client_status(const std::string& id, const std::string& status,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

 private:
  AgentProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string address_, data_dir_, runtime_dir_, log_path_, cgroup_parent_, ca_file_;
};

// A client for an agent's or server's API at `address` (http:// or https://, the latter
// verified against `ca_file` when one is given).
std::unique_ptr<httplib::Client> api_client(const std::string& address, const std::string& ca_file,
                                            int read_timeout_s);

// Runs `cmd` with /bin/sh; its stdout and stderr together in `out`.
CmdResult run_shell(const std::string& cmd);

// Runs the drover binary with `args`, with DROVER_ADDR=`address`; captures output.
CmdResult run_drover(const std::vector<std::string>& args, const std::string& address,
                     const std::vector<std::string>& env_extra = {});

// The fields of /proc/PID/stat the tests look at; nullopt when there is no such process.
struct ProcStat {
  char state = '?';
  pid_t ppid = 0, session = 0;
  unsigned long long start = 0;  // clock ticks after boot (field 22): with the pid, one process
};
std::optional<ProcStat> proc_stat(pid_t pid);

// Whether process `pid` exists (and is not a zombie).
bool process_alive(pid_t pid);

// The pid of the drover-monitor of `task` in `alloc`, from its monitor.pid in the agent's
// runtime dir; the monitor writes that just after it reports the start (monitor/README.md),
// so it can come after "running" on a slow machine. -1 when none appears within 30 s.
pid_t monitor_pid(const AgentProcess& agent, const std::string& alloc, const std::string& task = "t");

// A loopback TCP port nothing listens on right now (the kernel's pick).
int free_loopback_port();

// Polls `pred` every 20 ms until it holds (true) or `limit` passes (false): tests wait on what
// they expect, not on the clock, so that a slow machine (the emulated guest of tests/vm) only
// takes longer.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);

// Whether /sys/fs/cgroup is a pure cgroup v2 hierarchy (the guest of tests/vm), not v1 or
// hybrid: the tests run on either and assert what differs per mode.
bool cgroup_v2();
// Where an agent with parent cgroup `parent` puts the task cgroup `name` (<alloc>.<task>),
// the directory holding `controller`'s files: in that controller's v1 hierarchy, or the one
// <parent>/<name>.scope of the v2 tree (docs/cgroups.md, "Layout").
std::string task_cgroup_dir(const std::string& parent, const std::string& controller,
                            const std::string& name);
// How many processes the cgroup dir `dir` holds now (its cgroup.procs). What a pids limit
// bounds: pids.current may read one over it for an instant, while the kernel charges a fork
// it then refuses (pids_try_charge adds, then takes back).
int processes_in_cgroup(const std::string& dir);
// The parent cgroup `parent` as this host lays it out: the one directory at the v2 root, or
// one per v1 hierarchy (each may or may not exist).
std::vector<std::string> parent_cgroup_dirs(const std::string& parent);

}  // namespace drover::testing
