// One run of one check: an HTTP request, a TCP connect, or a script, each bounded by the
// check's timeout. No state: the check runner schedules probes and keeps results.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "drover/common/result.hpp"
#include "jobspec/job.hpp"

namespace drover::health {

// Nomad's result statuses; "warning" is a script's exit code 1 (Consul's convention), which
// counts as failing unless check_restart.ignore_warnings says otherwise.
inline constexpr const char* kSuccess = "success";
inline constexpr const char* kFailure = "failure";
inline constexpr const char* kWarning = "warning";
inline constexpr const char* kPending = "pending";

struct ProbeResult {
  std::string status = kPending;
  int status_code = 0;  // HTTP status, or a script's exit code
  std::string output;
};

struct Endpoint {
  std::string host;
  int port = 0;
};

// The check's port, else its service's: "host:port", or a port on the service's address
// (default 127.0.0.1). drover allocates no ports, so these are literal.
Result<Endpoint> check_endpoint(const jobspec::Service& service, const jobspec::Check& check);

ProbeResult probe_http(const jobspec::Check& check, const Endpoint& at);
ProbeResult probe_tcp(const Endpoint& at, std::chrono::nanoseconds timeout);

// Runs the check's command on the host in `dir` with exactly `env` (the task's env), killed at
// the timeout. Exit 0 success, 1 warning, anything else failure.
ProbeResult probe_script(const jobspec::Check& check, const std::filesystem::path& dir,
                         const std::map<std::string, std::string>& env);

// Output kept per result.
inline constexpr std::size_t kMaxCheckOutput = 4096;

}  // namespace drover::health
