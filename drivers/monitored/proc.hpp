// What a monitored driver reads about processes from the kernel: /proc/PID/stat (start time to
// detect PID reuse, parent, process group, RSS) and pidfds (to wait for a process that may not be
// our child without racing PID reuse).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace drover::monitored {

struct ProcStat {
  char state = '?';
  int ppid = 0;
  int pgrp = 0;
  uint64_t start_time = 0;  // field 22: clock ticks after boot; a reused PID has another
  uint64_t rss_pages = 0;   // field 24
};

std::optional<ProcStat> read_proc_stat(int pid);

struct GroupUsage {
  int pids = 0;
  uint64_t rss_bytes = 0;
};

// Live (non-zombie) processes whose process group is `pgid`, and their summed RSS.
GroupUsage group_usage(int pgid);

// pidfd_open(2); -1 with errno on failure. The fd is close-on-exec.
int open_pidfd(int pid);

// Waits until the process behind `pidfd` has exited, or `timeout` passes (negative: forever).
// True when it has exited.
bool wait_exited(int pidfd, std::chrono::milliseconds timeout);

}  // namespace drover::monitored
