// The calls on a task under drover-monitor (see monitored_task.hpp).
#include "monitored_task.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "drover/sdk/driver.hpp"
#include "drover/sdk/signals.hpp"
#include "proc.hpp"

namespace drover::monitored {
namespace {

using namespace std::chrono_literals;

// A pidfd of `pid` while it is still the process that started at `start`; -1 otherwise.
int open_same_pidfd(int pid, uint64_t start) {
  if (!same_process_alive(pid, start)) return -1;
  int fd = open_pidfd(pid);
  if (fd >= 0 && !same_process_alive(pid, start)) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int parse_signal(const std::string& name) {
  auto sig = sdk::signal_number(name);
  if (!sig) throw std::runtime_error("unknown signal \"" + name + "\"");
  return *sig;
}

std::optional<ExitRecord> MonitoredTask::exit_record() const {
  return read_exit_file(h_.state_dir, h_.task_pid);
}

void MonitoredTask::kill_task(int sig) const { kill(h_.pgid > 0 ? -h_.pgid : h_.task_pid, sig); }

// The monitor answers a pending "wait" when the task ends (or hangs up when it dies), so the
// connection itself is the descriptor to wait on.
int MonitoredTask::wait_fd() const {
  if (exit_record()) return -1;  // wait answers at once
  MonitorConn c(h_.state_dir, h_.monitor_pid);
  if (!c.send(Command::wait())) return -1;
  return c.release();
}

std::optional<ExitRecord> MonitoredTask::wait(std::chrono::milliseconds timeout) const {
  if (auto e = exit_record()) return e;
  timeout = std::max(timeout, 0ms);
  MonitorConn c(h_.state_dir, h_.monitor_pid);
  bool closed = false;
  if (c.send(Command::wait())) {
    if (auto line = c.read_line(timeout, &closed)) {
      if (auto e = parse_exit_line(*line)) return e;
      throw std::runtime_error("task monitor: " + *line);
    }
    if (!closed) return std::nullopt;  // still running
  }
  // The monitor may have written the file and ended between our two looks.
  if (auto e = exit_record()) return e;
  if (same_process_alive(h_.monitor_pid, h_.monitor_start)) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(timeout, 100ms));
    return std::nullopt;  // alive but busy (all its connection slots taken)
  }
  throw std::runtime_error(kGone);
}

void MonitoredTask::stop(const std::string& signal, std::chrono::milliseconds timeout) const {
  std::string name = signal.empty() ? h_.kill_signal : signal;
  if (name.empty()) name = "SIGINT";  // Nomad's executor default when no kill_signal is set
  const int sig = parse_signal(name);
  timeout = std::max(timeout, 0ms);
  if (exit_record()) return;
  MonitorConn c(h_.state_dir, h_.monitor_pid);
  if (c.send(Command::stop(sig, timeout)) && c.send(Command::wait())) {
    bool closed = false;
    while (auto line = c.read_line(timeout + kKillGrace, &closed)) {
      if (parse_exit_line(*line)) return;
      if (!is_ok(*line)) throw std::runtime_error("task monitor: " + *line);
    }
    if (!closed) {
      throw std::runtime_error("task " + std::to_string(h_.task_pid) +
                               " did not die after SIGKILL");
    }
    if (exit_record()) return;
  }
  // No monitor: reach the task directly, if it is still the same process.
  int pidfd = open_same_pidfd(h_.task_pid, h_.task_start);
  if (pidfd < 0) return;
  kill_task(sig);
  if (!wait_exited(pidfd, timeout)) {
    kill_task(SIGKILL);
    wait_exited(pidfd, kKillGrace);
  }
  if (h_.pgid > 0) kill(-h_.pgid, SIGKILL);  // what it left in its group
  close(pidfd);
}

void MonitoredTask::signal(int sig) const {
  if (exit_record()) throw std::runtime_error("task has exited");
  MonitorConn c(h_.state_dir, h_.monitor_pid);
  if (c.send(Command::signal(sig))) {
    if (auto reply = c.read_line(5s)) {
      if (is_ok(*reply)) return;
      throw std::runtime_error(reply_error(*reply));
    }
  }
  if (!same_process_alive(h_.task_pid, h_.task_start)) throw std::runtime_error("task has exited");
  kill_task(sig);
}

void MonitoredTask::destroy() const {
  MonitorConn c(h_.state_dir, h_.monitor_pid);
  if (c.send(Command::quit())) {
    (void)c.read_line(kKillGrace);  // "bye" once the task is dead and its exit recorded
    return;
  }
  int pidfd = open_same_pidfd(h_.task_pid, h_.task_start);
  if (pidfd < 0) return;
  kill_task(SIGKILL);
  wait_exited(pidfd, kKillGrace);  // destroy returns once the task is dead (plugin.h)
  close(pidfd);
}

bool MonitoredTask::running() const {
  return !exit_record() && same_process_alive(h_.task_pid, h_.task_start);
}

nlohmann::json MonitoredTask::inspect() const {
  return {{"TaskPID", h_.task_pid},
          {"MonitorPID", h_.monitor_pid},
          {"MonitorRunning", same_process_alive(h_.monitor_pid, h_.monitor_start)},
          {"Running", running()}};
}

void MonitoredTask::recover() const {
  if (exit_record()) return;  // wait reports the exit
  if (same_process_alive(h_.monitor_pid, h_.monitor_start)) return;
  if (auto st = read_proc_stat(h_.monitor_pid); st && st->start_time != h_.monitor_start) {
    throw std::runtime_error("refusing handle: monitor PID " + std::to_string(h_.monitor_pid) +
                             " now belongs to another process; " + kGone);
  }
  throw std::runtime_error(kGone);
}

Handle MonitoredTask::recover_starting(const nlohmann::json& starting) {
  Handle h;
  h.state_dir = starting_dir(starting);
  h.kill_signal = starting.value("KillSignal", "");
  uint64_t asked_at = starting.value("StartingAt", uint64_t{0});
  if (h.state_dir.empty()) throw sdk::NeverStarted("never started: no RuntimeDir or StateDir in the handle");
  std::ifstream pid_file(h.state_dir + "/monitor.pid");
  if (pid_file >> h.monitor_pid >> h.monitor_start &&
      same_process_alive(h.monitor_pid, h.monitor_start)) {
    MonitorConn c(h.state_dir, h.monitor_pid);
    std::optional<std::string> reply;
    if (c.send(Command::pid())) reply = c.read_line(5s);
    if (auto task = parse_pid_reply(reply.value_or(""))) {
      h.task_pid = task->pid;
      h.task_start = task->start_time;
      auto st = read_proc_stat(h.task_pid);
      h.pgid = st && st->pgrp > 0 ? st->pgrp : h.task_pid;
      return h;
    }
  }
  // Started and already over: the exit record of this start (newer than the request) stays.
  std::ifstream exit_file(h.state_dir + "/exit");
  std::string line;
  if (std::getline(exit_file, line)) {
    if (auto rec = parse_exit_line(line); rec && rec->time_ns >= asked_at && rec->task_pid > 0) {
      h.task_pid = h.pgid = rec->task_pid;
      h.task_start = 1;  // never matches: the task is gone, only its exit record is used
      // No live monitor: a PID above any pid_max, so nothing is ever signalled through it.
      h.monitor_pid = 2147483647;
      h.monitor_start = 1;
      return h;
    }
  }
  throw sdk::NeverStarted("never started: no monitor and no exit record in " + h.state_dir);
}

}  // namespace drover::monitored
