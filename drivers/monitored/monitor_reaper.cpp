// One thread that waits for every monitor this plugin started; see monitor_reaper.hpp.
#include "monitor_reaper.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <thread>

namespace drover::monitored {

namespace {

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

void wait_for(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

class Reaper {
 public:
  Reaper() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    stop_ = ::eventfd(0, EFD_CLOEXEC);
    if (epoll_ < 0 || stop_ < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;  // the stop event: no monitor has pid 0
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, stop_, &ev) != 0) return;
    thread_ = std::thread([this] { loop(); });
  }
  // At the plugin's unload (dlclose runs this before its code goes): the thread ends first.
  // Monitors not yet ended stay children of the agent, which exits next.
  ~Reaper() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(stop_, &one, sizeof one);
      thread_.join();
    }
    if (stop_ >= 0) ::close(stop_);
    if (epoll_ >= 0) ::close(epoll_);
  }
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  void adopt(pid_t pid) {
    int fd = thread_.joinable() ? pidfd_open(pid) : -1;
    if (fd >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;  // a pidfd reads ready once its process has ended
      ev.data.u64 = (static_cast<uint64_t>(static_cast<uint32_t>(pid)) << 32) |
                    static_cast<uint32_t>(fd);
      if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0) return;
      ::close(fd);
    }
    // No pidfd (out of fds): a thread of its own waits for this one.
    std::thread([pid] { wait_for(pid); }).detach();
  }

 private:
  void loop() {
    epoll_event evs[64];
    for (;;) {
      int n = ::epoll_wait(epoll_, evs, 64, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; ++i) {
        const uint64_t d = evs[i].data.u64;
        if (d == 0) return;
        const auto pid = static_cast<pid_t>(d >> 32);
        const auto fd = static_cast<int>(d & 0xffffffffU);
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        wait_for(pid);  // it has ended: this returns at once
      }
    }
  }

  int epoll_ = -1;
  int stop_ = -1;
  std::thread thread_;
};

Reaper& reaper() {
  static Reaper r;
  return r;
}

}  // namespace

bool can_reap_monitors() {
  static const bool ok = [] {
    int fd = pidfd_open(::getpid());
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }();
  return ok;
}

void start_reaper() { reaper(); }

void reap_when_done(pid_t pid) { reaper().adopt(pid); }

}  // namespace drover::monitored
