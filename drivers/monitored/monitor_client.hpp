// Talking to a task's drover-monitor: its socket <state_dir>/monitor.sock (one request line,
// one reply line; the protocol is in monitor/README.md, "Socket protocol"), the exit file it
// leaves at <state_dir>/exit, and its start through posix_spawn.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace drover::monitored {

struct ExitRecord {
  int exit_code = 0;
  int signal = 0;
  uint64_t time_ns = 0;
  int task_pid = 0;
};

// Parses "exited CODE SIGNAL TIME_NS TASKPID".
std::optional<ExitRecord> parse_exit_line(const std::string& line);

// What the monitor says on its status fd once the task runs: "ok TASKPID TASKSTART MONPID
// MONSTART PLACEMENT", or "error <why>".
struct MonitorStarted {
  int task_pid = 0;
  uint64_t task_start = 0;
  int monitor_pid = 0;
  uint64_t monitor_start = 0;
  // How the task got into its cgroups (monitor/README.md, "Flags"): "clone3", "tasks"
  // (v1), "none", or "fallback:ERRNO" where the kernel refused clone3(CLONE_INTO_CGROUP). Not kept
  // in the handle: it only matters at the start.
  std::string placement;
};
// Reads the status line from `fd` until EOF or `timeout`, closes `fd`, and parses it; throws
// std::runtime_error with the monitor's message (or naming `monitor_path`) otherwise.
MonitorStarted read_monitor_status(int fd, std::chrono::milliseconds timeout,
                                   const std::string& monitor_path);

// The fd number on which the monitor finds its status pipe (its --status-fd).
inline constexpr int kMonitorStatusFd = 3;
// ... and the task's env (its --env-fd), when the driver passes one.
inline constexpr int kMonitorEnvFd = 4;
// Starts drover-monitor with `args` (args[0] its path; they include --status-fd 3 and end
// with "--" and the command) through posix_spawn, which copies nothing of the multi-threaded
// agent, in a session of its own, with an empty env, the status pipe on fd 3 and `env_fd` (if
// >= 0) on fd 4, and reads its report. It stays this process's child, reaped when it ends
// (monitor_reaper.hpp), or, on a kernel without pidfds, is told to --detach. Where a spare
// monitor of args[0] is waiting (monitor_spare.hpp) it takes the start instead, with the same
// flags and fds, and another spare is asked for once the report is read. Throws as
// read_monitor_status.
MonitorStarted spawn_monitor(std::vector<std::string> args, std::chrono::milliseconds timeout,
                             int env_fd = -1);

// The exit the monitor recorded for task_pid, if any.
std::optional<ExitRecord> read_exit_file(const std::string& state_dir, int task_pid);

// A request of the socket protocol, built only through its named constructors so that no
// caller writes the protocol's words.
class Command {
 public:
  static Command wait() { return Command("wait"); }  // replies when the task has ended
  static Command pid() { return Command("pid"); }    // "pid TASKPID TASKSTART"
  static Command signal(int sig) { return Command("signal " + std::to_string(sig)); }
  // `sig` to the task, SIGKILL after `grace` unless it ended; replies "ok".
  static Command stop(int sig, std::chrono::milliseconds grace) {
    return Command("stop " + std::to_string(sig) + " " + std::to_string(grace.count()));
  }
  static Command quit() { return Command("quit"); }  // kills the task, replies "bye", ends
  const std::string& line() const { return line_; }

 private:
  explicit Command(std::string line) : line_(std::move(line)) {}
  std::string line_;
};

// The monitor's reply to `pid`: the task it runs.
struct TaskIdentity {
  int pid = 0;
  uint64_t start_time = 0;
};
std::optional<TaskIdentity> parse_pid_reply(const std::string& line);

// A reply "ok" is success; "error WHY" gives WHY; anything else is returned as it is.
bool is_ok(const std::string& reply);
std::string reply_error(const std::string& reply);

// One connection to the monitor; closed on destruction.
class MonitorConn {
 public:
  // Connects when the socket is there and its peer is monitor_pid (SO_PEERCRED).
  MonitorConn(const std::string& state_dir, int monitor_pid);
  ~MonitorConn();
  MonitorConn(const MonitorConn&) = delete;
  MonitorConn& operator=(const MonitorConn&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Hands the connection over to the caller (who closes it); -1 when not connected.
  int release() { return std::exchange(fd_, -1); }
  bool send(const Command& command);
  // The next reply line; nullopt on timeout (negative: none) or when the monitor closed.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout, bool* closed = nullptr);

 private:
  int fd_ = -1;
  std::string buf_;
};

}  // namespace drover::monitored
