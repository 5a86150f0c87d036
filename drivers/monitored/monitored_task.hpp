// A task under its own drover-monitor, seen from the driver: the calls raw_exec and exec make
// the same way (wait, wait_fd, stop, signal, destroy, inspect, recover). The monitor is asked
// first; when it is gone, its exit file answers; when neither is there the task's fate is
// unknown and the call says so rather than guess. Nothing is kept between calls: a
// MonitoredTask is built from the handle each time (docs/design.md, "Drivers and the monitor").
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "handle.hpp"
#include "monitor_client.hpp"

namespace drover::monitored {

inline constexpr const char* kGone = "task monitor is gone; the task's fate is unknown";
// How long a SIGKILLed task may take to die before stop/destroy give up with an error.
inline constexpr std::chrono::seconds kKillGrace{30};

// The signal number of a name ("SIGTERM", "TERM", "15"); throws naming it when unknown.
int parse_signal(const std::string& name);

class MonitoredTask {
 public:
  explicit MonitoredTask(Handle h) : h_(std::move(h)) {}
  const Handle& handle() const { return h_; }

  // The exit the monitor recorded for this task, if it has ended.
  std::optional<ExitRecord> exit_record() const;
  // A descriptor that becomes readable when the task ends (a connection with a pending
  // `wait`), owned by the caller; -1 when wait answers at once or the monitor is gone.
  int wait_fd() const;
  // The exit, or nullopt while the task still runs after `timeout`; throws kGone.
  std::optional<ExitRecord> wait(std::chrono::milliseconds timeout) const;
  // `signal` (else the handle's kill signal, else SIGINT as Nomad's executor), SIGKILL after
  // `timeout`; returns once the task is dead.
  void stop(const std::string& signal, std::chrono::milliseconds timeout) const;
  void signal(int sig) const;
  // Kills the task and ends its monitor.
  void destroy() const;
  // Whether the task still runs, and its monitor.
  bool running() const;
  nlohmann::json inspect() const;

  // Accepts a handle whose task can still be followed (running under its monitor, or over with
  // its exit recorded); throws kGone (naming a reused monitor PID) otherwise.
  void recover() const;
  // A Starting handle ({"Starting": true, "StateDir", "StartingAt", "KillSignal"}: the agent
  // died between asking for a start and keeping the handle): the monitor's pid file and
  // socket, or the exit record of this start, give the task's handle. Throws
  // sdk::NeverStarted when neither is there (plugin.h, DROVER_NEVER_STARTED).
  static Handle recover_starting(const nlohmann::json& starting);

 private:
  // SIGNAL to the task directly (its group, or itself: handle.hpp, pgid).
  void kill_task(int sig) const;
  Handle h_;
};

}  // namespace drover::monitored
