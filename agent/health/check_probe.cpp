// HTTP, TCP and script probes for health checks; see check_probe.hpp.
#include "health/check_probe.hpp"

#include <boost/process.hpp>

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "proc/bounded_command.hpp"

namespace drover::health {

namespace {

std::string cut(std::string s) {
  if (s.size() > kMaxCheckOutput) s.resize(kMaxCheckOutput);
  return s;
}

int64_t ms(std::chrono::nanoseconds d) {
  return std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

Result<Endpoint> check_endpoint(const jobspec::Service& service, const jobspec::Check& check) {
  std::string value = check.port.empty() ? service.port : check.port;
  if (value.empty()) return make_error("no port on the check or its service");
  Endpoint e;
  auto colon = value.rfind(':');
  e.host = colon == std::string::npos ? (service.address.empty() ? "127.0.0.1" : service.address)
                                      : value.substr(0, colon);
  try {
    e.port = std::stoi(colon == std::string::npos ? value : value.substr(colon + 1));
  } catch (...) {
    return make_error("bad port \"" + value + "\"");
  }
  // "[::1]:80" style hosts.
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']')
    e.host = e.host.substr(1, e.host.size() - 2);
  return e;
}

ProbeResult probe_http(const jobspec::Check& check, const Endpoint& at) {
  ProbeResult r;
  std::unique_ptr<httplib::ClientImpl> cli;
  if (check.protocol == "https") {
    auto ssl = std::make_unique<httplib::SSLClient>(at.host, at.port);
    // Like Nomad's tls_skip_verify default for local checks: the task's own cert is unknown.
    ssl->enable_server_certificate_verification(false);
    cli.reset(ssl.release());
  } else {
    cli = std::make_unique<httplib::ClientImpl>(at.host, at.port);
  }
  auto t = ms(check.timeout);
  cli->set_connection_timeout(t / 1000, (t % 1000) * 1000);
  cli->set_read_timeout(t / 1000, (t % 1000) * 1000);
  cli->set_write_timeout(t / 1000, (t % 1000) * 1000);
  httplib::Request req;
  req.method = check.method;
  req.path = check.path;
  for (const auto& [k, vs] : check.header)
    for (const auto& v : vs) req.headers.emplace(k, v);
  auto res = cli->send(req);
  std::string url = check.protocol + "://" + at.host + ":" + std::to_string(at.port) + check.path;
  if (!res) {
    r.status = kFailure;
    r.output = check.method + " " + url + ": " + httplib::to_string(res.error());
    return r;
  }
  r.status_code = res->status;
  r.status = res->status >= 200 && res->status < 300 ? kSuccess : kFailure;
  r.output = cut("HTTP " + std::to_string(res->status) + " from " + check.method + " " + url +
                 (res->body.empty() ? "" : ": " + res->body));
  return r;
}

ProbeResult probe_tcp(const Endpoint& at, std::chrono::nanoseconds timeout) {
  ProbeResult r;
  r.status = kFailure;
  std::string where = at.host + ":" + std::to_string(at.port);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(at.host.c_str(), std::to_string(at.port).c_str(), &hints, &res);
      rc != 0) {
    r.output = "cannot resolve " + where + ": " + gai_strerror(rc);
    return r;
  }
  std::string error = "no address";
  for (auto* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(ms(timeout)));
      if (rc == 0) {
        errno = ETIMEDOUT;
        rc = -1;
      } else if (rc > 0) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err;
        rc = err ? -1 : 0;
      }
    }
    error = rc == 0 ? "" : std::strerror(errno);
    ::close(fd);
    if (rc == 0) {
      ::freeaddrinfo(res);
      r.status = kSuccess;
      r.output = "TCP connect " + where + ": Success";
      return r;
    }
  }
  ::freeaddrinfo(res);
  r.output = "TCP connect " + where + ": " + error;
  return r;
}

ProbeResult probe_script(const jobspec::Check& check, const std::filesystem::path& dir,
                         const std::map<std::string, std::string>& env) {
  namespace bp = boost::process;
  ProbeResult r;
  r.status = kFailure;
  // The command is looked up in the check's own PATH (the task's env), not the agent's.
  auto path_var = env.count("PATH") ? env.at("PATH") : std::string("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  boost::filesystem::path exe = check.command;
  if (check.command.find('/') == std::string::npos) {
    std::vector<boost::filesystem::path> dirs;
    for (std::size_t at = 0; at <= path_var.size();) {
      auto end = path_var.find(':', at);
      if (end == std::string::npos) end = path_var.size();
      if (end > at) dirs.emplace_back(path_var.substr(at, end - at));
      at = end + 1;
    }
    exe = bp::search_path(check.command, dirs);
    if (exe.empty()) {
      r.output = "cannot execute the check's command: \"" + check.command + "\" is not in PATH";
      return r;
    }
  }
  proc::BoundedCommand cmd;
  cmd.exe = exe.string();
  cmd.args = check.args;
  cmd.env = env;
  cmd.env["PATH"] = path_var;
  cmd.dir = dir;
  cmd.max_output = kMaxCheckOutput;
  cmd.deadline = std::chrono::steady_clock::now() + check.timeout;
  auto run = proc::run_bounded(cmd);
  if (!run) {
    r.output = "cannot execute the check's command: " + run.error().message;
    return r;
  }
  r.output = run->output;
  if (run->timed_out) {
    r.output += "\n(check timed out)";
    return r;
  }
  const int code = run->exit_code;
  r.status_code = code;
  r.status = code == 0 ? kSuccess : code == 1 ? kWarning : kFailure;
  return r;
}

}  // namespace drover::health
