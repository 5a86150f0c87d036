// Commands inside a running container (container_exec.hpp): POST /containers/<id>/exec makes
// the command, POST /exec/<id>/start runs it on a hijacked connection that carries its input
// and output, GET /exec/<id>/json tells when it has ended and how. The Engine API has no call
// to kill an exec'd command, so its process tree is killed by pid from here.
#include "container_exec.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace drover::docker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kCall = 10s;
constexpr size_t kMaxOutput = 4u << 20;  // what exec_in_container keeps of each stream
constexpr size_t kMaxBuffered = 64u << 10;  // output held for a slow reader before we stop reading

struct ContainerState {
  bool running = false;
  int pid = 0;
  bool sets_term = false;  // its env has TERM
};

ContainerState container_state(const DockerClient& c, const std::string& id) {
  Response r = c.get("/containers/" + id + "/json", kCall);
  if (r.status == 404) throw std::runtime_error("container " + id.substr(0, 12) + " is gone");
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!r.ok() || !j.is_object())
    throw std::runtime_error("inspecting container " + id.substr(0, 12) + ": " + r.message());
  ContainerState s;
  const auto& state = j.value("State", nlohmann::json::object());
  s.running = state.value("Running", false);
  s.pid = state.value("Pid", 0);
  for (const auto& e : j.value("Config", nlohmann::json::object()).value("Env", nlohmann::json::array()))
    if (e.is_string() && e.get<std::string>().starts_with("TERM=")) s.sets_term = true;
  return s;
}

// The exec made, not started yet: its id.
std::string create_exec(const DockerClient& c, const std::string& container,
                        const std::vector<std::string>& argv, bool input, bool tty,
                        bool set_term) {
  if (argv.empty() || argv[0].empty()) throw std::runtime_error("exec: no command");
  nlohmann::json body = {{"AttachStdin", input}, {"AttachStdout", true},
                         {"AttachStderr", true}, {"Tty", tty}, {"Cmd", argv}};
  if (set_term) body["Env"] = {"TERM=xterm"};  // as `docker exec -t` and the exec driver do
  Response r = c.post("/containers/" + container + "/exec", body, kCall);
  if (r.status == 409) throw std::runtime_error("task has exited (" + r.message() + ")");
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!r.ok() || !j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    throw std::runtime_error("exec in container " + container.substr(0, 12) + ": " + r.message());
  return j["Id"].get<std::string>();
}

int start_exec(const DockerClient& c, const std::string& exec_id, bool tty) {
  auto h = c.hijack("/exec/" + exec_id + "/start", {{"Detach", false}, {"Tty", tty}}, kCall);
  if (h.fd < 0) throw std::runtime_error("exec start: " + h.refused.message());
  return h.fd;
}

struct ExecState {
  bool running = true;
  int pid = 0;
  std::optional<int> exit_code;
};

ExecState inspect_exec(const DockerClient& c, const std::string& exec_id) {
  Response r = c.get("/exec/" + exec_id + "/json", kCall);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!r.ok() || !j.is_object()) throw std::runtime_error("exec inspect: " + r.message());
  ExecState s;
  s.running = j.value("Running", false);
  if (j.contains("Pid") && j["Pid"].is_number_integer()) s.pid = j["Pid"].get<int>();
  if (j.contains("ExitCode") && j["ExitCode"].is_number_integer())
    s.exit_code = j["ExitCode"].get<int>();
  return s;
}

// Its exit code once the daemon has recorded the end (the stream closes just before), asked
// with a growing pause; nullopt when `until` passes first or `stop` (>= 0) becomes readable.
std::optional<int> await_exit(const DockerClient& c, const std::string& exec_id,
                              Clock::time_point until, int stop = -1) {
  auto pause = 2ms;
  for (;;) {
    ExecState s = inspect_exec(c, exec_id);
    if (!s.running) return s.exit_code.value_or(-1);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left <= 0ms) return std::nullopt;
    pollfd p{stop, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min(left, pause).count())) > 0) return std::nullopt;
    pause = std::min(pause * 2, 100ms);
  }
}

// The command's pid while it runs (0 once it has ended). dockerd records it a moment after
// the command has started, so a command already printing may read pid 0 at first.
int running_pid(const DockerClient& c, const std::string& exec_id) {
  const auto until = Clock::now() + 2s;
  for (auto pause = 1ms;; pause = std::min(pause * 2, 50ms)) {
    ExecState s = inspect_exec(c, exec_id);
    if (!s.running || s.pid > 0 || Clock::now() >= until) return s.running ? s.pid : 0;
    std::this_thread::sleep_for(pause);
  }
}

ino_t pid_namespace(int pid) {
  struct stat st {};
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// Every process's parent, read from /proc/<pid>/stat (field 4, after the command's ")").
std::multimap<int, int> children_by_parent() {
  std::multimap<int, int> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (auto* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    int ppid = 0;
    char state = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2)
      out.emplace(ppid, static_cast<int>(pid));
  }
  ::closedir(d);
  return out;
}

// `root` and its descendants that share the namespace `ns`.
std::vector<int> tree_in_namespace(int root, ino_t ns) {
  std::vector<int> tree;
  if (pid_namespace(root) != ns) return tree;
  auto children = children_by_parent();
  tree.push_back(root);
  for (size_t i = 0; i < tree.size(); ++i) {
    auto [from, to] = children.equal_range(tree[i]);
    for (auto it = from; it != to; ++it)
      if (pid_namespace(it->second) == ns) tree.push_back(it->second);
  }
  return tree;
}

// The session the agent streams (plugin.h, drover_driver_exec_stream_v1). One thread moves
// bytes between the daemon's stream and the agent's descriptors, then learns the exit code.
class DockerExecStream : public sdk::ExecStream {
 public:
  DockerExecStream(std::shared_ptr<const DockerClient> client, std::string exec_id, int stream,
                   bool tty, int container_pid)
      : client_(std::move(client)),
        exec_id_(std::move(exec_id)),
        stream_(stream),
        tty_(tty),
        container_pid_(container_pid) {
    // Socket pairs rather than pipes for the agent's ends: a write to a reader that has gone
    // fails with EPIPE instead of raising SIGPIPE in whatever process loaded the plugin.
    auto pair = [](int out[2]) {
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out) != 0)
        throw std::runtime_error(std::string("exec: socketpair: ") + std::strerror(errno));
    };
    int a[2] = {-1, -1}, b[2] = {-1, -1}, c[2] = {-1, -1};
    try {
      pair(a);
      if (!tty_) {
        pair(b);
        pair(c);
        ::shutdown(a[0], SHUT_RD);  // the agent only writes the command's stdin
        ::shutdown(b[0], SHUT_WR);  // and only reads its stdout and stderr
        ::shutdown(c[0], SHUT_WR);
      }
      exit_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      stop_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (exit_ < 0 || stop_ < 0) throw std::runtime_error("exec: eventfd failed");
      fds = {a[0], b[0], c[0], ::fcntl(exit_, F_DUPFD_CLOEXEC, 0)};
    } catch (...) {
      for (int fd : {a[0], a[1], b[0], b[1], c[0], c[1], exit_, stop_})
        if (fd >= 0) ::close(fd);
      ::close(stream_);
      throw;
    }
    input_ = a[1];
    out_ = tty_ ? a[1] : b[1];
    err_ = c[1];
    for (int fd : {stream_, input_, out_, err_})
      if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    pump_ = std::thread([this] { run(); });
  }

  ~DockerExecStream() override {
    bool ended;
    {
      std::lock_guard lock(mu_);
      ended = ended_;
    }
    if (!ended) kill();
    uint64_t one = 1;
    (void)!::write(stop_, &one, sizeof one);
    if (pump_.joinable()) pump_.join();
    for (int fd : {stream_, input_, tty_ ? -1 : out_, err_, exit_, stop_})
      if (fd >= 0) ::close(fd);
  }

  std::optional<sdk::ExitStatus> wait(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return ended_; });
    if (!ended_) return std::nullopt;
    if (!error_.empty()) throw std::runtime_error(error_);
    return status_;
  }

  void resize(int height, int width) override {
    if (!tty_ || height <= 0 || width <= 0) return;
    // Best effort, as `docker exec -t` does it: a resize the daemon refuses (the command has
    // just ended) changes nothing the user could act on.
    (void)client_->post("/exec/" + exec_id_ + "/resize?h=" + std::to_string(height) +
                            "&w=" + std::to_string(width),
                        nullptr, kCall);
  }

  void kill() override {
    try {
      kill_exec_tree(running_pid(*client_, exec_id_), container_pid_);
    } catch (const std::exception&) {
      // The daemon is gone: so is the command (the container's processes die with it).
    }
  }

 private:
  // Moves bytes until the daemon's stream ends, then records the exit.
  void run() {
    std::string to_daemon, to_out, to_err;
    bool input_open = true, daemon_open = true, half_closed = false;
    int out = out_, err = err_;
    FrameDecoder frames;
    auto deliver = [&](const char* data, size_t n) {
      if (tty_) {
        to_out.append(data, n);
        return;
      }
      frames.feed(data, n, [&](int stream, const char* d, size_t len) {
        (stream == 2 ? to_err : to_out).append(d, len);
      });
    };
    // Writes what is buffered for one of the agent's descriptors; a reader that has gone
    // gets nothing more.
    auto flush = [](int& fd, std::string& buf) {
      if (fd < 0) {
        buf.clear();
        return;
      }
      ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) buf.erase(0, static_cast<size_t>(n));
      else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        buf.clear();
        fd = -1;
      }
    };
    while (daemon_open || !to_out.empty() || !to_err.empty()) {
      const bool room = to_out.size() < kMaxBuffered && to_err.size() < kMaxBuffered;
      pollfd p[5] = {
          {stop_, POLLIN, 0},
          {daemon_open ? stream_ : -1,
           static_cast<short>((room ? POLLIN : 0) | (to_daemon.empty() ? 0 : POLLOUT)), 0},
          {input_open && to_daemon.empty() ? input_ : -1, POLLIN, 0},
          {to_out.empty() ? -1 : out, POLLOUT, 0},
          {to_err.empty() ? -1 : err, POLLOUT, 0}};
      if (::poll(p, 5, -1) < 0 && errno != EINTR) break;
      if (p[0].revents) return;  // closed before the command ended
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        ssize_t n = ::recv(stream_, buf, sizeof buf, 0);
        if (n > 0) deliver(buf, static_cast<size_t>(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) daemon_open = false;
      }
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[16384];
        ssize_t n = ::recv(input_, buf, sizeof buf, 0);
        if (n > 0) to_daemon.append(buf, static_cast<size_t>(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR)) input_open = false;
      }
      if (!to_daemon.empty() && daemon_open) {
        ssize_t n = ::send(stream_, to_daemon.data(), to_daemon.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) to_daemon.erase(0, static_cast<size_t>(n));
        else if (n < 0 && errno != EAGAIN && errno != EINTR) to_daemon.clear();
      }
      // The end of the agent's input is the command's: the daemon closes its stdin when our
      // side of the stream is shut for writing. A terminal's input stays open.
      if (!tty_ && !input_open && to_daemon.empty() && !half_closed) {
        ::shutdown(stream_, SHUT_WR);
        half_closed = true;
      }
      if (!to_out.empty()) flush(out, to_out);
      if (!to_err.empty()) flush(err, to_err);
    }
    // The output has ended: the agent reads its end to EOF.
    ::shutdown(out_, SHUT_WR);
    if (!tty_) ::shutdown(err_, SHUT_WR);
    std::optional<int> code;
    std::string error;
    try {
      code = await_exit(*client_, exec_id_, Clock::time_point::max(), stop_);
      if (!code) return;  // closed while waiting
    } catch (const std::exception& e) {
      error = e.what();
    }
    {
      std::lock_guard lock(mu_);
      ended_ = true;
      error_ = error;
      status_.exit_code = code.value_or(-1);
    }
    cv_.notify_all();
    uint64_t one = 1;
    (void)!::write(exit_, &one, sizeof one);
  }

  std::shared_ptr<const DockerClient> client_;
  std::string exec_id_;
  int stream_;
  bool tty_;
  int container_pid_;
  int input_ = -1, out_ = -1, err_ = -1;  // our ends of the agent's descriptors
  int exit_ = -1, stop_ = -1;
  std::thread pump_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ended_ = false;
  std::string error_;
  sdk::ExitStatus status_;
};

}  // namespace

void kill_exec_tree(int pid, int container_pid) {
  if (pid <= 0 || container_pid <= 0) return;
  const ino_t ns = pid_namespace(container_pid);
  if (ns == 0) return;
  // Stopped first, so that nothing forks between the walk and the kill; then the tree is
  // walked again and killed whole (a stopped process takes SIGKILL).
  for (int p : tree_in_namespace(pid, ns)) ::kill(p, SIGSTOP);
  for (int p : tree_in_namespace(pid, ns)) ::kill(p, SIGKILL);
}

sdk::ExecResult exec_in_container(const DockerClient& client, const std::string& container_id,
                                  const std::vector<std::string>& argv,
                                  std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + std::max(timeout, 1ms);
  const std::string id = create_exec(client, container_id, argv, false, false, false);
  const int fd = start_exec(client, id, false);
  auto timed_out = [&]() -> std::runtime_error {
    try {
      kill_exec_tree(running_pid(client, id), container_state(client, container_id).pid);
    } catch (const std::exception&) {
    }
    return std::runtime_error("exec: timed out after " + std::to_string(timeout.count()) + " ms");
  };
  sdk::ExecResult r;
  FrameDecoder frames;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0ms || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      ::close(fd);
      throw timed_out();
    }
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    frames.feed(buf, static_cast<size_t>(n), [&](int stream, const char* d, size_t len) {
      std::string& to = stream == 2 ? r.stderr_text : r.stdout_text;
      if (to.size() < kMaxOutput) to.append(d, std::min(len, kMaxOutput - to.size()));
    });
  }
  ::close(fd);
  auto code = await_exit(client, id, until);
  if (!code) throw timed_out();
  r.exit_code = *code;
  return r;
}

std::unique_ptr<sdk::ExecStream> exec_stream_in_container(
    std::shared_ptr<const DockerClient> client, const std::string& container_id,
    const sdk::ExecStreamRequest& request) {
  ContainerState c = container_state(*client, container_id);
  if (!c.running) throw std::runtime_error("task has exited");
  const std::string id =
      create_exec(*client, container_id, request.argv, true, request.tty, request.tty && !c.sets_term);
  const int fd = start_exec(*client, id, request.tty);
  auto s = std::make_unique<DockerExecStream>(client, id, fd, request.tty, c.pid);
  if (request.tty) s->resize(request.height, request.width);
  return s;
}

}  // namespace drover::docker
