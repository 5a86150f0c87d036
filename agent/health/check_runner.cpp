// One check's schedule, last result and check_restart; see check_runner.hpp.
#include "health/check_runner.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "state/alloc.hpp"

namespace drover::health {

std::string check_id(const std::string& alloc_id, const std::string& task,
                     const std::string& service, std::size_t index) {
  // FNV-1a: stable across agent builds and restarts, unlike std::hash.
  uint64_t h = 1469598103934665603ULL;
  for (const auto& part : {alloc_id, task, service, std::to_string(index)}) {
    for (unsigned char c : part) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

CheckRunner::CheckRunner(CheckSpec spec, RestartFn restart, CheckScheduler& scheduler)
    : spec_(std::move(spec)), restart_(std::move(restart)), scheduler_(scheduler) {
  job_ = scheduler_.add([this] { return tick(); });
}

CheckRunner::~CheckRunner() { scheduler_.remove(job_); }

void CheckRunner::set_task(bool running, std::chrono::steady_clock::time_point started) {
  {
    std::lock_guard lock(mu_);
    bool restarted = started != started_;
    if (restarted) consecutive_failures_ = 0;
    bool wake = running && !running_;
    running_ = running;
    started_ = started;
    if (!wake) return;
  }
  scheduler_.wake(job_);
}

bool CheckRunner::passing() const {
  std::lock_guard lock(mu_);
  return last_.status == kSuccess;
}

bool CheckRunner::healthy_for_deployment() const {
  std::lock_guard lock(mu_);
  const std::string& on_update = spec_.check.on_update;
  if (last_.status == kSuccess) return true;
  if (last_.status == kWarning) return on_update == "ignore_warnings" || on_update == "ignore";
  if (last_.status == kFailure) return on_update == "ignore";
  return false;
}

std::string CheckRunner::status() const {
  std::lock_guard lock(mu_);
  return last_.status;
}

nlohmann::json CheckRunner::result_json() const {
  std::lock_guard lock(mu_);
  // Nomad's modes: a check whose result a deployment ignores is a readiness check.
  const char* mode = spec_.check.on_update == "ignore" ? "readiness" : "healthiness";
  return {{"ID", spec_.id},         {"Check", spec_.check.name},       {"Group", spec_.group},
          {"Task", spec_.task},     {"Service", spec_.service},        {"Mode", mode},
          {"Status", last_.status}, {"StatusCode", last_.status_code}, {"Output", last_.output},
          {"Timestamp", last_time_s_}};
}

ProbeResult CheckRunner::run_once() {
  const auto& c = spec_.check;
  if (c.type == "script") {
    if (spec_.inside_task) {
      // Inside the task, through its driver (Nomad's script checks for isolated tasks).
      ProbeResult r;
      if (!spec_.exec_in_task) {
        r.status = kFailure;
        r.output = "driver \"" + spec_.driver + "\" cannot run script checks inside its tasks";
        return r;
      }
      std::vector<std::string> argv{c.command};
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(c.timeout);
      auto out = spec_.exec_in_task(argv, timeout.count() > 0 ? timeout : std::chrono::seconds(5));
      if (!out) {
        r.status = kFailure;
        r.output = out.message();
        return r;
      }
      int code = out->value("ExitCode", 2);
      r.status = code == 0 ? kSuccess : code == 1 ? kWarning : kFailure;
      r.output = out->value("Stdout", "") + out->value("Stderr", "");
      return r;
    }
    return probe_script(c, spec_.task_dir, spec_.env);
  }
  auto at = check_endpoint(spec_.service_block, c);
  if (!at) {
    ProbeResult r;
    r.status = kFailure;
    r.output = at.message();
    return r;
  }
  return c.type == "http" ? probe_http(c, *at) : probe_tcp(*at, c.timeout);
}

std::optional<CheckScheduler::Clock::time_point> CheckRunner::tick() {
  std::unique_lock lock(mu_);
  if (!running_) return std::nullopt;  // parked until set_task(true)
  lock.unlock();
  ProbeResult r = run_once();
  lock.lock();
  last_ = r;
  last_time_s_ = state::now_ns() / 1000000000;
  const auto& cr = spec_.check.check_restart;
  bool failed = r.status == kFailure || (r.status == kWarning && !(cr && cr->ignore_warnings));
  bool in_grace = cr && std::chrono::steady_clock::now() < started_ + cr->grace;
  if (!failed) {
    consecutive_failures_ = 0;
  } else if (!in_grace) {
    ++consecutive_failures_;
  }
  if (cr && cr->limit > 0 && consecutive_failures_ >= cr->limit && running_) {
    consecutive_failures_ = 0;
    // The grace starts again from the restart, even before the watcher sees the new start.
    started_ = std::chrono::steady_clock::now();
    ++restarts_;
    spdlog::info("alloc {} task {}: check \"{}\" failed {} times in a row, restarting the task",
                 spec_.alloc_id, spec_.task, spec_.check.name, cr->limit);
    lock.unlock();
    restart_(spec_.alloc_id, spec_.task);
  }
  // The interval counts from the end of this probe, as Nomad's check runner does.
  return CheckScheduler::Clock::now() + spec_.check.interval;
}

}  // namespace drover::health
