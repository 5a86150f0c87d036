// /proc and pidfd helpers (see proc.hpp).
#include "proc.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace drover::monitored {

std::optional<ProcStat> read_proc_stat(int pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  // comm (field 2) may hold spaces and parentheses: the fields resume after the LAST ')'.
  char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return std::nullopt;
  p += 2;
  ProcStat st;
  // Fields from 3 (state) on; index i here is field i + 3.
  for (int i = 0; i <= 21 && *p != '\0'; ++i) {
    char* end = std::strchr(p, ' ');
    if (end != nullptr) *end = '\0';
    switch (i) {
      case 0:
        st.state = *p;
        break;
      case 1:
        st.ppid = std::atoi(p);
        break;
      case 2:
        st.pgrp = std::atoi(p);
        break;
      case 19:
        st.start_time = std::strtoull(p, nullptr, 10);
        break;
      case 21:
        st.rss_pages = std::strtoull(p, nullptr, 10);
        break;
      default:
        break;
    }
    if (end == nullptr) break;
    p = end + 1;
  }
  if (st.start_time == 0) return std::nullopt;
  return st;
}

GroupUsage group_usage(int pgid) {
  GroupUsage usage;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return usage;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    auto st = read_proc_stat(static_cast<int>(pid));
    if (!st || st->pgrp != pgid || st->state == 'Z' || st->state == 'X') continue;
    usage.pids++;
    usage.rss_bytes += st->rss_pages * page;
  }
  closedir(dir);
  return usage;
}

int open_pidfd(int pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // pidfds are always CLOEXEC
}

bool wait_exited(int pidfd, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const bool forever = timeout.count() < 0;
  const auto deadline = Clock::now() + (forever ? Clock::duration::zero() : timeout);
  for (;;) {
    int ms = -1;
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      ms = left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), INT_MAX));
    }
    pollfd pfd{pidfd, POLLIN, 0};
    int r = poll(&pfd, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace drover::monitored
