// HTTP, TCP and script probes for health checks; see check_probe.hpp.
#include "health/check_probe.hpp"

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
  ProbeResult r;
  r.status = kFailure;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    r.output = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  std::vector<std::string> args{check.command};
  args.insert(args.end(), check.args.begin(), check.args.end());
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  if (!env.count("PATH")) envs.push_back("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    r.output = std::string("fork: ") + std::strerror(errno);
    return r;
  }
  if (pid == 0) {
    // Child: its own process group so that a timeout kills whatever it started.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (::chdir(dir.c_str()) != 0) _exit(126);
    ::execvpe(argv[0], argv.data(), envp.data());
    const char msg[] = "cannot execute the check's command\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  ::close(out[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + check.timeout;
  bool timed_out = false;
  char buf[1024];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      timed_out = true;
      break;
    }
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < kMaxCheckOutput) output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.output = cut(output);
  if (timed_out) {
    r.output += "\n(check timed out)";
    return r;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.status_code = code;
  r.status = code == 0 ? kSuccess : code == 1 ? kWarning : kFailure;
  return r;
}

}  // namespace drover::health
