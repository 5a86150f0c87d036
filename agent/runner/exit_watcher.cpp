#include "runner/exit_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drover::runner {

namespace {
constexpr uint64_t kWakeId = 0;  // watch ids start at 1
}

ExitWatcher::ExitWatcher() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd_ < 0 || wake_fd_ < 0) {
    spdlog::warn("exit watcher unavailable ({}): task runners wait in their own threads",
                 std::strerror(errno));
    if (epfd_ >= 0) close(epfd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    epfd_ = wake_fd_ = -1;
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  thread_ = std::thread([this] { loop(); });
}

ExitWatcher::~ExitWatcher() {
  if (epfd_ < 0) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  (void)eventfd_write(wake_fd_, 1);
  if (thread_.joinable()) thread_.join();
  for (auto& [_, w] : watches_) close(w.first);
  close(wake_fd_);
  close(epfd_);
}

uint64_t ExitWatcher::watch(int fd, std::function<void()> fired) {
  std::lock_guard lock(mu_);
  if (epfd_ < 0 || stopping_) {
    close(fd);
    return 0;
  }
  uint64_t id = next_id_++;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = id;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return 0;
  }
  watches_.emplace(id, std::make_pair(fd, std::move(fired)));
  return id;
}

void ExitWatcher::cancel(uint64_t id) {
  std::lock_guard fire(fire_mu_);  // a running callback finishes first
  std::lock_guard lock(mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.first, nullptr);
  close(it->second.first);
  watches_.erase(it);
}

void ExitWatcher::loop() {
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epfd_, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("exit watcher: epoll_wait: {}", std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      std::function<void()> fired;
      std::unique_lock fire(fire_mu_);
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
        if (id == kWakeId) continue;
        auto it = watches_.find(id);
        if (it == watches_.end()) continue;  // cancelled meanwhile
        epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.first, nullptr);
        close(it->second.first);
        fired = std::move(it->second.second);
        watches_.erase(it);
      }
      try {
        fired();
      } catch (const std::exception& e) {
        spdlog::error("exit watcher: {}", e.what());
      }
    }
  }
}

}  // namespace drover::runner
