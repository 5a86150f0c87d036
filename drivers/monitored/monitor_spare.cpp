// Spare monitors, one per monitor binary, made on a thread of this plugin; see
// monitor_spare.hpp.
#include "monitor_spare.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "monitor_reaper.hpp"

namespace drover::monitored {

namespace {

// What monitor/spare.c reads at most: a start whose flags do not fit is started cold.
constexpr size_t kMaxMessage = 65536;
constexpr size_t kMaxFds = 4;
constexpr size_t kTitleRoom = 4096;

struct Spare {
  pid_t pid = -1;
  int sock = -1;  // ours of the socketpair; the spare holds the other on its fd 3
};

Spare spawn_spare(const std::string& path) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // /dev/null for stdio from the start: a spare may wait for hours, and must not hold the
  // agent's stdout (a harness's pipe) open meanwhile.
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&fa, 0, 1);
  posix_spawn_file_actions_adddup2(&fa, 0, 2);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);  // the copy is not close-on-exec
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  // The blank third argument is room for the spare to show its task's flags in ps once it
  // has one (monitor/spare.c): a page, as long as a monitor's flags run.
  std::string p = path, flag = "--spare", room(kTitleRoom, ' ');
  char* argv[] = {p.data(), flag.data(), room.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  ::close(sv[1]);
  if (err != 0) {
    ::close(sv[0]);
    return {};
  }
  reap_when_done(pid);
  return {pid, sv[0]};
}

class Spares {
 public:
  // The reaper is made first, so that it is destroyed after this (and this thread, which
  // hands it every spare, is gone by then).
  Spares() { start_reaper(); }
  // At the plugin's unload: the thread ends, and each waiting spare reads EOF and ends.
  ~Spares() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& [path, s] : ready_) ::close(s.sock);
  }
  Spares(const Spares&) = delete;
  Spares& operator=(const Spares&) = delete;

  Spare take(const std::string& path) {
    std::lock_guard lock(mu_);
    auto it = ready_.find(path);
    if (it == ready_.end()) return {};
    Spare s = it->second;
    ready_.erase(it);
    return s;
  }

  void want(const std::string& path) {
    std::lock_guard lock(mu_);
    if (stopping_ || ready_.count(path)) return;
    wanted_.insert(path);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    cv_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !wanted_.empty(); });
      if (stopping_) return;
      const std::string path = *wanted_.begin();
      wanted_.erase(wanted_.begin());
      if (ready_.count(path)) continue;
      lock.unlock();
      Spare s = spawn_spare(path);
      lock.lock();
      if (s.pid < 0) continue;  // the next start is a cold one, and asks again
      if (stopping_ || ready_.count(path)) {
        ::close(s.sock);
        continue;
      }
      ready_[path] = s;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Spare> ready_;
  std::set<std::string> wanted_;
  bool stopping_ = false;
  std::thread thread_;
};

Spares& spares() {
  static Spares s;
  return s;
}

}  // namespace

bool start_on_spare(const std::vector<std::string>& args, const std::vector<int>& fds) {
  if (args.empty() || fds.size() > kMaxFds || !can_reap_monitors()) return false;
  std::string flags;
  for (size_t i = 1; i < args.size(); ++i) flags.append(args[i]).push_back('\0');
  if (flags.empty() || flags.size() > kMaxMessage) return false;
  Spare s = spares().take(args[0]);
  if (s.pid < 0) return false;
  char space[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec iov{flags.data(), flags.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = space;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = ::sendmsg(s.sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  // Sent or not, this spare is done with: it has the message, or it is gone (EPIPE: killed
  // while it waited), and then the caller starts a monitor itself.
  ::close(s.sock);
  return n == static_cast<ssize_t>(flags.size());
}

void keep_spare(const std::string& monitor_path) {
  if (can_reap_monitors()) spares().want(monitor_path);
}

}  // namespace drover::monitored
