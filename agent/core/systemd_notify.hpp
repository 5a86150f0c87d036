// Talks to systemd when the agent runs as a Type=notify service: READY=1 once recovery and
// the API are up, WATCHDOG=1 pings while $WATCHDOG_USEC is set, STOPPING=1 on shutdown.
// Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
#pragma once

#include <string>

#include "drover/common/periodic.hpp"

namespace drover::agent {

class SystemdNotifier {
 public:
  SystemdNotifier() = default;
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;
  ~SystemdNotifier();  // stops the watchdog thread

  // READY=1 with a STATUS= line, then starts the watchdog pings (every half of
  // WatchdogSec) when systemd asked for them.
  void ready(const std::string& status);
  // STOPPING=1: systemd then waits for the exit instead of counting a watchdog miss.
  void stopping();

 private:
  void stop_watchdog();

  Periodic watchdog_;
};

}  // namespace drover::agent
