// sd_notify(3) calls for the agent's systemd unit (Type=notify, WatchdogSec).
#include "core/systemd_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstdint>

namespace drover::agent {

SystemdNotifier::~SystemdNotifier() { stop_watchdog(); }

void SystemdNotifier::ready(const std::string& status) {
  // unset_environment=0: tasks never see the agent's env, so nothing leaks through it.
  if (sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()) > 0)
    spdlog::debug("systemd: READY=1 sent");
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  // Ping at half the deadline: one late wake-up must not cost the agent a restart.
  auto period = std::chrono::microseconds(usec / 2);
  spdlog::info("systemd watchdog on: pinging every {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(period).count());
  watchdog_.start(period, [] { sd_notify(0, "WATCHDOG=1"); }, Periodic::First::Now);
}

void SystemdNotifier::stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=shutting down; tasks keep running");
  stop_watchdog();
}

void SystemdNotifier::stop_watchdog() { watchdog_.stop(); }

}  // namespace drover::agent
